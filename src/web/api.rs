//! The machine-readable side of the dashboard: JSON for every page, an Atom feed of alerts any
//! feed reader can follow, a health check and Prometheus metrics.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{
    article_data, json, newest_first, read, topic_figures, AlertQuery, ArticleQuery, Dashboard,
    WebError,
};
use crate::alerts::{text, AnyAlert};

pub async fn alerts(
    State(state): State<Arc<Dashboard>>,
    Query(q): Query<AlertQuery>,
) -> Result<Response, WebError> {
    let filter = q.filter();
    let list = read(&state, move |d| newest_first(&d.store, &filter)).await?;
    Ok(json(list))
}

pub async fn topic(
    State(state): State<Arc<Dashboard>>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    if !state.topics().iter().any(|t| t.id == id) {
        return Err(WebError::NotFound(format!("No topic has the id {id:?}.")));
    }
    let (figures, ledger) = read(&state, move |d| {
        Ok((topic_figures(&d.store, &id)?, d.store.ledger(Some(&id))?))
    })
    .await?;
    Ok(json(json!({ "figures": figures, "ledger": ledger })))
}

pub async fn article(
    State(state): State<Arc<Dashboard>>,
    Query(q): Query<ArticleQuery>,
) -> Result<Response, WebError> {
    let url = q.url.clone();
    let data = read(&state, move |d| article_data(&d.store, &q))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No article is stored under {url}.")))?;
    Ok(json(json!({
        "url": data.url,
        "title": data.title,
        "versions": data.versions,
        "from": data.from,
        "to": data.to,
        "diff": data.diff,
    })))
}

pub async fn sources(State(state): State<Arc<Dashboard>>) -> Result<Response, WebError> {
    let list = read(&state, |d| Ok(d.store.source_statuses()?)).await?;
    Ok(json(list))
}

/// The newest alerts as Atom: one entry per alert, its id the alert's stable id, its link the
/// article (figure alerts) or the source.
pub async fn atom(State(state): State<Arc<Dashboard>>) -> Result<Response, WebError> {
    use atom_syndication::{Content, Entry, Feed, Link, Text};
    let list = read(&state, |d| {
        newest_first(
            &d.store,
            &crate::store::AlertFilter {
                limit: Some(100),
                ..Default::default()
            },
        )
    })
    .await?;
    let time = |ts: &str| {
        chrono::DateTime::parse_from_rfc3339(ts)
            .unwrap_or_else(|_| chrono::DateTime::UNIX_EPOCH.fixed_offset())
    };
    let mut feed = Feed::default();
    feed.set_title("figwatch alerts");
    feed.set_id("urn:figwatch:alerts");
    feed.set_updated(
        list.first()
            .map(|a| time(a.ts()))
            .unwrap_or_else(|| chrono::Utc::now().fixed_offset()),
    );
    let mut self_link = Link::default();
    self_link.set_href("/alerts.atom");
    self_link.set_rel("self");
    feed.set_links(vec![self_link]);
    let entries: Vec<Entry> = list
        .iter()
        .map(|a| {
            let mut entry = Entry::default();
            entry.set_id(format!("urn:figwatch:alert:{}", a.id()));
            entry.set_title(Text::plain(text::line(a)));
            entry.set_updated(time(a.ts()));
            let mut link = Link::default();
            match a {
                AnyAlert::Figure(f) => link.set_href(f.url.clone()),
                AnyAlert::Source(s) => link.set_href(s.source.clone()),
            }
            entry.set_links(vec![link]);
            let mut content = Content::default();
            content.set_content_type("text".to_string());
            content.set_value(text::body(std::slice::from_ref(a)));
            entry.set_content(content);
            entry
        })
        .collect();
    feed.set_entries(entries);
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        // Article text is stripped of control characters when it is read, but an error
        // message or a store from before may still hold one: no feed reader sees it.
        crate::controls::for_xml(&feed.to_string()).into_owned(),
    )
        .into_response())
}

pub async fn healthz(State(state): State<Arc<Dashboard>>) -> Response {
    match read(&state, |d| Ok(d.store.counts()?)).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unreadable\n").into_response(),
    }
}

/// Prometheus text format: what the database knows (sources, failing sources, versions,
/// alerts by kind, undelivered alerts), read at each scrape.
pub async fn metrics(State(state): State<Arc<Dashboard>>) -> Result<Response, WebError> {
    let body = read(&state, |d| {
        let m = d.store.metrics()?;
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, rows: &[(String, i64)]| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
            for (labels, v) in rows {
                out.push_str(&format!("{name}{labels} {v}\n"));
            }
        };
        gauge(
            "figwatch_sources",
            "Configured sources known to the database.",
            &[(String::new(), m.sources)],
        );
        gauge(
            "figwatch_sources_failing",
            "Sources whose last poll failed.",
            &[(String::new(), m.failing)],
        );
        gauge(
            "figwatch_sources_polled",
            "Sources polled at least once.",
            &[(String::new(), m.polled)],
        );
        gauge(
            "figwatch_versions",
            "Article versions stored.",
            &[(String::new(), m.versions)],
        );
        let kinds: Vec<(String, i64)> = m
            .alerts_by_kind
            .iter()
            .map(|(k, n)| (format!("{{kind=\"{k}\"}}"), *n))
            .collect();
        gauge("figwatch_alerts", "Alerts raised, by kind.", &kinds);
        gauge(
            "figwatch_alerts_undelivered",
            "Deliveries waiting in the outbox.",
            &[(String::new(), m.undelivered)],
        );
        out.push_str(&crate::metrics::METRICS.render());
        Ok(out)
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

//! The dashboard: alerts, figure timelines per topic, article histories with diffs, and
//! sources, as HTML pages and as JSON; an Atom feed of alerts; `/healthz` and `/metrics`.
//!
//! Read-only by construction: the database is opened read-only and only GET (and HEAD) routes
//! exist. It binds to loopback unless `[web] listen` says otherwise, and with
//! `[web] token_file` every request must carry the token (`Authorization: Bearer …`, or
//! `?token=…` once, which sets a cookie). Every response carries a strict
//! Content-Security-Policy: the pages need no script at all.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::alerts::AnyAlert;
use crate::config::{Config, Topic};
use crate::store::{AlertFilter, FigureRow, Store};

mod api;
mod chart;
mod connections;
mod pages;

/// What the handlers share.
pub struct Dashboard {
    store: Store,
    /// The configuration's topics; the daemon replaces them when SIGHUP reloads it.
    topics: std::sync::RwLock<Arc<Vec<Topic>>>,
    token: Option<String>,
}

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const STYLE: &str = include_str!("style.css");
/// The most alerts a page or a JSON answer lists (the newest).
const ALERTS_SHOWN: usize = 500;

impl Dashboard {
    /// The dashboard of a configuration: its store opened read-only.
    pub fn open(config: &Config) -> anyhow::Result<Dashboard> {
        let token = match config.web.as_ref().and_then(|w| w.token_file.as_ref()) {
            Some(file) => {
                let path = file
                    .location()
                    .map_err(|e| anyhow::anyhow!("[web] token_file {e}"))?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("[web] token_file {file}: {e}"))?;
                let token = text.trim().to_string();
                if token.len() < 16 {
                    anyhow::bail!(
                        "[web] token_file {file}: the token must be at least 16 characters"
                    );
                }
                Some(token)
            }
            None => None,
        };
        Ok(Dashboard {
            store: Store::connect_read_only(&config.database)?,
            topics: std::sync::RwLock::new(Arc::new(config.topics.clone())),
            token,
        })
    }
}

impl Dashboard {
    /// The topics as configured now (shared, not copied, per request).
    pub fn topics(&self) -> Arc<Vec<Topic>> {
        Arc::clone(&self.topics.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Follows a reloaded configuration: topics added, changed or removed show at once.
    pub fn set_topics(&self, topics: Vec<Topic>) {
        *self.topics.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(topics);
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    dashboard: Arc<Dashboard>,
    listen: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("[web] listen {listen}: {e}"))?;
    if !listen.ip().is_loopback() && dashboard.token.is_none() {
        tracing::warn!(%listen, "the dashboard listens beyond this machine without a token; set [web] token_file");
    }
    tracing::info!("dashboard on http://{}", listener.local_addr()?);
    connections::raise_descriptor_limit();
    connections::serve(listener, router(dashboard), shutdown).await?;
    Ok(())
}

/// The dashboard's pages and JSON API.
pub fn router(state: Arc<Dashboard>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/alerts") }),
        )
        .route("/alerts", get(alerts_page))
        .route("/topics", get(topics_page))
        .route("/topics/{id}", get(topic_page))
        .route("/article", get(article_page))
        .route("/sources", get(sources_page))
        .route("/api/alerts", get(api::alerts))
        .route("/api/topics/{id}", get(api::topic))
        .route("/api/article", get(api::article))
        .route("/api/sources", get(api::sources))
        .route("/alerts.atom", get(api::atom))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/static/style.css", get(style))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            guard,
        ))
        .with_state(state)
}

/// The token check and the security headers, on every response.
async fn guard(State(state): State<Arc<Dashboard>>, request: Request, next: Next) -> Response {
    let mut set_cookie = None;
    if let Some(token) = &state.token {
        let given = bearer(&request)
            .or_else(|| cookie(&request))
            .or_else(|| query_token(&request));
        let ok = given.as_deref().is_some_and(|g| same(g, token));
        if !ok && request.uri().path() != "/healthz" {
            return with_headers(
                (
                    StatusCode::UNAUTHORIZED,
                    "figwatch: a token is needed (Authorization: Bearer …, or ?token=…)\n",
                )
                    .into_response(),
            );
        }
        if ok && query_token(&request).is_some() {
            set_cookie = Some(format!(
                "figwatch_token={token}; HttpOnly; SameSite=Strict; Path=/"
            ));
        }
    }
    let mut response = next.run(request).await;
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    with_headers(response)
}

fn with_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn bearer(r: &Request) -> Option<String> {
    r.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_string())
}

fn cookie(r: &Request) -> Option<String> {
    r.headers()
        .get(header::COOKIE)?
        .to_str()
        .ok()?
        .split(';')
        .find_map(|c| c.trim().strip_prefix("figwatch_token="))
        .map(str::to_string)
}

fn query_token(r: &Request) -> Option<String> {
    url::form_urlencoded::parse(r.uri().query()?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// Compares without stopping at the first difference, so timing does not give the token away.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

/// Runs a store read off the async threads.
async fn read<T: Send + 'static>(
    state: &Arc<Dashboard>,
    f: impl FnOnce(&Dashboard) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, WebError> {
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::Internal(format!("{e:#}")))
}

/// A failed request, as a page or JSON says it.
pub enum WebError {
    /// No such page, article or version.
    NotFound(String),
    /// The store failed; the message says how.
    Internal(String),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                Html(pages::not_found(&what).into_string()),
            )
                .into_response(),
            WebError::Internal(e) => {
                tracing::error!("dashboard: {e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("figwatch: {e}\n"),
                )
                    .into_response()
            }
        }
    }
}

/// The filters of `/alerts` and `/api/alerts`.
#[derive(Deserialize, Default)]
pub struct AlertQuery {
    topic: Option<String>,
    kind: Option<String>,
}

impl AlertQuery {
    fn filter(&self) -> AlertFilter {
        AlertFilter {
            topic: self.topic.clone().filter(|t| !t.is_empty()),
            kind: self.kind.clone().filter(|k| !k.is_empty()),
            since: None,
            limit: Some(ALERTS_SHOWN),
        }
    }
}

/// Newest first, as people read them.
fn newest_first(store: &Store, filter: &AlertFilter) -> anyhow::Result<Vec<AnyAlert>> {
    let mut list = store.alerts(filter)?;
    list.reverse();
    Ok(list)
}

async fn alerts_page(
    State(state): State<Arc<Dashboard>>,
    Query(q): Query<AlertQuery>,
) -> Result<Html<String>, WebError> {
    let filter = q.filter();
    let list = read(&state, move |d| newest_first(&d.store, &filter)).await?;
    let topics: Vec<String> = state.topics().iter().map(|t| t.id.clone()).collect();
    Ok(Html(
        pages::alerts(&list, &topics, q.topic.as_deref(), q.kind.as_deref()).into_string(),
    ))
}

async fn topics_page(State(state): State<Arc<Dashboard>>) -> Html<String> {
    let list: Vec<(String, String)> = state
        .topics()
        .iter()
        .map(|t| (t.id.clone(), t.name.clone()))
        .collect();
    Html(pages::topics(&list).into_string())
}

/// A topic's stored figures, oldest first.
fn topic_figures(store: &Store, topic: &str) -> anyhow::Result<Vec<FigureRow>> {
    let mut rows = Vec::new();
    store.each_figure(None, Some(topic), |r| {
        rows.push(r);
        Ok(())
    })?;
    Ok(rows)
}

async fn topic_page(
    State(state): State<Arc<Dashboard>>,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let Some(topic) = state.topics().iter().find(|t| t.id == id).cloned() else {
        return Err(WebError::NotFound(format!("No topic has the id {id:?}.")));
    };
    let tid = topic.id.clone();
    let (figures, ledger) = read(&state, move |d| {
        Ok((topic_figures(&d.store, &tid)?, d.store.ledger(Some(&tid))?))
    })
    .await?;
    Ok(Html(
        pages::topic(&topic.id, &topic.name, &figures, &ledger).into_string(),
    ))
}

/// Which article `/article` and `/api/article` show.
#[derive(Deserialize)]
pub struct ArticleQuery {
    url: String,
    from: Option<i64>,
    to: Option<i64>,
}

/// An article's versions and the diff the query asks for (default: the last two).
pub struct ArticleData {
    url: String,
    title: Option<String>,
    versions: Vec<crate::store::VersionSummary>,
    from: Option<i64>,
    to: i64,
    diff: Vec<crate::diff::Chunk>,
}

fn article_data(store: &Store, q: &ArticleQuery) -> anyhow::Result<Option<ArticleData>> {
    let Some(found) = store.find_article(&q.url)? else {
        return Ok(None);
    };
    let versions = store.history(found.id)?;
    let Some(last) = versions.last().map(|v| v.number) else {
        return Ok(None);
    };
    let to =
        q.to.filter(|t| versions.iter().any(|v| v.number == *t))
            .unwrap_or(last);
    let from = match q.from {
        Some(f) => versions.iter().any(|v| v.number == f).then_some(f),
        None if q.to.is_none() => versions.iter().rev().map(|v| v.number).find(|n| *n < to),
        None => None,
    };
    let new = store
        .version(found.id, to)?
        .ok_or_else(|| anyhow::anyhow!("version {to} vanished"))?;
    let old_text = match from {
        Some(f) => store.version(found.id, f)?.map(|v| v.article.text),
        None => None,
    };
    let diff = match &old_text {
        Some(old) => crate::diff::word_diff(old, &new.article.text),
        None => vec![crate::diff::Chunk {
            op: crate::diff::Op::Equal,
            text: new.article.text.clone(),
        }],
    };
    Ok(Some(ArticleData {
        url: q.url.clone(),
        title: new.article.title.clone(),
        versions,
        from,
        to,
        diff,
    }))
}

async fn article_page(
    State(state): State<Arc<Dashboard>>,
    Query(q): Query<ArticleQuery>,
) -> Result<Html<String>, WebError> {
    let url = q.url.clone();
    let data = read(&state, move |d| article_data(&d.store, &q))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No article is stored under {url}.")))?;
    Ok(Html(
        pages::article(&pages::ArticleView {
            url: &data.url,
            title: data.title.as_deref(),
            versions: &data.versions,
            from: data.from,
            to: data.to,
            diff: &data.diff,
        })
        .into_string(),
    ))
}

async fn sources_page(State(state): State<Arc<Dashboard>>) -> Result<Html<String>, WebError> {
    let list = read(&state, |d| Ok(d.store.source_statuses()?)).await?;
    Ok(Html(pages::sources(&list).into_string()))
}

/// JSON with the same data as a page.
fn json<T: serde::Serialize>(value: T) -> Response {
    Json(value).into_response()
}

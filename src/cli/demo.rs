//! `figwatch demo`: the story of [`figwatch::demo`] served from a local site, revised twice and
//! polled three times into a fresh database, so a newcomer sees versions, alerts and a diff in
//! seconds without network or configuration.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

use figwatch::config::Config;
use figwatch::demo::{
    article_page, rss_feed, ARTICLE_PATH, OTHER_STORY, REVISIONS, TOPIC_TOML, WEATHER_PATH,
};
use figwatch::pipeline::Pipeline;
use figwatch::store::{AlertFilter, Store};

const HTML: &str = "text/html; charset=utf-8";

/// The demo's news site: what each path answers, changed between polls.
#[derive(Clone, Default)]
struct Site(Arc<Mutex<HashMap<String, (&'static str, String)>>>);

impl Site {
    fn set(&self, path: &str, content_type: &'static str, body: String) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_string(), (content_type, body));
    }

    /// Serves the site on a free port of 127.0.0.1, on `runtime`, for as long as it runs.
    fn start(&self, runtime: &tokio::runtime::Runtime) -> anyhow::Result<String> {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = Router::new().fallback(answer).with_state(self.clone());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Ok(base)
    }
}

async fn answer(State(site): State<Site>, uri: Uri) -> Response {
    let page = site
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(uri.path())
        .cloned();
    match page {
        Some((content_type, body)) => {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub fn run() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let site = Site::default();
    let base = site.start(&runtime)?;
    let title = "North Korean troops suffer heavy losses in Kursk";
    site.set(
        "/feed.xml",
        "application/rss+xml",
        rss_feed(
            &base,
            &[(title, ARTICLE_PATH), ("Snow closes schools", WEATHER_PATH)],
        ),
    );
    site.set(
        WEATHER_PATH,
        HTML,
        article_page("Snow closes schools", OTHER_STORY),
    );

    let dir = std::env::temp_dir().join(format!(
        "figwatch-demo-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp()
    ));
    std::fs::create_dir_all(&dir)?;
    let config_path = dir.join("figwatch.toml");
    std::fs::write(
        &config_path,
        format!(
            r#"database = "{db}"
alert_log = "{log}"
# The demo polls three times in a few seconds, as if its interval had passed each time.
interval = "2s"

[fetch]
per_host_delay = "0s"
allow_hosts = ["127.0.0.1"]       # the demo's own site; figwatch fetches no internal address unless told

[[feeds]]
url = "{base}/feed.xml"

{TOPIC_TOML}"#,
            db = dir.join("figwatch.db").display(),
            log = dir.join("alerts.jsonl").display(),
        ),
    )?;
    let config = Config::load(&config_path)?;
    let store = Store::connect(&config.database)?;
    let outbox = figwatch::delivery::Outbox::open(&config)?;
    let pipeline = Arc::new(Pipeline::new(config, store)?);

    writeln!(
        super::stdout(),
        "figwatch demo: a local news site at {base}, watched with the topic \"nk-troops\".\n"
    )?;
    for (i, paragraphs) in REVISIONS.iter().enumerate() {
        site.set(ARTICLE_PATH, HTML, article_page(title, paragraphs));
        let summary = runtime.block_on(pipeline.poll_all());
        let what = match i {
            0 => "first poll",
            1 => "second poll, after the casualty figure was revised",
            _ => "third poll, after a rewrite and a new figure",
        };
        writeln!(super::stdout(), "poll {} ({what}): {summary}", i + 1)?;
    }

    runtime.block_on(outbox.drain(std::time::Duration::from_secs(5)));
    writeln!(
        super::stdout(),
        "\nalerts (also in {}):\n",
        dir.join("alerts.jsonl").display()
    )?;
    let alerts = pipeline.store.alerts(&AlertFilter::default())?;
    super::print_alerts(&alerts, false, &mut super::stdout())?;

    let url = format!("{base}{ARTICLE_PATH}");
    let article = pipeline
        .store
        .article_id(&url)?
        .ok_or_else(|| anyhow::anyhow!("the demo article was not stored"))?;
    let (old, new) = (
        pipeline.store.version(article, 2)?,
        pipeline.store.version(article, 3)?,
    );
    if let (Some(old), Some(new)) = (old, new) {
        writeln!(super::stdout(), "\nthe last change, word by word:\n")?;
        let chunks = figwatch::diff::word_diff(&old.article.text, &new.article.text);
        let color = std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::env::var_os("NO_COLOR").is_none();
        super::write_diff(
            &mut std::io::stdout().lock(),
            &url,
            (2, &old.fetched_at),
            (3, &new.fetched_at),
            &chunks,
            false,
            color,
        )?;
    }
    writeln!(super::stdout(),
        "\nThe database and alert log stay in {} — try:\n  figwatch --config {} alerts\n  figwatch --config {} history {url}",
        dir.display(),
        config_path.display(),
        config_path.display()
    )?;
    Ok(())
}

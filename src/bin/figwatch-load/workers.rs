//! `figwatch-load workers --postgres URL`: sources per second with 1, 2 and 3 `figwatch run`
//! workers sharing one PostgreSQL store, against the same load server. For each worker count,
//! two rounds on a store that has already seen every feed once: a changed round (every feed has
//! one new entry: a full fetch, one new article, its extraction and storage) and a 304 round
//! (nothing changed). A round starts with every source due and ends when every source has been
//! polled; the workers are started at its beginning, so the time includes their start.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::server::Site;

pub struct Options {
    pub postgres: String,
    pub workers: Vec<usize>,
    pub concurrency: usize,
}

/// A client on `url` for the benchmark's own statements.
async fn client(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| {
            format!(
                "cannot connect to {}",
                figwatch::store::migrate::redact(url)
            )
        })?;
    tokio::spawn(connection);
    Ok(client)
}

/// A fresh database for the run, next to the one `base` names.
async fn fresh_database(base: &str) -> anyhow::Result<String> {
    let name = format!("figwatch_load_{}", std::process::id());
    let admin = client(base).await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    let mut url = url::Url::parse(base)?;
    url.set_path(&name);
    Ok(url.to_string())
}

fn write_config(dir: &Path, site: &Site, db: &str, concurrency: usize) -> anyhow::Result<()> {
    let mut text = format!(
        "database = \"{db}\"\ninterval = \"1h\"\nadaptive = false\njitter = 0.0\n\n[fetch]\ntimeout = \"30s\"\nconcurrency = {concurrency}\nper_host_delay = \"0s\"\nper_host_concurrency = 2\nallow_private = true\n\n"
    );
    for i in 0..site.feeds() {
        text += &format!("[[feeds]]\nurl = \"{}\"\n", site.feed_url(i));
    }
    text += figwatch::demo::TOPIC_TOML;
    std::fs::write(dir.join("figwatch.toml"), text)?;
    Ok(())
}

/// Starts `n` workers with every source due, and waits until every source was polled.
async fn round(
    binary: &Path,
    dir: &Path,
    db: &tokio_postgres::Client,
    feeds: usize,
    n: usize,
) -> anyhow::Result<Duration> {
    let mark: String = db
        .query_one(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
            &[],
        )
        .await?
        .get(0);
    db.execute("UPDATE sources SET next_check_at = NULL", &[])
        .await?;
    let start = Instant::now();
    let mut children = Vec::new();
    for k in 0..n {
        children.push(
            std::process::Command::new(binary)
                .env("RUST_LOG", "error")
                .env("FIGWATCH_WORKER_NAME", format!("load-{k}"))
                .arg("--config")
                .arg(dir.join("figwatch.toml"))
                .arg("run")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::inherit())
                .spawn()?,
        );
    }
    let result = loop {
        let polled: i64 = db
            .query_one(
                "SELECT count(*) FROM sources WHERE last_polled_at >= $1",
                &[&mark],
            )
            .await?
            .get(0);
        if polled as usize >= feeds {
            break Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(600) {
            break Err(anyhow::anyhow!(
                "only {polled} of {feeds} sources polled in 10 minutes"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for c in &mut children {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
    }
    for c in &mut children {
        c.wait()?;
    }
    result
}

pub async fn run(site: Arc<Site>, binary: &Path, dir: &Path, o: &Options) -> anyhow::Result<()> {
    let url = fresh_database(&o.postgres).await?;
    write_config(dir, &site, &url, o.concurrency)?;
    let feeds = site.feeds();
    println!(
        "workers: {feeds} feeds on {} loopback hosts, PostgreSQL at {}, concurrency {} per worker, per-host concurrency 2 shared",
        site.hosts.len(),
        figwatch::store::migrate::redact(&o.postgres),
        o.concurrency
    );
    // First sight: one worker fetches every feed and its articles once.
    let first = std::process::Command::new(binary)
        .env("RUST_LOG", "error")
        .arg("--config")
        .arg(dir.join("figwatch.toml"))
        .args(["--poll", "--all"])
        .output()?;
    if !first.status.success() {
        bail!(
            "figwatch --poll --all failed: {}",
            String::from_utf8_lossy(&first.stderr)
        );
    }
    let db = client(&url).await?;
    println!("workers   changed sources/s   304 sources/s");
    for &n in &o.workers {
        site.change(0..feeds);
        let changed = round(binary, dir, &db, feeds, n).await?;
        let not_modified = round(binary, dir, &db, feeds, n).await?;
        println!(
            "{n:>7}   {:>17.0}   {:>13.0}",
            feeds as f64 / changed.as_secs_f64(),
            feeds as f64 / not_modified.as_secs_f64()
        );
    }
    let versions: i64 = db
        .query_one("SELECT count(*) FROM versions", &[])
        .await?
        .get(0);
    let twice: i64 = db
        .query_one(
            "SELECT count(*) FROM (SELECT article_id FROM versions GROUP BY article_id
                                   HAVING count(*) > 1) t",
            &[],
        )
        .await?
        .get(0);
    println!("versions stored: {versions}; articles with more than one version: {twice} (each article's text never changes)");
    drop(db);
    let admin = client(&o.postgres).await?;
    let name = url::Url::parse(&url)?
        .path()
        .trim_start_matches('/')
        .to_string();
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    if twice > 0 {
        bail!("{twice} articles were stored twice");
    }
    Ok(())
}

//! `figwatch-eval articles --e2e [DIR]`: the whole-article set as a user meets it. Each
//! article's text is wrapped in minimal HTML (a title, its paragraphs as `<p>`) and served as a
//! page of one local site, with one RSS feed listing them all; the real `figwatch` binary
//! polls that feed once with the set's topics, and every figure alert of its alert log is
//! checked against the labels of its article: does it carry a value labelled there (optional
//! labels count as labelled)?
//!
//! The target is at least 9 alerts in 10 labelled. `--check` fails below the floor reached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::localhttp::{LocalServer, Response};
use anyhow::{bail, Context};
use figwatch::alerts::Alert;
use serde::Deserialize;

use crate::figures::Gold;
use crate::read_jsonl;

#[derive(Deserialize)]
struct ArticleLine {
    id: String,
    text: String,
    figures: Vec<Gold>,
}

/// The target: labelled alerts among all figure alerts.
const TARGET_LABELLED: f64 = 0.90;
/// What `--check` holds: today's share, less a margin of about one alert.
const FLOOR_LABELLED: f64 = 0.93;

pub fn run(dir: &Path, check: bool) -> anyhow::Result<()> {
    let data = dir.join("articles.jsonl");
    if !data.exists() {
        println!(
            "{}: no labelled whole articles here; nothing to evaluate",
            dir.display()
        );
        return Ok(());
    }
    let topics = std::fs::read_to_string(dir.join("articles-topics.toml"))
        .with_context(|| format!("cannot read {}", dir.join("articles-topics.toml").display()))?;
    let articles: Vec<ArticleLine> = read_jsonl(&data)?;
    let binary = figwatch_binary()?;

    let server = LocalServer::start().context("cannot start the local site")?;
    let mut entries = Vec::new();
    let mut labels: HashMap<String, &ArticleLine> = HashMap::new();
    for (i, a) in articles.iter().enumerate() {
        let path = format!("/articles/{i}.html");
        let title = format!("Article {}", a.id);
        server.set(&path, Response::html(page(&title, &a.text)));
        labels.insert(server.url(&path), a);
        entries.push((title, path));
    }
    let listed: Vec<(&str, &str)> = entries
        .iter()
        .map(|(t, p)| (t.as_str(), p.as_str()))
        .collect();
    server.set(
        "/feed.xml",
        Response::ok(
            "application/rss+xml",
            figwatch::demo::rss_feed(&server.url(""), &listed),
        ),
    );

    let home = std::env::temp_dir().join(format!("figwatch-eval-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&home).with_context(|| format!("cannot make {}", home.display()))?;
    let alerts = poll_once(&home, &server.url("/feed.xml"), &binary, &topics);
    let _ = std::fs::remove_dir_all(&home);
    let alerts = alerts?;

    let verbose = std::env::var_os("FIGWATCH_EVAL_VERBOSE").is_some();
    let (mut labelled, mut same_topic, mut changed) = (0, 0, 0);
    for a in &alerts {
        let Some(article) = labels.get(&a.url) else {
            bail!("an alert for {} that the local site never served", a.url);
        };
        let matches = |g: &Gold| g.value().is_some_and(|v| v.same_as(&a.new));
        let any = article.figures.iter().any(matches);
        let topic = article
            .figures
            .iter()
            .any(|g| g.topic == a.topic && matches(g));
        labelled += usize::from(any);
        same_topic += usize::from(topic);
        changed += usize::from(a.old.is_some());
        if verbose && a.old.is_some() {
            println!(
                "  CHANGED {} {} {} {} → {} [{}]: {:?}",
                article.id,
                a.topic,
                a.measure,
                a.old.as_ref().map(ToString::to_string).unwrap_or_default(),
                a.new,
                a.scope,
                a.quote
            );
        }
        if verbose && !topic {
            println!(
                "  UNLABELLED {} {} {} {} {}: {:?}",
                article.id,
                a.kind.as_str(),
                a.topic,
                a.measure,
                a.new,
                a.quote
            );
        }
    }
    let n = alerts.len().max(1) as f64;
    println!(
        "end to end on {} ({} articles served as one site, polled once by {}):",
        data.display(),
        articles.len(),
        binary.display()
    );
    println!(
        "  {} figure alerts ({} figure_changed); with a value labelled for their article: {} ({:.3})   [>= {TARGET_LABELLED}]; for the alert's topic too: {} ({:.3})",
        alerts.len(),
        changed,
        labelled,
        labelled as f64 / n,
        same_topic,
        same_topic as f64 / n
    );
    // The measure: a value labelled for the alert's article.
    let share = labelled as f64 / n;
    println!(
        "  target {}; --check holds the floor {FLOOR_LABELLED}",
        if share >= TARGET_LABELLED {
            "met"
        } else {
            "not met yet"
        }
    );
    if check && share < FLOOR_LABELLED {
        bail!("end-to-end alerts labelled {share:.3}, below the floor {FLOOR_LABELLED}");
    }
    Ok(())
}

/// Polls `feed` once with the real binary in a fresh home and returns its alert log.
fn poll_once(home: &Path, feed: &str, binary: &Path, topics: &str) -> anyhow::Result<Vec<Alert>> {
    let config = home.join("figwatch.toml");
    let log = home.join("alerts.jsonl");
    std::fs::write(
        &config,
        format!(
            "database = \"{db}\"\nalert_log = \"{log}\"\n\n[fetch]\n# The local site is on a loopback address.\nallow_private = true\nper_host_delay = \"0s\"\nper_host_concurrency = 4\n\n[[feeds]]\nurl = \"{feed}\"\n\n{topics}",
            db = home.join("figwatch.db").display(),
            log = log.display(),
        ),
    )?;
    let out = Command::new(binary)
        .args(["--poll", "--config"])
        .arg(&config)
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !out.status.success() {
        bail!(
            "figwatch --poll failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if log.exists() {
        read_jsonl(&log)
    } else {
        Ok(Vec::new())
    }
}

/// The `figwatch` binary built beside this one.
fn figwatch_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find figwatch-eval's own path")?;
    let binary = me.with_file_name(format!("figwatch{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        bail!(
            "{} not found: build it first (cargo build --release --bin figwatch)",
            binary.display()
        );
    }
    Ok(binary)
}

/// An article as the smallest page a site could serve: a title and its paragraphs.
fn page(title: &str, text: &str) -> String {
    let paragraphs: String = text
        .split('\n')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", escape(p)))
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body><article><h1>{t}</h1>\n{paragraphs}</article></body></html>\n",
        t = escape(title)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

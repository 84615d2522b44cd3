//! The commands that say where things stand: `figwatch status` (each source's health and its
//! articles' schedule, the workers, the sinks) and `figwatch history` (an article's versions
//! and its next check).

use std::io::Write;

use super::{find_article, json_lines};
use figwatch::config::Config;
use figwatch::store::Store;

pub fn history(store: &Store, config: &Config, url: &str, json: bool) -> anyhow::Result<()> {
    let id = find_article(store, url)?;
    let versions = store.history(id)?;
    let mut out = super::stdout();
    if json {
        return json_lines(&mut out, &versions);
    }
    if versions.is_empty() {
        writeln!(
            out,
            "{url}: no version stored yet (see `figwatch status` for fetch errors)"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>7}  {:<24}  {:>8}  {:<12}  {:>6}",
        "version", "fetched (UTC)", "bytes", "hash", "alerts"
    )?;
    for v in &versions {
        let hash = &v.hash[..12.min(v.hash.len())];
        write!(
            out,
            "{:>7}  {:<24}  {:>8}  {hash:<12}  {:>6}",
            v.number, v.fetched_at, v.size, v.alerts
        )?;
        match &v.flag {
            Some(why) => writeln!(out, "  flagged: {why}")?,
            None => writeln!(out)?,
        }
    }
    if let Some(s) = store.article_schedule(id)? {
        writeln!(out, "{}", schedule_line(store, config, &s)?)?;
    }
    Ok(())
}

/// Where an article stands in its age schedule, for `figwatch history`.
fn schedule_line(
    store: &Store,
    config: &Config,
    s: &figwatch::store::ArticleSchedule,
) -> anyhow::Result<String> {
    let source_url = match s.source_id {
        Some(id) => store.source_url(id)?,
        None => None,
    };
    let recheck = config
        .sources
        .iter()
        .find(|c| Some(c.url.as_str()) == source_url.as_deref())
        .map_or(&config.recheck, |c| &c.recheck);
    let parse = figwatch::store::parse_timestamp;
    let now = chrono::Utc::now();
    let age = parse(&s.age_from)
        .and_then(|from| (now - from).to_std().ok())
        .map(|d| {
            humantime::format_duration(std::time::Duration::from_secs(d.as_secs() / 60 * 60))
                .to_string()
        })
        .unwrap_or_else(|| "-".into());
    let clock = if s.age_from == s.first_seen_at {
        format!("first seen {}", s.age_from)
    } else {
        format!("its text last changed {}", s.age_from)
    };
    Ok(match (&s.next_check_at, &s.retired_at) {
        (_, Some(retired)) => format!(
            "retired at {retired}: past its last tier ({} old, counted from {clock}); a feed listing it anew brings it back, `figwatch poll URL` checks it now",
            humantime::format_duration(recheck.retire_after())
        ),
        (None, None) => "checked with its source, on the source's interval (a page, or a feed entry without a link)".into(),
        (Some(next), None) => {
            let tier = parse(&s.age_from)
                .and_then(|from| figwatch::cadence::ages::tier_at(recheck, from, now))
                .map_or_else(|| "past its last tier: retired at that check".into(), figwatch::config::Recheck::describe);
            format!("next check {next} ({tier}; age {age}, counted from {clock})")
        }
    })
}

pub fn status(store: &Store, config: &Config, json: bool) -> anyhow::Result<()> {
    let configured: Vec<String> = config.sources.iter().map(|s| s.url.to_string()).collect();
    let rows: Vec<_> = store
        .source_statuses()?
        .into_iter()
        .filter(|s| configured.contains(&s.url))
        .collect();
    let mut out = super::stdout();
    let renders = |url: &str| {
        config
            .sources
            .iter()
            .any(|c| c.render && c.url.as_str() == url)
    };
    if json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r)?;
                v["render"] = serde_json::Value::Bool(renders(&r.url));
                Ok(v)
            })
            .collect::<serde_json::Result<_>>()?;
        return json_lines(&mut out, &rows);
    }
    if rows.is_empty() {
        writeln!(out, "no source has been polled yet; run `figwatch --poll`")?;
    }
    for r in &rows {
        let health = match (r.consecutive_failures, &r.last_polled_at) {
            (_, None) => "never polled".to_string(),
            (0, _) => "ok".to_string(),
            (n, _) => format!("FAILING ({n} in a row)"),
        };
        writeln!(out, "{} {}  — {}", r.kind, r.url, health)?;
        if renders(&r.url) {
            writeln!(
                out,
                "    rendered in headless Chromium (render = \"chromium\"){}",
                if r.kind == "page" {
                    ""
                } else {
                    ": its articles, not the listing"
                }
            )?;
        }
        let every = r
            .interval_secs
            .map(|s| {
                let d = std::time::Duration::from_secs(s.round() as u64);
                humantime::format_duration(d).to_string()
            })
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "    last poll {}{}, last success {}; next check {} (every {every}); {} articles, {} versions",
            r.last_polled_at.as_deref().unwrap_or("-"),
            r.last_http_status
                .map(|s| format!(" (HTTP {s})"))
                .unwrap_or_default(),
            r.last_ok_at.as_deref().unwrap_or("-"),
            r.next_check_at.as_deref().unwrap_or("now"),
            r.articles,
            r.versions
        )?;
        if r.kind == "feed" {
            writeln!(
                out,
                "    articles: {} watched, {} due in the next hour, {} retired",
                r.watched, r.due_within_hour, r.retired
            )?;
        }
        if let Some(since) = &r.failing_since {
            writeln!(out, "    source_failing alert raised at {since}")?;
        }
        if let (Some(by), Some(until)) = (&r.polled_by, &r.lease_until) {
            writeln!(out, "    being polled by {by} (lease until {until})")?;
        }
        if let Some(e) = &r.last_error {
            writeln!(
                out,
                "    {}: {e}",
                if r.consecutive_failures > 0 {
                    "error"
                } else {
                    "note"
                }
            )?;
        }
    }
    print_workers(store, &rows, &mut out)?;
    print_sink_status(store, config, &mut out)
}

/// The workers: each `figwatch run` seen in the last two minutes (idle ones too), and any
/// other process (a `--poll` pass) holding leases, with how many sources each is polling.
fn print_workers(
    store: &Store,
    rows: &[figwatch::store::SourceStatus],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut polling: std::collections::BTreeMap<&str, usize> = Default::default();
    for by in rows.iter().filter_map(|r| r.polled_by.as_deref()) {
        *polling.entry(by).or_default() += 1;
    }
    let recent = figwatch::store::timestamp(chrono::Utc::now() - chrono::Duration::minutes(2));
    for w in store.workers(&recent)? {
        let n = polling.remove(w.name.as_str()).unwrap_or(0);
        writeln!(
            out,
            "worker {}  — running since {}, last seen {}; polling {n} source(s)",
            w.name, w.started_at, w.seen_at
        )?;
    }
    for (by, n) in polling {
        writeln!(out, "worker {by}  — polling {n} source(s)")?;
    }
    Ok(())
}

/// Each sink's outbox: what waits, what was delivered, the last error.
fn print_sink_status(store: &Store, config: &Config, out: &mut impl Write) -> anyhow::Result<()> {
    for sink in &config.alerts.sinks {
        let b = store.sink_backlog(&sink.key)?;
        let state = if b.pending == 0 {
            "up to date".to_string()
        } else {
            format!(
                "{} waiting, next attempt {}",
                b.pending,
                b.next_attempt_at.as_deref().unwrap_or("now")
            )
        };
        writeln!(
            out,
            "sink {}  — {state}; {} delivered",
            sink.label, b.delivered
        )?;
        if let Some(e) = &b.last_error {
            writeln!(out, "    error: {e}")?;
        }
    }
    Ok(())
}

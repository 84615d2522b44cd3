//! Several figwatch processes on one database, and processes killed at random: no source is
//! polled twice at the same moment, nothing is corrupted, no decided alert is lost.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;

/// Feeds whose answers take `delay`, so that polls overlap if they can.
fn slow_site(feeds: usize, delay: Duration) -> (LocalServer, String) {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    let mut sources = String::new();
    for i in 0..feeds {
        let article = format!("/a{i}.html");
        server.set(
            &format!("/f{i}.xml"),
            Response::ok(
                "application/rss+xml",
                rss_feed(&base, &[("Story", article.as_str())]),
            )
            .delayed(delay),
        );
        server.set(&article, Response::html(story("3,000", None)));
        sources += &format!(
            "[[feeds]]\nurl = \"{}\"\n",
            server.url(&format!("/f{i}.xml"))
        );
    }
    (server, sources)
}

/// Requests to the same feed that were in flight at the same time (each takes `delay`).
fn overlapping(server: &LocalServer, delay: Duration) -> Vec<String> {
    overlapping_under(server, delay, "/f")
}

/// Requests to the same path under `prefix` that were in flight at the same time.
fn overlapping_under(server: &LocalServer, delay: Duration, prefix: &str) -> Vec<String> {
    let mut last: HashMap<String, Instant> = HashMap::new();
    let mut out = Vec::new();
    let mut requests = server.requests();
    requests.sort_by_key(|r| r.at);
    for r in requests.iter().filter(|r| r.path.starts_with(prefix)) {
        if let Some(prev) = last.get(&r.path) {
            if r.at.duration_since(*prev) < delay {
                out.push(r.path.clone());
            }
        }
        last.insert(r.path.clone(), r.at);
    }
    out
}

#[test]
fn two_polls_at_once_share_the_sources_and_say_what_they_skipped() {
    let delay = Duration::from_millis(700);
    let (server, sources) = slow_site(6, delay);
    let home = Home::new(&sources);
    let a = home.spawn(&["--poll", "--all"]);
    let b = home.spawn(&["--poll", "--all"]);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
    assert!(
        said.contains("skipped (being polled by another figwatch process)"),
        "{said}"
    );
    assert!(overlapping(&server, delay).is_empty());
    for i in 0..6 {
        assert_eq!(
            server.hits(&format!("/f{i}.xml")),
            1,
            "each feed polled once"
        );
    }
    let versions = home.ok(&["export", "versions", "--format", "jsonl"]);
    assert_eq!(versions.lines().count(), 6, "one version per article");
}

#[test]
fn a_poll_beside_the_daemon_never_polls_a_source_at_the_same_moment() {
    let delay = Duration::from_millis(500);
    let (server, sources) = slow_site(8, delay);
    let home = Home::custom(
        "interval = \"2s\"",
        "per_host_delay = \"0s\"\nper_host_concurrency = 8\nconcurrency = 2",
        &sources,
    );
    let mut daemon = home.spawn_daemon();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..3 {
        let out = home.figwatch(&["--poll", "--all"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::thread::sleep(Duration::from_secs(2));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert!(
        overlapping(&server, delay).is_empty(),
        "polled twice at once: {:?}",
        overlapping(&server, delay)
    );
    assert_eq!(home.integrity(), "ok");
}

#[test]
fn twenty_kills_at_random_moments_lose_and_corrupt_nothing() {
    let server = LocalServer::start().unwrap();
    let articles: Vec<String> = (0..4).map(|i| format!("/s{i}.html")).collect();
    list_paths(&server, &articles);
    let home = Home::custom(
        // The stories are re-checked every second by their age schedule, as the feed is.
        "interval = \"1s\"\nmin_interval = \"1s\"\nmax_interval = \"1s\"\nadaptive = false\njitter = 0.0\n[articles]\nrecheck = [[\"1h\", \"1s\"]]",
        "per_host_delay = \"0s\"\nper_host_concurrency = 8",
        &format!("[[feeds]]\nurl = \"{}\"\n", server.url("/rss.xml")),
    );
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..20 {
        // Every round the stories report new figures, so versions and alerts keep coming.
        for (i, a) in articles.iter().enumerate() {
            let n = 3000 + 100 * (round * 4 + i);
            server.set(a, Response::html(story(&format!("{n}"), None)));
        }
        let mut daemon = home.spawn_daemon();
        std::thread::sleep(Duration::from_millis(rng.u64(100..1200)));
        daemon.kill().unwrap(); // SIGKILL, wherever it is
        daemon.wait().unwrap();
    }
    // One clean pass delivers whatever the killed daemons had decided but not delivered.
    home.ok(&["--poll"]);

    assert_eq!(home.integrity(), "ok");
    let versions = home.count("SELECT count(*) FROM versions");
    assert!(versions >= 8, "the daemons did store versions: {versions}");
    // No version twice: consecutive versions of an article always differ.
    let repeated = home.count(
        "SELECT count(*) FROM versions v JOIN versions w
           ON w.article_id = v.article_id AND w.number = v.number + 1
         WHERE w.content_hash = v.content_hash",
    );
    assert_eq!(repeated, 0);
    // No half-written version: numbers run 1..n per article, and each alert's version exists.
    let gaps = home.count(
        "SELECT count(*) FROM (SELECT article_id, max(number) AS n, count(*) AS c
                               FROM versions GROUP BY article_id) per_article WHERE n != c",
    );
    assert_eq!(gaps, 0);
    let orphans = home.count(
        "SELECT count(*) FROM alerts a LEFT JOIN versions v ON v.id = a.version_id
         WHERE a.version_id IS NOT NULL AND v.id IS NULL",
    );
    assert_eq!(orphans, 0);
    // Every committed alert reached the alert log, in whole lines (at least once).
    let text = std::fs::read_to_string(home.path("alerts.jsonl")).unwrap_or_default();
    let mut logged = std::collections::HashSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a whole JSON line");
        logged.insert(v["id"].as_str().unwrap().to_string());
    }
    let stored: Vec<String> = home
        .query("SELECT string_agg(alert_id, ' ') FROM alerts")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert!(stored.len() >= 4, "alerts were raised: {}", stored.len());
    for id in &stored {
        assert!(
            logged.contains(id),
            "alert {id} was committed but never delivered"
        );
    }
}

#[test]
fn status_shows_who_is_polling_what() {
    let delay = Duration::from_millis(2500);
    let (_server, sources) = slow_site(3, delay);
    let home = Home::new(&sources);
    let poll = home.spawn(&["--poll", "--all"]);
    let started = Instant::now();
    let status = loop {
        // Until the poll has created the store, `status` says there is none.
        let s = String::from_utf8_lossy(&home.figwatch(&["status"]).stdout).to_string();
        if s.contains("being polled by") {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no lease seen: {s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.contains(&format!("pid {}", poll.id())),
        "names the process: {status}"
    );
    assert!(status.contains("polling 3 source(s)"), "{status}");
    let out = poll.wait_with_output().unwrap();
    assert!(out.status.success());
    let after = home.ok(&["status"]);
    assert!(
        !after.contains("being polled by"),
        "leases given back: {after}"
    );
}

#[test]
fn a_poll_beside_the_daemon_never_checks_an_article_at_the_same_moment() {
    // Slow articles re-checked every second by the daemon while `--poll --all` runs beside it:
    // each article is claimed by one process at a time.
    let delay = Duration::from_millis(400);
    let server = LocalServer::start().unwrap();
    let articles: Vec<String> = (0..6).map(|i| format!("/s{i}.html")).collect();
    list_paths(&server, &articles);
    for a in &articles {
        server.set(a, Response::html(story("3,000", None)).delayed(delay));
    }
    let home = Home::custom(
        "interval = \"1h\"\n[articles]\nrecheck = [[\"1h\", \"1s\"]]",
        "per_host_delay = \"0s\"\nper_host_concurrency = 8\nconcurrency = 3",
        &format!("[[feeds]]\nurl = \"{}\"\n", server.url("/rss.xml")),
    );
    home.ok(&["--poll"]);
    let mut daemon = home.spawn_daemon();
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..3 {
        home.ok(&["--poll", "--all", "--only", "articles"]);
    }
    std::thread::sleep(Duration::from_secs(1));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let twice = overlapping_under(&server, delay, "/s");
    let per_article = server.hits("/s0.html");
    assert!(
        per_article >= 3,
        "re-checked by both: {per_article} requests"
    );
    assert!(twice.is_empty(), "checked twice at once: {twice:?}");
    assert_eq!(home.integrity(), "ok");
}

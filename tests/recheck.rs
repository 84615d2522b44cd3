//! Articles checked again by age, long after they leave their feed: the real binary against a
//! local news site, with short tiers (seconds instead of hours) so that time passes in the
//! stored schedule rather than in the test. Runs on SQLite, and on PostgreSQL with
//! FIGWATCH_TEST_BACKEND=postgres.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// A site with one feed listing the story at [`ARTICLE`] (3,000 casualties), and a home whose
/// feed is polled every `interval`, its articles on `recheck`.
fn site(interval: &str, recheck: &str) -> (LocalServer, Home) {
    let server = story_server();
    let home = Home::custom(
        &format!("interval = \"{interval}\"\n\n[articles]\nrecheck = {recheck}"),
        "per_host_delay = \"0s\"\nper_host_concurrency = 8",
        &format!("[[feeds]]\nurl = \"{}\"\n", server.url("/rss.xml")),
    );
    (server, home)
}

/// The feed now lists another story only.
fn drop_from_feed(server: &LocalServer) {
    let base = server.url("");
    server.set(
        "/other.html",
        Response::html(article_page(
            "Weather",
            &["Sunny spells, and rain later in the week."],
        )),
    );
    server.set(
        "/rss.xml",
        Response::ok(
            "application/rss+xml",
            rss_feed(&base, &[("Another story", "/other.html")]),
        ),
    );
}

fn figure_changes(home: &Home) -> Vec<(String, String)> {
    home.alert_log()
        .into_iter()
        .filter(|a| a["kind"] == "figure_changed")
        .map(|a| (a["old"].to_string(), a["new"].to_string()))
        .collect()
}

fn article_row(home: &Home, column: &str, server: &LocalServer) -> String {
    home.query(&format!(
        "SELECT {column} FROM articles WHERE url = '{}'",
        server.url(ARTICLE)
    ))
}

fn seconds_until(at: &str) -> f64 {
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap_or_else(|e| panic!("{at:?}: {e}"))
        .with_timezone(&chrono::Utc);
    (at - chrono::Utc::now()).num_milliseconds() as f64 / 1000.0
}

#[test]
fn an_edit_is_caught_at_once_by_poll_all_and_by_poll_url() {
    // The README's scenario: poll, edit the article, `--poll --all`.
    let (server, home) = site("1h", r#"[["3h", "15m"], ["14d", "1d"]]"#);
    assert!(home.ok(&["--poll"]).contains("1 new article"));
    server.set(ARTICLE, Response::html(story("4,000", None)));
    // Nothing is due yet: a plain pass leaves the article alone.
    let quiet = home.ok(&["--poll"]);
    assert!(quiet.contains("nothing is due"), "{quiet}");
    assert_eq!(server.hits(ARTICLE), 1);
    let all = home.ok(&["--poll", "--all"]);
    assert!(all.contains("1 new version, 1 alert"), "{all}");
    assert_eq!(figure_changes(&home), vec![("3000".into(), "4000".into())]);

    // One article by its address, now: `figwatch poll URL` and `--poll --url URL`.
    server.set(ARTICLE, Response::html(story("4,500", None)));
    let one = home.ok(&["poll", &server.url(ARTICLE)]);
    assert!(one.contains("re-checked 1 article"), "{one}");
    assert!(one.contains("1 new version"), "{one}");
    server.set(ARTICLE, Response::html(story("5,000", None)));
    home.ok(&["--poll", "--url", &server.url(ARTICLE)]);
    assert_eq!(figure_changes(&home).len(), 3);
    let feed_hits = server.hits("/rss.xml");
    home.ok(&["poll", &server.url("/rss.xml")]);
    assert_eq!(
        server.hits("/rss.xml"),
        feed_hits + 1,
        "a source by its URL"
    );
    let unknown = home.figwatch(&["poll", &server.url("/nowhere.html")]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("neither a configured source nor a stored article"),
        "{unknown:?}"
    );
}

#[test]
fn an_article_that_left_its_feed_alerts_on_its_next_check() {
    // The feed is polled hourly; its articles every 2 seconds for their first hour.
    let (server, home) = site("1h", r#"[["1h", "2s"]]"#);
    home.ok(&["--poll"]);
    // The feed drops the story, and only then is the toll updated.
    drop_from_feed(&server);
    home.ok(&["--poll", "--all", "--only", "sources"]);
    server.set(ARTICLE, Response::html(story("4,500", None)));
    let feed_hits = server.hits("/rss.xml");
    let article_hits = server.hits(ARTICLE);
    // The next due pass re-checks it by its age schedule, not through the feed.
    std::thread::sleep(Duration::from_millis(2500));
    let due = home.ok(&["--poll"]);
    assert!(due.contains("1 new version, 1 alert"), "{due}");
    assert_eq!(server.hits("/rss.xml"), feed_hits, "the feed was not due");
    assert_eq!(figure_changes(&home), vec![("3000".into(), "4500".into())]);
    // A re-check that finds the page unchanged writes only its schedule.
    std::thread::sleep(Duration::from_millis(2500));
    let versions = home.count("SELECT count(*) FROM versions");
    home.ok(&["--poll", "--only", "articles"]);
    assert_eq!(home.count("SELECT count(*) FROM versions"), versions);
    assert!(server.hits(ARTICLE) >= article_hits + 2);
}

#[test]
fn past_its_last_tier_an_article_is_not_fetched_and_a_change_brings_it_back() {
    let (server, home) = site("1h", r#"[["2s", "1s"], ["1h", "30m"]]"#);
    home.ok(&["--poll"]);
    std::thread::sleep(Duration::from_millis(2500));
    // Two seconds old: checked, unchanged, and now in the 30-minute tier.
    home.ok(&["--poll"]);
    let next = seconds_until(&article_row(&home, "next_check_at", &server));
    assert!(next > 25.0 * 60.0, "next check in {next} s");
    let history = home.ok(&["history", &server.url(ARTICLE)]);
    assert!(history.contains("every 30m until 1h old"), "{history}");

    // Its text changes: the age clock starts again, back to the 1-second tier.
    server.set(ARTICLE, Response::html(story("4,000", None)));
    home.ok(&["poll", &server.url(ARTICLE)]);
    let next = seconds_until(&article_row(&home, "next_check_at", &server));
    assert!(next < 3.0, "next check in {next} s after a change");
    assert!(seconds_until(&article_row(&home, "age_from", &server)) > -5.0);

    // The schedule is shortened to half a second in all: the article is past it, and is
    // retired at its next check without being fetched.
    let config = std::fs::read_to_string(home.config()).unwrap();
    std::fs::write(
        home.config(),
        config.replace(r#"[["2s", "1s"], ["1h", "30m"]]"#, r#"[["500ms", "1s"]]"#),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let hits = server.hits(ARTICLE);
    let out = home.ok(&["--poll"]);
    assert!(out.contains("1 retired"), "{out}");
    assert_eq!(
        server.hits(ARTICLE),
        hits,
        "a retired article is not fetched"
    );
    home.ok(&["--poll", "--all"]);
    assert_eq!(server.hits(ARTICLE), hits, "nor by --poll --all");
    let status = home.ok(&["status"]);
    assert!(
        status.contains("0 watched, 0 due in the next hour, 1 retired"),
        "{status}"
    );
    assert!(home
        .ok(&["history", &server.url(ARTICLE)])
        .contains("retired at"));
}

#[test]
fn a_retired_article_listed_anew_is_watched_again() {
    let (server, home) = site("1h", r#"[["2s", "1s"]]"#);
    home.ok(&["--poll"]);
    drop_from_feed(&server);
    home.ok(&["--poll", "--all", "--only", "sources"]);
    std::thread::sleep(Duration::from_millis(2500));
    home.ok(&["--poll"]);
    assert_ne!(article_row(&home, "retired_at", &server), "");
    // The feed lists it again, updated: it is fetched and watched from now.
    list_story(&server);
    server.set(ARTICLE, Response::html(story("4,000", None)));
    home.ok(&["--poll", "--all", "--only", "sources"]);
    assert_eq!(article_row(&home, "retired_at", &server), "");
    assert_eq!(figure_changes(&home), vec![("3000".into(), "4000".into())]);
    let next = seconds_until(&article_row(&home, "next_check_at", &server));
    assert!(next < 3.0, "next check in {next} s");
}

#[test]
fn a_shorter_interval_or_schedule_takes_effect_at_start_and_on_sighup() {
    let (server, home) = site("1h", r#"[["1d", "1h"]]"#);
    home.ok(&["--poll"]);
    // A one-shot run with a shorter interval polls the feed at once.
    let config = std::fs::read_to_string(home.config()).unwrap();
    std::fs::write(
        home.config(),
        config.replace("interval = \"1h\"", "interval = \"1s\""),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let feed_hits = server.hits("/rss.xml");
    home.ok(&["--poll"]);
    assert_eq!(server.hits("/rss.xml"), feed_hits + 1);

    // The daemon, then a shorter interval and article schedule and SIGHUP: both are checked
    // soon, not in an hour.
    std::fs::write(home.config(), &config).unwrap();
    let mut child = home.spawn_daemon();
    std::thread::sleep(Duration::from_millis(1500));
    let hits = server.hits(ARTICLE);
    let feed_hits = server.hits("/rss.xml");
    std::fs::write(
        home.config(),
        config
            .replace(r#"[["1d", "1h"]]"#, r#"[["1d", "1s"]]"#)
            .replace("interval = \"1h\"", "interval = \"1s\""),
    )
    .unwrap();
    let ok = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let start = Instant::now();
    while server.hits(ARTICLE) < hits + 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the article was not checked after SIGHUP ({} requests)",
            server.hits(ARTICLE)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    while server.hits("/rss.xml") < feed_hits + 1 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the feed was not polled after SIGHUP"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait().unwrap();
    assert!(exit.success());
}

#[test]
fn a_bad_schedule_is_refused_with_its_key() {
    let (_server, home) = site("1h", r#"[["1d", "1h"], ["3h", "1h"]]"#);
    let out = home.figwatch(&["check-config"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("articles.recheck[1]") && err.contains("must grow"),
        "{err}"
    );
}

/// `t` moved by `secs` seconds, as the store writes times.
fn stamp(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[test]
fn an_edit_two_days_after_the_article_left_its_feed_alerts_on_schedule() {
    // The default schedule; time is moved in the store: the article was first seen two days
    // ago, left its feed since, and its 3-hourly check falls due now.
    let (server, home) = site(
        "1h",
        r#"[["3h", "15m"], ["1d", "1h"], ["3d", "3h"], ["14d", "1d"]]"#,
    );
    home.ok(&["--poll"]);
    drop_from_feed(&server);
    home.ok(&["--poll", "--all", "--only", "sources"]);
    let url = server.url(ARTICLE);
    let two_days = stamp(-2 * 86400);
    home.execute(&format!(
        "UPDATE articles SET first_seen_at = '{two_days}', age_from = '{two_days}',
                last_checked_at = '{}', next_check_at = '{}'
         WHERE url = '{url}'",
        stamp(-3 * 3600),
        stamp(-1)
    ));
    let history = home.ok(&["history", &url]);
    assert!(history.contains("every 3h until 3days old"), "{history}");
    server.set(ARTICLE, Response::html(story("4,500", None)));
    let out = home.ok(&["--poll"]);
    assert!(out.contains("1 new version, 1 alert"), "{out}");
    assert_eq!(figure_changes(&home), vec![("3000".into(), "4500".into())]);
    // The change starts its clock again: back to every 15 minutes.
    let next = seconds_until(&article_row(&home, "next_check_at", &server));
    assert!(
        (13.0 * 60.0..17.0 * 60.0).contains(&next),
        "next check in {next} s"
    );
    assert!(home
        .ok(&["history", &url])
        .contains("every 15m until 3h old"));
}

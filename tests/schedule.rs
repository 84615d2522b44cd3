//! The scheduler against local servers: conditional GETs, what a pass polls, politeness per
//! host, Retry-After, failing and recovering sources, and one fetch per canonical URL.

mod common;

use std::time::Duration;

use common::*;

fn status(home: &Home) -> Vec<serde_json::Value> {
    home.ok(&["status", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn status_of(home: &Home, url: &str) -> serde_json::Value {
    status(home)
        .into_iter()
        .find(|r| r["url"] == url)
        .unwrap_or_else(|| panic!("no status for {url}"))
}

fn requests_to(server: &LocalServer, prefix: &str) -> Vec<common::localhttp::Request> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(prefix))
        .collect()
}

#[test]
fn an_unchanged_feed_answers_304_and_nothing_is_parsed_or_stored() {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    let feed = |etag: &str| {
        Response::ok(
            "application/rss+xml",
            rss_feed(&base, &[("Troops", "/a.html")]),
        )
        .with_etag(etag)
    };
    server.set("/feed.xml", feed("f1"));
    server.set(
        "/a.html",
        Response::html(story("3,000", None)).with_etag("a1"),
    );
    let home = Home::new(&format!(
        "[[feeds]]\nurl = \"{}\"\n",
        server.url("/feed.xml")
    ));

    let first = home.ok(&["--poll", "--all"]);
    assert!(
        first.contains("1 new article, 1 new version"),
        "{first}\n{}",
        home.ok(&["status"])
    );

    let second = home.ok(&["--poll", "--all"]);
    assert!(second.contains("1 not modified"), "{second}");
    assert!(second.contains("0 new versions"), "{second}");
    let feed_requests = requests_to(&server, "/feed.xml");
    assert_eq!(feed_requests.len(), 2);
    assert_eq!(feed_requests[1].if_none_match.as_deref(), Some("\"f1\""));
    assert_eq!(feed_requests[1].status, 304);
    // The article the feed listed is still watched, with its own conditional GET.
    let article_requests = requests_to(&server, "/a.html");
    assert_eq!(article_requests.len(), 2);
    assert_eq!(article_requests[1].status, 304);
    assert_eq!(home.history(&server.url("/a.html")).len(), 1);
    assert_eq!(
        status_of(&home, &server.url("/feed.xml"))["last_http_status"],
        304
    );

    // The article is revised: its new ETag brings a new version and an alert.
    server.set(
        "/a.html",
        Response::html(story("4,000", None)).with_etag("a2"),
    );
    let third = home.ok(&["--poll", "--all"]);
    assert!(third.contains("1 not modified"), "{third}");
    assert!(third.contains("1 new version"), "{third}");
    assert_eq!(home.alert_log().last().unwrap()["kind"], "figure_changed");
}

#[test]
fn a_pass_polls_what_is_due_and_all_polls_everything() {
    let server = LocalServer::start().unwrap();
    server.set("/page.html", Response::html(story("3,000", None)));
    let home = Home::custom(
        "interval = \"1h\"",
        "per_host_delay = \"0s\"",
        &format!("[[pages]]\nurl = \"{}\"\n", server.url("/page.html")),
    );
    assert!(home.ok(&["--poll"]).contains("polled 1 source"));
    let again = home.ok(&["--poll"]);
    assert!(again.contains("nothing is due"), "{again}");
    assert_eq!(server.hits("/page.html"), 1);
    assert!(home.ok(&["--poll", "--all"]).contains("polled 1 source"));
    assert!(home.ok(&["poll", "--all"]).contains("polled 1 source"));
    assert_eq!(server.hits("/page.html"), 3);

    // The next check is about an hour away (the interval, within 10% jitter).
    let row = status_of(&home, &server.url("/page.html"));
    let next = chrono::DateTime::parse_from_rfc3339(row["next_check_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let minutes = (next - chrono::Utc::now()).num_minutes();
    assert!((50..=66).contains(&minutes), "next check in {minutes} min");
    let text = home.ok(&["status"]);
    assert!(
        text.contains("next check") && text.contains("every"),
        "{text}"
    );
}

#[test]
fn requests_to_one_host_are_spaced_by_the_politeness_delay() {
    let server = LocalServer::start().unwrap();
    let mut sources = String::new();
    for i in 0..3 {
        let path = format!("/p{i}.html");
        server.set(&path, Response::html(story("3,000", None)));
        sources += &format!("[[pages]]\nurl = \"{}\"\n", server.url(&path));
    }
    let home = Home::custom(
        "interval = \"1h\"",
        "per_host_delay = \"700ms\"\nper_host_concurrency = 1\nconcurrency = 3",
        &sources,
    );
    home.ok(&["--poll"]);
    let mut times: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    times.sort();
    assert_eq!(times.len(), 3);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(650),
            "requests to one host {gap:?} apart, less than the 700ms delay"
        );
    }
}

#[test]
fn retry_after_pauses_the_whole_host_across_runs() {
    let limited = LocalServer::start_on("127.0.0.3").unwrap();
    limited.set(
        "/limited.html",
        Response::status(429).header("Retry-After", "300"),
    );
    limited.set("/other.html", Response::html(story("3,000", None)));
    let elsewhere = LocalServer::start_on("127.0.0.4").unwrap();
    elsewhere.set("/fine.html", Response::html(story("3,000", None)));
    let sources: String = [
        limited.url("/limited.html"),
        limited.url("/other.html"),
        elsewhere.url("/fine.html"),
    ]
    .iter()
    .map(|u| format!("[[pages]]\nurl = \"{u}\"\n"))
    .collect();
    let home = Home::custom(
        "interval = \"1s\"",
        "per_host_delay = \"0s\"\nper_host_concurrency = 1\nconcurrency = 1",
        &sources,
    );

    let first = home.ok(&["--poll", "--all"]);
    assert!(first.contains("1 failed"), "{first}");
    assert!(first.contains("1 deferred"), "{first}");
    assert_eq!(limited.hits("/other.html"), 0, "its host asked us to wait");
    assert_eq!(elsewhere.hits("/fine.html"), 1, "another host is polled");
    let row = status_of(&home, &limited.url("/limited.html"));
    let error = row["last_error"].as_str().unwrap();
    assert!(
        error.contains("HTTP 429") && error.contains("wait"),
        "{error}"
    );

    // The pause is kept in the database: the next run does not knock either.
    let second = home.ok(&["--poll", "--all"]);
    assert!(second.contains("2 deferred"), "{second}");
    assert_eq!(limited.hits("/limited.html"), 1);
    assert_eq!(limited.hits("/other.html"), 0);
    assert_eq!(elsewhere.hits("/fine.html"), 2);
}

#[test]
fn a_failing_source_alerts_once_and_its_recovery_once() {
    let server = LocalServer::start().unwrap();
    server.set("/down.xml", Response::status(500));
    let home = Home::custom(
        "interval = \"1s\"\nfail_after = 3",
        "per_host_delay = \"0s\"",
        &format!("[[feeds]]\nurl = \"{}\"\n", server.url("/down.xml")),
    );
    for _ in 0..6 {
        home.ok(&["--poll", "--all"]);
    }
    let kinds = |home: &Home| -> Vec<String> {
        home.alert_log()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        kinds(&home),
        ["source_failing"],
        "one alert, not one per failure"
    );
    let failing = &home.alert_log()[0];
    assert_eq!(failing["failures"], 3);
    assert!(failing["error"].as_str().unwrap().contains("HTTP 500"));
    let row = status_of(&home, &server.url("/down.xml"));
    assert_eq!(row["consecutive_failures"], 6);
    // Backed off: six failures in a row wait far longer than the 1s interval.
    assert!(row["interval_secs"].as_f64().unwrap() >= 32.0, "{row}");

    server.set(
        "/down.xml",
        Response::ok("application/rss+xml", rss_feed(&server.url(""), &[])),
    );
    home.ok(&["--poll", "--all"]);
    home.ok(&["--poll", "--all"]);
    assert_eq!(kinds(&home), ["source_failing", "source_recovered"]);
    let alerts = home.ok(&["alerts"]);
    assert!(
        alerts.contains("source_recovered") && alerts.contains("works again after 6 failed polls"),
        "{alerts}"
    );
}

#[test]
fn an_article_is_fetched_once_however_many_feeds_link_it() {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    server.set("/story.html", Response::html(story("3,000", None)));
    // The AMP copy names the story as its canonical address.
    let amp = story("3,000", None).replace(
        "<head>",
        &format!("<head><link rel=\"canonical\" href=\"{base}/story.html\">"),
    );
    server.set("/amp/story.html", Response::html(amp));
    let feed = |name: &str, link: &str, guid: &str| {
        let body = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{name}</title>\
             <item><title>Troops</title><link>{base}{link}</link><guid>{guid}</guid></item></channel></rss>"
        );
        Response::ok("application/rss+xml", body)
    };
    server.set(
        "/one.xml",
        feed("One", "/story.html?utm_source=one", "one-1"),
    );
    server.set(
        "/two.xml",
        feed("Two", "/story.html?utm_source=two#top", "two-1"),
    );
    server.set("/three.xml", feed("Three", "/amp/story.html", "three-1"));
    let sources: String = ["/one.xml", "/two.xml", "/three.xml"]
        .iter()
        .map(|p| format!("[[feeds]]\nurl = \"{}\"\n", server.url(p)))
        .collect();
    let home = Home::custom(
        "interval = \"1h\"",
        "per_host_delay = \"0s\"\nconcurrency = 1",
        &sources,
    );

    let first = home.ok(&["--poll"]);
    assert!(
        first.contains("1 new article, 1 new version"),
        "{first}\n{}",
        home.ok(&["status"])
    );
    assert_eq!(requests_to(&server, "/story.html").len(), 1, "fetched once");
    // The AMP page was read once to learn its canonical address; it is the same article.
    assert_eq!(home.history(&format!("{base}/amp/story.html")).len(), 1);

    // A feed that changes its guid for the same link does not make a new article, and
    // polling the feeds does not fetch their known articles again (their age schedule does).
    server.set(
        "/one.xml",
        feed("One", "/story.html?utm_source=one", "one-renamed"),
    );
    let second = home.ok(&["--poll", "--all", "--only", "sources"]);
    assert!(second.contains("0 new articles"), "{second}");
    assert_eq!(requests_to(&server, "/story.html").len(), 1);
    assert_eq!(requests_to(&server, "/amp/").len(), 1);
    let articles: i64 = status(&home)
        .iter()
        .map(|r| r["articles"].as_i64().unwrap())
        .sum();
    assert_eq!(articles, 1);
}

#[test]
fn a_feeds_ttl_and_max_age_are_a_floor_on_its_interval() {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    let with_ttl = rss_feed(&base, &[]).replace("<channel>", "<channel><ttl>120</ttl>");
    server.set("/ttl.xml", Response::ok("application/rss+xml", with_ttl));
    server.set(
        "/cached.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[]))
            .header("Cache-Control", "public, max-age=1800"),
    );
    server.set(
        "/plain.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[])),
    );
    let sources: String = ["/ttl.xml", "/cached.xml", "/plain.xml"]
        .iter()
        .map(|p| format!("[[feeds]]\nurl = \"{}\"\n", server.url(p)))
        .collect();
    let home = Home::custom(
        "interval = \"10m\"\nmax_interval = \"1h\"",
        "per_host_delay = \"0s\"",
        &sources,
    );
    home.ok(&["--poll"]);
    let interval = |p: &str| {
        status_of(&home, &server.url(p))["interval_secs"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(
        interval("/ttl.xml"),
        3600.0,
        "ttl 2h, capped by max_interval 1h"
    );
    assert_eq!(interval("/cached.xml"), 1800.0, "max-age 30 min");
    assert_eq!(interval("/plain.xml"), 600.0, "no hint: the interval");
}

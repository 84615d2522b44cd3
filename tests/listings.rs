//! Outlets without a feed, through the real binary: news sitemaps (a urlset, an index with a
//! gzipped child, a 10,000-URL archive of which only the recent URLs are followed, a `lastmod`
//! that makes an article due again) and section fronts (article links followed, navigation
//! and widgets left out, the front's own text never stored).

mod common;

use chrono::{Duration, Utc};
use common::*;

fn day(days_ago: i64) -> String {
    (Utc::now() - Duration::days(days_ago)).to_rfc3339()
}

/// A urlset; each URL with its `news:publication_date` (days ago) and `lastmod`.
fn urlset(server: &LocalServer, urls: &[(&str, i64, &str)]) -> String {
    let items: String = urls
        .iter()
        .map(|(path, age, lastmod)| {
            format!(
                "<url><loc>{}</loc><lastmod>{lastmod}</lastmod><news:news><news:publication_date>{}</news:publication_date><news:title>Story {path}</news:title></news:news></url>",
                server.url(path),
                day(*age)
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{items}</urlset>"#
    )
}

fn weather() -> String {
    article_page(
        "Snow closes schools",
        &["Heavy snow closed schools across the region on Thursday, and 14 flights were cancelled at the main airport."],
    )
}

#[test]
fn a_news_sitemap_leads_to_its_recent_articles_and_a_lastmod_brings_one_back() {
    let server = LocalServer::start().unwrap();
    server.set(ARTICLE, Response::html(story("3,000", None)));
    server.set("/old/archived-story.html", Response::html(weather()));
    let lastmod = day(0);
    server.set(
        "/news-sitemap.xml",
        Response::ok(
            "application/xml",
            urlset(
                &server,
                &[
                    (ARTICLE, 0, &lastmod),
                    ("/old/archived-story.html", 40, &day(40)),
                ],
            ),
        ),
    );
    // Articles are checked again by age only after an hour: what brings one back here is the
    // sitemap's word alone.
    let home = Home::custom(
        "interval = \"1s\"\n[articles]\nrecheck = [[\"1d\", \"1h\"]]",
        "per_host_delay = \"0s\"",
        &format!(
            "[[sitemaps]]\nurl = \"{}\"\n",
            server.url("/news-sitemap.xml")
        ),
    );
    let summary = home.ok(&["--poll"]);
    assert!(
        summary.contains("1 new article, 1 new version, 1 alert"),
        "{summary}"
    );
    assert_eq!(
        server.hits("/old/archived-story.html"),
        0,
        "an archived URL was fetched"
    );
    let log = home.alert_log();
    assert_eq!(
        (log[0]["kind"].as_str(), log[0]["new"].as_i64()),
        (Some("new_figure"), Some(3000))
    );

    // The story is edited; the sitemap says so with a new lastmod. The article is checked
    // again at once (its age schedule would wait an hour) and the change is an alert.
    home.ok(&["poll"]);
    let checks = server.hits(ARTICLE);
    server.set(ARTICLE, Response::html(story("4,000", None)));
    home.ok(&["poll"]);
    assert_eq!(
        server.hits(ARTICLE),
        checks,
        "checked without a new lastmod"
    );
    server.set(
        "/news-sitemap.xml",
        Response::ok(
            "application/xml",
            urlset(
                &server,
                &[
                    (
                        ARTICLE,
                        0,
                        &(Utc::now() + Duration::seconds(1)).to_rfc3339(),
                    ),
                    ("/old/archived-story.html", 40, &day(40)),
                ],
            ),
        ),
    );
    let summary = home.ok(&["poll"]);
    assert!(summary.contains("1 new version, 1 alert"), "{summary}");
    let changed: Vec<_> = home
        .alert_log()
        .into_iter()
        .filter(|a| a["kind"] == "figure_changed")
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0]["old"].as_i64(), changed[0]["new"].as_i64()),
        (Some(3000), Some(4000))
    );
}

#[test]
fn a_sitemap_index_is_read_through_its_gzipped_child() {
    use std::io::Write;
    let server = LocalServer::start().unwrap();
    server.set(ARTICLE, Response::html(story("3,000", None)));
    let child = urlset(&server, &[(ARTICLE, 1, &day(1))]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(child.as_bytes()).unwrap();
    server.set(
        "/sitemap-news-1.xml.gz",
        Response::ok("application/x-gzip", gz.finish().unwrap()),
    );
    server.set(
        "/sitemap-index.xml",
        Response::ok(
            "application/xml",
            format!(
                "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><sitemap><loc>{}</loc><lastmod>{}</lastmod></sitemap></sitemapindex>",
                server.url("/sitemap-news-1.xml.gz"),
                day(1)
            ),
        ),
    );
    let home = Home::new(&format!(
        "[[sitemaps]]\nurl = \"{}\"\n",
        server.url("/sitemap-index.xml")
    ));
    let summary = home.ok(&["--poll"]);
    assert!(
        summary.contains("1 new article, 1 new version, 1 alert"),
        "{summary}"
    );
    assert_eq!(home.alert_log()[0]["url"], server.url(ARTICLE).as_str());
}

#[test]
fn an_archive_of_ten_thousand_urls_costs_only_its_recent_ones() {
    let server = LocalServer::start().unwrap();
    let old = day(400);
    let mut urls: Vec<(String, i64)> = (0..10_000)
        .map(|i| (format!("/archive/{i}/an-old-story-here.html"), 400))
        .collect();
    for i in 0..3 {
        urls.push((format!("/world/2026/recent-story-{i}.html"), 1));
        server.set(&urls.last().unwrap().0, Response::html(weather()));
    }
    let pairs: Vec<(&str, i64, &str)> = urls
        .iter()
        .map(|(p, age)| (p.as_str(), *age, old.as_str()))
        .collect();
    server.set(
        "/sitemap.xml",
        Response::ok("application/xml", urlset(&server, &pairs)),
    );
    let home = Home::new(&format!(
        "[[sitemaps]]\nurl = \"{}\"\nmax_age = \"3d\"\n",
        server.url("/sitemap.xml")
    ));
    let summary = home.ok(&["--poll"]);
    assert!(summary.contains("3 new articles"), "{summary}");
    let requests = server.requests();
    assert!(
        requests.len() <= 5,
        "{} requests: {:?}",
        requests.len(),
        requests
            .iter()
            .map(|r| &r.path)
            .take(10)
            .collect::<Vec<_>>()
    );
    let status = home.ok(&["status"]);
    assert!(status.contains("older than max_age"), "{status}");
}

#[test]
fn a_section_front_leads_to_its_articles_without_its_chrome() {
    const ARTICLE: &str = "/world/north-korean-troops-suffer-losses.html";
    let server = LocalServer::start().unwrap();
    server.set(ARTICLE, Response::html(story("3,000", None)));
    server.set(
        "/world/snow-closes-schools-today.html",
        Response::html(weather()),
    );
    for path in [
        "/world/2026/01/05/promo-in-the-navigation",
        "/about/our-standards-and-ethics",
    ] {
        server.set(path, Response::html(weather()));
    }
    let front = format!(
        r#"<!DOCTYPE html><html><body>
        <nav><a href="/">Home</a><a href="/world/">World</a><a href="/world/2026/01/05/promo-in-the-navigation">Top</a></nav>
        <main><h1>World</h1><p>Kim Jong Un sent 12,000 North Korean troops, our front page says in its own teaser text.</p>
          <div class="story"><h2><a href="{ARTICLE}">North Korean troops in Kursk</a></h2></div>
          <div class="story"><h2><a href="/world/snow-closes-schools-today.html">Snow closes schools today</a></h2>
            <a href="/tag/weather">weather</a> <a href="/author/demo-desk">Demo Desk</a></div>
        </main>
        <footer><a href="/about/our-standards-and-ethics">About</a></footer></body></html>"#
    );
    server.set("/world/", Response::html(front));
    let home = Home::new(&format!(
        "[[sections]]\nurl = \"{}\"\nlinks = \"/world/\"\n",
        server.url("/world/")
    ));
    let summary = home.ok(&["--poll"]);
    assert!(
        summary.contains("2 new articles, 2 new versions, 1 alert"),
        "{summary}"
    );
    assert_eq!(server.hits("/world/2026/01/05/promo-in-the-navigation"), 0);
    assert_eq!(server.hits("/about/our-standards-and-ethics"), 0);
    // The front's own text (with its 12,000) is no article and raised nothing.
    assert_eq!(home.query("SELECT count(*) FROM articles"), "2");
    let log = home.alert_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["new"], 3000);
    assert_eq!(log[0]["url"], server.url(ARTICLE).as_str());
}

#[test]
fn listing_keys_on_the_wrong_kind_of_source_are_refused_with_their_key() {
    let home = Home::new("[[feeds]]\nurl = \"https://news.example/rss\"\nmax_age = \"1d\"\n");
    let out = home.figwatch(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("feeds[0].max_age") && err.contains("[[sitemaps]]"),
        "{err}"
    );
    let home =
        Home::new("[[sections]]\nurl = \"https://news.example/world/\"\nlinks_regex = \"(\"\n");
    let out = home.figwatch(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sections[0].links_regex") && err.contains("not a regular expression"),
        "{err}"
    );
}

#[test]
fn discover_prints_a_sites_feeds_sitemaps_and_sections_as_configuration() {
    let server = LocalServer::start().unwrap();
    let home_page = r#"<!DOCTYPE html><html><head><title>News</title>
        <link rel="alternate" type="application/rss+xml" title="Top stories" href="/rss.xml">
        </head><body><nav><a href="/">Home</a> <a href="/world/">World</a> <a href="/login">Sign in</a></nav>
        <main><a href="/world/2025/01/14/a-story-here">A story</a></main></body></html>"#;
    server.set("/", Response::html(home_page));
    server.set(
        "/robots.txt",
        Response::ok(
            "text/plain",
            format!(
                "User-agent: *\nSitemap: {}\n",
                server.url("/sitemap-index.xml")
            ),
        ),
    );
    server.set(
        "/news-sitemap.xml",
        Response::ok("application/xml", urlset(&server, &[(ARTICLE, 0, &day(0))])),
    );
    let home = Home::new("");
    let out = home.ok(&["discover", &server.url("/")]);
    let found: toml::Table = toml::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let urls = |key: &str| -> Vec<String> {
        found[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["url"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(urls("feeds"), [server.url("/rss.xml")]);
    assert_eq!(
        urls("sitemaps"),
        [
            server.url("/sitemap-index.xml"),
            server.url("/news-sitemap.xml")
        ]
    );
    assert_eq!(urls("sections"), [server.url("/world/")]);
    assert!(out.contains("# Top stories"), "{out}");
    // What it prints is configuration that figwatch takes as it is.
    let pasted = Home::new(&out);
    pasted.ok(&["check-config"]);
}

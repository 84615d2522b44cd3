//! The load server: N feeds spread over several loopback addresses (127.0.0.2, 127.0.0.3, …,
//! separate hosts to figwatch), each feed listing its newest entries, each entry an article
//! page. Feeds and articles carry ETags and answer 304 when unchanged. A round changes a
//! chosen set of feeds by adding one entry to each.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// How many entries a feed lists (its newest).
pub const ENTRIES: u32 = 3;

/// How many articles an archive feed lists: the article rounds' 100,000 watched articles come
/// from 1,000 of them.
pub const ARCHIVE_ENTRIES: u32 = 100;

pub struct Site {
    /// Per feed: the number of its newest entry.
    versions: Vec<AtomicU32>,
    pub requests: AtomicU64,
    pub not_modified: AtomicU64,
    /// Where each host listens; feed `i` is on host `i % hosts.len()`.
    pub hosts: Vec<SocketAddr>,
    /// Per archive feed: the revision of its articles (each change rewrites all of them).
    archive: Vec<AtomicU32>,
}

impl Site {
    pub fn feed_url(&self, i: usize) -> String {
        format!("http://{}/feeds/{i}.xml", self.hosts[i % self.hosts.len()])
    }

    pub fn feeds(&self) -> usize {
        self.versions.len()
    }

    /// Adds one entry to each of the given feeds.
    pub fn change(&self, feeds: impl IntoIterator<Item = usize>) {
        for i in feeds {
            self.versions[i].fetch_add(1, Ordering::SeqCst);
        }
    }

    /// An archive feed: `ARCHIVE_ENTRIES` small article pages on host `i % hosts.len()`.
    pub fn archive_url(&self, i: usize) -> String {
        format!(
            "http://{}/archive/{i}.xml",
            self.hosts[i % self.hosts.len()]
        )
    }

    pub fn archive_feeds(&self) -> usize {
        self.archive.len()
    }

    /// The URL of article `k` of archive feed `i`, as the feed links it.
    pub fn archive_article_url(&self, i: usize, k: u32) -> String {
        format!(
            "http://{}/archived/{i}/{k}.html",
            self.hosts[i % self.hosts.len()]
        )
    }

    /// Rewrites every article of the given archive feeds (new text, new ETag).
    pub fn change_archive(&self, feeds: impl IntoIterator<Item = usize>) {
        for i in feeds {
            self.archive[i].fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Every feed back to its first state (for the bare loop's run).
    pub fn reset(&self) {
        for v in &self.versions {
            v.store(ENTRIES, Ordering::SeqCst);
        }
    }
}

/// Starts the site on `hosts` loopback addresses from 127.0.0.2 up, with `feeds` news feeds
/// and `archive` archive feeds.
pub async fn start(feeds: usize, hosts: usize, archive: usize) -> anyhow::Result<Arc<Site>> {
    let mut listeners = Vec::new();
    anyhow::ensure!((1..=250).contains(&hosts), "--hosts must be from 1 to 250");
    for h in 0..hosts {
        let ip = std::net::Ipv4Addr::new(127, 0, 0, (2 + h) as u8);
        let l = tokio::net::TcpListener::bind((ip, 0)).await?;
        listeners.push(l);
    }
    let site = Arc::new(Site {
        versions: (0..feeds).map(|_| AtomicU32::new(ENTRIES)).collect(),
        requests: AtomicU64::new(0),
        not_modified: AtomicU64::new(0),
        hosts: listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<Result<_, _>>()?,
        archive: (0..archive).map(|_| AtomicU32::new(0)).collect(),
    });
    let app = Router::new()
        .route("/feeds/{file}", get(feed))
        .route("/articles/{feed}/{file}", get(article))
        .route("/archive/{file}", get(archive_feed))
        .route("/archived/{feed}/{file}", get(archived))
        .route("/sitemaps/{file}", get(sitemap))
        .route("/fronts/{front}/", get(front))
        .route("/stories/{desk}/{slug}", get(story))
        .route("/apps/{file}", get(crate::render::app_file))
        .route("/apps/story/{file}", get(crate::render::app_story))
        .with_state(Arc::clone(&site));
    for l in listeners {
        let app = app.clone();
        tokio::spawn(async move { axum::serve(l, app).await });
    }
    Ok(site)
}

/// How many URLs each listing of the listings benchmark names.
pub const LISTED: u32 = 100;

impl Site {
    /// Sitemap `i` of the listings benchmark: `LISTED` recent story URLs.
    pub fn sitemap_url(&self, i: usize) -> String {
        format!(
            "http://{}/sitemaps/{i}.xml",
            self.hosts[i % self.hosts.len()]
        )
    }

    /// Section front `i` of the listings benchmark: navigation around `LISTED / 10` story links.
    pub fn front_url(&self, i: usize) -> String {
        format!("http://{}/fronts/{i}/", self.hosts[i % self.hosts.len()])
    }
}

/// A story's path: slugged like a real article's, so that a front's links look like one.
fn story_path(desk: usize, k: u32) -> String {
    format!("/stories/{desk}/{k}-north-korean-troops-report-from-desk-{desk}")
}

async fn sitemap(
    State(site): State<Arc<Site>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(i) = numbered::<usize>(&file, ".xml") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let host = site.hosts[i % site.hosts.len()];
    let today = chrono::Utc::now().format("%Y-%m-%d");
    conditional(
        &site,
        &headers,
        format!("\"s{i}\""),
        "application/xml",
        || {
            let urls: String = (0..LISTED)
            .map(|k| {
                format!(
                    "<url><loc>http://{host}{}</loc><lastmod>{today}</lastmod><news:news><news:publication_date>{today}</news:publication_date><news:title>Report {k}</news:title></news:news></url>",
                    story_path(10_000 + i, k)
                )
            })
            .collect();
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">{urls}</urlset>")
        },
    )
}

async fn front(
    State(site): State<Arc<Site>>,
    Path(i): Path<usize>,
    headers: HeaderMap,
) -> Response {
    conditional(
        &site,
        &headers,
        format!("\"fr{i}\""),
        "text/html; charset=utf-8",
        || {
            let links: String = (0..LISTED / 10)
            .map(|k| format!("<div class=\"story\"><h2><a href=\"{}\">Report {k} from desk {i}</a></h2></div>", story_path(20_000 + i, k)))
            .collect();
            format!(
            "<!DOCTYPE html><html><head><title>Desk {i}</title></head><body>\
             <nav><a href=\"/\">Home</a> <a href=\"/fronts/{i}/\">Desk</a> <a href=\"{}\">Top story</a> <a href=\"/login\">Sign in</a></nav>\
             <main><h1>Desk {i}</h1>{links}</main><footer><a href=\"/about/the-desk-and-its-people\">About</a></footer></body></html>",
            story_path(30_000 + i, 0)
        )
        },
    )
}

async fn story(
    State(site): State<Arc<Site>>,
    Path((desk, slug)): Path<(usize, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(k) = slug.split('-').next().and_then(|n| n.parse::<u32>().ok()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    conditional(
        &site,
        &headers,
        format!("\"st{desk}-{k}\""),
        "text/html; charset=utf-8",
        || page(desk, k),
    )
}

/// The number a file of the site is named by: `12.xml` → 12.
fn numbered<T: std::str::FromStr>(file: &str, extension: &str) -> Option<T> {
    file.strip_suffix(extension)?.parse().ok()
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
}

fn conditional(
    site: &Site,
    headers: &HeaderMap,
    etag: String,
    ctype: &'static str,
    body: impl FnOnce() -> String,
) -> Response {
    site.requests.fetch_add(1, Ordering::Relaxed);
    if etag_matches(headers, &etag) {
        site.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, ctype.to_string()),
        ],
        body(),
    )
        .into_response()
}

async fn feed(
    State(site): State<Arc<Site>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(i) = numbered::<usize>(&file, ".xml") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(v) = site.versions.get(i).map(|v| v.load(Ordering::SeqCst)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let host = site.hosts[i % site.hosts.len()];
    conditional(
        &site,
        &headers,
        format!("\"f{i}-{v}\""),
        "application/rss+xml",
        || {
            let items: String = (v.saturating_sub(ENTRIES) + 1..=v)
            .rev()
            .map(|k| {
                format!(
                    "<item><title>Report {k} from desk {i}</title><link>http://{host}/articles/{i}/{k}.html</link>\
                     <guid>desk-{i}-report-{k}</guid><description>Report {k}.</description></item>"
                )
            })
            .collect();
            format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
             <title>Desk {i}</title><link>http://{host}/</link><description>Load test feed</description>{items}</channel></rss>"
        )
        },
    )
}

async fn article(
    State(site): State<Arc<Site>>,
    Path((feed, file)): Path<(usize, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(k) = numbered::<u32>(&file, ".html") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    conditional(
        &site,
        &headers,
        format!("\"a{feed}-{k}\""),
        "text/html; charset=utf-8",
        || page(feed, k),
    )
}

/// A small news page: boilerplate around four paragraphs, one of them with a casualty figure
/// for the benchmark's topic, so that each new article goes through figure extraction too.
fn page(feed: usize, k: u32) -> String {
    let figure = 1000 + (feed as u32 * 7 + k * 13) % 4000;
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Report {k} from desk {feed}</title>\
         <meta property=\"article:published_time\" content=\"2026-11-27T08:00:00Z\"></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/world\">World</a> <a href=\"/sport\">Sport</a></nav>\
         <article><h1>Report {k} from desk {feed}</h1><p class=\"byline\">By the desk</p>\
         <p>North Korea has sent soldiers to fight for Russia in the Kursk region, officials in Kyiv and Seoul said on Tuesday, in a deployment that has drawn condemnation.</p>\
         <p>Officials said that {figure} North Korean troops had been killed or wounded since they joined the fighting, a figure that could not be independently verified.</p>\
         <p>Pyongyang has not commented on its losses, and Moscow has not confirmed the presence of the soldiers. Analysts said the deployment gave North Korea combat experience.</p>\
         <p>The report is number {k} of desk {feed}; it is one of many served by the load server.</p></article>\
         <aside><h2>Most read</h2><ul><li><a href=\"/x\">Another story</a></li><li><a href=\"/y\">A third story</a></li></ul></aside>\
         <footer>© Load News</footer></body></html>"
    )
}

async fn archive_feed(
    State(site): State<Arc<Site>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(i) = numbered::<usize>(&file, ".xml").filter(|i| *i < site.archive.len()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    conditional(
        &site,
        &headers,
        format!("\"archive-{i}\""),
        "application/rss+xml",
        || {
            let items: String = (0..ARCHIVE_ENTRIES)
                .map(|k| {
                    format!(
                        "<item><title>Archived report {k} of desk {i}</title><link>{}</link><guid>archive-{i}-{k}</guid></item>",
                        site.archive_article_url(i, k)
                    )
                })
                .collect();
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
                 <title>Archive {i}</title><link>http://{}/</link><description>Load test archive</description>{items}</channel></rss>",
                site.hosts[i % site.hosts.len()]
            )
        },
    )
}

/// A small archived page: a headline and two short paragraphs, one with a number that changes
/// with the feed's revision.
async fn archived(
    State(site): State<Arc<Site>>,
    Path((feed, file)): Path<(usize, String)>,
    headers: HeaderMap,
) -> Response {
    let (Some(k), Some(rev)) = (
        numbered::<u32>(&file, ".html"),
        site.archive.get(feed).map(|r| r.load(Ordering::SeqCst)),
    ) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // One page in ten reports a figure of the benchmark's topic, as on a real desk.
    let figure = 1000 + (feed as u32 * 31 + k * 7 + rev * 500) % 9000;
    let lead = if k.is_multiple_of(10) {
        format!("Officials said that {figure} North Korean troops had been killed or wounded since they joined the fighting in the Kursk region.")
    } else {
        format!("The council met on Tuesday to discuss item {k} on its agenda; {figure} residents wrote in.")
    };
    conditional(
        &site,
        &headers,
        format!("\"w{feed}-{k}-{rev}\""),
        "text/html; charset=utf-8",
        || {
            format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Archived report {k} of desk {feed}</title></head><body>\
                 <article><h1>Archived report {k} of desk {feed}</h1>\
                 <p>{lead}</p>\
                 <p>Archived report {k} of desk {feed}, revision {rev}, could not be independently verified.</p></article></body></html>"
            )
        },
    )
}

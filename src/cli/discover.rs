//! `figwatch discover URL`: where a site publishes its news, as configuration blocks ready to
//! paste: the feeds its home page names, the sitemaps its `robots.txt` names (and
//! `/news-sitemap.xml` when there is one), and the section fronts its navigation links.

use std::io::Write;

use url::Url;

use super::{runtime, stdout};
use figwatch::extract::front;
use figwatch::feed::sitemap;
use figwatch::fetch::{Fetched, Fetcher};

/// Works without a configuration file (see [`super::fetch_settings`]).
pub(super) fn run(config: Option<&std::path::Path>, site: &str) -> anyhow::Result<()> {
    let (user_agent, fetch, _) = super::fetch_settings(config)?;
    let site = Url::parse(site)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{site}: not an http(s) URL; give a site's address, such as https://news.example/"
            )
        })?;
    let fetcher = Fetcher::new(&user_agent, &fetch)?;
    let rt = runtime()?;
    let home = rt
        .block_on(fetcher.get(&site))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let html = figwatch::extract::decode(&home.body, home.charset.as_deref());
    let found = front::discover(&html, &home.url);

    let root = |path: &str| home.url.join(path).expect("an absolute path joins");
    let mut sitemaps: Vec<(Url, &str)> = Vec::new();
    if let Ok(robots) = rt.block_on(fetcher.get(&root("/robots.txt"))) {
        let text = String::from_utf8_lossy(&robots.body);
        for url in sitemap::robots_sitemaps(&text, &robots.url) {
            sitemaps.push((url, "robots.txt"));
        }
    }
    let news = root("/news-sitemap.xml");
    if sitemaps.iter().all(|(u, _)| *u != news) {
        if let Ok(page) = rt.block_on(fetcher.get(&news)) {
            if is_sitemap(&page) {
                sitemaps.push((news, "found at /news-sitemap.xml"));
            }
        }
    }

    let mut out = stdout();
    writeln!(
        out,
        "# {}: what figwatch found (paste what you want to watch)",
        home.url
    )?;
    if found.feeds.is_empty() && sitemaps.is_empty() && found.sections.is_empty() {
        writeln!(
            out,
            "# no feed, sitemap or section front found; watch the page itself:"
        )?;
        writeln!(out, "\n[[pages]]\nurl = {}", toml_string(home.url.as_str()))?;
        return Ok(());
    }
    for (url, title) in &found.feeds {
        writeln!(out, "\n[[feeds]]{}", comment(title.as_deref()))?;
        writeln!(out, "url = {}", toml_string(url.as_str()))?;
    }
    for (url, from) in &sitemaps {
        writeln!(out, "\n[[sitemaps]]{}", comment(Some(from)))?;
        writeln!(out, "url = {}", toml_string(url.as_str()))?;
    }
    for (url, text) in &found.sections {
        writeln!(out, "\n[[sections]]{}", comment(Some(text)))?;
        writeln!(out, "url = {}", toml_string(url.as_str()))?;
        writeln!(out, "links = {}", toml_string(url.path()))?;
    }
    Ok(())
}

fn is_sitemap(page: &Fetched) -> bool {
    page.status == 200 && sitemap::parse(&page.body, &page.url).is_ok()
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// `  # text` on one line (titles come from the site: no line break, no control character).
fn comment(text: Option<&str>) -> String {
    match text
        .map(|t| t.replace(['\n', '\r'], " "))
        .filter(|t| !t.trim().is_empty())
    {
        Some(t) => format!("   # {}", t.chars().take(80).collect::<String>()),
        None => String::new(),
    }
}

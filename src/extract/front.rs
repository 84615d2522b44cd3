//! The article links of a section front (`/world/`, a home page): what newsdiffs walks for
//! outlets without a feed. A link is followed when it stays on the site, sits outside the
//! page's chrome (navigation, header, footer, forms, sharing bars and other widgets, judged by
//! the same knowledge the extractor uses for bodies), and has an article's shape: a slug of
//! words or a date in its path, not a tag, author, login or section page.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use scraper::{ElementRef, Html};
use url::Url;

use super::boilerplate::{judge, NameMemo, Verdict};
pub use crate::config::LinkFilter;
use crate::feed::urls::{canonical_url, same_site};

/// One article link of a front, in the page's order.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontLink {
    /// The article, fragment and `utm_*` parameters removed.
    pub url: Url,
    /// The link's text (its headline), when it has one.
    pub title: Option<String>,
}

/// Path segments of pages that are not articles.
const NOT_ARTICLES: &[&str] = &[
    "tag",
    "tags",
    "topic",
    "topics",
    "author",
    "authors",
    "people",
    "profile",
    "profiles",
    "category",
    "categories",
    "section",
    "sections",
    "login",
    "signin",
    "sign-in",
    "logout",
    "register",
    "signup",
    "sign-up",
    "subscribe",
    "subscription",
    "subscriptions",
    "account",
    "search",
    "newsletter",
    "newsletters",
    "about",
    "about-us",
    "contact",
    "contact-us",
    "privacy",
    "privacy-policy",
    "terms",
    "terms-of-use",
    "terms-of-service",
    "cookies",
    "cookie-policy",
    "help",
    "faq",
    "jobs",
    "careers",
    "advertise",
    "advertising",
    "feed",
    "rss",
    "page",
    "shop",
    "store",
    "podcasts",
    "corrections",
    "accessibility",
    "sitemap",
    "archive",
];

/// File types that are never articles.
const NOT_PAGES: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "svg", "pdf", "xml", "json", "mp3", "mp4", "zip", "css",
    "js", "ics",
];

/// The article links of a front page at `base`, in the page's order, each once.
pub fn article_links(html: &str, base: &Url, filter: &LinkFilter) -> Vec<FrontLink> {
    let doc = Html::parse_document(html);
    let mut memo = NameMemo::default();
    let mut out: Vec<FrontLink> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let anchors = scraper::Selector::parse("a[href]").expect("static selector");
    for a in doc.select(&anchors) {
        if in_chrome(a, &mut memo) {
            continue;
        }
        let Some(url) = target(a, base) else {
            continue;
        };
        if url.path() == base.path() || !is_article(&url, filter) {
            continue;
        }
        let text: String = a.text().collect::<Vec<_>>().join(" ");
        let text = crate::controls::strip(&text.split_whitespace().collect::<Vec<_>>().join(" "))
            .into_owned();
        let title = (!text.is_empty()).then_some(text);
        match at.get(url.as_str()) {
            // A teaser links its story twice or thrice (image, headline, "read more"): the
            // longest text is the headline.
            Some(&i) => {
                let longer =
                    title.as_ref().map(String::len) > out[i].title.as_ref().map(String::len);
                if longer {
                    out[i].title = title;
                }
            }
            None => {
                at.insert(url.to_string(), out.len());
                out.push(FrontLink { url, title });
            }
        }
    }
    out
}

/// What a site's home page says of where its news is: the feeds it names in `<link
/// rel="alternate">`, and the sections its navigation links (for `figwatch discover`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovered {
    /// Feeds, with their titles, in the page's order.
    pub feeds: Vec<(Url, Option<String>)>,
    /// Section fronts the navigation links, with the links' text.
    pub sections: Vec<(Url, String)>,
}

/// The feeds and section fronts a home page at `base` names (see [`Discovered`]).
pub fn discover(html: &str, base: &Url) -> Discovered {
    let doc = Html::parse_document(html);
    let mut found = Discovered::default();
    let links = scraper::Selector::parse("link[rel][href]").expect("static selector");
    for l in doc.select(&links) {
        let e = l.value();
        let alternate = e.attr("rel").is_some_and(|r| {
            r.split_whitespace()
                .any(|w| w.eq_ignore_ascii_case("alternate"))
        });
        let feedish = e.attr("type").is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            t == "application/rss+xml"
                || t == "application/atom+xml"
                || t == "application/feed+json"
        });
        let Some(url) = e.attr("href").and_then(|h| base.join(h.trim()).ok()) else {
            continue;
        };
        if alternate
            && feedish
            && matches!(url.scheme(), "http" | "https")
            && found.feeds.iter().all(|(u, _)| *u != url)
        {
            let title = e.attr("title").map(one_line).filter(|t| !t.is_empty());
            found.feeds.push((url, title));
        }
    }
    // Sections are what the page's navigation links: one or two path segments, words only.
    let navs = scraper::Selector::parse("nav a[href], header a[href], [role=navigation] a[href]")
        .expect("static selector");
    for a in doc.select(&navs) {
        let Some(url) = target(a, base) else {
            continue;
        };
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        let wordy = !segments.is_empty()
            && segments.len() <= 2
            && segments.iter().all(|s| {
                s.len() <= 30
                    && s.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
                    && !NOT_ARTICLES.contains(&s.to_ascii_lowercase().as_str())
            });
        if !wordy || url.query().is_some() {
            continue;
        }
        if found.sections.len() < 30 && found.sections.iter().all(|(u, _)| *u != url) {
            let text = one_line(&a.text().collect::<Vec<_>>().join(" "));
            found.sections.push((url, text));
        }
    }
    found
}

/// Text on one line, control characters dropped.
fn one_line(text: &str) -> String {
    crate::controls::strip(&text.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned()
}

/// Whether `a` or an element around it is the page's chrome or a widget.
fn in_chrome<'a>(a: ElementRef<'a>, memo: &mut NameMemo<'a>) -> bool {
    std::iter::successors(Some(a), |e| e.parent().and_then(ElementRef::wrap)).any(|e| {
        matches!(
            judge(e.value(), memo).verdict,
            Verdict::Never | Verdict::Chrome | Verdict::Widget | Verdict::Discussion
        )
    })
}

/// Where a link leads, as an article's address (no fragment, no `utm_*` parameters), when it
/// stays on `base`'s site over http(s).
fn target(a: ElementRef<'_>, base: &Url) -> Option<Url> {
    let url = base.join(a.value().attr("href")?.trim()).ok()?;
    let ok = matches!(url.scheme(), "http" | "https") && same_site(&url, base);
    ok.then(|| canonical_url(&url))
}

/// Whether the address has an article's shape and passes the source's own filter.
fn is_article(url: &Url, filter: &LinkFilter) -> bool {
    if filter
        .prefix
        .as_deref()
        .is_some_and(|p| !url.path().starts_with(p))
        || filter
            .regex
            .as_ref()
            .is_some_and(|r| !r.is_match(url.as_str()))
    {
        return false;
    }
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| {
            s.filter(|s| !s.is_empty())
                .map(|s| s.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let Some(last) = segments.last() else {
        return false;
    };
    if segments.iter().any(|s| NOT_ARTICLES.contains(&s.as_str())) {
        return false;
    }
    if let Some((_, ext)) = last.rsplit_once('.') {
        if NOT_PAGES.contains(&ext) {
            return false;
        }
    }
    static DATE: OnceLock<Regex> = OnceLock::new();
    let date = DATE.get_or_init(|| {
        Regex::new(
            r"(?:^|/)(?:19|20)\d\d(?:/[01]?\d(?:/[0-3]?\d)?/|[-/]?[01]\d[-/]?[0-3]\d(?:\D|$))",
        )
        .expect("static regex")
    });
    let slug = segments.iter().any(|s| {
        let stem = s.split('.').next().unwrap_or_default();
        let words: Vec<&str> = stem.split(['-', '_']).filter(|w| !w.is_empty()).collect();
        words.len() >= 3
            && words
                .iter()
                .filter(|w| w.chars().any(char::is_alphabetic))
                .count()
                >= 2
    });
    // `/article/1234567`, `/news/world-europe-67812345`: an id of six digits or more, below
    // a section.
    let id = segments.len() >= 2
        && last
            .split(|c: char| !c.is_ascii_digit())
            .any(|run| run.len() >= 6);
    slug || id || date.is_match(url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://www.news.example/world/").unwrap()
    }

    const FRONT: &str = r#"<html><body>
      <header><a href="/world/2025/01/14/header-promo-story-here">Promo</a></header>
      <nav><a href="/">Home</a> <a href="/world/">World</a> <a href="/world/europe/">Europe</a>
           <a href="/world/2025/01/14/nav-linked-story-of-the-day">Top story</a></nav>
      <main>
        <div class="story"><a href="/world/2025/01/14/troops-kursk.html?utm_source=front#top"><img src="t.jpg"></a>
          <h2><a href="https://www.news.example/world/2025/01/14/troops-kursk.html">North Korean troops suffer losses in Kursk</a></h2>
          <a href="/world/2025/01/14/troops-kursk.html">Read more</a></div>
        <div class="story"><h2><a href="/world/europe/snow-closes-schools-across-region">Snow closes schools</a></h2>
          <a href="/tag/weather">weather</a> <a href="/author/demo-desk">Demo Desk</a></div>
        <div class="story"><h2><a href="/news/world-europe-67812345">Talks resume</a></h2></div>
        <div class="share-bar"><a href="/world/2025/01/14/shared-story-in-a-widget">Share</a></div>
        <a href="https://other.example/world/2025/01/14/someone-elses-story">Elsewhere</a>
        <a href="/world/europe/">Europe</a> <a href="/login">Sign in</a>
        <a href="/world/2025/01/14/map.pdf">Map</a>
      </main>
      <footer><a href="/about/our-journalism-and-standards">About us</a></footer>
    </body></html>"#;

    #[test]
    fn a_front_gives_its_stories_once_each_without_its_chrome() {
        let links = article_links(FRONT, &base(), &LinkFilter::default());
        let urls: Vec<&str> = links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://www.news.example/world/2025/01/14/troops-kursk.html",
                "https://www.news.example/world/europe/snow-closes-schools-across-region",
                "https://www.news.example/news/world-europe-67812345",
            ]
        );
        assert_eq!(
            links[0].title.as_deref(),
            Some("North Korean troops suffer losses in Kursk")
        );
    }

    #[test]
    fn a_prefix_or_a_pattern_narrows_the_links() {
        let prefix = LinkFilter {
            prefix: Some("/world/europe/".into()),
            regex: None,
        };
        let links = article_links(FRONT, &base(), &prefix);
        assert_eq!(links.len(), 1);
        assert!(links[0].url.path().starts_with("/world/europe/"));
        let pattern = LinkFilter {
            prefix: None,
            regex: Some(Regex::new(r"/\d{4}/\d\d/\d\d/").unwrap()),
        };
        let links = article_links(FRONT, &base(), &pattern);
        assert_eq!(links.len(), 1);
        assert!(links[0].url.path().contains("/2025/01/14/"));
    }

    #[test]
    fn a_home_page_names_its_feeds_and_sections() {
        let html = r#"<html><head>
            <link rel="alternate" type="application/rss+xml" title="World
              news" href="/world/rss.xml">
            <link rel="alternate" type="application/atom+xml" href="https://www.news.example/atom.xml">
            <link rel="alternate" hreflang="de" href="/de/">
            <link rel="stylesheet" type="text/css" href="/s.css">
          </head><body>
            <nav><a href="/world/">World</a> <a href="/world/europe">Europe</a> <a href="/login">Sign in</a>
              <a href="https://other.example/world/">Elsewhere</a> <a href="/search?q=x">Search</a>
              <a href="/world/2025/01/14/a-story-here">A story</a></nav>
          </body></html>"#;
        let found = discover(html, &Url::parse("https://www.news.example/").unwrap());
        assert_eq!(
            found.feeds,
            vec![
                (
                    Url::parse("https://www.news.example/world/rss.xml").unwrap(),
                    Some("World news".to_string())
                ),
                (
                    Url::parse("https://www.news.example/atom.xml").unwrap(),
                    None
                ),
            ]
        );
        let sections: Vec<&str> = found.sections.iter().map(|(u, _)| u.path()).collect();
        assert_eq!(sections, ["/world/", "/world/europe"]);
    }

    #[test]
    fn hostile_links_are_left_out() {
        let html = r#"<main><a href="javascript:alert(1)">x</a><a href="data:text/html,hi">y</a>
            <a href="http://[::1">broken</a><a href="/world/2025/01/14/a-b-c">Title	with	control	</a></main>"#;
        let links = article_links(html, &base(), &LinkFilter::default());
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].title.as_deref(), Some("Title with control"));
    }
}

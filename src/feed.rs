//! Feeds: RSS, Atom and JSON Feed into a list of entries to follow.

use std::panic::{catch_unwind, AssertUnwindSafe};

pub mod sitemap;
pub mod urls;

use sha2::{Digest, Sha256};
use url::Url;

/// One entry of a feed: what figwatch follows.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// Stable across polls: the feed's guid, else derived from the entry's link or content.
    pub id: String,
    /// The article to fetch, resolved against the feed's URL. `None` when the entry has no
    /// usable http(s) link; its inline content is then the article.
    pub link: Option<Url>,
    /// The feed's title.
    pub title: Option<String>,
    /// The entry's own HTML or text content, used when there is no link.
    pub content: Option<String>,
}

/// Why a body is not a feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Not RSS, Atom or JSON Feed.
    #[error("{url}: not a valid RSS, Atom or JSON feed: {reason}")]
    Malformed {
        /// The URL concerned.
        url: String,
        /// Why.
        reason: String,
    },
    /// The parser panicked on it (caught; reported as malformed).
    #[error("{url}: the feed parser crashed on this document (reported as malformed; nothing else is affected)")]
    ParserPanicked {
        /// The URL concerned.
        url: String,
    },
    /// An HTML page where a feed was expected.
    #[error("{url}: this is an HTML page, not a feed; to watch the page itself, list it under [[pages]] instead of [[feeds]]")]
    HtmlPage {
        /// The URL concerned.
        url: String,
    },
}

/// True when `body` starts like an HTML document (after white space and a byte-order mark).
fn looks_like_html(body: &[u8]) -> bool {
    let start: Vec<u8> = body
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(body)
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(64)
        .map(u8::to_ascii_lowercase)
        .collect();
    start.starts_with(b"<!doctype html") || start.starts_with(b"<html")
}

/// A parsed feed: its entries, and how long it says it stays fresh.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    /// Its entries, in the feed's order.
    pub entries: Vec<FeedEntry>,
    /// RSS `<ttl>`: minutes the feed may be cached, a floor on how often to poll it.
    pub ttl: Option<std::time::Duration>,
}

/// The document as UTF-8 when it is in another encoding — UTF-16 (by its byte-order mark, or
/// by `<` beside a zero byte) or one its XML declaration names (`ISO-8859-1`, `windows-1251`,
/// …) — with the declaration saying UTF-8: feed-rs reads UTF-8 only and fails, or panics, on
/// the rest. `None`: already UTF-8 (or an encoding nobody knows; the parser then says so).
fn to_utf8(body: &[u8]) -> Option<Vec<u8>> {
    let (encoding, rest) = match body {
        [0xEF, 0xBB, 0xBF, ..] => return None,
        [0xFE, 0xFF, rest @ ..] => (encoding_rs::UTF_16BE, rest),
        [0xFF, 0xFE, rest @ ..] => (encoding_rs::UTF_16LE, rest),
        [0x00, b'<', ..] => (encoding_rs::UTF_16BE, body),
        [b'<', 0x00, ..] => (encoding_rs::UTF_16LE, body),
        _ => {
            let head = String::from_utf8_lossy(&body[..body.len().min(256)]);
            let label = declared_encoding(&head)?;
            let encoding = encoding_rs::Encoding::for_label(label.as_bytes())?;
            if encoding == encoding_rs::UTF_8 {
                return None;
            }
            (encoding, body)
        }
    };
    let (text, _) = encoding.decode_without_bom_handling(rest);
    let fixed = match (text.starts_with("<?xml"), text.find("?>")) {
        (true, Some(end)) => {
            let decl = declaration_encoding()
                .replace(&text[..end], r#"encoding="utf-8""#)
                .into_owned();
            decl + &text[end..]
        }
        _ => text.into_owned(),
    };
    Some(fixed.into_bytes())
}

fn declaration_encoding() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r#"(?i)encoding\s*=\s*["']([^"']*)["']"#).expect("static regex")
    })
}

/// The `encoding` of an XML declaration at the start of `head`.
fn declared_encoding(head: &str) -> Option<String> {
    let head = head.trim_start();
    let end = head.strip_prefix("<?xml")?.find("?>")? + 5;
    declaration_encoding()
        .captures(&head[..end])
        .map(|c| c[1].trim().to_string())
}

/// Parses a feed document into its entries (see [`parse_feed`]).
pub fn parse(body: &[u8], feed_url: &Url) -> Result<Vec<FeedEntry>, FeedError> {
    parse_feed(body, feed_url).map(|f| f.entries)
}

/// Parses a feed document. A new parser is built for every document: feed-rs parsers can panic
/// when reused after a failed parse, and a panic inside the parser is caught and reported as a
/// malformed feed rather than taking the daemon down.
pub fn parse_feed(body: &[u8], feed_url: &Url) -> Result<ParsedFeed, FeedError> {
    let url = feed_url.to_string();
    let utf8 = to_utf8(body);
    let body = utf8.as_deref().unwrap_or(body);
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        feed_rs::parser::Builder::new()
            .base_uri(Some(feed_url.as_str()))
            // Leave missing ids empty so that `stable_id` can tell them from real guids.
            .id_generator(|_, _, _| String::new())
            .build()
            .parse(body)
    }))
    .map_err(|_| FeedError::ParserPanicked { url: url.clone() })?
    .map_err(|e| {
        if looks_like_html(body) {
            FeedError::HtmlPage { url: url.clone() }
        } else {
            FeedError::Malformed {
                url: url.clone(),
                reason: e.to_string(),
            }
        }
    })?;

    let ttl = parsed
        .ttl
        .filter(|&m| m > 0)
        .map(|m| std::time::Duration::from_secs(u64::from(m) * 60));
    let entries = parsed
        .entries
        .into_iter()
        .map(|e| {
            let link = e
                .links
                .iter()
                .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .chain(e.links.iter())
                .find_map(|l| resolve(feed_url, &l.href));
            let title = e
                .title
                .map(|t| crate::controls::strip(&t.content).trim().to_string())
                .filter(|t| !t.is_empty());
            let content = e
                .content
                .and_then(|c| c.body)
                .or_else(|| e.summary.map(|s| s.content))
                .filter(|c| !c.trim().is_empty());
            let id = stable_id(&e.id, link.as_ref(), title.as_deref(), content.as_deref());
            FeedEntry {
                id,
                link,
                title,
                content,
            }
        })
        .collect();
    Ok(ParsedFeed { entries, ttl })
}

fn resolve(base: &Url, href: &str) -> Option<Url> {
    let url = base.join(href.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// feed-rs would make up a random id for entries without guid, link or title, which would turn
/// every poll into a new article. A guid the feed gave is kept; otherwise the link, otherwise a
/// hash of what the entry says, which is the same on every poll.
fn stable_id(
    parsed_id: &str,
    link: Option<&Url>,
    title: Option<&str>,
    content: Option<&str>,
) -> String {
    if !parsed_id.trim().is_empty() {
        return parsed_id.trim().to_string();
    }
    if let Some(link) = link {
        return link.to_string();
    }
    let mut h = Sha256::new();
    h.update(title.unwrap_or_default().as_bytes());
    h.update([0]);
    h.update(content.unwrap_or_default().as_bytes());
    format!("sha256:{}", hex(&h.finalize()[..16]))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;

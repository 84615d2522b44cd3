//! Sitemaps: a `urlset` of pages (with the Google News extension's `news:publication_date`,
//! `news:title` and `news:language` read as the entry's metadata) or a `sitemapindex` of child
//! sitemaps, plain or gzipped. Outlets that publish no feed publish these for search engines,
//! and a news sitemap lists exactly the articles of the last two days.
//!
//! Read with quick-xml as a stream, so a 50,000-URL archive costs one pass and the entries
//! alone; what the protocol allows at most (50,000 URLs, 50 MB uncompressed) is all that is
//! read.

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use quick_xml::events::Event;
use url::Url;

/// The most URLs one sitemap may list (the protocol's limit); more are not read.
pub const MAX_URLS: usize = 50_000;
/// The largest a sitemap may be once decompressed (the protocol's limit).
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;

/// One `<url>` of a urlset, or one `<sitemap>` of an index.
#[derive(Debug, Clone, PartialEq)]
pub struct SitemapEntry {
    /// Its `<loc>`.
    pub url: Url,
    /// Its `<lastmod>`: when the page (or child sitemap) last changed.
    pub lastmod: Option<DateTime<Utc>>,
    /// `news:publication_date`.
    pub published: Option<DateTime<Utc>>,
    /// `news:title`.
    pub title: Option<String>,
    /// `news:language`.
    pub language: Option<String>,
}

impl SitemapEntry {
    /// When it appeared, as far as the sitemap says: its publication date, else its `lastmod`.
    pub fn date(&self) -> Option<DateTime<Utc>> {
        self.published.or(self.lastmod)
    }
}

/// A parsed sitemap.
#[derive(Debug, Clone, PartialEq)]
pub enum Sitemap {
    /// A `urlset`: the pages it lists.
    Urls(Vec<SitemapEntry>),
    /// A `sitemapindex`: the child sitemaps it lists.
    Index(Vec<SitemapEntry>),
}

/// Why a body is not a sitemap.
#[derive(Debug, thiserror::Error)]
pub enum SitemapError {
    /// Not XML, or XML that breaks off.
    #[error("{url}: not a readable sitemap: {reason}")]
    Malformed {
        /// The sitemap's URL.
        url: String,
        /// Where the XML broke.
        reason: String,
    },
    /// Well-formed XML whose root is neither `urlset` nor `sitemapindex`.
    #[error("{url}: not a sitemap (its root element is <{root}>, not <urlset> or <sitemapindex>); a feed goes under [[feeds]]")]
    NotSitemap {
        /// The sitemap's URL.
        url: String,
        /// The root element found.
        root: String,
    },
    /// Gzip that does not inflate, or inflates past [`MAX_BYTES`].
    #[error("{url}: the gzipped sitemap {reason}")]
    Gzip {
        /// The sitemap's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// Reads a sitemap, gunzipping it first when it is gzip (by its magic bytes: servers send
/// `.xml.gz` as `application/octet-stream` as often as not).
pub fn parse(body: &[u8], url: &Url) -> Result<Sitemap, SitemapError> {
    let inflated;
    let xml: &[u8] = if body.starts_with(&[0x1f, 0x8b]) {
        let gzip = |reason: String| SitemapError::Gzip {
            url: url.to_string(),
            reason,
        };
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .take(MAX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| gzip(format!("does not inflate: {e}")))?;
        if out.len() as u64 > MAX_BYTES {
            return Err(gzip(format!("inflates past {MAX_BYTES} bytes")));
        }
        inflated = out;
        &inflated
    } else {
        body
    };
    read(xml, url)
}

/// What the reader is inside of, by the local names of the elements (prefixes vary).
#[derive(Default)]
struct Open {
    root: Option<String>,
    entry: Option<Partial>,
    /// The local name of the innermost element whose text is being read.
    field: Option<String>,
    text: String,
}

#[derive(Default)]
struct Partial {
    loc: Option<String>,
    lastmod: Option<String>,
    published: Option<String>,
    title: Option<String>,
    language: Option<String>,
}

fn local(name: &str) -> String {
    name.rsplit(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn read(xml: &[u8], url: &Url) -> Result<Sitemap, SitemapError> {
    let malformed = |reason: String| SitemapError::Malformed {
        url: url.to_string(),
        reason,
    };
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut open = Open::default();
    let mut entries = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| malformed(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(e) => {
                let name = local(e.local_name().as_ref());
                match (&open.root, name.as_str()) {
                    (None, _) => {
                        if name != "urlset" && name != "sitemapindex" {
                            return Err(SitemapError::NotSitemap {
                                url: url.to_string(),
                                root: crate::controls::strip(&name).chars().take(40).collect(),
                            });
                        }
                        open.root = Some(name);
                    }
                    (Some(_), "url" | "sitemap") => open.entry = Some(Partial::default()),
                    (Some(_), _) if open.entry.is_some() => {
                        open.field = Some(name);
                        open.text.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) if open.field.is_some() => open.text.push_str(&t),
            Event::CData(t) if open.field.is_some() => open.text.push_str(&t),
            Event::GeneralRef(r) if open.field.is_some() => match r.resolve_char_ref() {
                Ok(Some(c)) => open.text.push(c),
                _ => open.text.push_str(match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                }),
            },
            Event::End(e) => {
                let name = local(e.local_name().as_ref());
                if open.field.as_deref() == Some(name.as_str()) {
                    let text = std::mem::take(&mut open.text).trim().to_string();
                    if let Some(entry) = open.entry.as_mut() {
                        let slot = match name.as_str() {
                            "loc" => Some(&mut entry.loc),
                            "lastmod" => Some(&mut entry.lastmod),
                            "publication_date" => Some(&mut entry.published),
                            "title" => Some(&mut entry.title),
                            "language" => Some(&mut entry.language),
                            _ => None,
                        };
                        if let Some(slot) = slot.filter(|s| s.is_none()) {
                            *slot = Some(text);
                        }
                    }
                    open.field = None;
                } else if name == "url" || name == "sitemap" {
                    if let Some(entry) = open.entry.take().and_then(|p| finish(p, url)) {
                        entries.push(entry);
                        if entries.len() >= MAX_URLS {
                            break;
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    match open.root.as_deref() {
        Some("sitemapindex") => Ok(Sitemap::Index(entries)),
        Some(_) => Ok(Sitemap::Urls(entries)),
        None => Err(malformed("no root element".into())),
    }
}

/// An entry with a usable `<loc>`: an http(s) URL (relative ones are read against the
/// sitemap's, which the protocol forbids but servers write).
fn finish(p: Partial, base: &Url) -> Option<SitemapEntry> {
    let url = base.join(p.loc?.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let clean = |s: Option<String>| {
        s.map(|t| crate::controls::strip(t.trim()).into_owned())
            .filter(|t| !t.is_empty())
    };
    Some(SitemapEntry {
        url,
        lastmod: p.lastmod.as_deref().and_then(w3c_date),
        published: p.published.as_deref().and_then(w3c_date),
        title: clean(p.title),
        language: clean(p.language),
    })
}

/// The sitemaps a `robots.txt` names (`Sitemap: URL` lines, any case), read against `base`.
pub fn robots_sitemaps(text: &str, base: &Url) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("sitemap") {
            continue;
        }
        let value = value.split('#').next().unwrap_or_default().trim();
        if let Ok(url) = base.join(value) {
            if matches!(url.scheme(), "http" | "https") && !out.contains(&url) {
                out.push(url);
            }
        }
    }
    out
}

/// A W3C datetime as sitemaps write it: `2024-05-06`, `2024-05-06T10:00Z`,
/// `2024-05-06T10:00:00+02:00`, `2024-05-06T10:00:00.5Z`.
pub fn w3c_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    if let Some(t) = text
        .strip_suffix('Z')
        .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").ok())
    {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests;

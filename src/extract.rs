//! Article extraction: an HTML page into title, byline, published time, language and body
//! text in paragraphs.
//!
//! One html5ever parse serves everything: metadata (`meta`, `published`, `visible_date`) and
//! the body (`body`, which skips what `boilerplate` names). Where the body is too short to
//! trust, the `trafilatura` crate, a different algorithm, gives a second opinion at the
//! price of a second parse, only then.
//! Text is normalised here, once, so that a different amount of white
//! space never counts as a new version.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// A CSS selector compiled once, on first use. The selectors are constants: one that does not
/// parse is a bug, caught by the first test that reaches it.
macro_rules! selector {
    ($css:literal) => {{
        static SELECTOR: std::sync::OnceLock<scraper::Selector> = std::sync::OnceLock::new();
        SELECTOR.get_or_init(|| scraper::Selector::parse($css).expect("static selector"))
    }};
}

mod body;
mod boilerplate;
mod chrome_lines;
mod cleanup;
pub mod explain;
pub mod front;
pub mod guard;
mod meta;
mod node_map;
mod published;
mod visible_date;

use scraper::Html;
use sha2::{Digest, Sha256};

/// The version of the extractor, stored with every version of an article. Raise it with any
/// change that alters the text extracted from some page: a new fetch is then compared with
/// the previous page read again by the new extractor, so an upgrade is never taken for a
/// revision of every watched article.
pub const EXTRACTOR_VERSION: i64 = 2;

/// What figwatch keeps of a page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Article {
    /// The page's headline.
    pub title: Option<String>,
    /// Its author line, when it has one.
    pub byline: Option<String>,
    /// ISO 8601 date or date-time.
    pub published: Option<String>,
    /// Its language (an ISO 639-1 code), as the page declares it.
    pub lang: Option<String>,
    /// Paragraphs separated by one newline, white space inside each collapsed.
    pub text: String,
    /// The address the page names as its own (`<link rel="canonical">`), absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
}

impl Article {
    /// The hash that decides whether a fetch is a new version: of the normalised body only,
    /// so a changed headline alone or a new timestamp around the article stores nothing.
    pub fn content_hash(&self) -> String {
        content_hash(&self.text)
    }
}

/// The SHA-256 of a text, in hex: what tells two versions apart.
pub fn content_hash(text: &str) -> String {
    crate::feed::hex(&Sha256::digest(text.as_bytes()))
}

/// Why a page gave no article.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The page holds no article text.
    #[error("no article text found in the page")]
    Empty,
    /// The parser or the extractor panicked on this page: a bug, caught so that it costs this
    /// page only, and said as what it is rather than as a page without text.
    #[error("extraction crashed on this page (a bug in figwatch or its HTML parser; nothing else is affected): {0}")]
    Panicked(String),
}

/// Reads a saved page from disk, decompressing it when it is gzip (by its magic bytes, so a
/// `.html.gz` and a misnamed one both work). A page larger than `limit` bytes, on disk or
/// once decompressed, is refused as a fetched one is (a gzip bomb inflates a thousandfold).
pub fn read_file(path: &std::path::Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    let gzip = bytes.starts_with(&[0x1f, 0x8b]) && bytes.len() as u64 <= limit;
    if gzip {
        bytes = gunzip_within(&bytes, limit)?;
    }
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "larger than {limit} bytes{} (raise [fetch] max_body to read it)",
            if gzip { " once decompressed" } else { "" }
        )));
    }
    Ok(bytes)
}

/// Inflates gzip, every member as gunzip reads them (concatenated .gz files are one file),
/// stopping one byte past `limit`: a result longer than `limit` means the whole is larger, and
/// a bomb is never inflated whole.
pub fn gunzip_within(gz: &[u8], limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(gz)
        .take(limit + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// Decodes a body to text: a byte-order mark, else the HTTP charset, else `<meta charset>`,
/// in the order browsers use, except that a body which is valid UTF-8 with non-ASCII text is
/// read as UTF-8 whatever it declares (pages re-saved or served as UTF-8 keep stale legacy
/// declarations far more often than legacy text happens to be valid UTF-8). Undeclared bytes
/// are guessed (chardetng, as Firefox does). Invalid bytes become U+FFFD, never an error.
pub fn decode(body: &[u8], http_charset: Option<&str>) -> String {
    let from_label = |label: &str| encoding_rs::Encoding::for_label(label.trim().as_bytes());
    let utf8 = !body.is_ascii() && std::str::from_utf8(body).is_ok();
    let encoding = encoding_rs::Encoding::for_bom(body)
        .map(|(e, _)| e)
        .or_else(|| utf8.then_some(encoding_rs::UTF_8))
        .or_else(|| http_charset.and_then(from_label))
        .or_else(|| meta_charset(body).and_then(|l| from_label(&l)))
        .unwrap_or_else(|| guess_encoding(body));
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

fn guess_encoding(body: &[u8]) -> &'static encoding_rs::Encoding {
    if std::str::from_utf8(body).is_ok() {
        return encoding_rs::UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

/// The charset a page declares in its first kilobytes (`<meta charset>` or `http-equiv`).
fn meta_charset(body: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let rest = head[at..].trim_start_matches(['"', '\'', ' ']);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// Extracts the article from a page's bytes: decoded by [`decode`], then [`extract_html`].
pub fn extract_bytes(
    body: &[u8],
    http_charset: Option<&str>,
    url: Option<&url::Url>,
) -> Result<Article, ExtractError> {
    extract_html(&decode(body, http_charset), url)
}

/// Extracts the article from an HTML document.
pub fn extract_html(html: &str, url: Option<&url::Url>) -> Result<Article, ExtractError> {
    extract_traced(html, url, None)
}

/// Extracts the article from a page's bytes as [`extract_bytes`] does, and says what was kept
/// and left out, and why (`figwatch extract --explain`).
pub fn explain_bytes(
    body: &[u8],
    http_charset: Option<&str>,
    url: Option<&url::Url>,
) -> (Result<Article, ExtractError>, explain::Explanation) {
    let mut ex = explain::Explanation::default();
    let article = extract_traced(&decode(body, http_charset), url, Some(&mut ex));
    if let Ok(a) = &article {
        ex.kept = a.text.lines().map(str::to_string).collect();
    }
    (article, ex)
}

fn extract_traced(
    html: &str,
    url: Option<&url::Url>,
    mut ex: Option<&mut explain::Explanation>,
) -> Result<Article, ExtractError> {
    // html5ever and the crates around it parse arbitrary markup from the network; a bug in
    // them must cost one page, not the daemon.
    let article = catch_unwind(AssertUnwindSafe(|| {
        #[cfg(test)]
        if html.contains(tests::PANIC_ON) {
            panic!("a panic the test asked for");
        }
        let doc = Html::parse_document(html);
        let head = meta::Head::of(&doc);
        let lang = meta::lang(&head);
        let offset = published::local_offset(lang.as_deref());
        let mut article = Article {
            title: meta::title(&doc, &head),
            byline: meta::byline(&doc, &head),
            published: url_day(
                published::stated(&doc, &head, offset)
                    .or_else(|| published::in_script_data(html, offset))
                    .or_else(|| visible_date::find(&doc, url, offset)),
                url,
            ),
            lang,
            text: match ex.as_deref_mut() {
                Some(ex) => body::explained(&doc, ex),
                None => body::text(&doc),
            },
            canonical: head
                .canonical
                .and_then(|href| match url {
                    Some(base) => base.join(href.trim()).ok(),
                    None => url::Url::parse(href.trim()).ok(),
                })
                .map(String::from),
        };
        if article.text.len() < SHORT_BODY_CHARS && second_opinion(html, url, &mut article) {
            if let Some(ex) = ex.as_deref_mut() {
                ex.reading =
                    "the trafilatura crate's reading (figwatch's own body was short)".into();
                ex.container.clear();
                ex.dropped_blocks.clear();
                ex.dropped_lines.clear();
            }
        }
        // A page with (almost) no text of its own — a video, a gallery, a script-built app —
        // is described by its description tag, which is what its readers see in a feed.
        if article.text.len() < TINY_BODY_CHARS {
            if let Some(d) = head.meta(&["og:description", "description", "twitter:description"]) {
                if d.len() > article.text.len() {
                    // An attribute's text: not read through the page's text nodes.
                    article.text = crate::controls::strip(&d).into_owned();
                    if let Some(ex) = ex.as_deref_mut() {
                        ex.reading =
                            "the page's description tag (the page has almost no text of its own)"
                                .into();
                        ex.container.clear();
                    }
                }
            }
        }
        article
    }))
    .map_err(|payload| ExtractError::Panicked(panic_message(payload.as_ref())))?;
    finish(article, ex.map(|e| &mut e.dropped_lines))
}

/// What a caught panic said, when it said it as text.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .map(|m| crate::controls::strip(&m).into_owned())
        .unwrap_or_else(|| "no message".into())
}

/// The day in the page's address, where it names one a day from the stated date: a path
/// is written in the publisher's own day when the story goes up, while a stated time stamp
/// is often UTC, and a late-evening story in the Americas (or an early-morning one in Asia)
/// is stamped with the neighbouring day.
fn url_day(published: Option<String>, url: Option<&url::Url>) -> Option<String> {
    let stated = published?;
    let Some(in_path) = url.and_then(|u| visible_date::in_url(u.path())) else {
        return Some(stated);
    };
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok();
    match (day(&stated), day(&in_path)) {
        (Some(a), Some(b)) if (a - b).num_days().abs() == 1 => Some(in_path),
        _ => Some(stated),
    }
}

/// A body shorter than this is no article: the page's description says more.
const TINY_BODY_CHARS: usize = 100;

/// A body shorter than this may be the wrong block of the page: the `trafilatura` crate, a
/// different algorithm, gets a say.
const SHORT_BODY_CHARS: usize = 120;

/// The `trafilatura` crate's reading of the page, when figwatch's own body is short: its
/// body wins when it is longer (then true). It costs a second parse, so only then.
fn second_opinion(html: &str, url: Option<&url::Url>, article: &mut Article) -> bool {
    let mut options = trafilatura::Options::default()
        .with_fallback(true)
        .with_html_date_mode(trafilatura::HtmlDateMode::Disabled);
    if let Some(url) = url {
        options = options.with_url(url.clone());
    }
    let doc = trafilatura::dom::Document::parse(html);
    if let Ok(b) = trafilatura::extract_document(doc, &options) {
        let text = fragment_text(&b.content_html);
        if text.len() > article.text.len() {
            article.text = text;
            return true;
        }
    }
    false
}

/// The clean-up every body gets, whoever extracted it.
fn finish(
    mut article: Article,
    dropped: Option<&mut Vec<explain::Dropped>>,
) -> Result<Article, ExtractError> {
    // The body's text nodes are stripped of control characters as they are read (and the
    // description where it stands in for the body); the metadata, here.
    for field in [
        &mut article.title,
        &mut article.byline,
        &mut article.published,
        &mut article.lang,
    ] {
        if let Some(value) = field {
            if let std::borrow::Cow::Owned(clean) = crate::controls::strip(value) {
                *value = clean.trim().to_string();
            }
        }
        if field.as_deref().is_some_and(str::is_empty) {
            *field = None;
        }
    }
    drop_headline(&mut article);
    // A wall (paywall, consent, bot challenge) is kept as the server sent it: the clean-up
    // would remove exactly the lines that show what it is.
    if guard::wall_kind(&article.text).is_none() {
        article.text = cleanup::clean_traced(&article.text, article.title.as_deref(), dropped);
    }
    if article.text.is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok(article)
}

/// Turns an HTML fragment (a feed entry's content, an extracted body) or plain text into
/// normalised text, one paragraph a line.
pub fn fragment_text(fragment: &str) -> String {
    if !fragment.contains('<') {
        return normalise(&crate::controls::strip(fragment));
    }
    let doc = Html::parse_fragment(fragment);
    body::block_text(*doc.root_element())
}

/// Appends a text node. A line break in the page's source is white space, not a paragraph
/// break — except inside `<pre>`, where lines are the text.
fn push_text(out: &mut String, text: &str, node: ego_tree::NodeRef<'_, scraper::Node>) {
    // Control characters go here, in the page's own text: the body's walk uses one of its own
    // (a marker line) that must survive until the walk is done.
    let text = &*crate::controls::strip(text);
    let preformatted = || {
        node.ancestors()
            .any(|a| a.value().as_element().is_some_and(|e| e.name() == "pre"))
    };
    if text.contains(['\n', '\r']) && !preformatted() {
        out.extend(
            text.chars()
                .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
        );
    } else {
        out.push_str(text);
    }
}

/// Elements that end a line of text: a paragraph boundary in what figwatch stores.
pub(crate) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dd"
            | "dt"
            | "blockquote"
            | "pre"
            | "table"
            | "tbody"
            | "thead"
            | "tr"
            | "td"
            | "th"
            | "section"
            | "article"
            | "main"
            | "figure"
            | "figcaption"
            | "header"
            | "footer"
            | "aside"
            | "nav"
            | "form"
            | "fieldset"
            | "address"
            | "hr"
            | "center"
            | "details"
            | "summary"
    )
}

/// The headline is metadata, not body: a first paragraph that repeats the title is dropped,
/// so a retitled article with the same text is not a new version.
fn drop_headline(article: &mut Article) {
    let Some(title) = &article.title else { return };
    let first = article.text.lines().next().unwrap_or_default();
    let title_l = title.to_lowercase();
    let first_l = first.to_lowercase();
    if !first.is_empty()
        && (title_l == first_l
            || title_l.starts_with(&first_l) && first_l.len() * 2 >= title_l.len())
    {
        article.text = article.text.lines().skip(1).collect::<Vec<_>>().join("\n");
    }
}

/// Collapses white space inside each paragraph and drops empty ones.
///
/// Invisible characters are dropped too: soft hyphens a hyphenation plugin scatters through
/// words ("Mit\u{ad}tel\u{ad}al\u{ad}ter") and zero-width spaces would otherwise make the same
/// words differ.
pub fn normalise(text: &str) -> String {
    let invisible = |c: char| matches!(c, '\u{ad}' | '\u{200b}' | '\u{2060}' | '\u{feff}');
    let mut out = String::with_capacity(text.len());
    let push = |out: &mut String, word: &str| {
        if word.contains(invisible) {
            out.extend(word.chars().filter(|c| !invisible(*c)));
        } else {
            out.push_str(word);
        }
    };
    for line in text.lines() {
        let mut words = line
            .split_whitespace()
            .filter(|w| !w.chars().all(invisible));
        let Some(first) = words.next() else { continue };
        if !out.is_empty() {
            out.push('\n');
        }
        push(&mut out, first);
        for word in words {
            out.push(' ');
            push(&mut out, word);
        }
    }
    out
}

#[cfg(test)]
mod tests;

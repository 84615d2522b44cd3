//! Article extraction: an HTML page into title, byline, published time, language and body
//! text in paragraphs.
//!
//! The body comes from the `trafilatura` crate; when it finds too little (short pages, odd
//! markup) a plain paragraph scan over `<article>`/`<main>`/`<body>` takes over, so a real page
//! never yields nothing. Text is normalised here, once, so that a different amount of white
//! space never counts as a new version.

use std::panic::{catch_unwind, AssertUnwindSafe};

mod cleanup;
pub mod guard;
mod prune;
mod published;

use scraper::Html;
use sha2::{Digest, Sha256};
use trafilatura::dom::Document;

/// What figwatch keeps of a page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Article {
    pub title: Option<String>,
    pub byline: Option<String>,
    /// ISO 8601 date or date-time.
    pub published: Option<String>,
    pub lang: Option<String>,
    /// Paragraphs separated by one newline, white space inside each collapsed.
    pub text: String,
}

impl Article {
    /// The hash that decides whether a fetch is a new version: of the normalised body only,
    /// so a changed headline alone or a new timestamp around the article stores nothing.
    pub fn content_hash(&self) -> String {
        content_hash(&self.text)
    }
}

pub fn content_hash(text: &str) -> String {
    crate::feed::hex(&Sha256::digest(text.as_bytes()))
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("no article text found in the page")]
    Empty,
}

/// Reads a saved page from disk, decompressing it when it is gzip (by its magic bytes, so a
/// `.html.gz` and a misnamed one both work).
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)?;
        return Ok(out);
    }
    Ok(bytes)
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
    // The crate's fallback extractors (readability, jusText) cost about 40% of the speed and
    // buy recall: bodies cut short hide real changes, which is the worse failure here.
    let mut options = trafilatura::Options::default().with_fallback(true);
    if let Some(url) = url {
        options = options.with_url(url.clone());
    }
    // One parse serves everything: boilerplate is pruned from it, a copy feeds the fallback
    // scan, and the crate extracts from it. The crate parses arbitrary markup from the
    // network; a bug in it must cost one page, not the daemon.
    let (extracted, document) = catch_unwind(AssertUnwindSafe(|| {
        let mut doc = Document::parse(html);
        // Dates are read before pruning, which removes the blocks that carry them: the date
        // the page states, else the crate's own search over the whole page (costly, so only
        // then).
        let date = published::stated(&doc)
            .or_else(|| published::dotted_in_article(&doc))
            .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .or_else(|| trafilatura::metadata::extract_metadata(&doc, &options).date);
        let options = options
            .clone()
            .with_html_date_mode(trafilatura::HtmlDateMode::Disabled);
        prune::prune(&mut doc);
        let copy = doc.clone_document();
        let body = trafilatura::extract_document(doc, &options)
            .ok()
            .map(|mut b| {
                b.metadata.date = date;
                b
            });
        (body.map(|b| (b.content_html, b.metadata)), copy)
    }))
    .unwrap_or_else(|_| (None, Document::parse("")));

    let mut article = Article::default();
    if let Some((content_html, m)) = &extracted {
        article.title = non_empty(&m.title);
        article.byline = non_empty(&m.author);
        article.published = m.date.map(|d| d.format("%Y-%m-%d").to_string());
        article.lang = non_empty(&m.language);
        // The HTML keeps the paragraph structure that the crate's plain text flattens.
        article.text = fragment_text(content_html);
    }
    // On short or unusual pages the crate falls back to one flat block of text; the plain
    // paragraph scan then keeps the structure, so prefer it when it holds as much text.
    if article.text.lines().count() <= 1 {
        let scanned = paragraph_scan(&document);
        let structured = scanned.lines().count() > 1 && scanned.len() * 5 >= article.text.len() * 4;
        if article.text.is_empty() || structured {
            article.text = scanned;
        }
    }
    if article.title.is_none() {
        article.title = first_text(&document, "title").or_else(|| first_text(&document, "h1"));
    }
    if article.lang.is_none() {
        let root = document.root();
        article.lang = document
            .iter(root, &["html"])
            .first()
            .and_then(|&h| document.get_attribute(h, "lang"))
            .and_then(|l| non_empty(&l));
    }
    drop_headline(&mut article);
    // A wall (paywall, consent, bot challenge) is kept as the server sent it: the clean-up
    // would remove exactly the lines that show what it is.
    if guard::wall_kind(&article.text).is_none() {
        article.text = cleanup::clean(&article.text, article.title.as_deref());
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
        return normalise(fragment);
    }
    let doc = Html::parse_fragment(fragment);
    block_text(doc.root_element())
}

/// The text of an element with a line break at every block boundary and `<br>`.
fn block_text(root: scraper::ElementRef<'_>) -> String {
    use ego_tree::iter::Edge;
    let mut out = String::new();
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                scraper::Node::Text(t) => out.push_str(t),
                scraper::Node::Element(e) if is_block(e.name()) || e.name() == "br" => {
                    out.push('\n')
                }
                _ => {}
            },
            Edge::Close(node) => {
                if node
                    .value()
                    .as_element()
                    .is_some_and(|e| is_block(e.name()))
                {
                    out.push('\n');
                }
            }
        }
    }
    normalise(&out)
}

fn is_block(name: &str) -> bool {
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
            | "blockquote"
            | "pre"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "dd"
            | "dt"
            | "dl"
            | "section"
            | "article"
            | "figure"
            | "figcaption"
            | "header"
            | "footer"
            | "aside"
            | "main"
            | "hr"
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
pub fn normalise(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The fallback: the `<p>` elements of the most specific container the page has.
fn paragraph_scan(doc: &Document) -> String {
    let root = doc.root();
    for container in ["article", "main", "body"] {
        for c in doc.iter(root, &[container]) {
            let text: String = doc
                .iter_descendants(c, &["p"])
                .into_iter()
                .map(|p| doc.text_content(p) + "\n")
                .collect();
            let text = normalise(&text);
            if !text.is_empty() {
                return text;
            }
        }
    }
    String::new()
}

fn first_text(doc: &Document, tag: &str) -> Option<String> {
    let root = doc.root();
    let id = *doc.iter(root, &[tag]).first()?;
    non_empty(
        &doc.text_content(id)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests;

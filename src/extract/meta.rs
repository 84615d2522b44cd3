//! The article's metadata besides its date: title, byline and language, from what the page
//! declares (Open Graph and other meta tags, JSON-LD, `<html lang>`) before what it shows.

use scraper::{Html, Node};

use super::published::find_key;

/// What a page declares about itself — its meta tags, JSON-LD blocks and `<html lang>` —
/// read in one walk over the document, for every question below to share.
#[derive(Default)]
pub struct Head<'a> {
    /// (name, content): the name from `property`, `name`, `itemprop` or `http-equiv`.
    metas: Vec<(&'a str, &'a str)>,
    /// The JSON-LD blocks that parse (a broken one is skipped, not an error).
    pub json_ld: Vec<serde_json::Value>,
    lang: Option<&'a str>,
    /// `<link rel="canonical" href>`, as written.
    pub canonical: Option<&'a str>,
}

impl<'a> Head<'a> {
    pub fn of(doc: &'a Html) -> Self {
        let mut head = Head::default();
        for n in doc.tree.root().descendants() {
            let Node::Element(e) = n.value() else {
                continue;
            };
            match e.name() {
                "html" if head.lang.is_none() => head.lang = e.attr("lang"),
                "link"
                    if head.canonical.is_none()
                        && e.attr("rel").is_some_and(|r| {
                            r.split_whitespace()
                                .any(|r| r.eq_ignore_ascii_case("canonical"))
                        }) =>
                {
                    head.canonical = e.attr("href").filter(|h| !h.trim().is_empty());
                }
                "meta" => {
                    let (mut name, mut content) = (None, None);
                    for (attr, value) in e.attrs() {
                        match attr {
                            "content" => content = Some(value),
                            "property" => name = Some(value),
                            "name" | "itemprop" | "http-equiv" => {
                                name = name.or(Some(value));
                            }
                            _ => {}
                        }
                    }
                    if let (Some(name), Some(content)) = (name, content) {
                        head.metas.push((name.trim(), content));
                    }
                }
                "script"
                    if e.attr("type")
                        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json")) =>
                {
                    let text: String = n
                        .children()
                        .filter_map(|c| c.value().as_text().map(|t| &**t))
                        .collect();
                    if let Ok(v) = serde_json::from_str(text.trim()) {
                        head.json_ld.push(v);
                    }
                }
                _ => {}
            }
        }
        head
    }

    /// The first non-empty content of a meta tag named by the first key that has one.
    pub fn meta(&self, keys: &[&str]) -> Option<String> {
        self.meta_where(keys, non_empty)
    }

    /// The first content that `read` accepts among the meta tags named by each key in turn.
    pub fn meta_where<T>(&self, keys: &[&str], read: impl Fn(&str) -> Option<T>) -> Option<T> {
        keys.iter().find_map(|key| {
            self.metas
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case(key))
                .find_map(|(_, content)| read(content))
        })
    }
}

/// The headline: Open Graph's title, else the page's `<h1>`, else `<title>`.
pub fn title(doc: &Html, head: &Head<'_>) -> Option<String> {
    head.meta(&["og:title", "twitter:title", "title"])
        .or_else(|| first_text(doc, selector!("h1")))
        .or_else(|| first_text(doc, selector!("title")))
}

/// The author or authors as the page names them.
pub fn byline(doc: &Html, head: &Head<'_>) -> Option<String> {
    head.meta(&["author", "article:author", "dc.creator", "byl", "parsely-author"])
        .filter(|a| !a.starts_with("http"))
        .or_else(|| json_ld_author(head))
        .or_else(|| {
            first_text(
                doc,
                selector!("[itemprop=author] [itemprop=name], [itemprop=author], [rel=author], .byline, .author-name"),
            )
        })
        .map(|a| a.trim_start_matches(|c: char| !c.is_alphabetic()).to_string())
        .map(|a| strip_by(&a))
        .filter(|a| !a.is_empty() && a.chars().count() <= 120)
}

/// The language: `<html lang>`, else `content-language` or Open Graph's locale.
pub fn lang(head: &Head<'_>) -> Option<String> {
    head.lang
        .and_then(non_empty)
        .or_else(|| head.meta(&["content-language", "og:locale", "language", "dc.language"]))
}

fn strip_by(a: &str) -> String {
    let lower = a.to_lowercase();
    for prefix in ["by ", "von ", "por ", "par ", "di "] {
        if lower.starts_with(prefix) {
            return a[prefix.len()..].trim().to_string();
        }
    }
    a.trim().to_string()
}

fn json_ld_author(head: &Head<'_>) -> Option<String> {
    head.json_ld
        .iter()
        .find_map(|value| non_empty(&find_author(value, 0)?))
}

/// `author` in JSON-LD is a string, a person `{"name": …}` or a list of them.
fn find_author(v: &serde_json::Value, depth: usize) -> Option<String> {
    use serde_json::Value;
    let names = |a: &Value| -> Option<String> {
        match a {
            Value::String(s) => Some(s.clone()),
            Value::Object(_) => find_key(a, "name", 0),
            Value::Array(items) => {
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|i| match i {
                        Value::String(s) => Some(s.clone()),
                        _ => find_key(i, "name", 0),
                    })
                    .collect();
                (!names.is_empty()).then(|| names.join(", "))
            }
            _ => None,
        }
    };
    if depth > 8 {
        return None;
    }
    match v {
        Value::Object(map) => map
            .get("author")
            .and_then(names)
            .or_else(|| map.values().find_map(|x| find_author(x, depth + 1))),
        Value::Array(items) => items.iter().find_map(|x| find_author(x, depth + 1)),
        _ => None,
    }
}

fn first_text(doc: &Html, selector: &scraper::Selector) -> Option<String> {
    doc.select(selector).find_map(|e| {
        let text = e.text().collect::<Vec<_>>().join(" ");
        non_empty(&text.split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_declared_metadata() {
        let doc = Html::parse_document(
            r#"<html lang="de"><head><title>Site | Story</title>
            <meta property="og:title" content="The Story">
            <script type="application/ld+json">{"@type":"NewsArticle","author":[{"@type":"Person","name":"Ana Ruiz"},{"name":"Li Wei"}]}</script>
            </head><body><h1>Story</h1></body></html>"#,
        );
        let head = Head::of(&doc);
        assert_eq!(title(&doc, &head).as_deref(), Some("The Story"));
        assert_eq!(byline(&doc, &head).as_deref(), Some("Ana Ruiz, Li Wei"));
        assert_eq!(lang(&head).as_deref(), Some("de"));
        let plain = Html::parse_document(
            "<html><body><h1>Headline</h1><p class='byline'>By Sam Poe</p></body></html>",
        );
        let head = Head::of(&plain);
        assert_eq!(title(&plain, &head).as_deref(), Some("Headline"));
        assert_eq!(byline(&plain, &head).as_deref(), Some("Sam Poe"));
        assert_eq!(lang(&head), None);
    }
}

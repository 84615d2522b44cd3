//! The article's metadata besides its date: title, byline and language, from what the page
//! declares (Open Graph and other meta tags, JSON-LD, `<html lang>`) before what it shows.

use scraper::{ElementRef, Html};

use super::published::{find_key, json_ld_values};

/// The headline: Open Graph's title, else the page's `<h1>`, else `<title>`.
pub fn title(doc: &Html) -> Option<String> {
    meta_content(doc, &["og:title", "twitter:title", "title"])
        .or_else(|| first_text(doc, selector!("h1")))
        .or_else(|| first_text(doc, selector!("title")))
}

/// The author or authors as the page names them.
pub fn byline(doc: &Html) -> Option<String> {
    meta_content(doc, &["author", "article:author", "dc.creator", "byl", "parsely-author"])
        .filter(|a| !a.starts_with("http"))
        .or_else(|| json_ld_author(doc))
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
pub fn lang(doc: &Html) -> Option<String> {
    doc.select(selector!("html[lang]"))
        .next()
        .and_then(|h| non_empty(h.attr("lang").unwrap_or("")))
        .or_else(|| {
            meta_content(
                doc,
                &["content-language", "og:locale", "language", "dc.language"],
            )
        })
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

fn json_ld_author(doc: &Html) -> Option<String> {
    json_ld_values(doc).find_map(|value| non_empty(&find_author(&value, 0)?))
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

fn meta_content(doc: &Html, keys: &[&str]) -> Option<String> {
    let metas: Vec<ElementRef<'_>> = doc.select(selector!("meta[content]")).collect();
    keys.iter().find_map(|key| {
        metas.iter().find_map(|m| {
            let name = ["property", "name", "itemprop", "http-equiv"]
                .iter()
                .find_map(|a| m.attr(a))
                .unwrap_or_default();
            if name.trim().eq_ignore_ascii_case(key) {
                m.attr("content").and_then(non_empty)
            } else {
                None
            }
        })
    })
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
        assert_eq!(title(&doc).as_deref(), Some("The Story"));
        assert_eq!(byline(&doc).as_deref(), Some("Ana Ruiz, Li Wei"));
        assert_eq!(lang(&doc).as_deref(), Some("de"));
        let plain = Html::parse_document(
            "<html><body><h1>Headline</h1><p class='byline'>By Sam Poe</p></body></html>",
        );
        assert_eq!(title(&plain).as_deref(), Some("Headline"));
        assert_eq!(byline(&plain).as_deref(), Some("Sam Poe"));
        assert_eq!(lang(&plain), None);
    }
}

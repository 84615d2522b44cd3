//! Removing boilerplate from the page before the body is chosen: advertising, promotion,
//! related-story and sharing blocks, newsletter boxes, comments, captions and the page's
//! own chrome. These change from fetch to fetch; an extractor that lets one of them into the
//! body stores a new version of an article that did not change.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;
use trafilatura::dom::{Document, NodeId};

/// Elements that are never the article's text.
const CHROME: &[&str] = &[
    "nav",
    "aside",
    "footer",
    "figcaption",
    "form",
    "button",
    "iframe",
    "noscript",
    "template",
    "dialog",
];

/// A block with this much text or more is kept even if its class says "share" or "related":
/// it is more likely the article's container wearing a utility class than a widget.
const MAX_WIDGET_CHARS: usize = 1200;

/// Removes boilerplate elements in place.
pub fn prune(doc: &mut Document) {
    let root = doc.root();
    let mut doomed: HashSet<NodeId> = HashSet::new();
    for id in doc.iter_descendants(root, &[]) {
        if is_inside_any(doc, id, &doomed) {
            continue;
        }
        let tag = doc.tag_name(id).to_ascii_lowercase();
        let small = || doc.text_content(id).chars().count() < MAX_WIDGET_CHARS;
        let chrome = CHROME.contains(&tag.as_str()) && !contains_article(doc, id) && small();
        let widget = || {
            let names = format!("{} {}", doc.class_name(id), doc.id_attr(id));
            boilerplate_name(&names) && small()
        };
        let hidden = doc.get_attribute(id, "hidden").is_some()
            || doc
                .get_attribute(id, "aria-hidden")
                .is_some_and(|v| v == "true");
        if chrome || hidden || (tag != "body" && tag != "html" && tag != "article" && widget()) {
            doomed.insert(id);
        }
    }
    for id in doomed {
        doc.remove(id, true);
    }
}

/// Class and id words of advertising, promotion and social widgets, as whole words of
/// `class`/`id` (`share-bar`, `related_links`, `ad-slot`; not `header` or `shadow`).
fn boilerplate_name(names: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)(^|[\s_-])(ad|ads|adv|advert|advertisement|advertising|sponsor|sponsored|promo|promotion|banner|related|recommended|recommendations|newsletter|signup|subscribe|social|share|sharing|sharebar|comments?|disqus|outbrain|taboola|teaser|teasers|most-?read|popular|trending|breadcrumbs?|cookie|consent|paywall|caption|byline|dateline|timestamp)($|[\s_-])",
        )
        .expect("static regex")
    })
    .is_match(names)
}

/// An `<aside>` or `<footer>` that wraps the `<article>` (some templates do) is not chrome.
fn contains_article(doc: &Document, id: NodeId) -> bool {
    !doc.iter_descendants(id, &["article", "main"]).is_empty()
}

/// True when an ancestor of `id` is in `set` (then `id` goes with it).
fn is_inside_any(doc: &Document, id: NodeId, set: &HashSet<NodeId>) -> bool {
    let mut at = doc.parent(id);
    while let Some(p) = at {
        if set.contains(&p) {
            return true;
        }
        at = doc.parent(p);
    }
    false
}

//! `figwatch extract --explain`: what the extractor kept and dropped on a page, and why, so a
//! user can see where a bad reading went wrong and report it with the page.

use std::fmt::Write as _;

use ego_tree::NodeRef;
use scraper::Node;

/// How much of a block's text an explanation quotes.
const PREVIEW_CHARS: usize = 100;

/// One block or line the extractor left out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dropped {
    /// The element as a selector (`div.share-bar`, `aside`), or "line" for a line of text.
    pub what: String,
    /// Why it was left out.
    pub why: String,
    /// The start of its text.
    pub text: String,
}

/// The extractor's reasoning on one page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Explanation {
    /// Which reading of the page gave the body, and the lengths of the others.
    pub reading: String,
    /// The element(s) chosen as the article's container, as selectors.
    pub container: Vec<String>,
    /// The standfirst set apart from the container, when one was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standfirst: Option<String>,
    /// Blocks left out inside the container, in page order.
    pub dropped_blocks: Vec<Dropped>,
    /// Lines of the body left out by the clean-up, with the rule that did it.
    pub dropped_lines: Vec<Dropped>,
    /// The paragraphs kept: the article's text.
    pub kept: Vec<String>,
}

/// The element as a short selector: its tag, id and first classes.
pub(super) fn selector(n: NodeRef<'_, Node>) -> String {
    let Some(e) = n.value().as_element() else {
        return "text".into();
    };
    let mut s = e.name().to_string();
    if let Some(id) = e.attr("id").filter(|i| !i.trim().is_empty()) {
        let _ = write!(s, "#{}", id.trim());
    }
    for class in e
        .attr("class")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
    {
        let _ = write!(s, ".{class}");
    }
    crate::controls::strip(&s).into_owned()
}

/// The start of a text, on one line.
pub(super) fn preview(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(PREVIEW_CHARS) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// The text of an element, for a preview.
fn element_text(n: NodeRef<'_, Node>) -> String {
    let mut out = String::new();
    for d in n.descendants() {
        if let Node::Text(t) = d.value() {
            out.push_str(t);
            out.push(' ');
            if out.len() > PREVIEW_CHARS * 4 {
                break;
            }
        }
    }
    preview(&crate::controls::strip(&out))
}

impl Explanation {
    /// Records a block left out, with its reason (asked only for blocks that hold text).
    pub(super) fn drop_block(&mut self, n: NodeRef<'_, Node>, why: impl FnOnce() -> String) {
        let text = element_text(n);
        if !text.is_empty() {
            self.dropped_blocks.push(Dropped {
                what: selector(n),
                why: why(),
                text,
            });
        }
    }

    /// The explanation as a person reads it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "reading: {}", self.reading);
        if !self.container.is_empty() {
            let _ = writeln!(out, "container: {}", self.container.join(" + "));
        }
        if let Some(s) = &self.standfirst {
            let _ = writeln!(out, "standfirst: {s}");
        }
        let sections = [
            ("blocks left out inside the container", &self.dropped_blocks),
            ("lines left out by the clean-up", &self.dropped_lines),
        ];
        for (title, items) in sections {
            let _ = writeln!(out, "{title}: {}", items.len());
            for d in items {
                let _ = writeln!(out, "  - {} ({}): \"{}\"", d.what, d.why, d.text);
            }
        }
        let _ = writeln!(out, "kept: {} paragraphs", self.kept.len());
        for (i, p) in self.kept.iter().enumerate() {
            let _ = writeln!(out, "  {:>3}  {}", i + 1, preview(p));
        }
        out
    }
}

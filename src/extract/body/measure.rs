//! The measuring walk: every element's text, the part of it inside links, and its paragraph
//! score in the manner of Readability (a paragraph credits its parent fully and its grandparent
//! by half, more for long paragraphs and for commas).

use super::*;

pub(super) fn measure<'a>(
    root: NodeR<'a>,
    skip: &dyn Fn(NodeR<'_>) -> bool,
    judged: &Judged<'_>,
) -> Measured<'a> {
    let mut stats: NodeMap<Stats> = NodeMap::default();
    let mut order = Vec::new();
    // The run of inline text each block is writing: (block, chars, commas).
    let mut runs: NodeMap<(NodeId, u32, u32)> = NodeMap::default();
    let end_run = |stats: &mut NodeMap<Stats>, run: Option<(NodeId, u32, u32)>| {
        if let Some((block, chars, commas)) = run.filter(|r| r.1 >= MIN_PARAGRAPH_CHARS) {
            let s = stats.or_default(block);
            s.inline_score += paragraph_score(chars, commas);
            s.inline_runs += 1;
        }
    };
    walk(root, skip, |n| match n.value() {
        Node::Element(e) => {
            stats.or_default(n.id());
            order.push(n);
            let name = e.name();
            if is_block(name) || (name == "br" && follows_br(n)) {
                if let Some(b) = n.parent().and_then(|p| writing_block(p, root)) {
                    end_run(&mut stats, runs.remove(&b.id()));
                }
            }
        }
        Node::Text(t) => {
            if let Some(parent) = n.parent() {
                let s = stats.or_default(parent.id());
                let (chars, commas) = (text_chars(t), commas(t));
                s.chars += chars;
                s.commas += commas;
                if let Some(b) = writing_block(parent, root) {
                    let run = runs.place(b.id()).get_or_insert((b.id(), 0, 0));
                    run.1 += chars;
                    run.2 += commas;
                }
            }
        }
        _ => {}
    });
    for run in runs.drain() {
        end_run(&mut stats, Some(run));
    }
    // Children before parents: fold each element's totals into its parent, and credit its
    // paragraph score to its ancestors.
    for n in order.iter().rev() {
        let name = tag(*n);
        let mut s = stats.get(&n.id()).copied().unwrap_or_default();
        if is_link(*n) {
            s.link_chars = s.chars;
        }
        if judged.is_article(*n) {
            s.has_article = true;
        }
        if n.id() == root.id() {
            continue;
        }
        // A paragraph credits its ancestors; so does text written straight into a container
        // beside its blocks (bodies built with `<br>` and no `<p>`), which credits the
        // container itself first.
        // A `<div>` of several runs split by `<br><br>` is a container of paragraphs, as
        // Readability reads it.
        let runs_of_paragraphs = name != "p" && s.inline_runs >= 2;
        let paragraph = if is_paragraph(name, &s) && !runs_of_paragraphs {
            (s.chars >= MIN_PARAGRAPH_CHARS).then(|| {
                let score = paragraph_score(s.chars, s.commas) * (1.0 - s.link_density());
                (score, n.parent())
            })
        } else if s.inline_score > 0.0 {
            Some((s.inline_score, Some(*n)))
        } else {
            None
        };
        if let Some((score, _)) = paragraph {
            s.prose += score;
        }
        // Stored before crediting: text written into the element credits the element itself.
        stats.insert(n.id(), s);
        if let Some((score, first)) = paragraph {
            let mut ancestor = first;
            let mut level = 1.0f32;
            while let Some(a) = ancestor.filter(|_| level <= 3.0) {
                if let Some(st) = stats.get_mut(&a.id()) {
                    st.score += if level == 1.0 {
                        score
                    } else {
                        score / (level * 1.5)
                    };
                }
                if a.id() == root.id() {
                    break;
                }
                ancestor = a.parent();
                level += 1.0;
            }
        }
        let s = stats.get(&n.id()).copied().unwrap_or_default();
        if let Some(parent) = n.parent() {
            let p = stats.or_default(parent.id());
            p.chars += s.chars;
            p.link_chars += s.link_chars;
            p.commas += s.commas;
            p.prose += s.prose;
            p.has_article |= s.has_article;
            p.has_block_child |= is_block(name);
        }
    }
    Measured { stats, order }
}

/// Readability's paragraph score: one, plus one a comma, plus one a hundred characters
/// up to three.
pub(super) fn paragraph_score(chars: u32, commas: u32) -> f32 {
    (1 + commas) as f32 + (chars as f32 / 100.0).min(3.0)
}

/// How far up from a text node its block is looked for: inline markup nests a few levels;
/// text deeper in inline elements than this (hostile pages) counts for no paragraph.
pub(super) const INLINE_LEVELS: usize = 16;

/// An `<a>` that links: not a named anchor (`<a name="section">`) or a bare stray `<a/>`
/// that the parser leaves open over the rest of the page, whose text is prose. Script links
/// without `href` (`<a onclick>`, `<a class="btn">`) are links.
pub(super) fn is_link(n: NodeR<'_>) -> bool {
    n.value().as_element().is_some_and(|e| {
        e.name() == "a" && e.attrs().any(|(name, _)| name != "name" && name != "id")
    })
}

/// The block a text node inside `parent` writes into, through inline elements; none for
/// link text, which is no paragraph's prose.
pub(super) fn writing_block<'a>(parent: NodeR<'a>, root: NodeR<'a>) -> Option<NodeR<'a>> {
    let mut at = parent;
    for _ in 0..INLINE_LEVELS {
        if is_link(at) {
            return None;
        }
        let name = tag(at);
        if is_block(name) || at.id() == root.id() || !at.value().is_element() {
            return Some(at);
        }
        at = at.parent()?;
    }
    None
}

/// A `<br>` right after another (white space between): the end of a paragraph.
pub(super) fn follows_br(n: NodeR<'_>) -> bool {
    let mut prev = n.prev_sibling();
    while let Some(p) = prev {
        match p.value() {
            Node::Text(t) if t.trim().is_empty() => prev = p.prev_sibling(),
            Node::Element(e) => return e.name() == "br",
            _ => return false,
        }
    }
    false
}

pub(super) fn commas(t: &str) -> u32 {
    t.chars()
        .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
        .count() as u32
}

/// Characters in a text node with every run of white space counted as one.
pub(super) fn text_chars(t: &str) -> u32 {
    let mut n = 0u32;
    let mut space = true;
    for c in t.chars() {
        if c.is_whitespace() {
            if !space {
                n += 1;
            }
            space = true;
        } else {
            n += 1;
            space = false;
        }
    }
    n
}

//! Word-level differences between two versions of an article.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Equal,
    Delete,
    Insert,
}

/// A run of text that is the same, removed or added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    pub op: Op,
    pub text: String,
}

/// The word-level diff of two texts, with neighbouring pieces of the same kind merged so
/// that a changed phrase reads as one deletion and one insertion.
pub fn word_diff(old: &str, new: &str) -> Vec<Chunk> {
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_secs(5))
        .diff_words(old, new);
    let mut chunks: Vec<Chunk> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => Op::Equal,
            ChangeTag::Delete => Op::Delete,
            ChangeTag::Insert => Op::Insert,
        };
        let text = change.value();
        match chunks.last_mut() {
            Some(last) if last.op == op => last.text.push_str(text),
            _ => chunks.push(Chunk {
                op,
                text: text.to_string(),
            }),
        }
    }
    tidy(chunks)
}

/// Moves white space shared by a deletion and the insertion that follows it out into the
/// surrounding text, so `[-3,000 -]{+4,000 +}` becomes `[-3,000-]{+4,000+} `.
fn tidy(chunks: Vec<Chunk>) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::new();
    for c in chunks {
        if c.op == Op::Equal || c.text.trim().is_empty() {
            // Pure white space changes read better as plain text.
            let text = if c.op == Op::Delete {
                String::new()
            } else {
                c.text
            };
            if text.is_empty() {
                continue;
            }
            match out.last_mut() {
                Some(last) if last.op == Op::Equal => last.text.push_str(&text),
                _ => out.push(Chunk {
                    op: Op::Equal,
                    text,
                }),
            }
            continue;
        }
        let trimmed = c.text.trim_end();
        let tail = c.text[trimmed.len()..].to_string();
        out.push(Chunk {
            op: c.op,
            text: trimmed.to_string(),
        });
        if !tail.is_empty() && c.op == Op::Insert {
            out.push(Chunk {
                op: Op::Equal,
                text: tail,
            });
        }
    }
    // Merge equal neighbours created above.
    let mut merged: Vec<Chunk> = Vec::new();
    for c in out {
        match merged.last_mut() {
            Some(last) if last.op == c.op && c.op == Op::Equal => last.text.push_str(&c.text),
            _ => merged.push(c),
        }
    }
    merged
}

/// True when nothing changed.
pub fn is_unchanged(chunks: &[Chunk]) -> bool {
    chunks.iter().all(|c| c.op == Op::Equal)
}

/// Renders a diff for a terminal (`color`: red deletions, green insertions) or as plain
/// `[-old-]{+new+}` markup, the form `git diff --word-diff=plain` users know.
pub fn render(chunks: &[Chunk], color: bool) -> String {
    let mut out = String::new();
    for c in chunks {
        match (c.op, color) {
            (Op::Equal, _) => out.push_str(&c.text),
            (Op::Delete, true) => out.push_str(&format!("\x1b[31;9m{}\x1b[0m", c.text)),
            (Op::Insert, true) => out.push_str(&format!("\x1b[32;1m{}\x1b[0m", c.text)),
            (Op::Delete, false) => out.push_str(&format!("[-{}-]", c.text)),
            (Op::Insert, false) => out.push_str(&format!("{{+{}+}}", c.text)),
        }
    }
    out
}

/// Only the paragraphs that changed, for a compact view of a long article.
pub fn changed_paragraphs(chunks: &[Chunk]) -> Vec<Chunk> {
    // Split the diff into paragraphs at newlines inside equal text, keep those with a change.
    let mut paragraphs: Vec<Vec<Chunk>> = vec![Vec::new()];
    for c in chunks {
        if c.op != Op::Equal {
            paragraphs.last_mut().expect("never empty").push(c.clone());
            continue;
        }
        let mut parts = c.text.split('\n').peekable();
        while let Some(part) = parts.next() {
            if !part.is_empty() {
                paragraphs.last_mut().expect("never empty").push(Chunk {
                    op: Op::Equal,
                    text: part.to_string(),
                });
            }
            if parts.peek().is_some() {
                paragraphs.push(Vec::new());
            }
        }
    }
    let mut out = Vec::new();
    for p in paragraphs
        .into_iter()
        .filter(|p| p.iter().any(|c| c.op != Op::Equal))
    {
        if !out.is_empty() {
            out.push(Chunk {
                op: Op::Equal,
                text: "\n".into(),
            });
        }
        out.extend(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_figure_is_one_deletion_and_one_insertion() {
        let d = word_diff(
            "Officials said 3,000 North Korean troops were killed.",
            "Officials said 4,000 North Korean troops were killed.",
        );
        assert_eq!(
            render(&d, false),
            "Officials said [-3,000-]{+4,000+} North Korean troops were killed."
        );
        assert!(!is_unchanged(&d));
    }

    #[test]
    fn identical_texts_are_unchanged() {
        let d = word_diff("Same text.\nTwo paragraphs.", "Same text.\nTwo paragraphs.");
        assert!(is_unchanged(&d));
        assert_eq!(render(&d, false), "Same text.\nTwo paragraphs.");
    }

    #[test]
    fn colour_uses_ansi_codes() {
        let d = word_diff("a b", "a c");
        let coloured = render(&d, true);
        assert!(coloured.contains("\x1b[31;9mb\x1b[0m"), "{coloured:?}");
        assert!(coloured.contains("\x1b[32;1mc\x1b[0m"), "{coloured:?}");
    }

    #[test]
    fn changed_paragraphs_drop_untouched_ones() {
        let d = word_diff(
            "First stays.\nSecond has 3 figures.\nThird stays.",
            "First stays.\nSecond has 4 figures.\nThird stays.",
        );
        assert_eq!(
            render(&changed_paragraphs(&d), false),
            "Second has [-3-]{+4+} figures."
        );
    }
}

//! Word-level differences between two versions of an article.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// What a chunk of a word diff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// In both texts.
    Equal,
    /// Only in the old text.
    Delete,
    /// Only in the new text.
    Insert,
}

/// A run of text that is the same, removed or added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// Kept, removed or added.
    pub op: Op,
    /// Its words, with the spaces between them.
    pub text: String,
}

/// The word-level diff of two texts. Changed words separated only by white space are grouped
/// into one deletion and one insertion, so a rewritten sentence reads as old text then new
/// text, not as an alternation of single words.
pub fn word_diff(old: &str, new: &str) -> Vec<Chunk> {
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_secs(5))
        .diff_words(old, new);
    let mut out = Diffed::default();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match change.tag() {
            ChangeTag::Equal if text.trim().is_empty() && out.pending() => out.gap(text),
            ChangeTag::Equal => {
                out.flush();
                out.push(Op::Equal, text);
            }
            ChangeTag::Delete => out.change(Op::Delete, text),
            ChangeTag::Insert => out.change(Op::Insert, text),
        }
    }
    out.flush();
    out.chunks
}

/// Builds the chunk list, holding a run of changes until plain text ends it.
#[derive(Default)]
struct Diffed {
    chunks: Vec<Chunk>,
    del: String,
    ins: String,
    /// White space seen between changes, still to be given to the deletion / insertion if
    /// it goes on after it.
    gap_del: String,
    gap_ins: String,
    /// White space after the last change: plain text if the run ends here.
    trailing: String,
}

impl Diffed {
    fn pending(&self) -> bool {
        !self.del.is_empty() || !self.ins.is_empty()
    }

    fn gap(&mut self, ws: &str) {
        if self.trailing.is_empty() {
            // A new gap replaces what a side did not take of the previous one.
            self.gap_del.clear();
            self.gap_ins.clear();
        }
        self.gap_del.push_str(ws);
        self.gap_ins.push_str(ws);
        self.trailing.push_str(ws);
    }

    fn change(&mut self, op: Op, text: &str) {
        let (side, gap) = match op {
            Op::Delete => (&mut self.del, &mut self.gap_del),
            _ => (&mut self.ins, &mut self.gap_ins),
        };
        if !side.is_empty() {
            side.push_str(gap);
        }
        gap.clear();
        side.push_str(text);
        self.trailing.clear();
    }

    fn push(&mut self, op: Op, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.chunks.last_mut() {
            Some(last) if last.op == op && op == Op::Equal => last.text.push_str(text),
            _ => self.chunks.push(Chunk {
                op,
                text: text.to_string(),
            }),
        }
    }

    /// Ends a run of changes: white space at its edges goes back to the plain text, and a
    /// change of white space only is shown as the new white space.
    fn flush(&mut self) {
        let del = std::mem::take(&mut self.del);
        let ins = std::mem::take(&mut self.ins);
        let gap = std::mem::take(&mut self.trailing);
        self.gap_del.clear();
        self.gap_ins.clear();
        let (d, i) = (del.trim(), ins.trim());
        if d.is_empty() && i.is_empty() {
            self.push(Op::Equal, if ins.is_empty() { &del } else { &ins });
        } else {
            let edges = if i.is_empty() { &del } else { &ins };
            self.push(Op::Equal, &edges[..edges.len() - edges.trim_start().len()]);
            self.push(Op::Delete, d);
            self.push(Op::Insert, i);
            self.push(Op::Equal, &edges[edges.trim_end().len()..]);
        }
        self.push(Op::Equal, &gap);
    }
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
        // The colours are figwatch's own; the text's control characters are shown, never
        // passed to the terminal.
        let text = crate::controls::visible(&c.text);
        match (c.op, color) {
            (Op::Equal, _) => out.push_str(&text),
            (Op::Delete, true) => out.push_str(&format!("\x1b[31;9m{text}\x1b[0m")),
            (Op::Insert, true) => out.push_str(&format!("\x1b[32;1m{text}\x1b[0m")),
            (Op::Delete, false) => out.push_str(&format!("[-{text}-]")),
            (Op::Insert, false) => out.push_str(&format!("{{+{text}+}}")),
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
    fn a_rewritten_phrase_reads_as_old_then_new() {
        let d = word_diff(
            "Officials said on Monday that 3,000 died.",
            "Zelensky told reporters that 4,000 died.",
        );
        assert_eq!(
            render(&d, false),
            "[-Officials said on Monday-]{+Zelensky told reporters+} that [-3,000-]{+4,000+} died."
        );
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

//! Control characters: taken out of what figwatch reads, never written raw where it writes.
//!
//! A page can hold ESC, BEL and whole terminal sequences (colours, OSC-8 links, erase-line).
//! Stored as text they would reach a user's terminal through `figwatch alerts`, make the Atom
//! feed invalid XML (XML 1.0 forbids most of C0), and, left as "[1m", even read as numbers.
//! So: [`strip`] at extraction, [`Visible`] on the command line's standard output (for text
//! stored before), [`for_xml`] on every XML document.

use std::borrow::Cow;
use std::io::{self, Write};

/// A control character that article text never keeps (tab, line feed and carriage return
/// are white space, and normalised as such).
fn unwanted(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// `text` without control characters (tabs and line breaks aside) and without the terminal
/// sequences they start: `ESC [ … m` goes whole, not just its ESC, so no "[31m" is left to
/// read. A string sequence (OSC, DCS, …) ends at its terminator or at the end of the line,
/// so an unterminated one cannot hide the rest of an article. C1 controls go alone.
pub fn strip(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unwanted) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek().copied() {
                Some('[') => {
                    chars.next();
                    skip_csi(&mut chars);
                }
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    skip_string(&mut chars);
                }
                Some(c) if (' '..='/').contains(&c) || ('0'..='~').contains(&c) => {
                    // nF, Fp, Fe and Fs escapes: intermediates, then one final character.
                    while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
                    chars.next_if(|c| ('0'..='~').contains(c));
                }
                _ => {}
            },
            // A C1 control alone is dropped, never read as the start of a sequence: pages
            // decoded as Latin-1 that are Windows-1252 are full of U+0080–U+009F standing for
            // quotes and dashes, and the words after them are text.
            // Vertical tab, form feed and NEL separate words like a space.
            c if c.is_whitespace() && unwanted(c) => out.push(' '),
            c if unwanted(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A control sequence's parameters, intermediates and final character.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.next_if(|c| ('0'..='?').contains(c)).is_some() {}
    while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
    chars.next_if(|c| ('@'..='~').contains(c));
}

/// A control string (OSC, DCS, SOS, PM, APC) up to its terminator: BEL, `ESC \` or ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next_if(|c| *c != '\n') {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

/// `text` without the characters XML 1.0 forbids (most of C0, U+FFFE, U+FFFF), nor DEL and
/// C1, which it discourages. Applied to a whole document: none of them can be markup.
pub fn for_xml(text: &str) -> Cow<'_, str> {
    let bad = |c: char| unwanted(c) || matches!(c, '\u{fffe}' | '\u{ffff}');
    if !text.contains(bad) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|c| !bad(*c)).collect())
}

/// A writer that shows control characters instead of passing them to a terminal: each one
/// (tab and line feed aside) is written as its `\uXXXX` escape. In JSON text that is the same
/// character escaped, so `--json` output still means what it did.
pub struct Visible<W: Write> {
    inner: W,
    /// A 0xC2 byte at the end of the last write: the first byte of a C1 control, or not.
    pending: bool,
}

impl<W: Write> Visible<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Visible<W> {
        Visible {
            inner,
            pending: false,
        }
    }

    fn escape(&mut self, code: u32) -> io::Result<()> {
        write!(self.inner, "\\u{code:04x}")
    }
}

impl<W: Write> Write for Visible<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut i = 0;
        let mut start = 0;
        if self.pending && !buf.is_empty() {
            self.pending = false;
            if (0x80..=0x9f).contains(&buf[0]) {
                self.escape(u32::from(buf[0]))?;
                i = 1;
                start = 1;
            } else {
                self.inner.write_all(&[0xc2])?;
            }
        }
        while i < buf.len() {
            let b = buf[i];
            let c1 = b == 0xc2 && buf.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n));
            if (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f || c1 {
                self.inner.write_all(&buf[start..i])?;
                if c1 {
                    self.escape(u32::from(buf[i + 1]))?;
                    i += 2;
                } else {
                    self.escape(u32::from(b))?;
                    i += 1;
                }
                start = i;
            } else if b == 0xc2 && i + 1 == buf.len() {
                self.inner.write_all(&buf[start..i])?;
                self.pending = true;
                i += 1;
                start = i;
            } else {
                i += 1;
            }
        }
        self.inner.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.pending) {
            self.inner.write_all(&[0xc2])?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Visible<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `text` as [`Visible`] writes it.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n')
    {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len() + 8);
    Visible::new(&mut out)
        .write_all(text.as_bytes())
        .expect("writing to memory");
    Cow::Owned(String::from_utf8(out).expect("escapes keep UTF-8 whole"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_takes_whole_terminal_sequences_and_keeps_the_text() {
        let hostile = "Officials said \u{1b}[1;31m4,500\u{1b}[0m troops were \u{7}killed.\u{1b}[2K\n\
             See \u{1b}]8;;http://evil.example\u{1b}\\this\u{1b}]8;;\u{7} link, \u{9d}C1\u{1b}c reset.";
        assert_eq!(
            strip(hostile),
            "Officials said 4,500 troops were killed.\nSee this link, C1 reset."
        );
        // Windows-1252 read as Latin-1: the C1 character goes, the words stay.
        assert_eq!(strip("don\u{92}t stop \u{9d}here"), "dont stop here");
        // An unterminated string sequence ends at the line, not the article.
        assert_eq!(strip("a \u{1b}]0;title\nnext line"), "a \nnext line");
        assert_eq!(strip("tabs\tand\nlines\r\n"), "tabs\tand\nlines\r\n");
        assert!(matches!(strip("plain 3,000"), Cow::Borrowed(_)));
    }

    #[test]
    fn xml_never_carries_a_forbidden_character() {
        assert_eq!(
            for_xml("<a>b\u{1b}\u{0}\u{7f}\u{85}\u{ffff}c\td\n</a>"),
            "<a>bc\td\n</a>"
        );
    }

    #[test]
    fn visible_shows_every_control_character_even_split_across_writes() {
        let mut out = Vec::new();
        {
            let mut w = Visible::new(&mut out);
            w.write_all("a\u{1b}[31mb\tc\n\u{7}".as_bytes()).unwrap();
            let c1 = "x\u{9b}y".as_bytes();
            w.write_all(&c1[..2]).unwrap();
            w.write_all(&c1[2..]).unwrap();
            let cent = "é¢".as_bytes();
            w.write_all(&cent[..3]).unwrap();
            w.write_all(&cent[3..]).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "a\\u001b[31mb\tc\n\\u0007x\\u009byé¢");
        assert_eq!(visible("a\u{1b}b\u{9b}"), "a\\u001bb\\u009b");
    }
}

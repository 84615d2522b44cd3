//! A sentence cut into tokens (numbers, words, symbols), and the value of a number written in
//! digits in the notations news text uses.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Num,
    Word,
    Sym,
}

#[derive(Debug, Clone)]
pub(super) struct Tok<'a> {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) lower: Cow<'a, str>,
}

/// Which mark a text writes decimals with: "1.5" and "4,000" in English, "1,5" and "4.000"
/// in German, French, Spanish, Russian and most other European languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Notation {
    /// "1.5", "4,000".
    #[default]
    DecimalPoint,
    /// "1,5", "4.000".
    DecimalComma,
}

impl Notation {
    /// The notation of a language (an ISO 639-1 code such as `de` or `en-GB`); English and
    /// unknown languages write a decimal point.
    pub fn of_language(lang: Option<&str>) -> Notation {
        const COMMA: &[&str] = &[
            "de", "fr", "es", "it", "pt", "nl", "ru", "uk", "pl", "cs", "sk", "tr", "id", "da",
            "sv", "nb", "nn", "no", "fi", "ro", "hu", "el", "bg", "hr", "sr", "sl", "lt", "lv",
            "et", "ca", "gl", "eu", "be", "kk", "az", "vi",
        ];
        let primary = lang
            .and_then(|l| l.split(['-', '_']).next())
            .map(str::to_ascii_lowercase);
        match primary {
            Some(p) if COMMA.contains(&p.as_str()) => Notation::DecimalComma,
            _ => Notation::DecimalPoint,
        }
    }
}

pub(super) fn tokenize(s: &str, notation: Notation) -> Vec<Tok<'_>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(\d+(?:[.,]\d+)*)|(\p{L}+(?:[-'’.]\p{L}+)*\.?)|(\S)").expect("static regex")
    });
    let toks: Vec<Tok<'_>> = re
        .captures_iter(s)
        .map(|c| {
            let (kind, m) = match (c.get(1), c.get(2)) {
                (Some(m), _) => (Kind::Num, m),
                (None, Some(m)) => (Kind::Word, m),
                _ => (Kind::Sym, c.get(3).expect("one group matches")),
            };
            let text = m.as_str();
            // A word's final stop is kept only for abbreviations like "a.m." and "No.".
            let lower = if kind == Kind::Word && text.ends_with('.') && !is_dotted_word(text) {
                Cow::Owned(text[..text.len() - 1].to_lowercase())
            } else {
                Cow::Owned(text.to_lowercase())
            };
            let end = if kind == Kind::Word && text.ends_with('.') && !is_dotted_word(text) {
                m.end() - 1
            } else {
                m.end()
            };
            Tok {
                kind,
                start: m.start(),
                end,
                lower,
            }
        })
        .collect();
    // "22,24,26,31" and "192.168.1.2" are lists of numbers, not one number: split what no
    // number format reads.
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        if t.kind != Kind::Num || digit_value(&t.lower, notation).is_some() {
            out.push(t);
            continue;
        }
        let mut at = t.start;
        for piece in s[t.start..t.end].split_inclusive(['.', ',']) {
            let digits = piece.trim_end_matches(['.', ',']);
            out.push(Tok {
                kind: Kind::Num,
                start: at,
                end: at + digits.len(),
                lower: Cow::Owned(digits.to_string()),
            });
            if digits.len() < piece.len() {
                out.push(Tok {
                    kind: Kind::Sym,
                    start: at + digits.len(),
                    end: at + piece.len(),
                    lower: Cow::Owned(piece[digits.len()..].to_string()),
                });
            }
            at += piece.len();
        }
    }
    out
}

/// The value of a number written in digits, in the formats news text uses: "4,000",
/// "1,234.5", "12,34,567.89" (Indian grouping), "1.111,11" (continental grouping with a
/// decimal comma), "5,00" and "1,3" (a decimal comma). `None` for anything else ("22,24,26").
pub(super) fn digit_value(text: &str, notation: Notation) -> Option<f64> {
    static FORMATS: OnceLock<[Regex; 5]> = OnceLock::new();
    let [english, indian, continental, decimal_comma, dotted] = FORMATS.get_or_init(|| {
        [
            Regex::new(r"^\d{1,3}(,\d{3})+(\.\d+)?$").expect("static regex"),
            Regex::new(r"^\d{1,2}(,\d{2})+,\d{3}(\.\d+)?$").expect("static regex"),
            Regex::new(r"^\d{1,3}(\.\d{3})+,\d+$").expect("static regex"),
            Regex::new(r"^\d+,(\d{1,2}|\d{4,})$").expect("static regex"),
            Regex::new(r"^\d{1,3}(\.\d{3})+(,\d+)?$").expect("static regex"),
        ]
    });
    if notation == Notation::DecimalComma {
        // "4.000" is four thousand, "1,5" one and a half, "1.234.567,89" what it looks like.
        return if dotted.is_match(text) {
            text.replace('.', "").replace(',', ".").parse().ok()
        } else if text.matches(',').count() == 1 && !text.contains('.') {
            text.replace(',', ".").parse().ok()
        } else if text.contains([',', '.']) {
            None
        } else {
            text.parse().ok()
        };
    }
    if english.is_match(text) || indian.is_match(text) {
        text.replace(',', "").parse().ok()
    } else if continental.is_match(text) {
        text.replace('.', "").replace(',', ".").parse().ok()
    } else if decimal_comma.is_match(text) {
        text.replace(',', ".").parse().ok()
    } else if text.contains(',') || text.matches('.').count() > 1 {
        None
    } else {
        text.parse().ok()
    }
}

pub(super) fn is_dotted_word(w: &str) -> bool {
    let lw = w.to_lowercase();
    matches!(lw.as_str(), "a.m." | "p.m." | "no." | "u.s." | "u.k.")
}

/// A scale word after a number ("1.5 million"); `adjacent` ones only when written without
/// a space ("12k", "$2bn").
pub(super) fn scale(word: &str, adjacent: bool) -> Option<f64> {
    match word {
        "hundred" => Some(1e2),
        "thousand" => Some(1e3),
        "million" | "mn" => Some(1e6),
        "billion" | "bn" => Some(1e9),
        "trillion" | "tln" => Some(1e12),
        "lakh" | "lakhs" => Some(1e5),
        "crore" | "crores" => Some(1e7),
        "bln" => Some(1e9),
        "mil" | "mln" => Some(1e6),
        "k" => Some(1e3),
        "dozen" | "dozens" | "dz" | "dzs" | "doz" | "dozs" => Some(12.0),
        "m" if adjacent => Some(1e6),
        "b" if adjacent => Some(1e9),
        _ => None,
    }
}

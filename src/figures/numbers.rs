//! Numbers in a sentence: digits ("4,000", "4 000", "1.5 million", "12k"; "4.000" in a language
//! that writes a decimal comma), spelled numbers
//! ("two", "four thousand", "a dozen", via `text2num`), ranges ("3,000-4,000", "between 10,000
//! and 12,000"), vague quantities ("hundreds", "tens of thousands") and the qualifier in front
//! of them ("as many as", "at least", "about"). Numbers that are not counts — years, dates,
//! times, ages, durations, ordinals, money, labels such as "Resolution 2334", phone numbers —
//! are left out here, so nothing downstream has to think about them.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use super::{FigureValue, Qualifier};
use crate::calendar::MONTHS;

mod words;
use words::*;

mod excluded;
pub use excluded::is_currency;
use excluded::*;

mod tokens;
pub use tokens::Notation;
use tokens::*;

/// A number found in a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberMention {
    /// Byte range in the sentence, qualifier words excluded.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// Its value.
    pub value: FigureValue,
    /// The qualifier in front of it.
    pub qualifier: Qualifier,
    /// `percent`, or a unit of measurement ("acres", "mph") that follows the number.
    pub unit: Option<String>,
}

/// A candidate before ranges are joined: token span, value, the scale it was written with.
#[derive(Debug, Clone)]
struct Raw {
    first: usize,
    last: usize,
    value: FigureValue,
    scale: f64,
    /// Written with a minus sign ("-9.5").
    negative: bool,
}

/// Finds the count-like numbers of a sentence, in order.
pub fn find_numbers(sentence: &str) -> Vec<NumberMention> {
    recognize(sentence, true, Notation::DecimalPoint)
}

/// `find_numbers` for a text whose language writes decimals with a comma ("4.000 Soldaten").
pub fn find_numbers_in(sentence: &str, notation: Notation) -> Vec<NumberMention> {
    recognize(sentence, true, notation)
}

/// Every number of a text, counts or not (years, phone numbers and prices too): number
/// recognition alone, as the Recognizers-Text specs test it.
pub fn recognize_numbers(text: &str) -> Vec<NumberMention> {
    recognize(text, false, Notation::DecimalPoint)
}

/// The numbers of a sentence that are not counts, each with why ("a year", "an age"), for a
/// person tuning a topic.
pub fn passed_over_in(sentence: &str, notation: Notation) -> Vec<(NumberMention, &'static str)> {
    let (toks, raws) = candidates(sentence, true, notation);
    raws.into_iter()
        .filter_map(|r| {
            let why = excluded(sentence, &toks, &r)?;
            Some((mention(&toks, r, true), why))
        })
        .collect()
}

/// The tokens of a sentence and its number candidates, ranges and compounds joined, numbers
/// of phone numbers left out.
fn candidates(sentence: &str, counts_only: bool, notation: Notation) -> (Vec<Tok<'_>>, Vec<Raw>) {
    let toks = tokenize(sentence, notation);
    let masked = phone_numbers(sentence);
    let mut used = vec![false; toks.len()];
    let mut raws: Vec<Raw> = Vec::new();

    // Numbers inside a URL ("…%2D9114…") are parts of an address.
    for url in urls(sentence) {
        for (t, u) in toks.iter().zip(used.iter_mut()) {
            *u |= url.contains(&t.start);
        }
    }
    if !counts_only {
        // A fraction is a number but never a count of people or things.
        fractions(&toks, &mut used, &mut raws);
    }
    digit_numbers(sentence, &toks, notation, &mut used, &mut raws);
    vague_quantities(&toks, &mut used, &mut raws);
    spelled_numbers(&toks, &mut used, &mut raws);
    if !counts_only {
        valueless_percentages(&toks, &used, &mut raws);
    }
    raws.sort_by_key(|r| r.first);
    let raws = join_compounds(&toks, raws);
    let raws = join_ranges(&toks, raws);
    let raws = raws
        .into_iter()
        .filter(|r| !masked.iter().any(|m| m.contains(&toks[r.first].start)))
        .collect();
    (toks, raws)
}

fn recognize(sentence: &str, counts_only: bool, notation: Notation) -> Vec<NumberMention> {
    let (toks, raws) = candidates(sentence, counts_only, notation);
    raws.into_iter()
        .filter(|r| !counts_only || excluded(sentence, &toks, r).is_none())
        .map(|r| mention(&toks, r, counts_only))
        .fold(Vec::new(), |mut out: Vec<NumberMention>, m| {
            join_bounds(sentence, &mut out, m);
            out
        })
}

/// A candidate as the mention it is read as: its span, value, qualifier and unit.
fn mention(toks: &[Tok<'_>], r: Raw, counts_only: bool) -> NumberMention {
    let (qualifier, unit) = describe(toks, &r);
    // Counts carry the currency of an amount of money, for a topic's money measure.
    let unit = match counts_only.then(|| currency(toks, &r)).flatten() {
        Some(code) => Some(code.to_string()),
        None => unit,
    };
    let unit = match &r.value {
        FigureValue::Vague { vague } if vague == "percent" => Some("percent".into()),
        _ => unit,
    };
    NumberMention {
        start: toks[r.first].start,
        end: toks[r.last].end,
        value: r.value,
        qualifier,
        unit,
    }
}

/// "More than 100 and fewer than 300": a lower and an upper bound joined are one range.
fn join_bounds(sentence: &str, out: &mut Vec<NumberMention>, m: NumberMention) {
    use Qualifier::*;
    if let Some(a) = out.last_mut() {
        // Either order: "more than 10 and less than 20", "at most 100 and at least 20".
        let lower =
            matches!(a.qualifier, MoreThan | AtLeast) && matches!(m.qualifier, LessThan | AtMost);
        let upper =
            matches!(a.qualifier, LessThan | AtMost) && matches!(m.qualifier, MoreThan | AtLeast);
        // Only "and", "but", a comma and the second bound's own words may stand between:
        // "x>10 and y<20" are two bounds of two things.
        let Some(link) = sentence.get(a.end..m.start).map(str::to_lowercase) else {
            out.push(m);
            return;
        };
        let link_words: Vec<&str> = link
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let linked = (link_words.iter().any(|w| matches!(*w, "and" | "but")) || link.contains(','))
            && link_words.iter().all(|w| {
                matches!(*w, "and" | "but" | "or" | "a")
                    || QUALIFIERS.iter().any(|(phrase, _)| phrase.contains(w))
            });
        if let (FigureValue::Number(x), FigureValue::Number(y), true) = (&a.value, &m.value, linked)
        {
            let (lo, hi) = if upper { (y, x) } else { (x, y) };
            if (lower || upper) && lo < hi && link.len() < 40 && a.unit == m.unit {
                a.value = FigureValue::Range { lo: *lo, hi: *hi };
                a.qualifier = Range;
                a.end = m.end;
                return;
            }
        }
    }
    out.push(m);
}

/// "a small percent", "the % of increase": a percentage named without its number, which
/// recognition reports as a vague "percent".
fn valueless_percentages(toks: &[Tok<'_>], used: &[bool], raws: &mut Vec<Raw>) {
    for (i, t) in toks.iter().enumerate() {
        if !matches!(t.lower.as_ref(), "percent" | "percentage" | "%") || used[i] {
            continue;
        }
        let after_number = i > 0 && (toks[i - 1].kind == Kind::Num || used[i - 1]);
        let of_number = toks.get(i + 1).is_some_and(|t| t.lower == "of")
            && toks
                .get(i + 2)
                .is_some_and(|t| t.kind == Kind::Num || used[i + 2]);
        if after_number || of_number {
            continue;
        }
        raws.push(Raw {
            first: i,
            last: i,
            value: FigureValue::Vague {
                vague: "percent".into(),
            },
            scale: 1.0,
            negative: false,
        });
    }
}

/// "a half", "one quarter", "1/2".
fn fractions(toks: &[Tok<'_>], used: &mut [bool], raws: &mut Vec<Raw>) {
    for i in 0..toks.len() {
        let article = i > 0 && matches!(toks[i - 1].lower.as_ref(), "a" | "one");
        let (first, last, value) = match toks[i].lower.as_ref() {
            // Not "half a dozen" (six, read with the dozen) or "half an hour".
            "half"
                if !toks
                    .get(i + 1)
                    .is_some_and(|t| matches!(t.lower.as_ref(), "a" | "an")) =>
            {
                (if article { i - 1 } else { i }, i, 0.5)
            }
            "quarter" if article => (i - 1, i, 0.25),
            "/" if i > 0 && i + 1 < toks.len() => {
                let (a, b) = (&toks[i - 1], &toks[i + 1]);
                let fused = a.end == toks[i].start && toks[i].end == b.start;
                let date_like = toks.get(i + 2).is_some_and(|t| t.lower == "/")
                    || i >= 2 && toks[i - 2].lower == "/";
                let (Ok(x), Ok(y)) = (a.lower.parse::<f64>(), b.lower.parse::<f64>()) else {
                    continue;
                };
                if a.kind != Kind::Num || b.kind != Kind::Num || !fused || date_like || y == 0.0 {
                    continue;
                }
                (i - 1, i + 1, x / y)
            }
            _ => continue,
        };
        if (first..=last).any(|j| used[j]) {
            continue;
        }
        used[first..=last].iter_mut().for_each(|u| *u = true);
        raws.push(Raw {
            first,
            last,
            value: FigureValue::Number(value),
            scale: 1.0,
            negative: false,
        });
    }
}

/// Byte ranges of the URLs in a text.
fn urls(s: &str) -> Vec<std::ops::Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(?i)\b(?:https?://|www\.)\S+").expect("static regex"));
    re.find_iter(s).map(|m| m.range()).collect()
}

/// "3 hundred and 21", "4 thousand 3 hundred": a number written with a scale followed by a
/// smaller one is one number.
fn join_compounds(toks: &[Tok<'_>], raws: Vec<Raw>) -> Vec<Raw> {
    let mut out: Vec<Raw> = Vec::new();
    for r in raws {
        if let Some(a) = out.last_mut() {
            // Overlapping spans (a sign word claimed twice) never join.
            if r.first <= a.last {
                out.push(r);
                continue;
            }
            let between: Vec<&str> = toks[a.last + 1..r.first]
                .iter()
                .map(|t| t.lower.as_ref())
                .collect();
            if let (FigureValue::Number(x), FigureValue::Number(y)) = (&a.value, &r.value) {
                let joins = matches!(between.as_slice(), [] | ["and"]);
                if joins && a.scale >= 100.0 && *y > 0.0 && *y < a.scale && !r.negative {
                    a.value = FigureValue::Number(x + y);
                    a.last = r.last;
                    a.scale = r.scale;
                    continue;
                }
            }
        }
        out.push(r);
    }
    out
}

fn digit_numbers(
    s: &str,
    toks: &[Tok<'_>],
    notation: Notation,
    used: &mut [bool],
    raws: &mut Vec<Raw>,
) {
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.kind != Kind::Num || used[i] {
            i += 1;
            continue;
        }
        let text = &t.lower;
        let mut value = digit_value(text, notation);
        let mut last = i;
        // "4 000": a space as the thousands separator.
        while let (Some(v), Some(next)) = (value, toks.get(last + 1)) {
            let gap = &s[toks[last].end..next.start];
            let is_group = next.kind == Kind::Num
                && next
                    .lower
                    .split('.')
                    .next()
                    .is_some_and(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
                && next.lower.matches('.').count() <= 1
                && !next.lower.contains(',');
            let thin_space = matches!(gap, " " | "\u{a0}" | "\u{2009}" | "\u{202f}");
            // The first group has one to three digits; each later one exactly three, the
            // last perhaps with decimals ("1 234 567.89").
            let first_ok = last > i || toks[i].lower.len() <= 3;
            if is_group && thin_space && first_ok && v.fract() == 0.0 {
                value = Some(v * 1000.0 + next.lower.parse::<f64>().unwrap_or(0.0));
                last += 1;
            } else {
                break;
            }
        }
        let Some(mut v) = value else {
            i += 1;
            continue;
        };
        let mut scale_used = 1.0;
        if let Some(next) = toks.get(last + 1) {
            let adjacent = next.start == toks[last].end;
            if next.kind == Kind::Word {
                // "1,674.5 G", "10G": an upper-case G or M is a scale; a lower-case m or g
                // fused to the number is a measurement ("180ml", "29km").
                let written = &s[next.start..next.end];
                let upper_scale = match written {
                    "G" => Some(1e9),
                    "M" => Some(1e6),
                    "K" => Some(1e3),
                    _ => None,
                };
                if let Some(m) = upper_scale.or_else(|| scale(&next.lower, adjacent)) {
                    v *= m;
                    scale_used = m;
                    last += 1;
                } else if adjacent {
                    // "3rd" is an ordinal; "180ml", "29km", "3D" are not counts either.
                    for u in used.iter_mut().take(last + 2).skip(i) {
                        *u = true;
                    }
                    i = last + 2;
                    continue;
                }
            }
        }
        for u in used.iter_mut().take(last + 1).skip(i) {
            *u = true;
        }
        // "-9.5", "- 10 k": a minus sign that starts the number, not a hyphen between words
        // or numbers ("3-4", "COVID-19").
        let sign = i.checked_sub(1).map(|j| &toks[j]);
        let before_sign = i.checked_sub(2).map(|j| &toks[j]);
        let negative = sign.is_some_and(|m| matches!(m.lower.as_ref(), "-" | "−"))
            && before_sign.is_none_or(|b| {
                b.kind == Kind::Sym || b.kind == Kind::Word && b.end < toks[i - 1].start
            })
            || sign.is_some_and(|m| matches!(m.lower.as_ref(), "minus" | "negative"));
        // ".08": a decimal written without its leading zero.
        if i > 0
            && toks[i - 1].lower == "."
            && toks[i - 1].end == t.start
            && (i < 2 || toks[i - 2].end < toks[i - 1].start)
            && !text.contains(['.', ','])
        {
            v /= 10f64.powi(text.len() as i32);
        }
        raws.push(Raw {
            first: if negative { i - 1 } else { i },
            last,
            value: FigureValue::Number(if negative { -v } else { v }),
            scale: scale_used,
            negative,
        });
        i = last + 1;
    }
}

fn vague_quantities(toks: &[Tok<'_>], used: &mut [bool], raws: &mut Vec<Raw>) {
    let mut i = 0;
    'outer: while i < toks.len() {
        if used[i] {
            i += 1;
            continue;
        }
        for phrase in VAGUE {
            if words_at(toks, i, phrase) && !(i..i + phrase.len()).any(|j| used[j]) {
                let last = i + phrase.len() - 1;
                // "three dozens" is 36, not a vague quantity: left to the spelled numbers.
                let counted = i > 0 && SMALL_NUMBERS.contains(&toks[i - 1].lower.as_ref());
                if phrase == &["dozens"] && counted {
                    break;
                }
                // "scores of people", not "he scores".
                if phrase == &["scores"] && toks.get(last + 1).is_none_or(|t| t.lower != "of") {
                    break;
                }
                // "several" alone counts only when a noun follows, not "several of them".
                if phrase == &["several"]
                    && toks
                        .get(last + 1)
                        .is_none_or(|t| t.lower == "of" || t.kind != Kind::Word)
                {
                    break;
                }
                for u in used.iter_mut().take(last + 1).skip(i) {
                    *u = true;
                }
                raws.push(Raw {
                    first: i,
                    last,
                    value: FigureValue::Vague {
                        vague: phrase.join(" "),
                    },
                    scale: 1.0,
                    negative: false,
                });
                i = last + 1;
                continue 'outer;
            }
        }
        i += 1;
    }
}

/// Spelled numbers, through text2num; "a dozen" and "N dozen" are handled here too since
/// text2num does not know the word.
fn spelled_numbers(toks: &[Tok<'_>], used: &mut [bool], raws: &mut Vec<Raw>) {
    struct Word<'t> {
        text: &'t str,
        blocked: bool,
    }
    impl text2num::Token for &Word<'_> {
        fn text(&self) -> Cow<'_, str> {
            self.text_lowercase()
        }
        fn text_lowercase(&self) -> Cow<'_, str> {
            // British spellings of zero that text2num does not know.
            match self.text {
                "naught" | "nought" => Cow::Borrowed("zero"),
                t => Cow::Borrowed(t),
            }
        }
        fn not_a_number_part(&self) -> bool {
            self.blocked
        }
    }
    static EN: OnceLock<text2num::Language> = OnceLock::new();
    let en = EN.get_or_init(text2num::Language::english);
    let words: Vec<Word<'_>> = toks
        .iter()
        .zip(used.iter())
        .map(|(t, &u)| Word {
            text: &t.lower,
            blocked: u || t.kind != Kind::Word,
        })
        .collect();
    for occ in text2num::find_numbers(words.iter(), en, 0.0) {
        let (first, mut last) = (occ.start, occ.end.saturating_sub(1));
        if occ.is_ordinal || last < first || (first..=last).any(|j| used[j]) {
            continue;
        }
        let mut value = occ.value;
        // "future ones", "the ones": a pronoun.
        if first == last && toks[first].lower == "ones" {
            continue;
        }
        // "a quarter million", "half a million": a fraction of the scale word.
        let mut first = first;
        if first == last && scale(&toks[first].lower, false).is_some_and(|m| m >= 1e3) {
            let at = |k: usize| first.checked_sub(k).map(|j| toks[j].lower.as_ref());
            if at(1) == Some("quarter") && matches!(at(2), Some("a" | "one")) {
                value *= 0.25;
                first -= 2;
            } else if at(1) == Some("a") && at(2) == Some("half") {
                value *= 0.5;
                first -= 2;
            } else if at(1) == Some("half") {
                value *= 0.5;
                first -= 1;
            }
            if (first..=last).any(|j| used[j]) {
                continue;
            }
        }
        // "one of the two" / "one of them": a part of a group, not a count of its own; "no
        // one", "the one", "every one": a pronoun.
        let before = first.checked_sub(1).map(|j| toks[j].lower.as_ref());
        let pronoun = matches!(
            before,
            Some("no" | "any" | "every" | "each" | "the" | "this" | "that" | "which")
        );
        if value == 1.0
            && first == last
            && (pronoun || toks.get(last + 1).is_some_and(|t| t.lower == "of"))
        {
            continue;
        }
        // "three dozens", "twenty-one trillion": a scale text2num leaves to us.
        let mut scale_used = 1.0;
        if let Some(m) = toks
            .get(last + 1)
            .filter(|_| !used.get(last + 1).copied().unwrap_or(true))
            .and_then(|t| scale(&t.lower, false))
        {
            value *= m;
            scale_used = m;
            last += 1;
        }
        for u in used.iter_mut().take(last + 1).skip(first) {
            *u = true;
        }
        // "minus five", "negative ten".
        let negative = first > 0 && matches!(toks[first - 1].lower.as_ref(), "minus" | "negative");
        raws.push(Raw {
            first: if negative { first - 1 } else { first },
            last,
            value: FigureValue::Number(if negative { -value } else { value }),
            scale: scale_used,
            negative,
        });
    }
    for i in 0..toks.len() {
        if toks[i].lower == "dozen"
            && !used[i]
            && i > 0
            && matches!(toks[i - 1].lower.as_ref(), "a" | "one")
        {
            used[i] = true;
            // "half a dozen"
            let half = i >= 2 && toks[i - 2].lower == "half";
            raws.push(Raw {
                first: if half { i - 2 } else { i },
                last: i,
                value: FigureValue::Number(if half { 6.0 } else { 12.0 }),
                scale: 1.0,
                negative: false,
            });
        }
    }
}

/// Joins "3,000-4,000", "3,000 to 4,000", "between 10,000 and 12,000", "from X to Y".
fn join_ranges(toks: &[Tok<'_>], raws: Vec<Raw>) -> Vec<Raw> {
    let mut out: Vec<Raw> = Vec::new();
    let mut iter = raws.into_iter().peekable();
    while let Some(a) = iter.next() {
        let (FigureValue::Number(lo), Some(b)) = (&a.value, iter.peek()) else {
            out.push(a);
            continue;
        };
        let FigureValue::Number(hi) = b.value else {
            out.push(a);
            continue;
        };
        if b.first <= a.last {
            out.push(a);
            continue;
        }
        let between: Vec<&str> = toks[a.last + 1..b.first]
            .iter()
            .map(|t| t.lower.as_ref())
            .collect();
        let before = a.first.checked_sub(1).map(|j| toks[j].lower.as_ref());
        let joined = match between.as_slice() {
            ["-"] | ["–"] | ["—"] => true,
            // "rose by 36 to 259" is a change and the level it led to, not a range.
            ["to"] => before != Some("by"),
            ["and"] => before == Some("between"),
            ["through" | "thru" | "~"] => true,
            _ => false,
        };
        // "3-4 million": the scale written once applies to both ends.
        let lo = if a.scale == 1.0 && b.scale > 1.0 && lo * b.scale <= hi {
            lo * b.scale
        } else {
            *lo
        };
        if joined && lo < hi {
            let b = iter.next().expect("peeked");
            out.push(Raw {
                first: a.first,
                last: b.last,
                value: FigureValue::Range { lo, hi },
                scale: 1.0,
                negative: false,
            });
        } else {
            out.push(a);
        }
    }
    out
}

#[cfg(test)]
mod tests;

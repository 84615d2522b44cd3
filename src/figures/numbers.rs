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

/// A number found in a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberMention {
    /// Byte range in the sentence, qualifier words excluded.
    pub start: usize,
    pub end: usize,
    pub value: FigureValue,
    pub qualifier: Qualifier,
    /// `percent`, or a unit of measurement ("acres", "mph") that follows the number.
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Num,
    Word,
    Sym,
}

#[derive(Debug, Clone)]
struct Tok<'a> {
    kind: Kind,
    start: usize,
    end: usize,
    lower: Cow<'a, str>,
}

/// Which mark a text writes decimals with: "1.5" and "4,000" in English, "1,5" and "4.000"
/// in German, French, Spanish, Russian and most other European languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Notation {
    #[default]
    DecimalPoint,
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

fn tokenize(s: &str, notation: Notation) -> Vec<Tok<'_>> {
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
fn digit_value(text: &str, notation: Notation) -> Option<f64> {
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

fn is_dotted_word(w: &str) -> bool {
    let lw = w.to_lowercase();
    matches!(lw.as_str(), "a.m." | "p.m." | "no." | "u.s." | "u.k.")
}

/// A scale word after a number ("1.5 million"); `adjacent` ones only when written without
/// a space ("12k", "$2bn").
fn scale(word: &str, adjacent: bool) -> Option<f64> {
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

const VAGUE: &[&[&str]] = &[
    &["hundreds", "of", "thousands"],
    &["tens", "of", "thousands"],
    &["several", "hundred"],
    &["several", "thousand"],
    &["dozens"],
    &["hundreds"],
    &["thousands"],
    &["millions"],
    &["billions"],
    &["trillions"],
    &["scores"],
    &["several"],
];

/// Words after a number that make it a duration, not a count.
const DURATIONS: &[&str] = &[
    "second",
    "seconds",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "decade",
    "decades",
    "century",
    "centuries",
    "night",
    "nights",
];

const TIME_MARKS: &[&str] = &[
    "a.m.", "p.m.", "am", "pm", "gmt", "utc", "bst", "cet", "et", "pt", "o'clock",
];

/// Words before a number that make it a label or an identifier, not a count.
const LABELS: &[&str] = &[
    "resolution",
    "section",
    "article",
    "chapter",
    "no.",
    "number",
    "route",
    "highway",
    "flight",
    "page",
    "room",
    "paragraph",
    "clause",
    "item",
    "bill",
    "interstate",
    "unit",
    "district",
    "ward",
    "precinct",
    "lot",
    "gate",
    "platform",
    "level",
    "grade",
    "class",
    "season",
    "episode",
    "amendment",
    "proposition",
    "prop",
    "code",
    "tier",
    "phase",
    "stage",
    "category",
    "version",
    "model",
    "channel",
    "apartment",
    "suite",
    "box",
    "pier",
    "terminal",
    "exit",
    "mile",
    "kilometre",
    "kilometer",
    "km",
    "block",
    "building",
    "road",
    "street",
    "avenue",
    "year",
];

const STREETS: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "lane",
];

const AGE_WORDS: &[&str] = &["aged", "age", "ages"];

/// People an age may follow, set off by commas ("a male juvenile, 16, was …").
const PERSONS: &[&str] = &[
    "juvenile", "man", "woman", "boy", "girl", "teen", "teenager", "youth", "male", "female",
    "resident", "driver", "suspect", "victim",
];

/// Units of measurement: a number before one of these measures something, it does not count
/// people or things (unless a topic's own measure is that unit, like "acres").
const UNITS: &[&[&str]] = &[
    &["square", "miles"],
    &["square", "kilometers"],
    &["square", "kilometres"],
    &["mph"],
    &["km/h"],
    &["kph"],
    &["km"],
    &["kilometers"],
    &["kilometres"],
    &["miles"],
    &["mile"],
    &["meters"],
    &["metres"],
    &["meter"],
    &["metre"],
    &["feet"],
    &["foot"],
    &["ft"],
    &["kg"],
    &["kilograms"],
    &["tons"],
    &["tonnes"],
    &["degrees"],
    &["inches"],
    &["inch"],
    &["cm"],
    &["mm"],
    &["acres"],
    &["acre"],
    &["hectares"],
    &["hectare"],
    &["gallons"],
    &["litres"],
    &["liters"],
    &["barrels"],
    &["mw"],
    &["gw"],
    &["kwh"],
    &["celsius"],
    &["fahrenheit"],
];

const QUALIFIERS: &[(&[&str], Qualifier)] = &[
    // Comparisons with "or equal", longest first, before the words inside them.
    (
        &["greater", "than", "or", "equal", "to"],
        Qualifier::AtLeast,
    ),
    (&["more", "than", "or", "equal", "to"], Qualifier::AtLeast),
    (&["equal", "to", "or", "more", "than"], Qualifier::AtLeast),
    (
        &["equal", "to", "or", "greater", "than"],
        Qualifier::AtLeast,
    ),
    (&["at", "least", "or", "equal", "to"], Qualifier::AtLeast),
    (&["higher", "or", "equal", "than"], Qualifier::AtLeast),
    (&["bigger", "or", "equal", "than"], Qualifier::AtLeast),
    (&["larger", "or", "equal", "than"], Qualifier::AtLeast),
    (&["greater", "or", "equal", "than"], Qualifier::AtLeast),
    (&["less", "than", "or", "equal", "to"], Qualifier::AtMost),
    (&["equal", "to", "or", "less", "than"], Qualifier::AtMost),
    (&["equal", "to", "or", "fewer", "than"], Qualifier::AtMost),
    (&["smaller", "or", "equal", "than"], Qualifier::AtMost),
    (&["less", "or", "equal", "than"], Qualifier::AtMost),
    (&["lower", "or", "equal", "than"], Qualifier::AtMost),
    (&[">", "="], Qualifier::AtLeast),
    (&["<", "="], Qualifier::AtMost),
    (&["≥"], Qualifier::AtLeast),
    (&["≤"], Qualifier::AtMost),
    (&["greater", "than"], Qualifier::MoreThan),
    (&["larger", "than"], Qualifier::MoreThan),
    (&["bigger", "than"], Qualifier::MoreThan),
    (&["higher", "than"], Qualifier::MoreThan),
    (&["smaller", "than"], Qualifier::LessThan),
    (&["lower", "than"], Qualifier::LessThan),
    (&["exceed"], Qualifier::MoreThan),
    (&["exceeds"], Qualifier::MoreThan),
    (&["surpass"], Qualifier::MoreThan),
    (&["surpasses"], Qualifier::MoreThan),
    (&[">"], Qualifier::MoreThan),
    (&["<"], Qualifier::LessThan),
    (&["as", "many", "as"], Qualifier::AtMost),
    (&["as", "much", "as"], Qualifier::AtMost),
    (&["up", "to"], Qualifier::AtMost),
    (&["no", "more", "than"], Qualifier::AtMost),
    (&["a", "maximum", "of"], Qualifier::AtMost),
    (&["at", "most"], Qualifier::AtMost),
    (&["at", "least"], Qualifier::AtLeast),
    (&["a", "minimum", "of"], Qualifier::AtLeast),
    (&["no", "fewer", "than"], Qualifier::AtLeast),
    (&["no", "less", "than"], Qualifier::AtLeast),
    (&["more", "than"], Qualifier::MoreThan),
    (&["over"], Qualifier::MoreThan),
    (&["above"], Qualifier::MoreThan),
    (&["upwards", "of"], Qualifier::MoreThan),
    (&["in", "excess", "of"], Qualifier::MoreThan),
    (&["exceeding"], Qualifier::MoreThan),
    // A threshold crossed: "has passed 20,000", "topped 1,000".
    (&["passed"], Qualifier::MoreThan),
    (&["surpassed"], Qualifier::MoreThan),
    (&["exceeded"], Qualifier::MoreThan),
    (&["topped"], Qualifier::MoreThan),
    (&["fewer", "than"], Qualifier::LessThan),
    (&["less", "than"], Qualifier::LessThan),
    (&["under"], Qualifier::LessThan),
    (&["below"], Qualifier::LessThan),
    (&["an", "estimated"], Qualifier::Approx),
    (&["estimated"], Qualifier::Approx),
    (&["about"], Qualifier::Approx),
    (&["around"], Qualifier::Approx),
    (&["nearly"], Qualifier::Approx),
    (&["almost"], Qualifier::Approx),
    (&["roughly"], Qualifier::Approx),
    (&["approximately"], Qualifier::Approx),
    (&["some"], Qualifier::Approx),
    (&["close", "to"], Qualifier::Approx),
    (&["circa"], Qualifier::Approx),
    (&["approx"], Qualifier::Approx),
];

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

/// Number words that may multiply "dozens".
const SMALL_NUMBERS: &[&str] = &[
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
];

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

/// The ISO code of the currency an amount is written in: "$2bn", "€3-4 billion", "15 million
/// euros", "billions of dollars".
fn currency(toks: &[Tok<'_>], r: &Raw) -> Option<&'static str> {
    let prev = r.first.checked_sub(1).map(|j| toks[j].lower.as_ref());
    let next = |k: usize| toks.get(r.last + k).map(|t| t.lower.as_ref());
    let symbol = match prev {
        Some("$" | "us$") => Some("USD"),
        Some("£") => Some("GBP"),
        Some("€") => Some("EUR"),
        Some("¥") => Some("JPY"),
        _ => None,
    };
    let word = |w: Option<&str>| -> Option<&'static str> {
        Some(match w? {
            "dollars" | "dollar" | "usd" => "USD",
            "euros" | "euro" | "eur" => "EUR",
            "pounds" | "sterling" | "gbp" => "GBP",
            "yen" => "JPY",
            "yuan" => "CNY",
            "rubles" | "roubles" => "RUB",
            "hryvnias" | "hryvnia" => "UAH",
            "rupees" => "INR",
            "won" => "KRW",
            "francs" => "CHF",
            _ => return None,
        })
    };
    let vague_of = matches!(r.value, FigureValue::Vague { .. }) && next(1) == Some("of");
    symbol
        .or_else(|| word(next(1)))
        .or_else(|| vague_of.then(|| word(next(2))).flatten())
}

/// True for a unit that is a currency's ISO code (a money amount).
pub fn is_currency(unit: &str) -> bool {
    unit.len() == 3 && unit.bytes().all(|b| b.is_ascii_uppercase())
}

/// Words for a part of a whole: "half of the 30 hospitals".
const PARTS: &[&str] = &[
    "one", "half", "most", "some", "many", "none", "each", "several", "few", "majority",
    "minority", "third", "thirds", "quarter", "quarters", "fraction", "portion", "share",
    "percent", "%", "either", "neither", "any", "bulk", "rest",
];

/// Why a number is not a count, when it is not: a year, a date, a time, an age…
fn excluded(sentence: &str, toks: &[Tok<'_>], r: &Raw) -> Option<&'static str> {
    let prev = |k: usize| {
        r.first
            .checked_sub(k)
            .map(|j| toks[j].lower.as_ref())
            .unwrap_or("")
    };
    let next = |k: usize| toks.get(r.last + k).map(|t| t.lower.as_ref()).unwrap_or("");
    let first = &toks[r.first];
    // A year: four plain digits in the span years are written in.
    if let FigureValue::Number(v) = r.value {
        let plain = first.kind == Kind::Num
            && r.first == r.last
            && first.lower.len() == 4
            && !first.lower.contains([',', '.']);
        if plain && (1800.0..=2100.0).contains(&v) {
            return Some("a year");
        }
    }
    // Dates: "January 5", "Jan. 5", "5 January", "5 Jan". Only a number that can be a day:
    // "10,000 may have died" is not a date.
    let day = first.kind == Kind::Num
        && r.first == r.last
        && matches!(r.value, FigureValue::Number(v) if v.fract() == 0.0 && (1.0..=31.0).contains(&v));
    let month_near = MONTHS.contains(&prev(1))
        || MONTHS.contains(&next(1))
        || (prev(1) == "." && MONTHS.contains(&prev(2)));
    if day && month_near {
        return Some("a date");
    }
    // Times: "6 a.m.", "9:30", "14.00 GMT".
    if TIME_MARKS.contains(&next(1))
        || next(1) == ":" && toks.get(r.last + 2).is_some_and(|t| t.kind == Kind::Num)
        || prev(1) == ":" && r.first >= 2 && toks[r.first - 2].kind == Kind::Num
    {
        return Some("a time of day");
    }
    // Durations and ages: "two weeks", "30 years", "25-year-old", "aged 25", and "3 or 4
    // weeks", "2 to 3 days" (the first number of a span of time).
    let next_word = if next(1) == "-" { next(2) } else { next(1) };
    let span_of_time = matches!(next(1), "or" | "to" | "-" | "and")
        && toks.get(r.last + 2).is_some_and(|t| t.kind == Kind::Num)
        && DURATIONS.contains(&next(3));
    if DURATIONS.contains(&next_word)
        || span_of_time
        || next_word.contains("year-old")
        || next_word.contains("years-old")
        || next_word.contains("month-old")
        || AGE_WORDS.contains(&prev(1))
    {
        return Some("a duration or an age");
    }
    // An age set off by commas after a name or a person: "Hayley Hull, 30, Bulpitt, was
    // arrested", "a male juvenile, 16, was …".
    let small_whole = matches!(r.value, FigureValue::Number(v) if v.fract() == 0.0 && (1.0..=110.0).contains(&v))
        && first.kind == Kind::Num
        && r.first == r.last;
    let after_person = r.first >= 2 && {
        let who = &toks[r.first - 2];
        let written = &sentence[who.start..who.end];
        who.kind == Kind::Word
            && (written.starts_with(|c: char| c.is_uppercase())
                || PERSONS.contains(&who.lower.as_ref()))
    };
    if small_whole && prev(1) == "," && next(1) == "," && after_person {
        return Some("an age");
    }
    // The whole a part is taken from: "half of the 30 hospitals have closed" counts closed
    // hospitals with "half", not with 30; "one of the two senators".
    if prev(1) == "the" && prev(2) == "of" && PARTS.contains(&prev(3)) {
        return Some("the whole a part is taken from (\"half of the 30 hospitals\")");
    }
    // A part of a group named before, not a count of its own: "the other three", "the first
    // two states", "the top 10".
    if prev(2) == "the" && matches!(prev(1), "other" | "first" | "last" | "top" | "next") {
        return Some("a part of a group named before, not a count of its own");
    }
    // Rates: the denominator of "per 100,000" is not a count. (The rate itself stays: a topic
    // may have a measure for it; see `measures`.)
    if prev(1) == "per" {
        return Some("the base of a rate (\"per 100,000\")");
    }
    // Digits glued to a word are part of a name or a mark, not a count: "CO2", "A350",
    // "G7", and a footnote after a full stop ("… Starting Line.2 Warren has …").
    if r.first > 0 && first.kind == Kind::Num {
        let before = &toks[r.first - 1];
        let glued = before.kind == Kind::Word
            && (before.end == first.start
                || (before.end + 1 == first.start && sentence[before.end..first.start] == *"."));
        if glued {
            return Some("part of a name (\"CO2\", \"A350\") or a footnote mark");
        }
    }
    // Money ("$2bn", "£500", "2 million dollars") is kept with its currency as the unit (see
    // `currency`): only a topic's own money measure counts it.
    // Labels and identifiers: "Resolution 2334", "No. 3", "#4".
    if LABELS.contains(&prev(1)) || prev(1) == "#" || (prev(1) == "." && prev(2) == "no") {
        return Some("a label or number of something (\"Resolution 2334\", \"No. 3\")");
    }
    // Addresses: "10 Downing Street", "1600 Pennsylvania Avenue".
    let street = |w: &str| STREETS.contains(&w);
    if street(next(1))
        || street(next(2)) && toks.get(r.last + 1).is_some_and(|t| t.kind == Kind::Word)
    {
        return Some("part of an address");
    }
    // Numbers glued to letters or other numbers in ways counts never are: "F-16", "COVID-19".
    if r.first > 0
        && toks[r.first - 1].lower == "-"
        && r.first >= 2
        && toks[r.first - 2].end == toks[r.first - 1].start
        && toks[r.first - 2].kind == Kind::Word
        && toks[r.first - 1].end == first.start
    {
        return Some("part of a name (\"F-16\", \"COVID-19\")");
    }
    None
}

/// The qualifier in front of (or "or more" after) a number, and its unit.
fn describe(toks: &[Tok<'_>], r: &Raw) -> (Qualifier, Option<String>) {
    let unit = unit_after(toks, r.last + 1);
    let qualifier = match &r.value {
        FigureValue::Range { .. } => Qualifier::Range,
        FigureValue::Vague { .. } => Qualifier::Vague,
        FigureValue::Number(_) => {
            // "30 or more", "30 people or more", "500 or less", "more than 5000 or equal".
            // "or less than 6000" and "or equal to 6000" belong to the next number.
            let after = |words: &[&[&str]]| {
                (1..=2).any(|k| {
                    words.iter().any(|w| {
                        let next = (r.last + k + w.len()).min(toks.len());
                        words_at(toks, r.last + k, w)
                            && !toks[next..].iter().take(3).any(|t| t.kind == Kind::Num)
                    })
                })
            };
            let or_more = after(&[
                &["or", "more"],
                &["or", "over"],
                &["and", "more"],
                &["or", "greater"],
            ]);
            let or_less = after(&[&["or", "less"], &["or", "fewer"], &["or", "below"]]);
            let or_equal = after(&[&["or", "equal"]]);
            // "fewer than a thousand", "nearly a million": the article is no barrier.
            let start = if r.first > 0 && toks[r.first - 1].lower == "a" {
                r.first - 1
            } else {
                r.first
            };
            let before = QUALIFIERS
                .iter()
                .find(|(phrase, _)| {
                    start >= phrase.len() && words_at(toks, start - phrase.len(), phrase)
                })
                .map(|(_, q)| *q);
            match before {
                Some(Qualifier::MoreThan) if or_equal => Qualifier::AtLeast,
                Some(Qualifier::LessThan) if or_equal => Qualifier::AtMost,
                // "about 500 or more": the bound says more than the hedge.
                None | Some(Qualifier::Approx) if or_more => Qualifier::AtLeast,
                None | Some(Qualifier::Approx) if or_less => Qualifier::AtMost,
                Some(q) => q,
                None => Qualifier::Exact,
            }
        }
    };
    (qualifier, unit)
}

fn unit_after(toks: &[Tok<'_>], at: usize) -> Option<String> {
    // "percent of 10", "per cent of twenty-two": the unit written before the number.
    let before = |k: usize| at.checked_sub(k).map(|j| toks[j].lower.as_ref());
    if before(2) == Some("of")
        && (matches!(before(3), Some("percent" | "percents"))
            || before(3) == Some("cent") && before(4) == Some("per"))
    {
        return Some("percent".into());
    }
    let t = toks.get(at)?;
    if matches!(
        t.lower.as_ref(),
        "%" | "percent" | "percents" | "percentage" | "pct"
    ) || words_at(toks, at, &["per", "cent"])
    {
        return Some("percent".into());
    }
    let at = if t.lower == "-" { at + 1 } else { at };
    UNITS
        .iter()
        .find(|u| words_at(toks, at, u))
        .map(|u| u.join(" "))
}

fn words_at(toks: &[Tok<'_>], at: usize, words: &[&str]) -> bool {
    words
        .iter()
        .enumerate()
        .all(|(k, w)| toks.get(at + k).is_some_and(|t| t.lower == *w))
}

/// Byte ranges of phone numbers ("(555) 123-4567", "555-123-4567"), whose parts must not be
/// read as counts or ranges.
fn phone_numbers(s: &str) -> Vec<std::ops::Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{3})[ .-]\d{3}[ .-]\d{4}\b|\b\d{3}-\d{4}\b|\+\d{1,3}(?:[ ./-]\d{2,5}){2,}",
        )
        .expect("static regex")
    });
    re.find_iter(s).map(|m| m.range()).collect()
}

#[cfg(test)]
mod tests;

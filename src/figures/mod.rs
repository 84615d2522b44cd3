//! Figures: the numbers a tracked topic reports ("4,000 North Korean troops killed or
//! wounded"), found sentence by sentence and compared across versions.
//!
//! The path through this module: split the text into sentences, keep the sentences that are
//! about a topic, find the numbers in them, drop the ones that are not counts (years, dates,
//! times, ages, ordinals, money, measurements), and name what each remaining number counts
//! from the words of its clause. A number whose measure cannot be named is not reported: an
//! alert about "10,000 residents" would teach the user to ignore alerts.

mod claims;
mod compare;
mod measures;
mod numbers;
mod rivals;
mod scope;
mod sentences;
mod topics;
mod vocabulary;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::Topic;

pub use compare::{compare, FigureChange};
pub use numbers::{find_numbers, find_numbers_in, recognize_numbers, Notation, NumberMention};
pub use sentences::split_sentences;
pub use topics::TopicMatcher;
pub use vocabulary::built_in_names;

/// A figure's value as written: one number, a range, or a vague quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FigureValue {
    /// One number.
    Number(#[serde(serialize_with = "whole_as_integer")] f64),
    /// A range ("3,000 to 4,000").
    Range {
        /// Its low end.
        #[serde(serialize_with = "whole_as_integer")]
        lo: f64,
        /// Its high end.
        #[serde(serialize_with = "whole_as_integer")]
        hi: f64,
    },
    /// A vague quantity ("hundreds", "tens of thousands").
    Vague {
        /// The words.
        vague: String,
    },
}

impl FigureValue {
    /// The single number, when there is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            FigureValue::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Equality of what the figure says: numbers within rounding noise ("1.1 million" against
    /// 1,100,000), vague words whatever their inflection ("thousand" / "thousands").
    pub fn same_as(&self, other: &FigureValue) -> bool {
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
        match (self, other) {
            (FigureValue::Number(a), FigureValue::Number(b)) => close(*a, *b),
            (FigureValue::Range { lo: a, hi: b }, FigureValue::Range { lo: c, hi: d }) => {
                close(*a, *c) && close(*b, *d)
            }
            (FigureValue::Vague { vague: a }, FigureValue::Vague { vague: b }) => {
                a.trim_end_matches('s') == b.trim_end_matches('s')
            }
            _ => false,
        }
    }
}

impl fmt::Display for FigureValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FigureValue::Number(n) => f.write_str(&format_number(*n)),
            FigureValue::Range { lo, hi } => {
                write!(f, "{}–{}", format_number(*lo), format_number(*hi))
            }
            FigureValue::Vague { vague } => f.write_str(vague),
        }
    }
}

/// Writes 4000.0 as `4000` in JSON, as people and the labelled data write it.
pub fn whole_as_integer<S: serde::Serializer>(n: &f64, s: S) -> Result<S::Ok, S::Error> {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        s.serialize_i64(*n as i64)
    } else {
        s.serialize_f64(*n)
    }
}

/// 4000 → "4,000"; 1.5 → "1.5".
pub fn format_number(n: f64) -> String {
    if n.fract() != 0.0 || n.abs() >= 1e15 {
        return format!("{n}");
    }
    let digits = format!("{}", n.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// How a figure is hedged in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualifier {
    /// As written: no qualifier.
    Exact,
    /// "about", "some", "nearly".
    Approx,
    /// "at least".
    AtLeast,
    /// "more than".
    MoreThan,
    /// "at most", "up to".
    AtMost,
    /// "less than", "fewer than".
    LessThan,
    /// "between … and …".
    Range,
    /// A vague quantity.
    Vague,
}

impl Qualifier {
    /// The qualifier as figures and alerts write it (`approx`, `at_least`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Qualifier::Exact => "exact",
            Qualifier::Approx => "approx",
            Qualifier::AtLeast => "at_least",
            Qualifier::MoreThan => "more_than",
            Qualifier::AtMost => "at_most",
            Qualifier::LessThan => "less_than",
            Qualifier::Range => "range",
            Qualifier::Vague => "vague",
        }
    }
}

/// One figure of one topic in one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The topic's id.
    pub topic: String,
    /// What it counts.
    pub measure: String,
    /// Its value.
    pub value: FigureValue,
    /// How the text qualifies the value.
    pub qualifier: Qualifier,
    /// `percent`, a unit of measurement, or a currency's ISO code.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit: Option<String>,
    /// The sentence it stands in.
    pub quote: String,
    /// Who the sentence says reports it ("Zelensky", "according to KCNA" → "KCNA").
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub claimant: Option<String>,
    /// Said as a possibility ("may send up to 3,000"), not as a report.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub speculative: bool,
    /// What the figure covers when its sentence says so: a period ("since 2022",
    /// "2010–2020"), a place ("in Europe"), "new" for a count of new cases. Two values of one
    /// measure are one claim changing only when their scopes agree.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub scope: String,
    /// The sentence's position in the text, for aligning versions.
    pub sentence: usize,
}

impl Figure {
    /// The figure in the schema of the labelled data (FORMAT.md): `value` for one number, `lo`
    /// and `hi` for a range, `vague` for a vague quantity, plus the quote and claimant.
    pub fn record(&self) -> FigureRecord<'_> {
        let (value, lo, hi, vague) = match &self.value {
            FigureValue::Number(n) => (Some(*n), None, None, None),
            FigureValue::Range { lo, hi } => (None, Some(*lo), Some(*hi), None),
            FigureValue::Vague { vague } => (None, None, None, Some(vague.as_str())),
        };
        FigureRecord {
            topic: &self.topic,
            value,
            lo,
            hi,
            vague,
            qualifier: self.qualifier.as_str(),
            measure: &self.measure,
            unit: self.unit.as_deref(),
            quote: &self.quote,
            claimant: self.claimant.as_deref(),
            speculative: self.speculative,
            scope: &self.scope,
        }
    }
}

/// A figure as `figwatch figures --jsonl` writes it.
#[derive(Debug, Serialize)]
pub struct FigureRecord<'a> {
    /// The topic's id.
    pub topic: &'a str,
    /// The value, when it is one number.
    #[serde(serialize_with = "optional_whole_as_integer")]
    pub value: Option<f64>,
    #[serde(
        serialize_with = "optional_whole_as_integer",
        skip_serializing_if = "Option::is_none"
    )]
    /// A range's low end.
    pub lo: Option<f64>,
    #[serde(
        serialize_with = "optional_whole_as_integer",
        skip_serializing_if = "Option::is_none"
    )]
    /// A range's high end.
    pub hi: Option<f64>,
    /// A vague quantity's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vague: Option<&'a str>,
    /// The qualifier, as written in the labelled data.
    pub qualifier: &'static str,
    /// What it counts.
    pub measure: &'a str,
    /// Its unit, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'a str>,
    /// The sentence it was read in.
    pub quote: &'a str,
    /// Who the sentence says it is from.
    pub claimant: Option<&'a str>,
    /// Said as possible, not as fact ("could have killed").
    pub speculative: bool,
    /// What the value covers, empty for the whole topic.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub scope: &'a str,
}

/// `Some(4000.0)` as `4000`, `None` as null.
pub fn optional_whole_as_integer<S: serde::Serializer>(
    n: &Option<f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match n {
        Some(n) => whole_as_integer(n, s),
        None => s.serialize_none(),
    }
}

/// Finds the figures of every configured topic in a text. Built once per configuration; the
/// topic automaton is the costly part.
pub struct FigureExtractor {
    topics: TopicMatcher,
    measures: measures::MeasureFinder,
    rivals: rivals::Rivals,
}

impl FigureExtractor {
    /// An extractor for `topics`.
    pub fn new(topics: &[Topic]) -> FigureExtractor {
        FigureExtractor {
            topics: TopicMatcher::new(topics),
            measures: measures::MeasureFinder::new(topics),
            rivals: rivals::Rivals::new(topics),
        }
    }

    /// All figures in a text, in reading order, each (topic, measure, value) once per sentence.
    pub fn extract(&self, text: &str) -> Vec<Figure> {
        self.extract_in(text, Notation::DecimalPoint)
    }

    /// `extract` for a text in a language (`de`, `en-GB`…): "4.000" is 4,000 in German.
    pub fn extract_lang(&self, text: &str, lang: Option<&str>) -> Vec<Figure> {
        self.extract_in(text, Notation::of_language(lang))
    }

    fn extract_in(&self, text: &str, notation: Notation) -> Vec<Figure> {
        let mut figures: Vec<Figure> = Vec::new();
        // The claimant is the sentence's, read once per topic for all of its figures.
        let mut claimant: Option<(usize, &str, Option<String>)> = None;
        for r in self.readings(text, notation) {
            let Some(measure) = r.measure.clone() else {
                continue;
            };
            let scope = self.scope(&r);
            if claimant
                .as_ref()
                .is_none_or(|(i, topic, _)| *i != r.index || *topic != r.topic)
            {
                let own = |w: &str| self.rivals.own_word(r.topic, w);
                claimant = Some((r.index, r.topic, claims::claimant_for(r.sentence, own)));
            }
            let figure = Figure {
                topic: r.topic.to_string(),
                measure,
                value: r.number.value,
                qualifier: r.number.qualifier,
                unit: r.number.unit,
                quote: r.sentence.to_string(),
                claimant: claimant.as_ref().and_then(|(_, _, c)| c.clone()),
                speculative: claims::speculative(r.sentence, r.number.start, r.number.end),
                scope,
                sentence: r.index,
            };
            let repeated = figures.iter().any(|f| {
                f.sentence == r.index
                    && f.topic == figure.topic
                    && f.measure == figure.measure
                    && f.value.same_as(&figure.value)
            });
            if !repeated {
                figures.push(figure);
            }
        }
        figures
    }

    /// The numbers in a text's topic sentences that are not reported as figures, each with
    /// why: what a person tuning a topic wants to see.
    pub fn passed_over<'t>(&'t self, text: &'t str) -> Vec<PassedOver<'t>> {
        let notation = Notation::DecimalPoint;
        let mut out = Vec::new();
        for (index, sentence, topics) in self.topic_sentences(text) {
            let not_counts = numbers::passed_over_in(sentence, notation);
            let numbers = find_numbers_in(sentence, notation);
            let periods = scope::periods(sentence);
            for topic in topics {
                for (number, why) in &not_counts {
                    out.push(PassedOver {
                        index,
                        sentence,
                        topic,
                        number: number.clone(),
                        why: (*why).to_string(),
                    });
                }
                let measures = self.measures.measures_of(sentence, topic, &numbers);
                for (number, measure) in numbers.iter().zip(measures) {
                    let another = self.about_another(sentence, topic, number, &periods);
                    let why = match measure {
                        Some(_) if !another => continue,
                        Some(_) => {
                            "about another party, place, event or time named beside it".into()
                        }
                        None => unmeasured_why(sentence, number),
                    };
                    out.push(PassedOver {
                        index,
                        sentence,
                        topic,
                        number: number.clone(),
                        why,
                    });
                }
            }
        }
        out.sort_by_key(|p| (p.index, p.number.start));
        out
    }

    /// What a reading's figure covers: its sentence's period, place and kind, with the country
    /// its clause names before it as the place when no "in …" says one.
    fn scope(&self, r: &Reading<'_>) -> String {
        let own = |w: &str| self.rivals.own_word(r.topic, w);
        let subject = self
            .rivals
            .place_before(r.sentence, r.topic, r.number.start);
        scope::scope(r.sentence, r.number.start, r.number.end, own, subject)
    }

    /// The number counts another party, place or event than the topic, or a time long past.
    /// `periods` are the sentence's, read once for all of its numbers.
    fn about_another(
        &self,
        sentence: &str,
        topic: &str,
        number: &NumberMention,
        periods: &[scope::Period],
    ) -> bool {
        self.rivals
            .about_another(sentence, topic, number.start, number.end)
            || scope::historical(periods, number.start, number.end)
    }

    /// The sentences of a text that are about a topic, with their position and topics.
    fn topic_sentences<'t>(
        &'t self,
        text: &'t str,
    ) -> impl Iterator<Item = (usize, &'t str, Vec<&'t str>)> + 't {
        split_sentences(text)
            .into_iter()
            .enumerate()
            // A "sentence" longer than any prose sentence is a table, a list or markup run
            // together; reading it word by word around each of its numbers would cost time
            // quadratic in its length for no figure a reader would stand behind.
            .filter(|(_, sentence)| sentence.len() <= MAX_SENTENCE_BYTES)
            .filter_map(|(index, sentence)| {
                let topics = self.topics.topics_in(sentence);
                (!topics.is_empty()).then_some((index, sentence, topics))
            })
    }

    /// Every number of every sentence that is about a topic, with its measure for that topic.
    fn readings<'t>(&'t self, text: &'t str, notation: Notation) -> Vec<Reading<'t>> {
        let mut out = Vec::new();
        for (index, sentence, topics) in self.topic_sentences(text) {
            let numbers = find_numbers_in(sentence, notation);
            let periods = if numbers.is_empty() {
                Vec::new()
            } else {
                scope::periods(sentence)
            };
            for topic in topics {
                let measures = self.measures.measures_of(sentence, topic, &numbers);
                for (number, measure) in numbers.iter().zip(measures) {
                    let about_another = self.about_another(sentence, topic, number, &periods);
                    out.push(Reading {
                        index,
                        sentence,
                        topic,
                        number: number.clone(),
                        measure: measure.filter(|_| !about_another),
                        about_another,
                    });
                }
            }
        }
        out
    }
}

/// Why a number of a topic sentence took no measure.
fn unmeasured_why(sentence: &str, number: &NumberMention) -> String {
    if let Some(unit) = number.unit.as_deref().filter(|u| numbers::is_currency(u)) {
        return format!(
            "an amount of money ({unit}), and no measure of the topic has money = true"
        );
    }
    let after = sentence[number.end..].to_lowercase();
    let words: Vec<&str> = after
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .take(5)
        .collect();
    let quoted = [
        "officials",
        "sources",
        "people",
        "diplomats",
        "analysts",
        "experts",
        "witnesses",
    ];
    let says = ["said", "say", "says", "told", "familiar"];
    if words.first().is_some_and(|w| quoted.contains(w)) && words.iter().any(|w| says.contains(w)) {
        return "a count of the people quoted, not of what the topic tracks".into();
    }
    if number.unit.as_deref() == Some("percent") {
        return "a percentage of something the topic does not count".into();
    }
    "nothing named beside it that the topic counts (add the counted word to a [[topics.measures]] entry)".into()
}

/// The longest sentence read for figures. News sentences run to 300–600 bytes; 2,000 leaves
/// room for long ones in scripts with multi-byte letters.
const MAX_SENTENCE_BYTES: usize = 2_000;

/// A number of a topic sentence that is not a figure, and why.
#[derive(Debug, Clone)]
pub struct PassedOver<'t> {
    /// The sentence's position in the text.
    pub index: usize,
    /// The sentence.
    pub sentence: &'t str,
    /// The topic the sentence is on.
    pub topic: &'t str,
    /// The number passed over.
    pub number: NumberMention,
    /// Why it is not a figure.
    pub why: String,
}

/// One number of a sentence about a topic, as the extractor read it.
#[derive(Debug, Clone)]
pub struct Reading<'t> {
    /// The sentence's position in the text.
    pub index: usize,
    /// The sentence.
    pub sentence: &'t str,
    /// The topic the sentence is on.
    pub topic: &'t str,
    /// The number, with its value and qualifier.
    pub number: NumberMention,
    /// What it counts; `None` when its clause does not say or it counts another party.
    pub measure: Option<String>,
    /// It counts another party than the topic ("50,000 Russian soldiers").
    pub about_another: bool,
}

#[cfg(test)]
mod tests;

//! Figures: the numbers a tracked topic reports ("4,000 North Korean troops killed or
//! wounded"), found sentence by sentence and compared across versions.
//!
//! The path through this module: split the text into sentences, keep the sentences that are
//! about a topic, find the numbers in them, drop the ones that are not counts (years, dates,
//! times, ages, ordinals, money, measurements), and name what each remaining number counts
//! from the words of its clause. A number whose measure cannot be named is not reported: an
//! alert about "10,000 residents" would teach the user to ignore alerts.

mod compare;
mod measures;
mod numbers;
mod sentences;
mod topics;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::Topic;

pub use compare::{compare, FigureChange};
pub use numbers::{find_numbers, NumberMention};
pub use sentences::split_sentences;
pub use topics::TopicMatcher;

/// A figure's value as written: one number, a range, or a vague quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FigureValue {
    Number(#[serde(serialize_with = "whole_as_integer")] f64),
    Range {
        #[serde(serialize_with = "whole_as_integer")]
        lo: f64,
        #[serde(serialize_with = "whole_as_integer")]
        hi: f64,
    },
    Vague {
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
    Exact,
    Approx,
    AtLeast,
    MoreThan,
    AtMost,
    LessThan,
    Range,
    Vague,
}

impl Qualifier {
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
    pub topic: String,
    pub measure: String,
    pub value: FigureValue,
    pub qualifier: Qualifier,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit: Option<String>,
    /// The sentence it stands in.
    pub quote: String,
    /// The sentence's position in the text, for aligning versions.
    pub sentence: usize,
}

/// Finds the figures of every configured topic in a text. Built once per configuration; the
/// topic automaton is the costly part.
pub struct FigureExtractor {
    topics: TopicMatcher,
    measures: measures::MeasureFinder,
}

impl FigureExtractor {
    pub fn new(topics: &[Topic]) -> FigureExtractor {
        FigureExtractor {
            topics: TopicMatcher::new(topics),
            measures: measures::MeasureFinder::new(topics),
        }
    }

    /// All figures in a text, in reading order, each (topic, measure, value) once per sentence.
    pub fn extract(&self, text: &str) -> Vec<Figure> {
        let mut figures: Vec<Figure> = Vec::new();
        for (index, sentence) in split_sentences(text).into_iter().enumerate() {
            let topics = self.topics.topics_in(sentence);
            if topics.is_empty() {
                continue;
            }
            let numbers = find_numbers(sentence);
            for topic in topics {
                let measures = self.measures.measures_of(sentence, topic, &numbers);
                for (number, measure) in numbers.iter().zip(measures) {
                    let Some(measure) = measure else {
                        continue;
                    };
                    let figure = Figure {
                        topic: topic.to_string(),
                        measure,
                        value: number.value.clone(),
                        qualifier: number.qualifier,
                        unit: number.unit.clone(),
                        quote: sentence.to_string(),
                        sentence: index,
                    };
                    let repeated = figures.iter().any(|f| {
                        f.sentence == index
                            && f.topic == figure.topic
                            && f.measure == figure.measure
                            && f.value.same_as(&figure.value)
                    });
                    if !repeated {
                        figures.push(figure);
                    }
                }
            }
        }
        figures
    }
}

#[cfg(test)]
mod tests;

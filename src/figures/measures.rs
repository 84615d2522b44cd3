//! What a number counts: the measure, decided from trigger words in the number's own clause.
//! Words after the number are looked at first ("4,000 troops were killed"), then the few words
//! before it ("has killed one child"). A topic's own measures ("acres" for a wildfire) are
//! tried before the built-in ones.

use super::vocabulary::{
    inflections, BUILT_IN, FORCE_NOUNS, KILLED_WORDS, OUTAGE_WORDS, WOUNDED_WORDS,
};
use super::NumberMention;
use crate::config::Topic;

mod grammar;
use grammar::*;

struct Trigger {
    /// Lower-case words of the phrase.
    words: Vec<String>,
    measure: String,
    /// The topic that owns it; `None` for built-in measures.
    topic: Option<String>,
    /// Its measure counts money: it takes amounts in a currency, and nothing else does.
    money: bool,
}

pub struct MeasureFinder {
    triggers: Vec<Trigger>,
    /// Each topic's terms as lower-case words: a level whose subject is the topic itself
    /// ("the measles outbreak has spread to 10 counties") is a figure of it.
    terms: Vec<(String, Vec<Vec<String>>)>,
}

impl MeasureFinder {
    pub fn new(topics: &[Topic]) -> MeasureFinder {
        let mut triggers = Vec::new();
        let split =
            |p: &str| -> Vec<String> { words(&p.to_lowercase()).map(str::to_string).collect() };
        for t in topics {
            for m in &t.measures {
                for w in &m.words {
                    let phrase = split(w);
                    // A word is written in all its forms: "cut" is also "cuts" and "cutting".
                    let forms = match phrase.as_slice() {
                        [one] => inflections(one),
                        _ => vec![phrase],
                    };
                    for words in forms {
                        triggers.push(Trigger {
                            words,
                            measure: m.name.clone(),
                            topic: Some(t.id.clone()),
                            money: m.money,
                        });
                    }
                }
            }
        }
        for (measure, phrases) in BUILT_IN {
            for p in *phrases {
                triggers.push(Trigger {
                    words: split(p),
                    measure: measure.to_string(),
                    topic: None,
                    money: false,
                });
            }
        }
        triggers.retain(|t| !t.words.is_empty());
        let terms = topics
            .iter()
            .map(|t| (t.id.clone(), t.terms.iter().map(|p| split(p)).collect()))
            .collect();
        MeasureFinder { triggers, terms }
    }

    /// The measure of each of a sentence's `numbers` for `topic`, `None` where the clause
    /// names nothing it counts. A number with no measure of its own is `other` when it is a
    /// part of the counted group after it ("fewer than 10 of the 40 missiles fired"), and takes
    /// the measure of the number before when the two are joined ("728 drones and 13
    /// missiles", "29 died, 17 of them in Eaton and 12 in the Palisades").
    pub fn measures_of(
        &self,
        sentence: &str,
        topic: &str,
        numbers: &[NumberMention],
    ) -> Vec<Option<String>> {
        let own: Vec<Option<String>> = numbers
            .iter()
            .map(|n| self.measure_for(sentence, n, topic, numbers))
            .collect();
        let mut out: Vec<Option<String>> = Vec::with_capacity(numbers.len());
        let money = |n: &NumberMention| n.unit.as_deref().is_some_and(super::numbers::is_currency);
        for (i, number) in numbers.iter().enumerate() {
            // An amount of money takes a measure only from its own clause.
            if money(number) {
                out.push(own[i].clone());
                continue;
            }
            let part_of_next = || {
                let whole = numbers.get(i + 1).filter(|n| !money(n))?;
                let between = sentence[number.end..whole.start].trim().to_lowercase();
                let part = matches!(between.as_str(), "of" | "of the" | "out of");
                (part && own[i + 1].is_some()).then(|| "other".to_string())
            };
            let joined_to_previous = || {
                if i == 0 || money(&numbers[i - 1]) {
                    return None;
                }
                let previous = out.last()?.as_ref()?;
                let gap = &sentence[numbers[i - 1].end..number.start];
                (joined(gap) || part_of(&sentence[number.end..])).then(|| previous.clone())
            };
            let found = own[i]
                .clone()
                .or_else(part_of_next)
                .or_else(joined_to_previous)
                .or_else(|| self.bracketed_tally(sentence, number, topic));
            out.push(found);
        }
        out
    }

    /// The measure of `number` for `topic`, or `None` when the clause names nothing it counts.
    /// The measure of one number, corrected by what the rest of its sentence says about it.
    fn measure_for(
        &self,
        sentence: &str,
        number: &NumberMention,
        topic: &str,
        all: &[NumberMention],
    ) -> Option<String> {
        let measure = self.clause_measure(sentence, number, topic, all)?;
        let lower = sentence.to_lowercase();
        let after: Vec<&str> = words(&lower[number.end..]).collect();
        let before: Vec<&str> = words(&lower[..number.start]).collect();
        match measure.as_str() {
            // "Outages at 300 homes", "cut power to 300 homes": homes that lost power, not
            // homes destroyed ("destroyed 300 homes and cut power to more" stays).
            "destroyed"
                if before
                    .iter()
                    .rev()
                    .take(3)
                    .any(|w| OUTAGE_WORDS.contains(w)) =>
            {
                None
            }
            // "A toll of 500, including the dead, the injured and the missing": a total of
            // several kinds of loss is casualties.
            "killed" | "wounded" | "missing" => {
                let listed = after
                    .iter()
                    .position(|w| matches!(*w, "including" | "includes" | "include"))
                    .map(|k| &after[k + 1..(k + 10).min(after.len())]);
                let kinds = listed.map_or(0, |l| {
                    [KILLED_WORDS, WOUNDED_WORDS, &["missing"][..]]
                        .iter()
                        .filter(|kind| l.iter().any(|w| kind.contains(w)))
                        .count()
                });
                Some(if kinds >= 2 {
                    "casualties".into()
                } else {
                    measure
                })
            }
            _ => Some(measure),
        }
    }

    fn clause_measure(
        &self,
        sentence: &str,
        number: &NumberMention,
        topic: &str,
        all: &[NumberMention],
    ) -> Option<String> {
        // The clause: up to the nearest punctuation that separates clauses, or another number.
        let stops =
            |c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '—' | '–' | '"' | '“' | '”');
        let next_number = all
            .iter()
            .filter(|n| n.start >= number.end)
            .map(|n| n.start)
            .min();
        let prev_number = all
            .iter()
            .filter(|n| n.end <= number.start)
            .map(|n| n.end)
            .max();
        let after_end = sentence[number.end..]
            .find(stops)
            .map_or(sentence.len(), |i| number.end + i);
        let after_end = next_number.map_or(after_end, |n| n.min(after_end));
        let before_start = sentence[..number.start]
            .char_indices()
            .rfind(|&(_, c)| stops(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let before_start = prev_number.map_or(before_start, |n| n.max(before_start));

        let after: Vec<String> = words(&sentence[number.end..after_end].to_lowercase())
            .map(str::to_string)
            .take(AFTER_WORDS + 4)
            .collect();
        let before: Vec<String> = {
            let all: Vec<String> = words(&sentence[before_start..number.start].to_lowercase())
                .map(str::to_string)
                .collect();
            all[all.len().saturating_sub(BEFORE_WORDS + 3)..].to_vec()
        };

        // A rate ("65.2 cases per 100,000 people", "300 new cases per day") is never a count:
        // it is a figure only of a topic's own measure for rates (one whose words start with
        // "per"), and of nothing else.
        let per = after
            .iter()
            .take(4)
            .position(|w| w == "per")
            .filter(|&k| after.get(k + 1).is_none_or(|n| n != "cent"));
        let money = number
            .unit
            .as_deref()
            .is_some_and(super::numbers::is_currency);
        if let Some(k) = per {
            // The rate's own words, read on past the comma of a number ("per 100,000"): a topic
            // measure named by exactly them, else nothing ("4,000 bottles per year").
            let rate: Vec<String> = words(&sentence[number.end..].to_lowercase())
                .take(k + 6)
                .map(str::to_string)
                .collect();
            let own = |t: &&Trigger| t.topic.as_deref() == Some(topic) && t.money == money;
            return self.best_at(&rate, k, &own).map(|t| t.measure.clone());
        }
        // "A rate of 20" with no "per" after it names no measure: a rate is not a count.
        if matches!(before.as_slice(), [.., r, of] if of == "of" && (r == "rate" || r == "rates")) {
            return None;
        }
        let percent = number.unit.as_deref() == Some("percent");
        // A unit of measurement counts only through a topic's own measure ("acres").
        let measured = number.unit.as_deref().is_some_and(|u| u != "percent");
        let usable = |t: &&Trigger| {
            t.topic.as_deref().is_none_or(|id| id == topic)
                && (!measured || t.topic.is_some())
                && t.money == money
        };
        // A verb right before the number takes it as its object: "killed 35 people and
        // wounded 117", "launched 728 drones".
        let hedged = before
            .iter()
            .rev()
            .take_while(|w| immediate_hedge(w))
            .count();
        let verb_end = before.len() - hedged;
        for len in (1..=verb_end.min(3)).rev() {
            if let Some(t) = self.best_at(&before[..verb_end], verb_end - len, &usable) {
                if t.words.len() == len {
                    return Some(t.measure.clone());
                }
            }
        }
        // After the number: the predicate's trigger ("40% of the troops deployed to Kursk have
        // been killed or wounded"), else the earliest; at one place the longest, topic first.
        let mut earliest = None;
        for start in 0..after.len().min(AFTER_WORDS) {
            if let Some(t) = self.best_at(&after, start, &usable) {
                if start > 0 && AUXILIARIES.contains(&after[start - 1].as_str()) {
                    return Some(t.measure.clone());
                }
                earliest.get_or_insert(t);
            }
        }
        if let Some(t) = earliest {
            return Some(t.measure.clone());
        }
        // "Two children, both unvaccinated, have died": the predicate after an apposition.
        if sentence[after_end..].starts_with(',') && next_number.is_none_or(|n| n > after_end) {
            let predicate = predicate_after_apposition(&sentence[after_end + 1..]);
            for start in 0..predicate.len() {
                if let Some(t) = self.best_at(&predicate, start, &usable) {
                    return Some(t.measure.clone());
                }
            }
        }
        // Before it: the nearest trigger.
        let lowest = before.len().saturating_sub(BEFORE_WORDS);
        for start in (lowest..before.len()).rev() {
            if let Some(t) = self.best_at(&before, start, &usable) {
                return Some(t.measure.clone());
            }
        }
        // "Measles cases in the outbreak have climbed to 159": the number is the level the
        // subject reached, so what it counts is named in the subject, across commas.
        let mut subject_is_topic = false;
        if level_verb_before(&before, percent) {
            let from = prev_number.unwrap_or(0);
            let subject: Vec<String> = words(&sentence[from..number.start].to_lowercase())
                .map(str::to_string)
                .collect();
            let lowest = subject.len().saturating_sub(SUBJECT_WORDS);
            for start in (lowest..subject.len()).rev() {
                if let Some(t) = self.best_at(&subject, start, &usable) {
                    return Some(t.measure.clone());
                }
            }
            // The topic must head the subject ("the measles outbreak has spread to"), not
            // modify another head ("the measles clinic's budget has grown to").
            let near: Vec<&String> = subject
                .iter()
                .filter(|w| !HEDGES.contains(&w.as_str()))
                .collect();
            let near = &near[near.len().saturating_sub(6)..];
            let names_topic = self
                .terms
                .iter()
                .filter(|(id, _)| id == topic)
                .flat_map(|(_, terms)| terms)
                .any(|term| {
                    (0..near.len().saturating_sub(term.len() - 1)).any(|i| {
                        !term.is_empty()
                            && near[i..i + term.len()]
                                .iter()
                                .zip(term)
                                .all(|(a, b)| *a == b)
                            && !near[i + term.len()..]
                                .iter()
                                .any(|w| w.ends_with("'s") || w.ends_with("’s"))
                    })
                });
            subject_is_topic = names_topic && !measured;
        }
        // A force's size: "12,000 troops", "servicemen, whom Ukraine puts at 12,000".
        // (Built-in measures, this one among them, never count a unit of measurement.)
        let force = |w: &str| FORCE_NOUNS.contains(&w);
        if !measured
            && (after.iter().take(4).any(|w| force(w))
                || level_verb_before(&before, percent)
                    && words(&sentence[..number.start].to_lowercase()).any(force))
        {
            return Some("deployed".to_string());
        }
        // The level of the topic itself, with nothing named that it counts.
        subject_is_topic.then(|| "other".to_string())
    }

    /// "Amy Klobuchar (17) and Elizabeth Warren (12) lead": a number alone in brackets after a
    /// name is that name's tally of what the sentence counts before it ("… legislators who
    /// have endorsed a candidate").
    fn bracketed_tally(
        &self,
        sentence: &str,
        number: &NumberMention,
        topic: &str,
    ) -> Option<String> {
        let before = sentence[..number.start].trim_end();
        let after = sentence[number.end..].trim_start();
        let named = before
            .strip_suffix('(')?
            .trim_end()
            .rsplit(' ')
            .next()
            .is_some_and(|w| w.starts_with(|c: char| c.is_uppercase()));
        if !named || !after.starts_with(')') || number.unit.is_some() {
            return None;
        }
        let words: Vec<String> = words(&before.to_lowercase()).map(str::to_string).collect();
        let usable = |t: &&Trigger| t.topic.as_deref().is_none_or(|id| id == topic);
        (0..words.len())
            .rev()
            .find_map(|start| self.best_at(&words, start, &usable))
            .map(|t| t.measure.clone())
    }

    fn best_at(
        &self,
        words: &[String],
        start: usize,
        usable: &impl Fn(&&Trigger) -> bool,
    ) -> Option<&Trigger> {
        self.triggers
            .iter()
            .filter(usable)
            .filter(|t| {
                words.len() >= start + t.words.len()
                    && words[start..start + t.words.len()] == t.words[..]
            })
            .max_by_key(|t| (t.words.len(), t.topic.is_some()))
    }
}

/// Words of a text: letters, digits, apostrophes and inner hyphens.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-' || c == '/'))
        .map(|w| w.trim_matches('-'))
        .filter(|w| !w.is_empty())
}

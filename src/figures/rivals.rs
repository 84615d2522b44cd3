//! Figures about something else in a sentence that is about the topic. A story names its
//! neighbours: "11,000 North Korean troops were fighting alongside about 50,000 Russian
//! soldiers"; "the Lilac Fire… 85 acres, even as the Palisades Fire kept spreading"; "Iran
//! fired about 180 ballistic missiles" in a sentence a topic about Russian missiles matches by
//! "ballistic missiles". Reporting the neighbour's number as the topic's is the worst kind of
//! false alert, so a number is dropped when its own words point at another named party:
//!
//! 1. its noun phrase carries a proper name the topic does not use ("50,000 *Russian*
//!    soldiers", "105 *Ukrainian* drones", "two *Patriot* systems");
//! 2. its clause names another member of a named kind the topic tracks ("the *Lilac Fire*"
//!    when the topic tracks the Palisades and Eaton fires);
//! 3. the party nearest before it in its clause is another country: the subject ("*Iran*
//!    fired about 180") or a possessor ("*Russia's* losses… at 1,380 soldiers").
//!
//! A number whose noun phrase carries one of the topic's own proper names ("4,000 *North
//! Korean* troops") is always the topic's.

use std::collections::{HashMap, HashSet};

use crate::config::Topic;

mod countries;
use countries::*;

/// What one topic calls its own parties.
struct TopicWords {
    /// Lower-case words of the terms and near groups, hyphenated parts included.
    words: HashSet<String>,
    /// The topic's terms, near groups or name mention a country: it is about a party among
    /// countries, so another country before a number points away from it.
    among_countries: bool,
    /// Countries the terms and near groups mention: what the counted things themselves are.
    own_countries: HashSet<&'static str>,
    /// Named kinds: the head word of multi-word proper terms ("fire" for "Palisades Fire")
    /// with the lower-case terms that carry it.
    kinds: Vec<(String, Vec<String>)>,
}

pub struct Rivals {
    topics: HashMap<String, TopicWords>,
}

impl Rivals {
    pub fn new(topics: &[Topic]) -> Rivals {
        let topics = topics
            .iter()
            .map(|t| {
                let phrases: Vec<&str> = t
                    .terms
                    .iter()
                    .chain(t.near.iter().flatten())
                    .map(String::as_str)
                    .collect();
                let mut words = HashSet::new();
                for p in &phrases {
                    for w in p.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
                        if !w.is_empty() {
                            words.insert(w.to_lowercase());
                        }
                    }
                }
                let own_countries: HashSet<&'static str> =
                    phrases.iter().flat_map(|p| countries_in(p)).collect();
                let among_countries =
                    !own_countries.is_empty() || !countries_in(&t.name).is_empty();
                let mut kinds: Vec<(String, Vec<String>)> = Vec::new();
                for term in &t.terms {
                    let parts: Vec<&str> = term.split_whitespace().collect();
                    let proper = parts.len() >= 2
                        && parts
                            .iter()
                            .all(|p| p.chars().next().is_some_and(char::is_uppercase));
                    if !proper {
                        continue;
                    }
                    let head = parts[parts.len() - 1].to_lowercase();
                    let term = term.to_lowercase();
                    match kinds.iter_mut().find(|(h, _)| *h == head) {
                        Some((_, names)) => names.push(term),
                        None => kinds.push((head, vec![term])),
                    }
                }
                (
                    t.id.clone(),
                    TopicWords {
                        words,
                        among_countries,
                        own_countries,
                        kinds,
                    },
                )
            })
            .collect();
        Rivals { topics }
    }

    /// True when the number at `start..end` of `sentence` counts another party than `topic`.
    /// The topic's own terms or near groups use this lower-case word, and it names no one
    /// place among several the topic spans: "in Texas" adds nothing to a topic on measles in
    /// Texas, but "Spain" and "Italy" are two places of a topic on Covid in Europe.
    pub fn own_word(&self, topic: &str, word: &str) -> bool {
        self.topics.get(topic).is_some_and(|t| {
            t.words.contains(word)
                && (t.own_countries.len() <= 1
                    || !COUNTRIES.iter().any(|c| c.split('|').any(|n| n == word)))
        })
    }

    /// The country a number's clause names before it, as written ("Spain has recorded about
    /// 157,000 cases", "and Italy 143,600"): where the figure is from, unless the topic names
    /// that country itself.
    pub fn place_before(&self, sentence: &str, topic: &str, start: usize) -> Option<String> {
        let words = tokens(sentence);
        let last = words.iter().rposition(|w| w.end <= start)?;
        let mut first = last;
        while first > 0 && !words[first].after_punct {
            first -= 1;
        }
        let clause = &words[first..=last];
        for i in (0..clause.len()).rev() {
            if let Some((_, len)) = country_at(clause, i) {
                // "Ukraine's military intelligence agency said", "a U.S. official said": the
                // country of the claimant is not where the figure is from.
                if clause[i + 1..]
                    .iter()
                    .take(5)
                    .any(|w| CLAIMING.contains(&w.lower.as_str()))
                {
                    continue;
                }
                let named = &clause[i + 1 - len..=i];
                let own = named.iter().any(|w| self.own_word(topic, &w.lower));
                if own {
                    return None;
                }
                let written = &sentence[named[0].start..named[len - 1].end];
                let written = written
                    .strip_suffix("'s")
                    .or_else(|| written.strip_suffix("’s"))
                    .unwrap_or(written);
                return Some(written.to_string());
            }
        }
        None
    }

    pub fn about_another(&self, sentence: &str, topic: &str, start: usize, end: usize) -> bool {
        let Some(t) = self.topics.get(topic) else {
            return false;
        };
        let words = tokens(sentence);
        let first_after = words.iter().position(|w| w.start >= end);
        let last_before = words.iter().rposition(|w| w.end <= start);

        // 1. The noun phrase after the number.
        let mut anchored = false;
        let mut foreign = false;
        if let Some(mut i) = first_after {
            // "718 of the Russian drones": the phrase is the whole the number is part of;
            // "460 of them" is a part of a count already made.
            if words[i].lower == "of" && !words[i].after_punct {
                match words.get(i + 1).map(|w| w.lower.as_str()) {
                    Some("them" | "whom" | "those" | "which") => return false,
                    Some("the" | "its" | "their") => i += 2,
                    _ => i += 1,
                }
                i = i.min(words.len());
            }
            let phrase_end = words[i..]
                .iter()
                .take(5)
                .position(|w| {
                    w.after_punct || STOP.contains(&w.lower.as_str()) || w.lower.ends_with("ed")
                })
                .map_or((i + 5).min(words.len()), |p| i + p);
            // "11,000 troops from North Korea": the origin belongs to the phrase.
            let phrase_end = match words.get(phrase_end) {
                Some(w) if w.lower == "from" && !w.after_punct => {
                    let clause_end = words[phrase_end + 1..]
                        .iter()
                        .position(|w| w.after_punct)
                        .map_or(words.len(), |p| phrase_end + 1 + p);
                    (phrase_end + 4).min(clause_end)
                }
                _ => phrase_end,
            };
            let phrase = &words[i..phrase_end];
            // The proper name nearest the number decides: "50,000 Russian soldiers fought
            // beside North Korean troops" counts Russians.
            for (k, w) in phrase.iter().enumerate() {
                if !w.capital {
                    continue;
                }
                match country_at(phrase, k) {
                    Some((country, _)) => {
                        let own = t.own_countries.contains(country);
                        anchored |= own;
                        foreign |= !own;
                    }
                    None => anchored |= w.lower.split('-').any(|p| t.words.contains(p)),
                }
                if anchored || foreign {
                    break;
                }
            }
        }
        if anchored {
            return false;
        }
        if foreign {
            return true;
        }

        // The clause: back to the last clause punctuation, and one segment further when this
        // one is a relative clause ("the Camp Fire, which killed 85").
        let clause_start = {
            let back_to_punct = |mut from: usize| {
                while from > 0 && !words[from].after_punct {
                    from -= 1;
                }
                from
            };
            let from = back_to_punct(
                last_before
                    .map_or(0, |i| i + 1)
                    .min(words.len().saturating_sub(1)),
            );
            let relative = matches!(
                words.get(from).map(|w| w.lower.as_str()),
                Some("which" | "who" | "that" | "where")
            );
            if from > 0 && relative {
                back_to_punct(from - 1)
            } else {
                from
            }
        };
        let clause_end = first_after.map_or(words.len(), |i| {
            words[i..]
                .iter()
                .position(|w| w.after_punct)
                .map_or(words.len(), |p| i + p)
        });

        // 2. Another member of a named kind ("the Lilac Fire"): the member nearest the number
        // in its clause, looking back first, decides.
        let number_at = last_before
            .map_or(0, |i| i + 1)
            .clamp(clause_start, clause_end);
        let member_ending_at = |k: usize| -> Option<bool> {
            let (a, b) = (&words[k - 1], &words[k]);
            let named = a.capital && b.capital;
            let kind = t.kinds.iter().find(|(head, _)| b.lower == *head)?;
            let name = format!("{} {}", a.lower, b.lower);
            named.then(|| !kind.1.iter().any(|term| term.ends_with(&name)))
        };
        let nearest = (clause_start + 1..number_at)
            .rev()
            .chain(number_at.max(clause_start + 1)..clause_end)
            .find_map(member_ending_at);
        if nearest == Some(true) {
            return true;
        }

        // 3. Another disease or kind of disaster as the clause's subject or cause: "the 1918
        // flu pandemic killed 50 million" or "300 who died of flu" beside a topic on Covid.
        let before_in_clause = &words[clause_start..number_at.max(clause_start)];
        // "COVID-19" is the topic's when "Covid" is.
        let own = |w: &Word| w.lower.split('-').any(|p| t.words.contains(p));
        for w in before_in_clause.iter().rev() {
            // The topic's own event, or its own proper name, nearer the number decides.
            if own(w) && (w.capital || EVENTS.contains(&w.lower.as_str())) {
                break;
            }
            if EVENTS.contains(&w.lower.as_str()) {
                return true;
            }
        }
        let after_in_clause = &words[number_at.min(clause_end)..clause_end];
        for pair in after_in_clause.windows(2) {
            if matches!(pair[0].lower.as_str(), "of" | "from")
                && EVENTS.contains(&pair[1].lower.as_str())
                && !own(&pair[1])
            {
                return true;
            }
        }

        // 4. The nearest country before the number in its clause.
        if !t.among_countries {
            return false;
        }
        let mut before: Vec<&Word> = words
            [clause_start..last_before.map_or(clause_start, |i| i + 1)]
            .iter()
            .collect();
        // "China, where the virus emerged last year, has nearly 83,000 cases": the subject
        // stands before a relative clause set off by commas; the clause itself is passed over.
        let opens_relative = |k: usize| {
            matches!(
                words.get(k).map(|w| w.lower.as_str()),
                Some("which" | "who" | "where" | "whose")
            )
        };
        if clause_start > 0 && !opens_relative(clause_start) {
            let mut relative = clause_start - 1;
            while relative > 0 && !words[relative].after_punct {
                relative -= 1;
            }
            if relative > 0 && opens_relative(relative) {
                let mut subject = relative - 1;
                while subject > 0 && !words[subject].after_punct {
                    subject -= 1;
                }
                let mut with_subject: Vec<&Word> = words[subject..relative].iter().collect();
                with_subject.extend(before);
                before = with_subject;
            }
        }
        let before: Vec<Word> = before.into_iter().cloned().collect();
        let mut i = before.len();
        while i > 0 {
            i -= 1;
            if let Some((country, _)) = country_at(&before, i) {
                // "whom Ukraine puts at 12,000": a country that estimates is a claimant, not
                // the party counted.
                if before
                    .get(i + 1)
                    .is_some_and(|w| CLAIMING.contains(&w.lower.as_str()))
                {
                    continue;
                }
                return !t.own_countries.contains(country);
            }
            if before[i].capital && t.words.contains(&before[i].lower) {
                return false;
            }
        }
        false
    }
}

/// Diseases and kinds of disaster: one named in a number's clause that the topic does not
/// name makes the number another event's.
const EVENTS: &[&str] = &[
    "flu",
    "influenza",
    "plague",
    "cholera",
    "ebola",
    "measles",
    "malaria",
    "hiv",
    "aids",
    "sars",
    "mers",
    "tuberculosis",
    "polio",
    "smallpox",
    "dengue",
    "mpox",
    "monkeypox",
    "zika",
    "typhoid",
    "covid",
    "covid-19",
    "coronavirus",
    "earthquake",
    "tsunami",
    "hurricane",
    "typhoon",
    "cyclone",
    "tornado",
    "flood",
    "floods",
    "wildfire",
    "wildfires",
    "famine",
    "drought",
    "heatwave",
];

/// Verbs whose subject is a claimant: "Ukraine puts them at", "Kyiv says".
const CLAIMING: &[&str] = &[
    "said",
    "says",
    "say",
    "puts",
    "put",
    "estimated",
    "estimates",
    "estimate",
    "claimed",
    "claims",
    "reported",
    "reports",
    "believes",
    "believe",
    "told",
    "thinks",
    "counted",
];

/// Words that end a noun phrase.
const STOP: &[&str] = &[
    "of", "in", "at", "on", "to", "from", "by", "for", "with", "into", "over", "and", "or", "but",
    "were", "was", "are", "is", "have", "has", "had", "be", "been", "who", "which", "that", "will",
    "would", "could", "may", "might", "a", "an", "the", "since", "after", "before", "during",
    "near", "as", "than",
];

#[derive(Clone)]
struct Word {
    start: usize,
    end: usize,
    lower: String,
    capital: bool,
    /// Clause punctuation stands between this word and the one before.
    after_punct: bool,
}

fn tokens(sentence: &str) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut punct = false;
    let mut start: Option<usize> = None;
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '-' | '\'' | '’' | '.');
    let ends = sentence
        .char_indices()
        .chain(std::iter::once((sentence.len(), ' ')));
    for (i, c) in ends {
        if i < sentence.len() && is_word(c) {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            let raw = &sentence[s..i];
            let trimmed = raw.trim_end_matches('.');
            // "U.S." keeps its stops; a sentence's final stop does not belong to the word.
            let text = if trimmed.contains('.') { raw } else { trimmed };
            // "Russia's losses": the possessor is the country.
            let text = text
                .strip_suffix("'s")
                .or_else(|| text.strip_suffix("’s"))
                .unwrap_or(text);
            if !text.is_empty() {
                out.push(Word {
                    start: s,
                    end: i,
                    lower: text.to_lowercase(),
                    capital: text.chars().next().is_some_and(char::is_uppercase),
                    after_punct: punct,
                });
            }
            punct = false;
        }
        if matches!(c, ',' | ';' | ':' | '(' | ')' | '—' | '–' | '"' | '“' | '”') {
            punct = true;
        }
    }
    out
}

/// The country (its first name in `COUNTRIES`) whose name ends at word `i`, and the name's
/// length in words.
fn country_at(words: &[Word], i: usize) -> Option<(&'static str, usize)> {
    for len in (1..=3).rev() {
        if i + 1 < len {
            continue;
        }
        let from = i + 1 - len;
        if !words[from].capital {
            continue;
        }
        let phrase = words[from..=i]
            .iter()
            .map(|w| w.lower.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let country = COUNTRIES
            .iter()
            .find(|names| names.split('|').any(|n| n == phrase))
            .and_then(|names| names.split('|').next());
        if let Some(c) = country {
            return Some((c, len));
        }
    }
    None
}

/// Countries named in a phrase.
fn countries_in(phrase: &str) -> Vec<&'static str> {
    let words = tokens(phrase);
    let mut out = Vec::new();
    for i in 0..words.len() {
        if let Some((c, _)) = country_at(&words, i) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;

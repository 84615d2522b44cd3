//! Who says a figure, and whether it is said as fact: "Zelensky said", "according to KCNA",
//! "officials estimated"; "may send", "could reach". An analyst weighs "as many as 4,000
//! (Zelensky)" differently from the same number from the other side, so the claimant travels
//! with the figure into alerts and the ledger.

/// Verbs of saying. A claimant stands right before them ("Zelensky said") or, inverted, right
/// after them ("…, said Zelensky").
const SAYING: &[&str] = &[
    "said",
    "says",
    "told",
    "tells",
    "reported",
    "reports",
    "estimated",
    "estimates",
    "claimed",
    "claims",
    "stated",
    "announced",
    "announces",
    "confirmed",
    "confirms",
    "wrote",
    "writes",
    "added",
    "alleged",
    "alleges",
    "tweeted",
];

/// Words that make a figure a possibility rather than a report.
const SPECULATIVE: &[&str] = &[
    "may",
    "might",
    "could",
    "would",
    "plans",
    "planning",
    "planned",
    "expected",
    "likely",
    "possibly",
    "potentially",
    "if",
    "feared",
    "fears",
    "projected",
    "forecast",
];

/// Words that end a claimant phrase when reading away from the verb.
fn is_boundary(word: &str) -> bool {
    matches!(
        word,
        "that"
            | "and"
            | "but"
            | "which"
            | "who"
            | "as"
            | "have"
            | "has"
            | "had"
            | "were"
            | "was"
            | "is"
            | "are"
            | "in"
            | "on"
            | "at"
            | "to"
            | "of"
            | "it"
            | "he"
            | "she"
            | "they"
            | "we"
            | "i"
            | "also"
            | "by"
    ) || word.chars().any(|c| c.is_ascii_digit())
}

/// The claimant named in a sentence, as written ("Zelensky", "South Korea's spy agency",
/// "the Pentagon"), or `None` when the sentence attributes the figure to nobody. Claimants are
/// parties, never the thing the topic tracks: "the outbreak of measles reported 800 cases,
/// Reuters reported" is Reuters', not measles'. `own` says whether a lower-case word is one of
/// the topic's own.
pub fn claimant_for(sentence: &str, own: impl Fn(&str) -> bool) -> Option<String> {
    claimants(sentence).into_iter().find(|c| {
        c.split(|ch: char| !(ch.is_alphanumeric() || ch == '\'' || ch == '’'))
            .map(str::to_lowercase)
            .filter(|w| !w.is_empty() && !DETERMINERS.contains(&w.as_str()))
            .any(|w| !own(&w) && !NOT_PARTIES.contains(&w.as_str()))
    })
}

/// Words that never make a party on their own: "the data", "measles figures".
const NOT_PARTIES: &[&str] = &[
    "data",
    "figures",
    "figure",
    "numbers",
    "number",
    "statistics",
    "count",
    "counts",
    "toll",
    "total",
    "totals",
    "cases",
    "case",
    "outbreak",
    "outbreaks",
    "virus",
    "disease",
    "it",
    "they",
    "this",
    "that",
    "these",
    "those",
    "which",
];

const DETERMINERS: &[&str] = &["the", "a", "an", "its", "their", "his", "her", "our"];

/// Every phrase of a sentence that names who reports: "according to X", "X said", "…, said
/// X", in that order.
fn claimants(sentence: &str) -> Vec<String> {
    let mut out = Vec::new();
    let tokens = tokens(sentence);
    let lower: Vec<String> = tokens.iter().map(|t| t.text.to_lowercase()).collect();
    // "according to X": the words after, to the next punctuation.
    for i in 0..lower.len().saturating_sub(1) {
        if lower[i] == "according" && lower[i + 1] == "to" {
            let phrase = forward(&tokens, &lower, i + 2);
            if !phrase.is_empty() {
                out.push(phrase);
            }
        }
    }
    for (i, word) in lower.iter().enumerate() {
        if !SAYING.contains(&word.as_str()) {
            continue;
        }
        // "X said": the words before, back to punctuation or a clause word.
        let phrase = backward(&tokens, &lower, i);
        if !phrase.is_empty() {
            out.push(phrase);
            continue;
        }
        // "…, said Zelensky": the capitalised words after.
        if tokens[i].after_punct {
            let phrase = forward(&tokens, &lower, i + 1);
            if phrase.chars().next().is_some_and(char::is_uppercase) {
                out.push(phrase);
            }
        }
    }
    out
}

/// True when the words around a number (the clause from `start` back to the last punctuation,
/// and a few words on) make it a possibility: "may have sent up to 3,000", "could rise to 500".
pub fn speculative(sentence: &str, start: usize, end: usize) -> bool {
    let stops = |c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '—' | '.');
    // At most twelve words back, and never past clause punctuation. Offsets come from
    // characters: the text holds dashes and quotes of several bytes.
    let clause_start = sentence[..start]
        .char_indices()
        .rfind(|&(_, c)| stops(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let is_speculative = |w: &str| SPECULATIVE.contains(&w.to_lowercase().as_str());
    let before: Vec<&str> = sentence[clause_start..start]
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    before[before.len().saturating_sub(12)..]
        .iter()
        .any(|w| is_speculative(w))
        || sentence[end..]
            .split(stops)
            .next()
            .unwrap_or_default()
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .take(4)
            .any(is_speculative)
}

struct Token<'a> {
    text: &'a str,
    /// Punctuation (other than an apostrophe) stands right before it.
    after_punct: bool,
    /// Punctuation stands right after it.
    before_punct: bool,
}

fn tokens(sentence: &str) -> Vec<Token<'_>> {
    let mut out: Vec<Token<'_>> = Vec::new();
    let mut pending_punct = false;
    let mut start = None;
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '\'' | '’' | '-' | '.');
    for (i, c) in sentence
        .char_indices()
        .chain(std::iter::once((sentence.len(), ' ')))
    {
        if is_word(c) && i < sentence.len() {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            let text = sentence[s..i].trim_end_matches('.');
            if !text.is_empty() {
                out.push(Token {
                    text,
                    after_punct: pending_punct,
                    before_punct: false,
                });
            }
            pending_punct = false;
            if sentence[s..i].ends_with('.') {
                mark_before_punct(&mut out);
                pending_punct = true;
            }
        }
        if !c.is_whitespace() && i < sentence.len() {
            pending_punct = true;
            mark_before_punct(&mut out);
        }
    }
    out
}

fn mark_before_punct(tokens: &mut [Token<'_>]) {
    if let Some(last) = tokens.last_mut() {
        last.before_punct = true;
    }
}

/// Up to five words back from the verb at `verb`: "Ukraine's President Volodymyr Zelensky
/// said" → "Ukraine's President Volodymyr Zelensky"; "officials said" → "officials".
fn backward(tokens: &[Token<'_>], lower: &[String], verb: usize) -> String {
    let mut from = verb;
    while from > 0 && verb - from < 5 {
        let t = &tokens[from - 1];
        if t.before_punct || is_boundary(&lower[from - 1]) {
            break;
        }
        from -= 1;
        if t.after_punct {
            break;
        }
    }
    phrase(tokens, lower, from, verb)
}

/// Up to six words on from `from`, to the next punctuation.
fn forward(tokens: &[Token<'_>], lower: &[String], from: usize) -> String {
    let mut to = from;
    while to < tokens.len() && to - from < 6 {
        if to > from && (tokens[to].after_punct || is_boundary(&lower[to])) {
            break;
        }
        to += 1;
        if tokens[to - 1].before_punct {
            break;
        }
    }
    phrase(tokens, lower, from, to)
}

/// The words `from..to` with a leading "the" kept only before a common noun ("the ministry"),
/// and nothing when they are only function words.
fn phrase(tokens: &[Token<'_>], lower: &[String], from: usize, to: usize) -> String {
    let words: Vec<&str> = tokens[from..to].iter().map(|t| t.text).collect();
    let meaningful = lower[from..to]
        .iter()
        .any(|w| !matches!(w.as_str(), "the" | "a" | "an" | "this" | "its" | "their"));
    if !meaningful {
        return String::new();
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    /// The first claimant, for a topic with no words of its own.
    fn claimant(sentence: &str) -> Option<String> {
        super::claimant_for(sentence, |_| false)
    }

    #[test]
    fn the_topics_own_noun_is_never_the_claimant() {
        let measles = |w: &str| w == "measles";
        assert_eq!(
            super::claimant_for(
                "The outbreak of measles reported 800 cases, Reuters reported.",
                measles
            )
            .as_deref(),
            Some("Reuters")
        );
        assert_eq!(
            super::claimant_for("Cases reached 500, according to measles data.", measles),
            None
        );
    }
    use super::*;

    #[test]
    fn names_the_speaker_before_a_verb_of_saying() {
        assert_eq!(
            claimant(
                "As many as 4,000 troops were killed, Ukrainian President Volodymyr Zelensky said."
            )
            .as_deref(),
            Some("Ukrainian President Volodymyr Zelensky")
        );
        assert_eq!(
            claimant("Officials said 3,000 troops had been killed.").as_deref(),
            Some("Officials")
        );
        assert_eq!(
            claimant("South Korea's spy agency estimated that 1,100 were wounded.").as_deref(),
            Some("South Korea's spy agency")
        );
    }

    #[test]
    fn reads_according_to_and_inverted_attribution() {
        assert_eq!(
            claimant("About 300 were killed, according to KCNA, the state news agency.").as_deref(),
            Some("KCNA")
        );
        assert_eq!(
            claimant("About 300 were killed, said Zelensky.").as_deref(),
            Some("Zelensky")
        );
        assert_eq!(
            claimant("About 300 troops were killed in the assault."),
            None
        );
    }

    #[test]
    fn modal_verbs_make_a_figure_speculative() {
        let s = "Pyongyang may send up to 3,000 more troops.";
        let at = s.find("3,000").unwrap();
        assert!(speculative(s, at, at + 5));
        let s = "KYIV — Pyongyang sent 3,000 troops — and may send more.";
        let at = s.find("3,000").unwrap();
        assert!(!speculative(s, at, at + 5));
    }
}

//! What a figure covers, as its sentence says: the period ("between 2010 and 2020", "since
//! 2022", "in the 14th century", "over the past decade"), the place ("in Europe") and whether
//! it is a count of new cases ("new", "daily", "in the past 24 hours") rather than a total.
//!
//! Two values of one measure are one claim changing only when they cover the same thing: a
//! toll "since 2022" moving from 3,000 to 4,000 is news; a toll "over the past century" next
//! to one "in 2023" is a second figure, not a change. An "as of" time is not a period: the
//! same toll as of 6 a.m. and as of 9 p.m. is one claim that moved.
//!
//! The scope is a short normalised phrase, stable across rewordings ("between 2010 and 2020"
//! and "from 2010 to 2020" are both `2010–2020`), empty when the sentence states none.

use std::sync::OnceLock;

use regex::Regex;

use crate::calendar::{MONTHS, WEEKDAYS};

/// The scope of the number at `start..end` of `sentence`: the nearest period and place phrase
/// within its stretch of the sentence, and `new` for a count of new cases. `own_place` says
/// whether a place is one the topic itself names (a topic on measles in Texas: "in Texas" is
/// no narrower than the topic).
pub fn scope(
    sentence: &str,
    start: usize,
    end: usize,
    own_place: impl Fn(&str) -> bool,
    subject_place: Option<String>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(p) = nearest(periods(sentence), start, end) {
        parts.push(p);
    }
    let places: Vec<Period> = places(sentence)
        .into_iter()
        .filter(|(_, name)| !name.split(' ').any(|w| own_place(&w.to_lowercase())))
        .collect();
    // "In Europe, 4,000 cases", else the country the clause names before the number ("Spain
    // has recorded 157,000 cases").
    if let Some(p) = nearest(places, start, end).or(subject_place) {
        // Article text reaches terminals and XML through alerts: no control character passes.
        let p: String = p.chars().filter(|c| !c.is_control()).collect();
        parts.push(format!("in {p}"));
    }
    if counts_new(sentence, start, end) {
        parts.push("new".into());
    }
    parts.join(", ")
}

/// The number is tied to a period long past: "in the 14th century", "in the 1910s", "between
/// 1347 and 1351". News tracks the present; such a figure is history, not the topic's.
/// `periods` is what [`periods`] found in the sentence, read once for all of its numbers.
pub fn historical(periods: &[Period], start: usize, end: usize) -> bool {
    let Some(period) = nearest(periods.iter().cloned(), start, end) else {
        return false;
    };
    let leading = |s: &str| -> Option<u32> {
        s.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    if let Some(century) = period.strip_suffix(" century") {
        return leading(century).is_some_and(|n| n <= 19);
    }
    // A decade, a span of years or a year: its last year.
    let last = period.rsplit(['–', ' ']).find_map(leading);
    last.is_some_and(|y| (1000..1950).contains(&y))
}

/// How far from a number a phrase may stand and still describe it: about one clause.
const REACH: usize = 90;

fn nearest(found: impl IntoIterator<Item = Period>, start: usize, end: usize) -> Option<String> {
    found
        .into_iter()
        .filter(|(r, _)| r.end <= start || r.start >= end)
        .map(|(r, s)| {
            let gap = if r.end <= start {
                start - r.end
            } else {
                r.start - end
            };
            (gap, s)
        })
        .filter(|(gap, _)| *gap <= REACH)
        .min_by_key(|(gap, _)| *gap)
        .map(|(_, s)| s)
}

/// Names the period a rule's match covers.
type Namer = fn(&regex::Captures) -> String;

const YEAR: &str = r"(1\d\d\d|20\d\d)";

/// A phrase of a sentence that names a period: where it stands, and its normalised name.
pub type Period = (std::ops::Range<usize>, String);

/// The periods a sentence names, in the order the rules found them.
pub fn periods(s: &str) -> Vec<Period> {
    static RE: OnceLock<Vec<(Regex, Namer)>> = OnceLock::new();
    let rules = RE.get_or_init(|| {
        let re = |p: &str| Regex::new(&format!("(?i){p}")).expect("static regex");
        vec![
            (
                re(&format!(r"\b(?:between|from)\s+(?:\w+\s+)?{YEAR}\s+(?:and|to|until|through|till)\s+(?:\w+\s+)?{YEAR}\b")),
                (|c: &regex::Captures| format!("{}–{}", &c[1], &c[2])) as Namer,
            ),
            (
                re(&format!(r"\b{YEAR}\s*(?:-|–|—|/)\s*({YEAR}|\d\d)\b")),
                |c| {
                    let hi = &c[2];
                    let hi = if hi.len() == 2 { format!("{}{hi}", &c[1][..2]) } else { hi.to_string() };
                    format!("{}–{hi}", &c[1])
                },
            ),
            (
                re(&format!(r"\bsince\s+(?:(?:the\s+)?(?:start|beginning|end)\s+of\s+)?(?:[a-z]+\s+)?{YEAR}\b")),
                |c| format!("since {}", &c[1]),
            ),
            (
                re(&format!(r"\b(?:in|during|throughout|for)\s+(?:(?:early|late|mid|all\s+of)\s+)?(?:[a-z]+\s+)?{YEAR}\b")),
                |c| c[1].to_string(),
            ),
            (
                re(r"\b(?:in|during|over|throughout)\s+the\s+(?:(?:early|late|mid)[\s-]+)?(\d{1,2}(?:st|nd|rd|th)|[a-z]+(?:teenth|tieth|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth))\s+centur(?:y|ies)\b"),
                |c| format!("{} century", c[1].to_lowercase()),
            ),
            (
                re(r"\b(?:in|during|over|throughout)\s+the\s+(?:(?:early|late|mid)[\s-]+)?((?:1[5-9]|20)\d0)'?s\b"),
                |c| format!("{}s", &c[1]),
            ),
            (
                re(r"\b(?:over|in|during|across|for)\s+(?:the\s+)?(?:(?:past|last|previous|next|coming)\s+)?((?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|several|many|few|a\s+few|the)\s+)?(centur(?:y|ies)|decades?|years|months|weeks)\b"),
                |c| {
                    let n = c.get(1).map(|m| m.as_str().trim().to_lowercase()).unwrap_or_default();
                    let unit = c[2].to_lowercase();
                    let n = match n.as_str() {
                        "a" | "one" | "the" => String::new(),
                        _ => n,
                    };
                    if n.is_empty() {
                        format!("over {unit}")
                    } else {
                        format!("over {n} {unit}")
                    }
                },
            ),
        ]
    });
    let mut out: Vec<Period> = Vec::new();
    for (re, name) in rules {
        for c in re.captures_iter(s) {
            let m = c.get(0).expect("whole match");
            // The first rule that covers a stretch names it: "between 2010 and 2020" is not
            // also "in 2020".
            if out
                .iter()
                .any(|(r, _)| r.start < m.end() && m.start() < r.end)
            {
                continue;
            }
            out.push((m.range(), name(&c)));
        }
    }
    out
}

/// Words that are capitalised without naming a place (months and weekdays aside).
const NOT_PLACES: &[&str] = &[
    "the", "a", "an", "his", "her", "their", "its", "this", "that", "total", "all", "addition",
    "response", "part", "fact", "recent", "court", "hospital",
];

/// "in Europe", "across the United States", "throughout West Africa": a preposition of place
/// and one to three capitalised words.
fn places(s: &str) -> Vec<(std::ops::Range<usize>, String)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"\b(?i:in|across|throughout|outside)\s+(?:(?i:the)\s+)?((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+){0,2})")
            .expect("static regex")
    });
    re.captures_iter(s)
        .filter_map(|c| {
            let name = c[1].to_string();
            let first = name.split(' ').next().unwrap_or("").to_lowercase();
            if [NOT_PLACES, MONTHS, WEEKDAYS]
                .iter()
                .any(|list| list.contains(&first.as_str()))
            {
                return None;
            }
            Some((c.get(0).expect("whole match").range(), name))
        })
        .collect()
}

/// A count of new cases, not a running total: "new cases", "daily deaths", "in the past 24
/// hours", "overnight", "a day".
fn counts_new(s: &str, start: usize, end: usize) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:new|daily|overnight|per\s+day|a\s+day|each\s+day|every\s+day|in\s+(?:the\s+)?(?:past|last)\s+(?:24|48|twenty-four)\s+hours|in\s+a\s+single\s+day)\b")
            .expect("static regex")
    });
    let mut from = start.saturating_sub(30);
    while !s.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (end + 40).min(s.len());
    while !s.is_char_boundary(to) {
        to += 1;
    }
    re.find_iter(&s[from..to]).any(|m| {
        // "New York", "New Delhi" are names.
        let word = &s[from + m.start()..from + m.end()];
        !(word.starts_with('N')
            && s[from + m.end()..].starts_with(' ')
            && s[from + m.end() + 1..].starts_with(char::is_uppercase))
    })
}

#[cfg(test)]
mod tests {
    use super::scope;

    fn of(sentence: &str, number: &str) -> String {
        let start = sentence.find(number).expect("number in sentence");
        scope(
            sentence,
            start,
            start + number.len(),
            |w| w == "texas",
            None,
        )
    }

    #[test]
    fn periods_are_named_the_same_however_written() {
        assert_eq!(
            of("Between 2010 and 2020, 800 people were killed.", "800"),
            "2010–2020"
        );
        assert_eq!(
            of("From 2010 to 2020 the disease killed 800 people.", "800"),
            "2010–2020"
        );
        assert_eq!(of("In 2010-20, 800 people died.", "800"), "2010–2020");
        assert_eq!(
            of("Since 2022, 3,000 soldiers have been killed.", "3,000"),
            "since 2022"
        );
        assert_eq!(
            of(
                "The plague killed 25 million in the 14th century.",
                "25 million"
            ),
            "14th century"
        );
        assert_eq!(
            of("Over the past decade, 1,200 people died.", "1,200"),
            "over decade"
        );
        assert_eq!(
            of("Over centuries, millions died of it.", "millions"),
            "over centuries"
        );
    }

    #[test]
    fn periods_long_past_are_history() {
        let history = |s: &str, n: &str| {
            let start = s.find(n).unwrap();
            super::historical(&super::periods(s), start, start + n.len())
        };
        assert!(history(
            "The plague killed 25 million in the 14th century.",
            "25 million"
        ));
        assert!(history(
            "Between 1347 and 1351, 25 million died.",
            "25 million"
        ));
        assert!(history("In the 1910s, 50 million died.", "50 million"));
        assert!(!history("Since 2022, 3,000 soldiers have died.", "3,000"));
        assert!(!history(
            "In the 21st century, 3,000 soldiers have died.",
            "3,000"
        ));
        assert!(!history("3,000 soldiers have died.", "3,000"));
    }

    #[test]
    fn hostile_text_never_carries_control_characters_into_a_scope() {
        let esc = "In Eu\u{1b}[31mrope\u{7}, since 2022\u{1b}]8;;http://x\u{7}, 4,000 new cases.";
        let start = esc.find("4,000").unwrap();
        let found = scope(esc, start, start + 5, |_| false, Some("Sp\u{1b}ain".into()));
        assert!(!found.chars().any(char::is_control), "{found:?}");
        // Long, multi-byte and degenerate text: no panic, a scope of bounded length.
        let long = format!(
            "{} 12 cases {}",
            "Ωmega in Ülm ".repeat(500),
            "ñ".repeat(500)
        );
        let start = long.find("12").unwrap();
        assert!(scope(&long, start, start + 2, |_| false, None).len() < 200);
        for (s, e) in [(0, 0), (0, 1)] {
            scope("1", s, e, |_| false, None);
        }
    }

    #[test]
    fn an_as_of_time_is_not_a_period() {
        assert_eq!(of("As of 6 a.m., 5,000 homes were destroyed.", "5,000"), "");
        assert_eq!(
            of("As of Tuesday, 5,000 homes were destroyed.", "5,000"),
            ""
        );
    }

    #[test]
    fn places_count_unless_the_topic_names_them() {
        assert_eq!(
            of("In Europe, 4,000 cases were reported.", "4,000"),
            "in Europe"
        );
        assert_eq!(of("Texas has 400 cases in total.", "400"), "");
        assert_eq!(of("There were 400 cases in Texas.", "400"), "");
        assert_eq!(of("There were 400 cases in March.", "400"), "");
    }

    #[test]
    fn new_counts_differ_from_totals() {
        assert_eq!(of("Officials reported 40 new cases.", "40"), "new");
        assert_eq!(
            of("There were 40 deaths in the past 24 hours.", "40"),
            "new"
        );
        assert_eq!(of("The outbreak has reached 400 cases.", "400"), "");
        assert_eq!(of("Cases in New York reached 400.", "400"), "in New York");
    }
}

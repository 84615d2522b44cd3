//! Why a number found is not a count (a year, a date, an age, money, a label…), and what
//! qualifies one that is ("as many as", a unit after it).

use super::*;

/// The ISO code of the currency an amount is written in: "$2bn", "€3-4 billion", "15 million
/// euros", "billions of dollars".
pub(super) fn currency(toks: &[Tok<'_>], r: &Raw) -> Option<&'static str> {
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
pub(super) const PARTS: &[&str] = &[
    "one", "half", "most", "some", "many", "none", "each", "several", "few", "majority",
    "minority", "third", "thirds", "quarter", "quarters", "fraction", "portion", "share",
    "percent", "%", "either", "neither", "any", "bulk", "rest",
];

/// Why a number is not a count, when it is not: a year, a date, a time, an age…
pub(super) fn excluded(sentence: &str, toks: &[Tok<'_>], r: &Raw) -> Option<&'static str> {
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
pub(super) fn describe(toks: &[Tok<'_>], r: &Raw) -> (Qualifier, Option<String>) {
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

pub(super) fn unit_after(toks: &[Tok<'_>], at: usize) -> Option<String> {
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

pub(super) fn words_at(toks: &[Tok<'_>], at: usize, words: &[&str]) -> bool {
    words
        .iter()
        .enumerate()
        .all(|(k, w)| toks.get(at + k).is_some_and(|t| t.lower == *w))
}

/// Byte ranges of phone numbers ("(555) 123-4567", "555-123-4567"), whose parts must not be
/// read as counts or ranges.
pub(super) fn phone_numbers(s: &str) -> Vec<std::ops::Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{3})[ .-]\d{3}[ .-]\d{4}\b|\b\d{3}-\d{4}\b|\+\d{1,3}(?:[ ./-]\d{2,5}){2,}",
        )
        .expect("static regex")
    });
    re.find_iter(s).map(|m| m.range()).collect()
}

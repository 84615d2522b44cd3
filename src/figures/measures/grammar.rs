//! The clause grammar the measure finder reads by: what joins two numbers as one list, what
//! stands between a number and its predicate (an apposition, an auxiliary, a hedge), and whether
//! a verb before a number states a level ("rose to 259") rather than a count.

use super::*;

/// True when the words between two numbers join the second to the first as a list of the
/// same count: "and", "or", "of them in the Eaton Fire and", "drones and", or as the level a
/// change led to ("rose by 36 to 259").
pub(super) fn joined(between: &str) -> bool {
    let lower = between.to_lowercase();
    let all: Vec<&str> = words(&lower).collect();
    let changed = || {
        all.iter().any(|w| {
            matches!(
                *w,
                "up" | "down"
                    | "rose"
                    | "risen"
                    | "fell"
                    | "increased"
                    | "decreased"
                    | "climbed"
                    | "jumped"
                    | "dropped"
                    | "declined"
                    | "higher"
                    | "lower"
                    | "increasing"
                    | "decreasing"
                    | "rising"
                    | "falling"
                    | "growing"
                    | "dropping"
                    | "climbing"
                    | "declining"
            )
        })
    };
    // The same count at another time, after a comma however long the clause before it:
    // "2,000 soldiers have died in the war, up from 600 in April", "31,003, compared with
    // 28,000"; or its change: "36,800 crossed, up 25%".
    let tail: Vec<&str> = words(lower.rsplit(',').next().unwrap_or_default()).collect();
    // "… was 777, down slightly from the record high of 799": a few words may name the
    // earlier value between "from" and the number.
    let from_earlier = tail
        .iter()
        .rposition(|w| *w == "from")
        .is_some_and(|at| tail.len() - at <= 5);
    let compared = match tail.as_slice() {
        [.., "compared", "with" | "to"] | ["up" | "down"] => true,
        [.., "from"] => changed(),
        _ => from_earlier && changed(),
    };
    compared
        || all.len() <= JOINED_MAX_WORDS
            && matches!(
                all.last(),
                Some(&("and" | "or" | "plus" | "to" | "versus" | "vs"))
            )
}

/// True when the text after a number makes it a part of the count before: "17 of them",
/// "40 of whom".
pub(super) fn part_of(after: &str) -> bool {
    let mut w = words(after).map(str::to_lowercase);
    w.next().as_deref() == Some("of")
        && matches!(
            w.next().as_deref(),
            Some("them" | "whom" | "those" | "which")
        )
}

/// Auxiliary verbs: a trigger right after one is the clause's predicate.
pub(super) const AUXILIARIES: &[&str] = &[
    "were", "was", "are", "is", "been", "be", "have", "has", "had", "being", "get", "got",
];

/// The first words of the predicate that follows a subject's apposition: after ", both
/// unvaccinated, have died" → "have died"; after ", including five children, were killed" →
/// "were killed". Empty when the text after the comma does not read as a predicate.
pub(super) fn predicate_after_apposition(rest: &str) -> Vec<String> {
    let starts_predicate = |w: &[String]| {
        w.first().is_some_and(|f| {
            AUXILIARIES.contains(&f.as_str())
                || f.ends_with("ed")
                || matches!(f.as_str(), "died" | "drowned" | "remain" | "remained")
        })
    };
    let mut segments = rest.split([',', ';', '(', ')', '—']).map(|seg| {
        words(&seg.to_lowercase())
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    let Some(first) = segments.next() else {
        return Vec::new();
    };
    let predicate = if starts_predicate(&first) {
        first
    } else if first.len() <= JOINED_MAX_WORDS {
        match segments.next() {
            Some(second) if starts_predicate(&second) => second,
            _ => return Vec::new(),
        }
    } else {
        return Vec::new();
    };
    predicate.into_iter().take(5).collect()
}

/// The most words between two numbers of one list.
pub(super) const JOINED_MAX_WORDS: usize = 8;

/// Qualifier words that may stand between a verb and its number ("reached about 300").
pub(super) const HEDGES: &[&str] = &[
    "more",
    "than",
    "about",
    "some",
    "nearly",
    "almost",
    "roughly",
    "around",
    "over",
    "least",
    "up",
    "an",
    "estimated",
    "approximately",
    "just",
    "under",
    "fewer",
    "less",
];

/// Also between a verb and its object number: "killed at least 31", "sent as many as 3,000",
/// "sent up to 2,000".
pub(super) fn immediate_hedge(w: &str) -> bool {
    HEDGES.contains(&w) || matches!(w, "at" | "to" | "as" | "many" | "much" | "a")
}

/// How far from the number a trigger may stand, in words.
pub(super) const AFTER_WORDS: usize = 12;
pub(super) const BEFORE_WORDS: usize = 4;

/// How far back a level verb lets us look for the subject, in words.
pub(super) const SUBJECT_WORDS: usize = 20;

/// Verbs and prepositions that put a number as the level something reached ("rose to",
/// "reached", "stands at"), with the hedges that may stand between them and the number.
/// A percentage after "is" is a property ("97% effective"), not a level, so copulas count only
/// for plain numbers.
pub(super) fn level_verb_before(before: &[String], percent: bool) -> bool {
    const LEVEL: &[&str] = &[
        "to",
        "reached",
        "reach",
        "reaching",
        "reaches",
        "at",
        "hit",
        "hits",
        "hitting",
        "totaled",
        "totalled",
        "totaling",
        "totalling",
        "topped",
        "surpassed",
        "exceeded",
        "passed",
        "numbered",
        "stood",
        "stands",
    ];
    const COPULAS: &[&str] = &["is", "was", "are", "were"];
    /// Adverbs that may stand between a level verb and its number: "is probably between".
    const ADVERBS: &[&str] = &[
        "probably",
        "now",
        "likely",
        "already",
        "still",
        "currently",
        "between",
        "from",
    ];
    /// Verbs of change: "rose by 36" counts what rose.
    const CHANGE: &[&str] = &[
        "rose",
        "risen",
        "rising",
        "increased",
        "grew",
        "jumped",
        "climbed",
        "fell",
        "dropped",
        "declined",
        "up",
        "down",
    ];
    /// Verbs that carry a level "to" a number: "rose to 400", "bringing the toll to 40".
    const TO_VERBS: &[&str] = &[
        "brought",
        "bringing",
        "brings",
        "bring",
        "raised",
        "raising",
        "raises",
        "pushed",
        "pushing",
        "pushes",
        "took",
        "taking",
        "takes",
        "lifted",
        "lifting",
        "grown",
        "soared",
        "surged",
        "swelled",
        "doubled",
        "tripled",
        "fallen",
        "increase",
        "increases",
        "rises",
        "climbs",
        "grows",
        "jumps",
        "falls",
        "drops",
        "revised",
        "updated",
        "put",
        "puts",
        "putting",
        "went",
        "gone",
        "going",
        "goes",
        "amount",
        "amounted",
        "amounts",
        "come",
        "came",
        "comes",
        "added",
        "adding",
        "climb",
        "rise",
        "grow",
        "jump",
        "fall",
        "drop",
        "decline",
        "declines",
        "reduced",
        "cut",
        "lowered",
        "decreased",
        "expanded",
        "expand",
    ];
    let mut words = before
        .iter()
        .rev()
        .filter(|w| !HEDGES.contains(&w.as_str()) && !ADVERBS.contains(&w.as_str()));
    match words.next().map(String::as_str) {
        Some("by") => words.next().is_some_and(|w| CHANGE.contains(&w.as_str())),
        // "To" gives a level only after a verb that moves one, or opening its clause ("has
        // doubled in two weeks, to 146"): "women to hundreds of buyers" names no level.
        Some("to") => {
            let rest: Vec<&String> = words.take(6).collect();
            rest.is_empty()
                || rest
                    .iter()
                    .any(|w| CHANGE.contains(&w.as_str()) || TO_VERBS.contains(&w.as_str()))
        }
        Some(w) => LEVEL.contains(&w) || !percent && COPULAS.contains(&w),
        None => false,
    }
}

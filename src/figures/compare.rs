//! Comparing two versions' figures, per (topic, measure, unit).
//!
//! A value the new version reports that the old one did not is news. When the old version had
//! figures for the same (topic, measure), the change is paired with the old figure whose
//! sentence is most like the new one (the same sentence, edited, in the common case), so
//! "3,000 → 4,000" is reported as one change and not as a loss and a gain. Values compare as
//! numbers, so "two" → "2", reworded sentences and moved paragraphs raise nothing.

use std::collections::HashSet;

use super::{Figure, FigureValue};

/// One reportable difference between two versions.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureChange {
    /// The figure in the new version.
    pub figure: Figure,
    /// The value it replaced; `None` when the (topic, measure) is new.
    pub old: Option<FigureValue>,
}

/// The figures of `new` that are new or changed against `old`, paired by (topic, measure, scope).
pub fn compare(old: &[Figure], new: &[Figure]) -> Vec<FigureChange> {
    // A percentage and a count of the same measure are different figures.
    let same_key =
        |a: &Figure, b: &Figure| a.topic == b.topic && a.measure == b.measure && a.unit == b.unit;
    let mut keys: Vec<&Figure> = Vec::new();
    for f in new {
        if !keys.iter().any(|k| same_key(k, f)) {
            keys.push(f);
        }
    }
    let mut changes = Vec::new();
    for key in keys {
        let before: Vec<&Figure> = old.iter().filter(|f| same_key(f, key)).collect();
        let after: Vec<&Figure> = new.iter().filter(|f| same_key(f, key)).collect();
        let in_list = |v: &FigureValue, list: &[&Figure]| list.iter().any(|f| f.value.same_as(v));
        // Each new value once, even if several sentences repeat it.
        let mut added: Vec<&Figure> = Vec::new();
        for f in &after {
            if !in_list(&f.value, &before) && !added.iter().any(|a| a.value.same_as(&f.value)) {
                added.push(f);
            }
        }
        if before.is_empty() {
            changes.extend(added.into_iter().map(|f| FigureChange {
                figure: f.clone(),
                old: None,
            }));
            continue;
        }
        let mut removed: Vec<&Figure> = before
            .iter()
            .copied()
            .filter(|f| !in_list(&f.value, &after))
            .collect();
        for f in added {
            // Prefer a value that disappeared; else the closest old figure still standing.
            let pool = if removed.is_empty() {
                &before
            } else {
                &removed
            };
            // The same sentence edited is one claim whatever else it says; otherwise only a
            // figure that covers the same period, place and kind is the value this one
            // replaced ("since 2022" is not "in the 14th century").
            let best = closest(pool.iter().copied(), f)
                .filter(|b| b.scope == f.scope || similarity(&b.quote, &f.quote) >= SAME_SENTENCE)
                .or_else(|| closest(pool.iter().copied().filter(|b| b.scope == f.scope), f));
            let Some(best) = best else {
                changes.push(FigureChange {
                    figure: f.clone(),
                    old: None,
                });
                continue;
            };
            removed.retain(|r| !std::ptr::eq(*r, best));
            changes.push(FigureChange {
                figure: f.clone(),
                old: Some(best.value.clone()),
            });
        }
    }
    changes
}

/// The figure of `list` whose sentence is most like `f`'s.
fn closest<'a>(list: impl Iterator<Item = &'a Figure>, f: &Figure) -> Option<&'a Figure> {
    list.max_by(|a, b| similarity(&a.quote, &f.quote).total_cmp(&similarity(&b.quote, &f.quote)))
}

/// How alike two sentences' words must be to be one sentence edited.
const SAME_SENTENCE: f64 = 0.6;

/// Word-set overlap (Jaccard) of two sentences, digits ignored.
fn similarity(a: &str, b: &str) -> f64 {
    let set = |s: &str| -> HashSet<String> {
        s.split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (set(a), set(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

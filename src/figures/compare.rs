//! Comparing two versions' figures, per (topic, measure).
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

pub fn compare(old: &[Figure], new: &[Figure]) -> Vec<FigureChange> {
    let mut changes = Vec::new();
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for f in new {
        if !keys.contains(&(f.topic.as_str(), f.measure.as_str())) {
            keys.push((&f.topic, &f.measure));
        }
    }
    for (topic, measure) in keys {
        let of_key = |fs: &'_ [Figure]| -> Vec<Figure> {
            fs.iter()
                .filter(|f| f.topic == topic && f.measure == measure)
                .cloned()
                .collect()
        };
        let before = of_key(old);
        let after = of_key(new);
        let in_list = |v: &FigureValue, list: &[Figure]| list.iter().any(|f| f.value.same_as(v));
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
            .filter(|f| !in_list(&f.value, &after))
            .collect();
        for f in added {
            // Prefer a value that disappeared; else the closest old figure still standing.
            let pool: Vec<&Figure> = if removed.is_empty() {
                before.iter().collect()
            } else {
                removed.clone()
            };
            let best = pool
                .iter()
                .max_by(|a, b| {
                    similarity(&a.quote, &f.quote).total_cmp(&similarity(&b.quote, &f.quote))
                })
                .copied()
                .expect("the pool is never empty");
            removed.retain(|r| !std::ptr::eq(*r, best));
            changes.push(FigureChange {
                figure: f.clone(),
                old: Some(best.value.clone()),
            });
        }
    }
    changes
}

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

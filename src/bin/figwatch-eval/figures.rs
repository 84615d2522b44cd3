//! `figwatch-eval figures DIR` scores figure extraction on `DIR/dev.jsonl` and version
//! comparison on `DIR/revisions.jsonl`, with the topics of `DIR/topics.toml`, by the rules of
//! the labelled data's FORMAT.md. It prints its numbers; it exits 0 (saying so) when the folder
//! is absent, so it can run anywhere.

use std::path::Path;

use figwatch::config::Config;
use figwatch::figures::{compare, FigureExtractor, FigureValue};
use serde::Deserialize;

use crate::{read_jsonl, Score};

#[derive(Deserialize)]
struct DevLine {
    id: String,
    text: String,
    figures: Vec<Gold>,
}

#[derive(Deserialize, Clone)]
pub struct Gold {
    pub topic: String,
    value: Option<f64>,
    lo: Option<f64>,
    hi: Option<f64>,
    vague: Option<String>,
    qualifier: String,
    measure: String,
    #[serde(default)]
    optional: bool,
}

impl Gold {
    pub fn value(&self) -> Option<FigureValue> {
        match (self.value, self.lo, self.hi, &self.vague) {
            (Some(v), _, _, _) => Some(FigureValue::Number(v)),
            (None, Some(lo), Some(hi), _) => Some(FigureValue::Range { lo, hi }),
            (None, _, _, Some(v)) => Some(FigureValue::Vague { vague: v.clone() }),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct RevisionLine {
    id: String,
    before: String,
    after: String,
    alerts: Vec<GoldAlert>,
}

#[derive(Deserialize, Debug)]
struct GoldAlert {
    topic: String,
    measure: String,
    old: Option<FigureValue>,
    new: FigureValue,
}

/// The targets: F1 at the three levels, precision at `value`, and alert precision and
/// recall on revisions.
const TARGET_F1: [f64; 3] = [0.95, 0.92, 0.85];
const TARGET_VALUE_PRECISION: f64 = 0.95;
const TARGET_ALERTS: f64 = 0.95;

pub fn run(dir: &Path, check: bool) -> anyhow::Result<()> {
    if !dir.join("dev.jsonl").exists() {
        println!(
            "{}: no labelled figure data here; nothing to evaluate",
            dir.display()
        );
        return Ok(());
    }
    let config = Config::load(&dir.join("topics.toml"))?;
    let extractor = FigureExtractor::new(&config.topics);
    let verbose = std::env::var_os("FIGWATCH_EVAL_VERBOSE").is_some();
    let known = KnownMeasures::new(&config.topics);

    // Figures: three levels of strictness, matched one to one per line.
    let mut levels = [Score::default(), Score::default(), Score::default()];
    let dev: Vec<DevLine> = read_jsonl(&dir.join("dev.jsonl"))?;
    let lines = dev.len();
    let started = std::time::Instant::now();
    for line in &dev {
        let found = extractor.extract(&line.text);
        if verbose {
            // Numbers passed over for want of a measure, and whether the labels count them.
            for r in extractor.passed_over(&line.text) {
                let labelled = line.figures.iter().any(|g| {
                    g.topic == r.topic && g.value().is_some_and(|v| v.same_as(&r.number.value))
                });
                println!(
                    "  UN {} {} {} labelled={labelled} ({})",
                    line.id, r.topic, r.number.value, r.why
                );
            }
        }
        score_line(
            &mut levels,
            &line.id,
            &found,
            &line.figures,
            &known,
            verbose,
        );
    }
    let elapsed = started.elapsed();
    println!(
        "figures on {} ({lines} lines, {:.0} lines/s):",
        dir.join("dev.jsonl").display(),
        lines as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    let mut below = Vec::new();
    for ((score, name), target) in levels
        .iter()
        .zip(["value", "qualified", "full"])
        .zip(TARGET_F1)
    {
        println!("  {}   [F1 >= {target}]", score.line(name));
        if score.f1() < target {
            below.push(format!("{name} F1"));
        }
    }
    if levels[0].precision() < TARGET_VALUE_PRECISION {
        below.push("value precision".into());
    }

    // Alerts across versions.
    let revisions: Vec<RevisionLine> = read_jsonl(&dir.join("revisions.jsonl"))?;
    let mut alerts = Score::default();
    let (mut silent, mut silent_ok) = (0, 0);
    for line in &revisions {
        let changes = compare(
            &extractor.extract(&line.before),
            &extractor.extract(&line.after),
        );
        let mut used = vec![false; line.alerts.len()];
        for c in &changes {
            let hit = (0..line.alerts.len()).find(|&i| {
                let g = &line.alerts[i];
                !used[i]
                    && g.topic == c.figure.topic
                    && g.measure == c.figure.measure
                    && g.new.same_as(&c.figure.value)
                    && match (&g.old, &c.old) {
                        (None, None) => true,
                        (Some(a), Some(b)) => a.same_as(b),
                        _ => false,
                    }
            });
            match hit {
                Some(i) => {
                    used[i] = true;
                    alerts.tp += 1;
                }
                None => {
                    alerts.fp += 1;
                    if verbose {
                        println!(
                            "  FP {} {}/{} {:?} -> {}",
                            line.id, c.figure.topic, c.figure.measure, c.old, c.figure.value
                        );
                    }
                }
            }
        }
        for (i, g) in line.alerts.iter().enumerate() {
            if !used[i] {
                alerts.fn_ += 1;
                if verbose {
                    println!("  FN {} {g:?}", line.id);
                }
            }
        }
        if line.alerts.is_empty() {
            silent += 1;
            silent_ok += changes.is_empty() as usize;
        }
    }
    println!("alerts on {}:", dir.join("revisions.jsonl").display());
    println!("  {}   [P, R >= {TARGET_ALERTS}]", alerts.line("alerts"));
    println!("  silent where no alert is due: {silent_ok} of {silent}");
    if alerts.precision() < TARGET_ALERTS || alerts.recall() < TARGET_ALERTS {
        below.push("alert precision or recall".into());
    }
    if check && !below.is_empty() {
        anyhow::bail!("figures below target: {}", below.join(", "));
    }
    Ok(())
}

/// The measure names a figure may carry and be scored by name: the built-in ones and each
/// topic's own. Any other (a measure named after what the sentence counts) scores as `other`.
pub struct KnownMeasures(
    std::collections::HashSet<(String, String)>,
    Vec<&'static str>,
);

impl KnownMeasures {
    pub fn new(topics: &[figwatch::config::Topic]) -> KnownMeasures {
        KnownMeasures(
            topics
                .iter()
                .flat_map(|t| t.measures.iter().map(|m| (t.id.clone(), m.name.clone())))
                .collect(),
            figwatch::figures::built_in_names().collect(),
        )
    }

    /// The measure as scored.
    pub fn scored<'a>(&self, topic: &str, measure: &'a str) -> &'a str {
        let known =
            self.1.contains(&measure) || self.0.contains(&(topic.to_string(), measure.to_string()));
        if known {
            measure
        } else {
            "other"
        }
    }
}

/// Matches one line's figures against its labels, one to one, at the three levels
/// (`value`, `qualified`, `full`); a match with an `optional` label counts neither way.
pub fn score_line(
    levels: &mut [Score; 3],
    id: &str,
    found: &[figwatch::figures::Figure],
    gold: &[Gold],
    known: &KnownMeasures,
    verbose: bool,
) {
    let line = Line { id, figures: gold };
    for (level, score) in levels.iter_mut().enumerate() {
        let matches = |f: &figwatch::figures::Figure, g: &Gold| {
            g.topic == f.topic
                && g.value().is_some_and(|v| v.same_as(&f.value))
                && (level < 1 || g.qualifier == f.qualifier.as_str())
                && (level < 2 || g.measure == known.scored(&f.topic, &f.measure))
        };
        let mut used = vec![false; line.figures.len()];
        for f in found {
            match (0..line.figures.len()).find(|&i| !used[i] && matches(f, &line.figures[i])) {
                Some(i) => {
                    used[i] = true;
                    if !line.figures[i].optional {
                        score.tp += 1;
                    }
                }
                None => {
                    score.fp += 1;
                    if verbose && level == 2 {
                        println!(
                            "  FP {} {}/{} {} [{}]  “{}”",
                            line.id,
                            f.topic,
                            f.measure,
                            f.value,
                            f.qualifier.as_str(),
                            f.quote
                        );
                    }
                }
            }
        }
        for (i, g) in line.figures.iter().enumerate() {
            if !used[i] && !g.optional {
                score.fn_ += 1;
                if verbose && level == 2 {
                    println!(
                        "  FN {} {}/{} {:?} [{}]",
                        line.id,
                        g.topic,
                        g.measure,
                        g.value(),
                        g.qualifier
                    );
                }
            }
        }
    }
}

struct Line<'a> {
    id: &'a str,
    figures: &'a [Gold],
}

//! `figwatch-eval figures DIR` scores figure extraction on `DIR/dev.jsonl` and version
//! comparison on `DIR/revisions.jsonl`, with the topics of `DIR/topics.toml`, by the rules of
//! the labelled data's FORMAT.md. It prints its numbers; it exits 0 (saying so) when the folder
//! is absent, so it can run anywhere.

use std::path::Path;

use anyhow::Context;
use figwatch::config::Config;
use figwatch::figures::{compare, FigureExtractor, FigureValue};
use serde::Deserialize;

#[derive(Deserialize)]
struct DevLine {
    id: String,
    text: String,
    figures: Vec<Gold>,
}

#[derive(Deserialize, Clone)]
struct Gold {
    topic: String,
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
    fn value(&self) -> Option<FigureValue> {
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

#[derive(Default)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Score {
    fn line(&self, name: &str) -> String {
        let p = ratio(self.tp, self.tp + self.fp);
        let r = ratio(self.tp, self.tp + self.fn_);
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        format!(
            "{name:<10} precision {p:.3}  recall {r:.3}  F1 {f:.3}   (tp {}, fp {}, fn {})",
            self.tp, self.fp, self.fn_
        )
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn same_value(a: &FigureValue, b: &FigureValue) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
    match (a, b) {
        (FigureValue::Number(x), FigureValue::Number(y)) => close(*x, *y),
        (FigureValue::Range { lo: a, hi: b }, FigureValue::Range { lo: c, hi: d }) => {
            close(*a, *c) && close(*b, *d)
        }
        _ => a.same_as(b),
    }
}

pub fn run(dir: &Path) -> anyhow::Result<()> {
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

    // Figures: three levels of strictness, matched one to one per line.
    let mut levels = [Score::default(), Score::default(), Score::default()];
    let dev = std::fs::read_to_string(dir.join("dev.jsonl")).context("dev.jsonl")?;
    let mut lines = 0;
    let started = std::time::Instant::now();
    for (n, raw) in dev
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line: DevLine =
            serde_json::from_str(raw).with_context(|| format!("dev.jsonl line {}", n + 1))?;
        lines += 1;
        let found = extractor.extract(&line.text);
        for (level, score) in levels.iter_mut().enumerate() {
            let matches = |f: &figwatch::figures::Figure, g: &Gold| {
                g.topic == f.topic
                    && g.value().is_some_and(|v| same_value(&v, &f.value))
                    && (level < 1 || g.qualifier == f.qualifier.as_str())
                    && (level < 2 || g.measure == f.measure)
            };
            let mut used = vec![false; line.figures.len()];
            for f in &found {
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
                                "  FP {} {}/{} {} [{}]",
                                line.id,
                                f.topic,
                                f.measure,
                                f.value,
                                f.qualifier.as_str()
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
    let elapsed = started.elapsed();
    println!(
        "figures on {} ({lines} lines, {:.0} lines/s):",
        dir.join("dev.jsonl").display(),
        lines as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    for (score, name) in levels.iter().zip(["value", "qualified", "full"]) {
        println!("  {}", score.line(name));
    }

    // Alerts across versions.
    let revisions =
        std::fs::read_to_string(dir.join("revisions.jsonl")).context("revisions.jsonl")?;
    let mut alerts = Score::default();
    let (mut silent, mut silent_ok) = (0, 0);
    for (n, raw) in revisions
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line: RevisionLine =
            serde_json::from_str(raw).with_context(|| format!("revisions.jsonl line {}", n + 1))?;
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
                    && same_value(&g.new, &c.figure.value)
                    && match (&g.old, &c.old) {
                        (None, None) => true,
                        (Some(a), Some(b)) => same_value(a, b),
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
    println!("  {}", alerts.line("alerts"));
    println!("  silent where no alert is due: {silent_ok} of {silent}");
    Ok(())
}

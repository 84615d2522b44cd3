//! `figwatch-eval articles DIR` scores figure extraction on whole real articles
//! (`DIR/articles.jsonl`, topics in `DIR/articles-topics.toml`): each article's figures are
//! de-duplicated by (topic, value, qualifier, measure, unit), then scored like the sentence set
//! at the three levels, with the article as the line (FORMAT.md, "Whole articles").
//!
//! The targets (value precision ≥ 0.90 and recall ≥ 0.85, full F1 ≥ 0.80) are printed
//! beside the numbers; `--check` fails below the targets, or below the results reached where
//! those are higher, so that no change makes whole articles worse.

use std::collections::HashSet;
use std::path::Path;

use figwatch::config::Config;
use figwatch::figures::FigureExtractor;
use serde::Deserialize;

use crate::figures::{score_line, Gold, KnownMeasures};
use crate::{read_jsonl, Score};

#[derive(Deserialize)]
struct ArticleLine {
    id: String,
    text: String,
    figures: Vec<Gold>,
}

/// The targets.
const TARGET_VALUE_PRECISION: f64 = 0.90;
const TARGET_VALUE_RECALL: f64 = 0.85;
const TARGET_FULL_F1: f64 = 0.80;

/// What `--check` holds: the targets, or today's results less a margin of one figure's worth
/// where those are higher (precision is at its target, with no margin).
const FLOOR_VALUE_PRECISION: f64 = 0.90;
const FLOOR_VALUE_RECALL: f64 = 0.87;
const FLOOR_FULL_F1: f64 = 0.87;

pub fn run(dir: &Path, check: bool) -> anyhow::Result<()> {
    let data = dir.join("articles.jsonl");
    if !data.exists() {
        println!(
            "{}: no labelled whole articles here; nothing to evaluate",
            dir.display()
        );
        return Ok(());
    }
    let config = Config::load(&dir.join("articles-topics.toml"))?;
    let extractor = FigureExtractor::new(&config.topics);
    let known = KnownMeasures::new(&config.topics);
    let verbose = std::env::var_os("FIGWATCH_EVAL_VERBOSE").is_some();
    let articles: Vec<ArticleLine> = read_jsonl(&data)?;
    let mut levels = [Score::default(), Score::default(), Score::default()];
    let mut bytes = 0;
    let started = std::time::Instant::now();
    for a in &articles {
        bytes += a.text.len();
        let mut seen = HashSet::new();
        let found: Vec<_> = extractor
            .extract(&a.text)
            .into_iter()
            .filter(|f| {
                seen.insert((
                    f.topic.clone(),
                    f.value.to_string(),
                    f.qualifier.as_str(),
                    f.measure.clone(),
                    f.unit.clone(),
                ))
            })
            .collect();
        score_line(&mut levels, &a.id, &found, &a.figures, &known, verbose);
    }
    let elapsed = started.elapsed();
    println!(
        "figures on {} ({} articles, {:.1} MB/s):",
        data.display(),
        articles.len(),
        bytes as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9)
    );
    let [value, qualified, full] = &levels;
    println!(
        "  {}   [P >= {TARGET_VALUE_PRECISION}, R >= {TARGET_VALUE_RECALL}]",
        value.line("value")
    );
    println!("  {}", qualified.line("qualified"));
    println!("  {}   [F1 >= {TARGET_FULL_F1}]", full.line("full"));
    let met = value.precision() >= TARGET_VALUE_PRECISION
        && value.recall() >= TARGET_VALUE_RECALL
        && full.f1() >= TARGET_FULL_F1;
    println!(
        "  targets {}; --check holds the floors value P >= {FLOOR_VALUE_PRECISION}, R >= {FLOOR_VALUE_RECALL}, full F1 >= {FLOOR_FULL_F1}",
        if met { "met" } else { "not met yet" }
    );
    let mut below = Vec::new();
    if value.precision() < FLOOR_VALUE_PRECISION {
        below.push("value precision");
    }
    if value.recall() < FLOOR_VALUE_RECALL {
        below.push("value recall");
    }
    if full.f1() < FLOOR_FULL_F1 {
        below.push("full F1");
    }
    if check && !below.is_empty() {
        anyhow::bail!("whole articles below their floor: {}", below.join(", "));
    }
    Ok(())
}

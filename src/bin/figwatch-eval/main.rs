//! Evaluation of figwatch's stages on labelled data, printed with their numbers.
//!
//! - `figwatch-eval figures [DIR]`: figure extraction and alerts (DIR: `../shared/figures`).
//! - `figwatch-eval articles [DIR]`: figure extraction on whole real articles (DIR:
//!   `../shared/figures`); with `--e2e`, served as one local site and polled once by the real
//!   binary, its alerts checked against the labels.
//! - `figwatch-eval extraction [--folds N] [DIR]`: article extraction (DIR:
//!   `../shared/extraction`); with `--folds`, the trafilatura set's scores per fold of sites.
//! - `figwatch-eval speed [SHARED]`: figure extraction speed in MB/s (SHARED: `../shared`).
//! - `figwatch-eval robustness [SHARED]`: every feed and page of the corpora through the
//!   parsers, counted as parsed, rejected or panicked.
//! - `figwatch-eval numbers [DIR]`: number recognition on the Recognizers-Text specs (DIR:
//!   `../shared/numbers/recognizers`).
//!
//! Each says so and exits 0 when its folder is absent. `--check` makes a run fail (exit 1)
//! when a result is below the project's targets, for CI.

mod articles;
mod e2e;
mod extraction;
// The end-to-end suite's news site (tests/common), for the end-to-end evaluation.
mod figures;
#[path = "../../../tests/common/localhttp.rs"]
mod localhttp;
mod numbers;
mod robustness;
mod speed;
mod versus;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let rest: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--check")
        .collect();
    let result = match rest.as_slice() {
        ["figures", dir @ ..] if dir.len() <= 1 => figures::run(
            Path::new(dir.first().copied().unwrap_or("../shared/figures")),
            check,
        ),
        ["articles", "--e2e", dir @ ..] if dir.len() <= 1 => e2e::run(
            Path::new(dir.first().copied().unwrap_or("../shared/figures")),
            check,
        ),
        ["articles", dir @ ..] if dir.len() <= 1 => articles::run(
            Path::new(dir.first().copied().unwrap_or("../shared/figures")),
            check,
        ),
        ["extraction", "--folds", n, dir @ ..] if dir.len() <= 1 => match n.parse() {
            Ok(folds) if folds >= 2 => extraction::run(
                Path::new(dir.first().copied().unwrap_or("../shared/extraction")),
                check,
                Some(folds),
            ),
            _ => Err(anyhow::anyhow!(
                "--folds takes a number of folds, 2 or more, not {n:?}"
            )),
        },
        ["extraction", dir @ ..] if dir.len() <= 1 => extraction::run(
            Path::new(dir.first().copied().unwrap_or("../shared/extraction")),
            check,
            None,
        ),
        ["numbers", dir @ ..] if dir.len() <= 1 => numbers::run(
            Path::new(
                dir.first()
                    .copied()
                    .unwrap_or("../shared/numbers/recognizers"),
            ),
            check,
        ),
        ["robustness", dir @ ..] if dir.len() <= 1 => robustness::run(
            Path::new(dir.first().copied().unwrap_or("../shared")),
            check,
        ),
        ["speed", dir @ ..] if dir.len() <= 1 => speed::run(
            Path::new(dir.first().copied().unwrap_or("../shared")),
            check,
        ),
        _ => {
            eprintln!(
                "usage: figwatch-eval figures [DIR] | articles [--e2e] [DIR] | extraction [--folds N] [DIR] | numbers [DIR] | speed [SHARED] | robustness [SHARED] [--check]"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("figwatch-eval: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Counts of one matching of found items against labelled ones.
#[derive(Default)]
pub struct Score {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }

    /// `name  precision …  recall …  F1 …   (tp …, fp …, fn …)`
    pub fn line(&self, name: &str) -> String {
        format!(
            "{name:<10} precision {:.3}  recall {:.3}  F1 {:.3}   (tp {}, fp {}, fn {})",
            self.precision(),
            self.recall(),
            self.f1(),
            self.tp,
            self.fp,
            self.fn_
        )
    }
}

pub fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The records of a JSON Lines file, with the line number in any error.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).with_context(|| format!("{} line {}", path.display(), n + 1))
        })
        .collect()
}

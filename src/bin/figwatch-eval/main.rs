//! Evaluation of figwatch's stages on labelled data, printed with their numbers.
//!
//! - `figwatch-eval figures [DIR]`: figure extraction and alerts (DIR: `../shared/figures`).
//! - `figwatch-eval extraction [DIR]`: article extraction (DIR: `../shared/extraction`).
//!
//! Each says so and exits 0 when its folder is absent. `--check` makes a run fail (exit 1)
//! when a result is below the project's targets, for CI.

mod extraction;
mod figures;

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let rest: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--check")
        .collect();
    let result = match rest.as_slice() {
        ["figures", dir @ ..] if dir.len() <= 1 => figures::run(Path::new(
            dir.first().copied().unwrap_or("../shared/figures"),
        )),
        ["extraction", dir @ ..] if dir.len() <= 1 => extraction::run(
            Path::new(dir.first().copied().unwrap_or("../shared/extraction")),
            check,
        ),
        _ => {
            eprintln!("usage: figwatch-eval figures [DIR] | extraction [DIR] [--check]");
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

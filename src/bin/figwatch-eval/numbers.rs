//! `figwatch-eval numbers DIR` scores number recognition on Microsoft Recognizers-Text's
//! English specs: the integer and decimal cases of `NumberModel.json` (scale words included;
//! fractions and powers are not figures a news story counts with), `NumberRangeModel.json` and
//! `PercentModel.json`. A case is exact when figwatch finds exactly the expected values, no
//! more and no fewer; a case with no expected result is exact when nothing is found.
//!
//! Scoring choices, so the number can be read: cases marked not supported on .NET are
//! skipped; a two-sided range is compared by its ends (figwatch keeps a range's ends, not
//! whether each is open or closed); "[20,20]" equals 20; the range spec is scored on the
//! bounds, ranges and stated equalities found, not on every plain number of its sentences.

use std::path::Path;

use figwatch::figures::{recognize_numbers, FigureValue, NumberMention, Qualifier};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    #[serde(rename = "Input")]
    input: String,
    #[serde(rename = "Results", default)]
    results: Vec<Expected>,
    #[serde(rename = "NotSupported", default)]
    not_supported: Option<String>,
}

#[derive(Deserialize)]
struct Expected {
    #[serde(rename = "Resolution", default)]
    resolution: Option<Resolution>,
}

#[derive(Deserialize)]
struct Resolution {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    subtype: Option<String>,
}

/// One model's tally.
struct Tally {
    name: &'static str,
    cases: usize,
    exact: usize,
    misses: Vec<String>,
}

/// Which target `check` compares with.
pub const TARGET: f64 = 0.90;

pub fn run(dir: &Path, check: bool) -> anyhow::Result<()> {
    if !dir.join("NumberModel.json").exists() {
        println!(
            "{}: no Recognizers-Text specs here; nothing to evaluate",
            dir.display()
        );
        return Ok(());
    }
    let verbose = std::env::var_os("FIGWATCH_EVAL_VERBOSE").is_some();
    let mut tallies = Vec::new();
    for (name, file) in [
        ("numbers", "NumberModel.json"),
        ("ranges", "NumberRangeModel.json"),
        ("percent", "PercentModel.json"),
    ] {
        let text = std::fs::read_to_string(dir.join(file))?;
        let cases: Vec<Case> = serde_json::from_str(text.trim_start_matches('\u{feff}'))?;
        let mut tally = Tally {
            name,
            cases: 0,
            exact: 0,
            misses: Vec::new(),
        };
        for case in cases {
            let skipped = case
                .not_supported
                .as_deref()
                .is_some_and(|n| n.contains("dotnet"));
            // Fractions and powers of ten are out of scope (see the module comment).
            let counted = case.results.iter().all(|r| {
                r.resolution
                    .as_ref()
                    .and_then(|r| r.subtype.as_deref())
                    .is_none_or(|s| s == "integer" || s == "decimal")
            });
            if skipped || !counted {
                continue;
            }
            let expected: Vec<String> = case
                .results
                .iter()
                .filter_map(|r| r.resolution.as_ref()?.value.clone())
                .map(|v| normalise(&v))
                .collect();
            // Ranges and percentages are read as figures are (years and phone numbers are not
            // range ends); the number model tests recognition of every number.
            let mentions = recognize_numbers(&case.input);
            // The range model reports bounds, ranges and stated equalities ("equals 20"), not
            // every plain number of the sentence.
            let stated = |n: &&NumberMention| {
                let before = case.input[..n.start].to_lowercase();
                let before = before.trim_end();
                name != "ranges"
                    || !matches!(n.qualifier, Qualifier::Exact | Qualifier::Approx)
                    || ["equal to", "equals to", "equals", "equaling to", "equal"]
                        .iter()
                        .any(|e| before.ends_with(e))
            };
            let found: Vec<String> = mentions
                .iter()
                .filter(stated)
                .filter(|n| (name == "percent") == (n.unit.as_deref() == Some("percent")))
                .map(|n| resolution(n, name))
                .collect();
            tally.cases += 1;
            let mut a = expected.clone();
            let mut b = found.clone();
            a.sort();
            b.sort();
            if a == b {
                tally.exact += 1;
            } else {
                tally.misses.push(format!(
                    "{:?}: expected {expected:?}, found {found:?}",
                    case.input
                ));
            }
        }
        tallies.push(tally);
    }
    let mut failed = false;
    println!(
        "number recognition on {} (Recognizers-Text specs):",
        dir.display()
    );
    for t in &tallies {
        let share = t.exact as f64 / t.cases.max(1) as f64;
        failed |= share < TARGET;
        println!(
            "  {:<8} {} of {} cases exact = {:.3}   [>= {TARGET}]",
            t.name, t.exact, t.cases, share
        );
        if verbose {
            for m in &t.misses {
                println!("    MISS {m}");
            }
        }
    }
    if check && failed {
        anyhow::bail!("number recognition is below its target");
    }
    Ok(())
}

/// A found number written as the specs write their values: "4000", "0.5", "20%", "[20,30)".
fn resolution(n: &NumberMention, model: &str) -> String {
    let plain = |v: f64| normalise(&format!("{v}"));
    match (&n.value, model) {
        (FigureValue::Number(v), "percent") => format!("{}%", plain(*v)),
        (FigureValue::Number(v), "ranges") => match n.qualifier {
            Qualifier::MoreThan => format!("({},)", plain(*v)),
            Qualifier::AtLeast => format!("[{},)", plain(*v)),
            Qualifier::LessThan => format!("(,{})", plain(*v)),
            Qualifier::AtMost => format!("(,{}]", plain(*v)),
            _ => plain(*v),
        },
        (FigureValue::Number(v), _) => plain(*v),
        (FigureValue::Range { lo, hi }, _) => format!("{},{}", plain(*lo), plain(*hi)),
        // "a small percent": recognised, with no value (the specs write null).
        (FigureValue::Vague { vague }, "percent") if vague == "percent" => "null".into(),
        (FigureValue::Vague { vague }, _) => vague.clone(),
    }
}

/// "4000.0" → "4000", "1E-05" stays; trims trailing zeros of decimals so that spellings agree.
/// A two-sided range keeps only its ends ("(20,35]" → "20,35"): figwatch keeps a range's ends,
/// not whether each is open or closed.
fn normalise(v: &str) -> String {
    let v = v.trim();
    if let Some(inner) = v
        .strip_prefix(['(', '['])
        .and_then(|x| x.strip_suffix([')', ']']))
    {
        if let Some((lo, hi)) = inner.split_once(',') {
            if !lo.is_empty() && !hi.is_empty() && lo != hi {
                return format!("{},{}", normalise(lo), normalise(hi));
            }
            // "[20,20]": exactly 20.
            if lo == hi && v.starts_with('[') && v.ends_with(']') {
                return normalise(lo);
            }
        }
    }
    match v.parse::<f64>() {
        Ok(x) if !v.contains(['E', 'e']) => {
            let s = format!("{x}");
            s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
        }
        _ => v.to_string(),
    }
}

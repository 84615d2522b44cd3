//! `figwatch figures`: the ledger of reported values (what the store knows), what would be
//! extracted from a text (for tuning topics), and the batch interfaces for scripts and
//! evaluation (`--jsonl`, `--revisions`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use figwatch::config::{Config, Topic};
use figwatch::figures::{compare, FigureExtractor, FigureValue};
use figwatch::store::{LedgerEntry, Store};

/// What `figwatch figures` was asked to do.
#[derive(clap::Args, Debug, Clone)]
pub struct FiguresArgs {
    /// Only this topic id
    #[arg(long)]
    pub topic: Option<String>,
    /// JSON Lines, one figure a line
    #[arg(long)]
    pub json: bool,
    /// Show the figures in this text ("-": standard input)
    #[arg(long, conflicts_with_all = ["file", "jsonl", "revisions"])]
    pub text: Option<String>,
    /// Show the figures in this file
    #[arg(long, conflicts_with_all = ["jsonl", "revisions"])]
    pub file: Option<PathBuf>,
    /// Read [[topics]] from this TOML file instead of the configuration
    #[arg(long, value_name = "FILE")]
    pub topics: Option<PathBuf>,
    /// Batch: JSON Lines {"id","text"[,"lang"]} in ("-": standard input), {"id","figures":[…]} out
    #[arg(long, value_name = "INPUT", conflicts_with = "revisions")]
    pub jsonl: Option<PathBuf>,
    /// Batch: JSON Lines {"id","before","after"} in, {"id","alerts":[…]} out
    #[arg(long, value_name = "INPUT")]
    pub revisions: Option<PathBuf>,
}

impl FiguresArgs {
    /// True when the command reads a text, not the store.
    pub fn reads_input(&self) -> bool {
        self.text.is_some()
            || self.file.is_some()
            || self.jsonl.is_some()
            || self.revisions.is_some()
    }
}

/// Runs the text and batch forms: they need topics but no store.
pub fn run_on_input(args: &FiguresArgs, config_path: &Path) -> anyhow::Result<()> {
    let topics = load_topics(args.topics.as_deref().unwrap_or(config_path))?;
    let extractor = FigureExtractor::new(&topics);
    let mut out = super::stdout();
    if let Some(input) = &args.jsonl {
        return batch(input, &mut out, |line: TextLine| {
            let figures = extractor.extract_lang(&line.text, line.lang.as_deref());
            let records: Vec<_> = figures.iter().map(|f| f.record()).collect();
            let line = FiguresOut {
                id: line.id,
                figures: records,
            };
            serde_json::to_vec(&line)
        });
    }
    if let Some(input) = &args.revisions {
        return batch(input, &mut out, |line: RevisionLine| {
            let changes = compare(
                &extractor.extract(&line.before),
                &extractor.extract(&line.after),
            );
            let alerts = changes
                .into_iter()
                .map(|c| AlertOut {
                    topic: c.figure.topic,
                    measure: c.figure.measure,
                    old: c.old,
                    new: c.figure.value,
                })
                .collect();
            serde_json::to_vec(&AlertsOut {
                id: line.id,
                alerts,
            })
        });
    }
    let text = match (&args.text, &args.file) {
        (Some(t), _) if t == "-" => read_stdin()?,
        (Some(t), _) => t.clone(),
        (None, Some(f)) => {
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?
        }
        (None, None) => unreachable!("reads_input() was checked"),
    };
    show_text(&extractor, &text, args.json, &mut out)
}

/// The ledger form: `figwatch figures [--topic ID] [--json]`.
pub fn ledger(store: &Store, config: &Config, args: &FiguresArgs) -> anyhow::Result<()> {
    if let Some(t) = &args.topic {
        if !config.topics.iter().any(|c| &c.id == t) {
            let known: Vec<&str> = config.topics.iter().map(|c| c.id.as_str()).collect();
            bail!(
                "no topic {t:?} in {}; configured topics: {}",
                config.path.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
    }
    let entries = store.ledger(args.topic.as_deref())?;
    let mut out = super::stdout();
    if args.json {
        for e in &entries {
            serde_json::to_writer(&mut out, e)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    print_ledger(&entries, &mut out)
}

/// The timeline, grouped by topic and measure: one line per value, its sources below.
pub fn print_ledger(entries: &[LedgerEntry], out: &mut impl Write) -> anyhow::Result<()> {
    if entries.is_empty() {
        writeln!(out, "no figures reported yet")?;
        return Ok(());
    }
    let mut group: Option<(&str, &str)> = None;
    for e in entries {
        if group != Some((&e.topic, &e.measure)) {
            if group.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{} · {}", e.topic, e.measure)?;
            group = Some((&e.topic, &e.measure));
        }
        let unit = figwatch::alerts::unit_suffix(e.unit.as_deref());
        let when = e
            .first_seen_at
            .get(..16)
            .unwrap_or(&e.first_seen_at)
            .replace('T', " ");
        let claimant = e
            .claimant
            .as_deref()
            .map(|c| format!("; {c}"))
            .unwrap_or_default();
        let scope = if e.scope.is_empty() {
            String::new()
        } else {
            format!(" {}", e.scope)
        };
        let sites: Vec<&str> = e.sources.iter().map(|s| s.site.as_str()).collect();
        writeln!(
            out,
            "  {when}Z  {}{unit}{scope} ({}{claimant})  {}",
            e.value,
            e.qualifier,
            sites.join(", ")
        )?;
        writeln!(out, "      \"{}\"", ellipsis(&e.quote, 160))?;
    }
    Ok(())
}

/// What `--text` shows: the figures, then the numbers of topic sentences that were passed
/// over, so a person tuning a topic sees both.
fn show_text(
    extractor: &FigureExtractor,
    text: &str,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let figures = extractor.extract(text);
    if json {
        for f in &figures {
            serde_json::to_writer(&mut *out, &f.record())?;
            writeln!(out)?;
        }
        return Ok(());
    }
    if figures.is_empty() {
        writeln!(out, "no figures")?;
    }
    for f in &figures {
        let unit = if f.unit.as_deref() == Some("percent") {
            "%"
        } else {
            ""
        };
        let mut notes = vec![f.qualifier.as_str().to_string()];
        if !f.scope.is_empty() {
            notes.push(f.scope.clone());
        }
        notes.extend(f.claimant.clone());
        if f.speculative {
            notes.push("speculative".into());
        }
        writeln!(
            out,
            "{} · {} · {}{unit} ({})",
            f.topic,
            f.measure,
            f.value,
            notes.join("; ")
        )?;
        writeln!(out, "    \"{}\"", ellipsis(&f.quote, 200))?;
    }
    let passed_over = extractor.passed_over(text);
    if !passed_over.is_empty() {
        writeln!(out, "\nnumbers in topic sentences passed over, and why:")?;
        for p in passed_over {
            writeln!(
                out,
                "  {} · {}: {} — \"{}\"",
                p.topic,
                &p.sentence[p.number.start..p.number.end],
                p.why,
                ellipsis(p.sentence, 160)
            )?;
        }
    }
    Ok(())
}

fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

/// The `[[topics]]` of any TOML file: a full configuration or a topics-only file.
fn load_topics(path: &Path) -> anyhow::Result<Vec<Topic>> {
    let config = Config::load(path)?;
    if config.topics.is_empty() {
        bail!(
            "{}: no [[topics]] defined; add one or name a topics file with --topics",
            path.display()
        );
    }
    Ok(config.topics)
}

#[derive(Deserialize)]
struct TextLine {
    id: serde_json::Value,
    text: String,
    /// Optional language code: "4.000" is four thousand in a `de` text.
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Deserialize)]
struct RevisionLine {
    id: serde_json::Value,
    before: String,
    after: String,
}

#[derive(Serialize)]
struct FiguresOut<'a> {
    id: serde_json::Value,
    figures: Vec<figwatch::figures::FigureRecord<'a>>,
}

#[derive(Serialize)]
struct AlertsOut {
    id: serde_json::Value,
    alerts: Vec<AlertOut>,
}

#[derive(Serialize)]
struct AlertOut {
    topic: String,
    measure: String,
    old: Option<FigureValue>,
    new: FigureValue,
}

/// Reads JSON Lines from `input` ("-": standard input) and writes one line per input line.
/// A line that cannot be read is reported with its file and line number, and the rest go on;
/// the command then fails, so a script notices.
fn batch<T: serde::de::DeserializeOwned>(
    input: &Path,
    out: &mut impl Write,
    mut each: impl FnMut(T) -> serde_json::Result<Vec<u8>>,
) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(input)
                .with_context(|| format!("cannot open {}", input.display()))?,
        ))
    };
    let mut bad = 0;
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: cannot read", input.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(&line) {
            Ok(item) => {
                out.write_all(&each(item)?)?;
                writeln!(out)?;
            }
            Err(e) => {
                bad += 1;
                eprintln!("figwatch: {}:{}: skipped: {e}", input.display(), n + 1);
            }
        }
    }
    out.flush()?;
    if bad > 0 {
        bail!(
            "{}: {bad} line(s) could not be read (see above)",
            input.display()
        );
    }
    Ok(())
}

fn read_stdin() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .context("cannot read standard input")?;
    Ok(text)
}

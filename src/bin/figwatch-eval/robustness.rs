//! `figwatch-eval robustness [SHARED]`: every feed of `SHARED/feeds` through feed parsing, and
//! every page of `SHARED/extraction` through article and figure extraction. Each input is
//! counted as parsed, rejected (with its reason) or panicked; with `--check`, any panic that
//! got past figwatch's own guards fails the run.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use figwatch::config::Config;
use figwatch::feed::{self, FeedError};
use figwatch::figures::FigureExtractor;
use figwatch::{demo, extract};

#[derive(Default)]
struct Tally {
    parsed: usize,
    /// Reason (its first words) → how many, and one file as an example.
    rejected: BTreeMap<String, (usize, PathBuf)>,
    /// Panics a third-party parser raised and figwatch caught (the source gets a clear error).
    caught: Vec<PathBuf>,
    /// Panics that reached figwatch's caller: bugs.
    panicked: Vec<PathBuf>,
}

impl Tally {
    fn reject(&mut self, reason: &str, file: &Path) {
        // Group "line 3, column 7: …" style messages by their kind, not their position.
        let kind: String = reason
            .split(|c: char| c.is_ascii_digit() || c == ':' || c == '(')
            .next()
            .unwrap_or(reason)
            .trim()
            .chars()
            .take(60)
            .collect();
        let entry = self.rejected.entry(kind).or_insert((0, file.to_path_buf()));
        entry.0 += 1;
    }

    fn rejected(&self) -> usize {
        self.rejected.values().map(|(n, _)| n).sum()
    }

    fn print(&self, what: &str, seconds: f64) {
        println!(
            "{what}: {} inputs in {seconds:.1} s — {} parsed, {} rejected, {} parser panics caught, {} panicked",
            self.parsed + self.rejected() + self.caught.len() + self.panicked.len(),
            self.parsed,
            self.rejected(),
            self.caught.len(),
            self.panicked.len()
        );
        let mut reasons: Vec<_> = self.rejected.iter().collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1 .0));
        for (reason, (n, example)) in reasons.iter().take(8) {
            println!("  rejected {n:>5}  {reason}  (e.g. {})", example.display());
        }
        for p in self.caught.iter().take(5) {
            println!("  parser panic caught: {}", p.display());
        }
        for p in self.panicked.iter().take(20) {
            println!("  PANICKED: {}", p.display());
        }
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

pub fn run(shared: &Path, check: bool) -> anyhow::Result<()> {
    let feeds_dir = shared.join("feeds");
    let pages_dir = shared.join("extraction");
    if !feeds_dir.is_dir() && !pages_dir.is_dir() {
        println!(
            "{}: no feeds or extraction corpus here; nothing to run",
            shared.display()
        );
        return Ok(());
    }
    // Panics are counted, not printed one by one.
    std::panic::set_hook(Box::new(|_| {}));

    let mut feeds = Tally::default();
    let mut list = Vec::new();
    files(&feeds_dir, &mut list);
    let base = url::Url::parse("http://feeds.example/feed.xml").expect("static");
    let started = Instant::now();
    // feed-rs's fixtures hold the expected parse of each feed beside it; those are not feeds.
    for path in list
        .iter()
        .filter(|p| !is_licence(p) && !p.to_string_lossy().ends_with(".serde.json"))
    {
        let Ok(body) = std::fs::read(path) else {
            continue;
        };
        match catch_unwind(AssertUnwindSafe(|| feed::parse_feed(&body, &base))) {
            Ok(Ok(_)) => feeds.parsed += 1,
            Ok(Err(FeedError::ParserPanicked { .. })) => feeds.caught.push(path.clone()),
            Ok(Err(e)) => {
                let message = strip_url(&e.to_string(), base.as_str());
                let reason = message
                    .strip_prefix("not a valid RSS, Atom or JSON feed:")
                    .unwrap_or(&message);
                feeds.reject(reason, path)
            }
            Err(_) => feeds.panicked.push(path.clone()),
        }
    }
    feeds.print("feeds", started.elapsed().as_secs_f64());

    let topics_file = shared.join("figures/topics.toml");
    let topics = if topics_file.exists() {
        Config::load(&topics_file)?.topics
    } else {
        toml::from_str::<TopicsOnly>(demo::TOPIC_TOML)?.topics
    };
    let figures = FigureExtractor::new(&topics);
    let mut pages = Tally::default();
    let mut list = Vec::new();
    files(&pages_dir, &mut list);
    let started = Instant::now();
    let mut found = 0usize;
    for path in list.iter().filter(|p| is_page(p)) {
        let Ok(body) = extract::read_file(path, u64::MAX / 2) else {
            continue;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            extract::extract_bytes(&body, None, None)
                .map(|a| figures.extract_lang(&a.text, a.lang.as_deref()).len())
        }));
        match outcome {
            Ok(Ok(n)) => {
                pages.parsed += 1;
                found += n;
            }
            Ok(Err(extract::ExtractError::Panicked(_))) => pages.caught.push(path.clone()),
            Ok(Err(e)) => pages.reject(&e.to_string(), path),
            Err(_) => pages.panicked.push(path.clone()),
        }
    }
    pages.print(
        "pages (extraction and figures)",
        started.elapsed().as_secs_f64(),
    );
    println!("  {found} figures found in the extracted pages");
    let _ = std::panic::take_hook();

    // A feed-rs panic that figwatch caught is the parser's bug, with a clear error on the
    // source; a panic in extraction is figwatch's own (or html5ever's), caught or not.
    let panics = feeds.panicked.len() + pages.panicked.len() + pages.caught.len();
    if check && panics > 0 {
        anyhow::bail!("{panics} inputs panicked");
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct TopicsOnly {
    topics: Vec<figwatch::config::Topic>,
}

fn is_licence(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_uppercase().starts_with("LICENSE") || n.ends_with(".md"))
}

fn is_page(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.ends_with(".html") || name.ends_with(".html.gz") || name.ends_with(".htm")
}

/// Feed errors name the URL; here every feed has the same made-up one.
fn strip_url(message: &str, url: &str) -> String {
    message
        .trim_start_matches(url)
        .trim_start_matches(':')
        .trim()
        .to_string()
}

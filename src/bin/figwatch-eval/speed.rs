//! `figwatch-eval speed [SHARED]`: how fast article text goes through topic matching and
//! figure extraction, in MB per second on one core. The text is the Readability test set's
//! expected articles (real news and blog prose, most of it about no tracked topic, as a feed's
//! articles are) plus the labelled figure sentences (all of them about a topic), with the
//! topics of `SHARED/figures/topics.toml`. Repeated until two seconds have passed; the fastest
//! pass is compared with the target. Printed, never asserted in a test.

use std::path::Path;
use std::time::{Duration, Instant};

use figwatch::config::Config;
use figwatch::extract;
use figwatch::figures::FigureExtractor;

/// MB of article text per second per core that figure extraction must sustain.
pub const TARGET_MB_S: f64 = 20.0;

pub fn run(shared: &Path, check: bool) -> anyhow::Result<()> {
    let topics = shared.join("figures/topics.toml");
    let pages = shared.join("extraction/readability/pages");
    if !topics.exists() || !pages.is_dir() {
        println!(
            "{}: no topics or Readability pages here; nothing to measure",
            shared.display()
        );
        return Ok(());
    }
    let config = Config::load(&topics)?;
    let extractor = FigureExtractor::new(&config.topics);
    let mut texts: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&pages)? {
        let expected = entry?.path().join("expected.html");
        if let Ok(html) = std::fs::read_to_string(&expected) {
            texts.push(extract::fragment_text(&html));
        }
    }
    for line in std::fs::read_to_string(shared.join("figures/dev.jsonl"))?.lines() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
            texts.extend(v["text"].as_str().map(str::to_string));
        }
    }
    let bytes_per_pass: usize = texts.iter().map(String::len).sum();
    // Passes until two seconds have gone; the fastest pass is the code's speed, the mean also
    // carries whatever else the machine was doing (a shared CI runner), so both are printed
    // and the fastest is compared with the target.
    let started = Instant::now();
    let (mut passes, mut figures) = (0usize, 0usize);
    let mut fastest = Duration::MAX;
    while started.elapsed() < Duration::from_secs(2) || passes == 0 {
        let pass = Instant::now();
        for t in &texts {
            figures += extractor.extract(t).len();
        }
        fastest = fastest.min(pass.elapsed());
        passes += 1;
    }
    let mean_mb_s = (bytes_per_pass * passes) as f64 / 1e6 / started.elapsed().as_secs_f64();
    let mb_s = bytes_per_pass as f64 / 1e6 / fastest.as_secs_f64().max(1e-9);
    println!(
        "figure extraction speed: {} texts, {:.1} MB a pass, {passes} passes, {} figures a pass",
        texts.len(),
        bytes_per_pass as f64 / 1e6,
        figures / passes
    );
    println!(
        "  {mb_s:.1} MB/s on one core (fastest pass; mean {mean_mb_s:.1})   [>= {TARGET_MB_S}]"
    );
    if check && mb_s < TARGET_MB_S {
        anyhow::bail!("figure extraction is slower than its target");
    }
    Ok(())
}

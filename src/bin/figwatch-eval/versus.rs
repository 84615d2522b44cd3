//! Python trafilatura, timed and scored beside figwatch on the same pages: the extractor the
//! corpus comes from, as a reference for speed and quality. Run when `python3` can import
//! `trafilatura` (`pip install trafilatura lxml_html_clean`); otherwise said so and skipped.
//!
//! Each page's extraction is timed inside Python (reading and decompressing the file are not
//! counted, as they are not for figwatch), and the process's peak memory is reported.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::Context;

/// Reads page paths (gzip) from standard input, one a line; writes one JSON line per page
/// with its text and the seconds its extraction took, then a last line with peak memory.
const SCRIPT: &str = r#"
import gzip, json, resource, sys, time
import trafilatura
for line in sys.stdin:
    path = line.rstrip("\n")
    html = gzip.open(path).read().decode("utf-8", "replace")
    started = time.perf_counter()
    text = trafilatura.extract(html, favor_precision=False) or ""
    secs = time.perf_counter() - started
    print(json.dumps({"text": text, "secs": secs}), flush=True)
print(json.dumps({"peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)
"#;

/// What Python trafilatura made of the pages.
pub struct Versus {
    /// Per page, in the order given: its text.
    pub texts: Vec<String>,
    pub seconds: f64,
    pub peak_kb: u64,
}

/// Runs Python trafilatura over `pages`; `None` (said why) when it is not installed.
pub fn python_trafilatura(pages: &[PathBuf]) -> anyhow::Result<Option<Versus>> {
    let probe = Command::new("python3")
        .args(["-c", "import trafilatura"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        println!("  versus     Python trafilatura not importable (pip install trafilatura lxml_html_clean); not compared");
        return Ok(None);
    }
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("python3")?;
    let mut stdin = child.stdin.take().expect("piped");
    let list: String = pages.iter().map(|p| format!("{}\n", p.display())).collect();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let mut out = Versus {
        texts: Vec::with_capacity(pages.len()),
        seconds: 0.0,
        peak_kb: 0,
    };
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let v: serde_json::Value = serde_json::from_str(&line?).context("Python's output")?;
        if let Some(kb) = v["peak_kb"].as_u64() {
            out.peak_kb = kb;
            continue;
        }
        out.texts
            .push(v["text"].as_str().unwrap_or_default().to_string());
        out.seconds += v["secs"].as_f64().unwrap_or_default();
    }
    writer
        .join()
        .expect("writer")
        .context("writing to python3")?;
    let status = child.wait()?;
    anyhow::ensure!(
        status.success() && out.texts.len() == pages.len(),
        "Python trafilatura stopped after {} of {} pages ({status})",
        out.texts.len(),
        pages.len()
    );
    Ok(Some(out))
}

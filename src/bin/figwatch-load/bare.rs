//! The floor: a bare reqwest + feed-rs loop doing the same network work as a figwatch pass —
//! a conditional GET of every feed, a parse of each changed one, a GET of every entry link not
//! seen before — and nothing else (no extraction, no database, no politeness).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};

#[derive(Default)]
pub struct Bare {
    etags: Mutex<HashMap<String, String>>,
    seen: Mutex<HashSet<String>>,
}

impl Bare {
    /// One pass over `urls`, `concurrency` at a time. Returns (feeds fetched in full, 304s).
    pub async fn pass(
        self: &Arc<Self>,
        client: &reqwest::Client,
        urls: &[String],
        concurrency: usize,
    ) -> (usize, usize) {
        let results: Vec<Option<bool>> = stream::iter(urls.iter().cloned())
            .map(|url| {
                let me = Arc::clone(self);
                let client = client.clone();
                async move { me.feed(&client, &url).await.ok() }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let full = results.iter().filter(|r| **r == Some(true)).count();
        let not_modified = results.iter().filter(|r| **r == Some(false)).count();
        (full, not_modified)
    }

    /// Returns whether the feed was fetched in full (false: 304).
    async fn feed(&self, client: &reqwest::Client, url: &str) -> anyhow::Result<bool> {
        let etag = self.etags.lock().unwrap().get(url).cloned();
        let mut req = client.get(url);
        if let Some(e) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, e);
        }
        let resp = req.send().await?;
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(false);
        }
        if let Some(e) = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
        {
            self.etags
                .lock()
                .unwrap()
                .insert(url.to_string(), e.to_string());
        }
        let body = resp.bytes().await?;
        let feed = feed_rs::parser::parse(&body[..])?;
        for entry in feed.entries {
            let Some(link) = entry.links.first().map(|l| l.href.clone()) else {
                continue;
            };
            if self.seen.lock().unwrap().insert(link.clone()) {
                client.get(&link).send().await?.bytes().await?;
            }
        }
        Ok(true)
    }
}

/// The bare loop in a process of its own: `figwatch-load bare URLS CONCURRENCY` reads "pass"
/// lines on stdin and answers each with "FULL NOT_MODIFIED" when the pass is done.
pub fn child() -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let mut args = std::env::args().skip(2);
    let urls_file = args.next().unwrap_or_default();
    let concurrency: usize = args.next().unwrap_or_default().parse()?;
    let urls: Vec<String> = std::fs::read_to_string(&urls_file)?
        .lines()
        .map(str::to_string)
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder().build()?;
    let bare = Arc::new(Bare::default());
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        if line? != "pass" {
            break;
        }
        let (full, nm) = rt.block_on(bare.pass(&client, &urls, concurrency));
        writeln!(stdout.lock(), "{full} {nm}")?;
    }
    Ok(())
}

/// The parent's handle on the bare loop's process.
pub struct Floor {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Floor {
    pub fn start(urls_file: &std::path::Path, concurrency: usize) -> anyhow::Result<Floor> {
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg("bare")
            .arg(urls_file)
            .arg(concurrency.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let out = std::io::BufReader::new(child.stdout.take().expect("piped"));
        Ok(Floor { child, out })
    }

    /// CPU time the bare loop's process has used so far (utime + stime from /proc).
    pub fn cpu(&self) -> std::time::Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
        let hz = 100; // USER_HZ on Linux
        std::time::Duration::from_millis((ticks(11) + ticks(12)) * 1000 / hz)
    }

    /// Runs one pass; returns its wall time and (full fetches, 304s).
    pub fn pass(&mut self) -> anyhow::Result<(std::time::Duration, (usize, usize))> {
        use std::io::{BufRead, Write};
        let start = std::time::Instant::now();
        let stdin = self.child.stdin.as_mut().expect("piped");
        stdin.write_all(b"pass\n")?;
        stdin.flush()?;
        let mut line = String::new();
        self.out.read_line(&mut line)?;
        let elapsed = start.elapsed();
        let mut parts = line.split_whitespace().map(|p| p.parse::<usize>());
        match (parts.next(), parts.next()) {
            (Some(Ok(full)), Some(Ok(nm))) => Ok((elapsed, (full, nm))),
            _ => anyhow::bail!("the bare loop's process answered {line:?}"),
        }
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

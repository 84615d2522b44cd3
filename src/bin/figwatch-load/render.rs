//! `figwatch-load render`: pages written by JavaScript under load. One news sitemap with
//! `render = "chromium"` lists N app shells whose story is fetched and written by a script;
//! the real binary polls it once, rendering every article in headless Chromium with 2 tabs.
//! Meanwhile the memory of figwatch and every process under it (the browser's whole tree) is
//! sampled. Prints pages per second and the peak; fails when a page's figure is missed or
//! (`--check`) the peak passes 1 GB.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::extract::Path as UrlPath;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use figwatch::render::memory::{tree_memory, TreeMemory};

use crate::server::Site;

/// The most figwatch and its browser may hold together (proportional set size).
const MAX_TREE_MB: u64 = 1024;

/// What the render benchmark runs.
pub struct Options {
    /// App pages listed by the sitemap.
    pub pages: usize,
    /// Tabs rendering at once.
    pub tabs: usize,
    /// Fail when the memory target is missed.
    pub check: bool,
}

fn write_config(dir: &Path, site: &Site, o: &Options) -> anyhow::Result<PathBuf> {
    let text = format!(
        "database = \"{}\"\ninterval = \"1h\"\n\n[fetch]\ntimeout = \"30s\"\nper_host_delay = \"0s\"\nper_host_concurrency = 4\nallow_private = true\n\n[render]\ntabs = {}\ntimeout = \"20s\"\n\n[[sitemaps]]\nurl = \"http://{}/apps/{}.xml\"\nrender = \"chromium\"\n\n{}",
        dir.join("figwatch.db").display(),
        o.tabs,
        site.hosts[0],
        o.pages,
        figwatch::demo::TOPIC_TOML
    );
    let path = dir.join("figwatch.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// `/apps/{n}.xml`: a news sitemap of n app pages; `/apps/app.js`: the script that writes
/// each page's story.
pub async fn app_file(UrlPath(file): UrlPath<String>) -> Response {
    if file == "app.js" {
        return (
            [(header::CONTENT_TYPE, "text/javascript")],
            "fetch(location.pathname.replace('.html', '.json')).then(r => r.json()).then(s => {\
               document.title = s.title;\
               document.getElementById('app').innerHTML = '<article><h1>' + s.title + '</h1>' +\
                 s.paragraphs.map(p => '<p>' + p + '</p>').join('') + '</article>'; });",
        )
            .into_response();
    }
    let Some(n) = file
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<u32>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let today = chrono::Utc::now().format("%Y-%m-%d");
    let urls: String = (0..n)
        .map(|k| format!("<url><loc>/apps/story/{k}.html</loc><news:news><news:publication_date>{today}</news:publication_date></news:news></url>"))
        .collect();
    (
        [(header::CONTENT_TYPE, "application/xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">{urls}</urlset>"),
    )
        .into_response()
}

/// `/apps/story/{k}.html`: an app shell; `/apps/story/{k}.json`: its story, whose casualty
/// figure is 1,000 + k.
pub async fn app_story(UrlPath(file): UrlPath<String>) -> Response {
    if let Some(k) = file
        .strip_suffix(".json")
        .and_then(|k| k.parse::<u32>().ok())
    {
        let story = serde_json::json!({
            "title": format!("North Korean troops in Kursk, report {k}"),
            "paragraphs": [
                "North Korea has sent soldiers to fight for Russia in the Kursk region, where Ukrainian forces have held ground since August 2024.",
                format!("Officials said on Monday that {} North Korean troops had been killed or wounded since they joined the fighting in the Kursk region.", 1_000 + k),
                "The figures could not be independently verified. Pyongyang has not commented on its losses, and Moscow has not confirmed their presence.",
            ],
        });
        return (
            [(header::CONTENT_TYPE, "application/json")],
            story.to_string(),
        )
            .into_response();
    }
    if file
        .strip_suffix(".html")
        .and_then(|k| k.parse::<u32>().ok())
        .is_none()
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Demo News</title></head>\
         <body><div id=\"app\">Loading…</div><script src=\"/apps/app.js\"></script></body></html>",
    )
        .into_response()
}

/// Runs figwatch once, sampling the memory of its process tree every 50 ms.
fn run_sampled(binary: &Path, config: &Path) -> anyhow::Result<(Duration, TreeMemory, String)> {
    let start = Instant::now();
    let child = std::process::Command::new(binary)
        .arg("--config")
        .arg(config)
        .arg("--poll")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()?;
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let sampler = std::thread::spawn(move || {
        let mut peak = TreeMemory::default();
        while !flag.load(Ordering::Relaxed) {
            let now = tree_memory(pid);
            if now.pss > peak.pss {
                peak = now;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    });
    let out = child.wait_with_output()?;
    let wall = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let peak = sampler.join().expect("sampler thread");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        bail!("figwatch --poll failed ({}): {stdout}", out.status);
    }
    Ok((wall, peak, stdout))
}

pub fn run(site: Arc<Site>, binary: &Path, dir: &Path, o: &Options) -> anyhow::Result<()> {
    figwatch::render::find_chromium(None).context("the render benchmark needs Chromium")?;
    let config = write_config(dir, &site, o)?;
    println!(
        "render: a news sitemap of {} app pages written by JavaScript, rendered in Chromium with {} tabs",
        o.pages, o.tabs
    );
    let (wall, peak, summary) = run_sampled(binary, &config)?;
    let db = rusqlite::Connection::open(dir.join("figwatch.db"))?;
    let versions: i64 = db.query_row("SELECT count(*) FROM versions", [], |r| r.get(0))?;
    let figures: i64 = db.query_row("SELECT count(DISTINCT version_id) FROM figures", [], |r| {
        r.get(0)
    })?;
    let mb = |b: u64| b >> 20;
    println!(
        "rendered      {:>6.1} pages/s   peak of figwatch + Chromium: {} MB PSS ({} MB summed RSS, {} processes)   {versions} versions, {figures} with a figure ({summary})",
        o.pages as f64 / wall.as_secs_f64(),
        mb(peak.pss),
        mb(peak.rss),
        peak.processes
    );
    if versions != o.pages as i64 || figures != o.pages as i64 {
        bail!(
            "{versions} versions and {figures} with a figure for {} rendered pages",
            o.pages
        );
    }
    if o.check && mb(peak.pss) > MAX_TREE_MB {
        bail!(
            "figwatch and Chromium held {} MB at the peak, above the {MAX_TREE_MB} MB target",
            mb(peak.pss)
        );
    }
    println!(
        "render: every page's figure read after rendering; peak {} MB for figwatch and its browser (target ≤ {MAX_TREE_MB} MB; their RSS summed, which counts shared pages once per process: {} MB, {})",
        mb(peak.pss),
        mb(peak.rss),
        if mb(peak.rss) <= MAX_TREE_MB { "also under it" } else { "above it" }
    );
    Ok(())
}

//! `figwatch-load listings`: sources without a feed under load. Ten news sitemaps of 100 URLs
//! each (1,000 URLs) and 100 section fronts of 10 story links each, around navigation that must
//! not be followed, polled by the real binary: a first poll that follows every URL (2,000 new
//! articles: fetch, extract, figures, store), then a poll where every listing answers 304.
//! Prints listings and articles per second and the peak RSS; fails when an article is missed,
//! a navigation link followed, or (`--check`) the peak RSS passes 150 MB.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::bail;

use crate::server::{Site, LISTED};

/// The most a listings poll may hold in memory.
const MAX_RSS_MB: f64 = 150.0;

/// What the listings benchmark runs.
pub struct Options {
    /// News sitemaps of `LISTED` URLs each.
    pub sitemaps: usize,
    /// Section fronts of `LISTED / 10` story links each.
    pub fronts: usize,
    /// Fail when the memory target is missed.
    pub check: bool,
}

fn write_config(
    dir: &Path,
    site: &Site,
    o: &Options,
    concurrency: usize,
) -> anyhow::Result<PathBuf> {
    let mut text = format!(
        "database = \"{}\"\ninterval = \"1h\"\n\n[fetch]\ntimeout = \"30s\"\nconcurrency = {concurrency}\nper_host_delay = \"0s\"\nper_host_concurrency = 2\nallow_private = true\n\n",
        dir.join("figwatch.db").display()
    );
    for i in 0..o.sitemaps {
        text += &format!("[[sitemaps]]\nurl = \"{}\"\n", site.sitemap_url(i));
    }
    for i in 0..o.fronts {
        text += &format!("[[sections]]\nurl = \"{}\"\n", site.front_url(i));
    }
    text += figwatch::demo::TOPIC_TOML;
    let path = dir.join("figwatch.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

fn count(db: &Path, sql: &str) -> anyhow::Result<i64> {
    Ok(rusqlite::Connection::open(db)?.query_row(sql, [], |r| r.get(0))?)
}

pub fn run(
    site: Arc<Site>,
    binary: &Path,
    dir: &Path,
    o: &Options,
    concurrency: usize,
) -> anyhow::Result<()> {
    let config = write_config(dir, &site, o, concurrency)?;
    let db = dir.join("figwatch.db");
    let sources = (o.sitemaps + o.fronts) as f64;
    let expected = o.sitemaps as i64 * i64::from(LISTED) + o.fronts as i64 * i64::from(LISTED / 10);
    println!(
        "listings: {} news sitemaps of {LISTED} URLs and {} section fronts of {} links, on {} loopback hosts, concurrency {concurrency}",
        o.sitemaps,
        o.fronts,
        LISTED / 10,
        site.hosts.len()
    );
    let first = crate::run_figwatch(binary, &config)?;
    let articles = count(&db, "SELECT count(*) FROM articles")?;
    let followed_nav = count(
        &db,
        "SELECT count(*) FROM articles WHERE url LIKE '%/stories/3____/%'",
    )?;
    println!(
        "first sight   {:>6} listings/s {:>7} articles/s   peak RSS {:>5.0} MB   {articles} articles ({})",
        (sources / first.wall.as_secs_f64()).round(),
        (articles as f64 / first.wall.as_secs_f64()).round(),
        first.max_rss_kb as f64 / 1024.0,
        first.stdout
    );
    let before = site.not_modified.load(Ordering::SeqCst);
    let again = crate::run_figwatch(binary, &config)?;
    let not_modified = site.not_modified.load(Ordering::SeqCst) - before;
    println!(
        "304s          {:>6} listings/s                      peak RSS {:>5.0} MB   {not_modified} not modified",
        (sources / again.wall.as_secs_f64()).round(),
        again.max_rss_kb as f64 / 1024.0,
    );
    if articles != expected || followed_nav != 0 {
        bail!("{articles} articles stored, {expected} expected; {followed_nav} navigation links followed");
    }
    if (not_modified as f64) < sources {
        bail!("{not_modified} of {sources} listings answered 304 on the second poll");
    }
    let peak = first.max_rss_kb.max(again.max_rss_kb) as f64 / 1024.0;
    if o.check && peak > MAX_RSS_MB {
        bail!("peak RSS {peak:.0} MB is above the {MAX_RSS_MB:.0} MB target");
    }
    println!("listings: every URL followed once, no navigation link followed, every listing 304 on the second poll; peak RSS {peak:.0} MB (target ≤ {MAX_RSS_MB:.0} MB)");
    Ok(())
}

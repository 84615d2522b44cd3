//! The article rounds: 100,000 watched articles (1,000 archive feeds of 100 small pages on the
//! same loopback hosts) in a store of their own, re-checked by age with the real binary:
//! a round where they answer 304 — and 5% are retired without a fetch, their feeds' schedule
//! having been shortened — and a round where 5% changed. Prints re-checks per second, peak RSS,
//! database growth, and whether the 304 round wrote anything but the articles' schedule.

use std::path::Path;

use anyhow::Context;

use super::{db_size, digest, run_wrapped, server, Run};

/// What the article rounds measured, for the gate.
pub struct Report {
    nm_rate: f64,
    peak_mb: f64,
    untouched: bool,
}

impl Report {
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.nm_rate < 5000.0 {
            out.push(format!(
                "article 304 re-checks/s {:.0} < 5000",
                self.nm_rate
            ));
        }
        if self.peak_mb > 150.0 {
            out.push(format!(
                "peak RSS {:.1} MB > 150 in the article rounds",
                self.peak_mb
            ));
        }
        if !self.untouched {
            out.push("the article 304 round wrote more than the articles' schedule".into());
        }
        out
    }
}

/// Archive feeds whose articles are retired in the rounds (their `recheck` is shortened), and
/// those whose articles change: 5% each.
fn retired_feed(i: usize) -> bool {
    i.is_multiple_of(20)
}

fn changed_feed(i: usize) -> bool {
    i % 20 == 10
}

fn write_config(
    dir: &Path,
    site: &server::Site,
    concurrency: usize,
    shortened: bool,
) -> anyhow::Result<std::path::PathBuf> {
    let mut text = format!(
        "database = \"{}\"\ninterval = \"1h\"\n\n[fetch]\ntimeout = \"30s\"\nconcurrency = {concurrency}\nper_host_delay = \"0s\"\nper_host_concurrency = 2\nallow_private = true\n\n",
        dir.join("figwatch.db").display()
    );
    for i in 0..site.archive_feeds() {
        text += &format!("[[feeds]]\nurl = \"{}\"\n", site.archive_url(i));
        if shortened && retired_feed(i) {
            text += "recheck = [[\"1ms\", \"1s\"]]\n";
        }
    }
    text += figwatch::demo::TOPIC_TOML;
    let path = dir.join(if shortened {
        "rounds.toml"
    } else {
        "first.toml"
    });
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Everything stored except the articles' schedule columns (and the sources' schedule key,
/// which the shortened schedule changes).
fn articles_digest(db: &Path) -> anyhow::Result<String> {
    digest(
        db,
        &[
            "SELECT id, url, kind, etag, last_modified, last_polled_at FROM sources",
            "SELECT id, url, source_id, entry_id, first_seen_at, etag, last_modified, body_hash,
                    age_from, last_error FROM articles",
            "SELECT * FROM versions",
            "SELECT * FROM figures",
            "SELECT * FROM alerts",
            "SELECT * FROM ledger",
            "SELECT * FROM listings",
        ],
    )
}

/// "re-checked 95,000 articles (94,000 not modified, 5,000 retired)" → (95000, 94000, 5000).
fn rechecks(stdout: &str) -> (u64, u64, u64) {
    let stdout = stdout.find("re-checked ").map_or("", |at| &stdout[at..]);
    let number_before = |word: &str| -> u64 {
        stdout
            .find(word)
            .map(|at| {
                stdout[..at]
                    .trim_end()
                    .rsplit([' ', '('])
                    .next()
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    };
    let rechecked = stdout
        .find("re-checked ")
        .map(|at| {
            stdout[at + "re-checked ".len()..]
                .split(' ')
                .next()
                .unwrap_or("0")
                .parse()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    (
        rechecked,
        number_before(" not modified"),
        number_before(" retired"),
    )
}

pub fn run(
    binary: &Path,
    site: &server::Site,
    dir: &Path,
    concurrency: usize,
) -> anyhow::Result<Report> {
    let dir = dir.join("articles");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("figwatch.db");
    let n = site.archive_feeds() * server::ARCHIVE_ENTRIES as usize;
    println!(
        "articles: {n} watched ({} archive feeds of {} small pages on the same hosts), concurrency {concurrency}",
        site.archive_feeds(),
        server::ARCHIVE_ENTRIES
    );
    let first_config = write_config(&dir, site, concurrency, false)?;
    let first = run_wrapped(
        binary,
        &first_config,
        None,
        &["--poll", "--all", "--only", "sources"],
    )?;
    let watched: i64 = rusqlite::Connection::open(&db)?.query_row(
        "SELECT count(*) FROM articles WHERE next_check_at IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    anyhow::ensure!(
        watched as usize == n,
        "first sight stored {watched} watched articles of {n}: {}",
        first.stdout
    );
    println!(
        "first sight      : {:>7.0} articles/s (fetch, extract, figures, store) — {}",
        n as f64 / first.wall.as_secs_f64(),
        first.stdout
    );

    // The 304 round: every watched article, with 5% of the feeds' schedules shortened so that
    // their articles are past it and retire without a fetch.
    let config = write_config(&dir, site, concurrency, true)?;
    let before = articles_digest(&db)?;
    let size = db_size(&dir);
    let requests = site.requests.load(std::sync::atomic::Ordering::SeqCst);
    let nm = run_wrapped(
        binary,
        &config,
        None,
        &["--poll", "--all", "--only", "articles"],
    )?;
    let nm_growth = db_size(&dir) as i64 - size as i64;
    let fetched = site.requests.load(std::sync::atomic::Ordering::SeqCst) - requests;
    let untouched = articles_digest(&db)? == before;
    let (rechecked, not_modified, retired) = rechecks(&nm.stdout);
    let nm_rate = not_modified as f64 / nm.wall.as_secs_f64();
    println!(
        "304 round        : {nm_rate:>7.0} article re-checks/s — {rechecked} re-checked ({not_modified} not modified), {retired} retired without a fetch, {fetched} requests; {:.2} s, {:.3} ms CPU an article, peak RSS {:.1} MB, database {:+.1} KB; wrote beyond the articles' schedule: {}",
        nm.wall.as_secs_f64(),
        nm.cpu.as_secs_f64() * 1e3 / rechecked.max(1) as f64,
        nm.max_rss_kb as f64 / 1024.0,
        nm_growth as f64 / 1024.0,
        if untouched { "nothing" } else { "SOMETHING" }
    );
    let expected_retired = (0..site.archive_feeds())
        .filter(|&i| retired_feed(i))
        .count()
        * server::ARCHIVE_ENTRIES as usize;
    anyhow::ensure!(
        retired as usize == expected_retired,
        "{retired} articles retired in the 304 round, {expected_retired} expected: {}",
        nm.stdout
    );
    anyhow::ensure!(
        fetched == not_modified,
        "the 304 round made {fetched} requests for {not_modified} re-checks: retired articles were fetched"
    );

    // The changed round: 5% of the articles rewritten and made due; the others are not due.
    let changed: Vec<usize> = (0..site.archive_feeds())
        .filter(|&i| changed_feed(i))
        .collect();
    site.change_archive(changed.iter().copied());
    {
        let conn = rusqlite::Connection::open(&db)?;
        let urls: Vec<String> = changed.iter().map(|&i| site.archive_url(i)).collect();
        let made_due = conn.execute(
            "UPDATE articles SET next_check_at = '2000-01-01T00:00:00.000Z'
             WHERE source_id IN (SELECT s.id FROM sources s, json_each(?1) j WHERE s.url = j.value)",
            [serde_json::to_string(&urls)?],
        )?;
        println!(
            "changed round    : {made_due} articles of {} feeds rewritten and due",
            changed.len()
        );
    }
    let size = db_size(&dir);
    let ch: Run = run_wrapped(binary, &config, None, &["--poll", "--only", "articles"])
        .context("the changed round")?;
    let ch_growth = db_size(&dir) as i64 - size as i64;
    let (ch_rechecked, ..) = rechecks(&ch.stdout);
    println!(
        "changed round    : {:>7.0} article re-checks/s (fetch, extract, figures, store) — {}; {:.2} s, peak RSS {:.1} MB, database {:+.1} KB ({:.0} bytes a new version)",
        ch_rechecked as f64 / ch.wall.as_secs_f64(),
        ch.stdout,
        ch.wall.as_secs_f64(),
        ch.max_rss_kb as f64 / 1024.0,
        ch_growth as f64 / 1024.0,
        ch_growth as f64 / ch_rechecked.max(1) as f64
    );
    println!(
        "article store    : {:.1} MB for {n} articles",
        db_size(&dir) as f64 / 1024.0 / 1024.0
    );
    let peak_mb = [&first, &nm, &ch]
        .iter()
        .map(|r| r.max_rss_kb)
        .max()
        .unwrap_or(0) as f64
        / 1024.0;
    println!(
        "article rounds   : {nm_rate:.0} 304 re-checks/s [>= 5000], peak RSS {peak_mb:.1} MB [<= 150]"
    );
    Ok(Report {
        nm_rate,
        peak_mb,
        untouched,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_summary_line_is_read() {
        let line = "polled 0 sources, 0 failed; re-checked 95000 articles (94000 not modified, 5000 retired); 0 new articles, 0 new versions, 0 alerts";
        assert_eq!(super::rechecks(line), (95000, 94000, 5000));
        assert_eq!(super::rechecks("polled 1 source, 0 failed"), (0, 0, 0));
    }
}

//! Retention: old versions go, the history that matters stays. A version is pruned when it is
//! older than the cut-off, is not among its article's last `keep_last`, and neither raised an
//! alert nor first reported a figure in the ledger — those are what `figwatch alerts`,
//! `figwatch figures` and their diffs point at, so they are kept however old.

use super::db::{params, Exec};
use super::{Result, Store};

/// What a prune removed (or, dry, would remove).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    /// Versions removed.
    pub versions: i64,
    /// Figure rows removed with them.
    pub figures: i64,
    /// Outbox rows of deliveries done before the cut-off.
    pub deliveries: i64,
    /// Kept pages of articles retired before the cut-off (they are never fetched again).
    pub pages: i64,
    /// Remembered paragraphs of a site last seen before the cut-off.
    pub paragraphs: i64,
}

/// Pages of articles no longer checked, as a `WHERE` over `$1` (cut-off).
const STALE_PAGES: &str =
    "article_id IN (SELECT id FROM articles WHERE retired_at IS NOT NULL AND retired_at < $1)";

/// The versions a prune removes, as a subquery over `$1` (cut-off) and `$2` (keep_last).
const PRUNABLE: &str = "SELECT p.id FROM (
        SELECT v.id, v.fetched_at,
               row_number() OVER (PARTITION BY v.article_id ORDER BY v.number DESC) AS newest
        FROM versions v) p
    WHERE p.fetched_at < $1 AND p.newest > $2
      AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.version_id = p.id)
      AND NOT EXISTS (SELECT 1 FROM ledger_sources l WHERE l.version_id = p.id)";

impl Store {
    /// Removes versions fetched before `cutoff` beyond each article's last `keep_last`, and
    /// delivered outbox rows older than `cutoff`; all in one transaction. With `dry_run`,
    /// only counts.
    pub fn prune(&self, cutoff: &str, keep_last: usize, dry_run: bool) -> Result<PruneReport> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let keep = keep_last.max(1) as i64;
        let count =
            |sql: &str| -> Result<i64> { tx.query_row(sql, params![cutoff, keep], |r| r.get(0)) };
        let report = PruneReport {
            versions: count(&format!("SELECT count(*) FROM ({PRUNABLE}) prunable"))?,
            figures: count(&format!(
                "SELECT count(*) FROM figures WHERE version_id IN ({PRUNABLE})"
            ))?,
            deliveries: tx.query_row(
                "SELECT count(*) FROM deliveries WHERE delivered_at IS NOT NULL AND delivered_at < $1",
                params![cutoff],
                |r| r.get(0),
            )?,
            pages: tx.query_row(
                &format!("SELECT count(*) FROM pages WHERE {STALE_PAGES}"),
                params![cutoff],
                |r| r.get(0),
            )?,
            paragraphs: tx.query_row(
                "SELECT count(*) FROM site_paragraphs WHERE seen_at < $1",
                params![cutoff],
                |r| r.get(0),
            )?,
        };
        if dry_run {
            return Ok(report);
        }
        // The versions are chosen once, so that deleting their figures first cannot change
        // which versions are chosen.
        let ids: Vec<i64> = tx.query_map(PRUNABLE, params![cutoff, keep], |r| r.get(0))?;
        for chunk in ids.chunks(500) {
            let list = serde_json::to_string(chunk)?;
            let ids = (tx.dialect().json_ids)(1);
            tx.execute(
                &format!("DELETE FROM figures WHERE version_id IN ({ids})"),
                params![list],
            )?;
            tx.execute(
                &format!("DELETE FROM versions WHERE id IN ({ids})"),
                params![list],
            )?;
        }
        tx.execute(
            "DELETE FROM deliveries WHERE delivered_at IS NOT NULL AND delivered_at < $1",
            params![cutoff],
        )?;
        tx.execute(
            &format!("DELETE FROM pages WHERE {STALE_PAGES}"),
            params![cutoff],
        )?;
        tx.execute(
            "DELETE FROM site_paragraphs WHERE seen_at < $1",
            params![cutoff],
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// Rewrites the database file without the space pruned rows left (needs free space about
    /// the size of the database while it runs).
    pub fn vacuum(&self) -> Result<()> {
        self.conn()?.batch("VACUUM")
    }
}

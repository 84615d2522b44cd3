//! Articles between their checks: where one is found (its address or an alias), what the last
//! fetch left for the next conditional GET, and its age schedule — when it is due, which
//! process holds it while it is checked, when it retired — shared by `figwatch run`,
//! `figwatch --poll` and workers on PostgreSQL.

use std::collections::HashMap;

use super::db::{params, Exec, Row};
use super::{Result, Store};
use crate::fetch::Validators;

/// What is known about an article before it is fetched again.
#[derive(Debug, Clone, Default)]
pub struct ArticleState {
    /// The article's row id.
    pub id: i64,
    /// What to send with the next conditional GET.
    pub validators: Validators,
    /// The hash of the raw body last fetched: a byte-identical page is not extracted again.
    pub body_hash: Option<String>,
    /// When it is checked next (`None`: when its source is polled).
    pub next_check_at: Option<String>,
    /// Past its last tier: no longer checked until a feed lists it anew.
    pub retired: bool,
}

/// When an article is checked next, as written after a check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextCheck {
    /// The next check; `None` with `retired` false: checked with its source (a page, or a
    /// feed entry without a link), not by age.
    pub at: Option<String>,
    /// Past its last tier: no more checks.
    pub retired: bool,
    /// The age clock starts again here (the text changed, or a feed listed it anew).
    pub clock_from: Option<String>,
}

impl NextCheck {
    /// Checked again at `at`.
    pub fn at(at: String) -> NextCheck {
        NextCheck {
            at: Some(at),
            ..NextCheck::default()
        }
    }

    /// Past its last tier: not checked again until a feed lists it anew.
    pub fn retired() -> NextCheck {
        NextCheck {
            retired: true,
            ..NextCheck::default()
        }
    }

    /// Checked when its source is next polled.
    pub fn by_source() -> NextCheck {
        NextCheck::default()
    }
}

/// The columns a [`NextCheck`] writes: its three values are parameters `$n`, `$n+1` and
/// `$n+2` (see [`schedule_params`]).
pub(super) fn schedule_sql(n: usize) -> String {
    format!(
        "next_check_at = ${n}, retired_at = ${},
         age_from = coalesce(${}, age_from), lease_until = NULL, lease_owner = NULL",
        n + 1,
        n + 2
    )
}

/// An article due to be checked again, as claimed.
#[derive(Debug, Clone)]
pub struct DueArticle {
    /// The article's row id.
    pub id: i64,
    /// Its URL.
    pub url: String,
    /// The source that first listed it: its `recheck` schedule applies.
    pub source_id: Option<i64>,
    /// What to send with the conditional GET.
    pub validators: Validators,
    /// The hash of the raw body last fetched.
    pub body_hash: Option<String>,
    /// Where its age counts from: first seen, or its text's last change.
    pub age_from: String,
    /// The check it was due for.
    pub due_at: String,
}

const DUE: &str = "id, url, source_id, etag, last_modified, body_hash,
    coalesce(age_from, first_seen_at), next_check_at";

fn due(r: &Row<'_>) -> Result<DueArticle> {
    Ok(DueArticle {
        id: r.get(0)?,
        url: r.get(1)?,
        source_id: r.get(2)?,
        validators: Validators {
            etag: r.get(3)?,
            last_modified: r.get(4)?,
        },
        body_hash: r.get(5)?,
        age_from: r.get(6)?,
        due_at: r.get(7)?,
    })
}

/// Which articles a claim takes.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// Due by this time (every watched article: a time far ahead).
    pub due_by: &'a str,
    /// Not checked since this time (a pass checks an article once).
    pub checked_before: &'a str,
    /// Only articles of these sources (a JSON array of ids); `None`: any.
    pub sources: Option<&'a str>,
    /// Now, as the store writes times.
    pub now: &'a str,
    /// The claim holds until then: a process that dies leaves them due again after this
    /// (at once, for a process of this machine: see [`Store::article_lease_holders`]).
    pub until: &'a str,
    /// Who claims them.
    pub owner: &'a str,
    /// Only those after this (next check, id): the last a previous claim of the same pass
    /// took, so that each claim starts where the last one ended instead of stepping again over
    /// the rows the pass has checked and rescheduled.
    pub after: Option<(&'a str, i64)>,
    /// The most articles claimed at once.
    pub limit: usize,
}

/// An article's schedule, as `figwatch history` shows it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ArticleSchedule {
    /// The source that first listed it.
    pub source_id: Option<i64>,
    /// When figwatch first saw it.
    pub first_seen_at: String,
    /// Where its age counts from: first seen, or its text's last change.
    pub age_from: String,
    /// When it was last checked.
    pub last_checked_at: Option<String>,
    /// When it is checked next.
    pub next_check_at: Option<String>,
    /// When it passed its last tier, if it has.
    pub retired_at: Option<String>,
}

/// What a change of a source's schedule moves: its next poll (`None`: left as it is), its
/// articles' next checks (id, time), and the schedule key to record.
#[derive(Debug)]
pub struct PullIn {
    /// The source whose schedule changed.
    pub source_id: i64,
    /// Its next poll.
    pub source_next: Option<String>,
    /// Its articles' next checks: (article id, time).
    pub articles: Vec<(i64, String)>,
    /// The schedule key recorded, so the same change is not applied twice.
    pub key: String,
}

/// A watched article's schedule inputs: (id, age clock start, last check, next check).
pub type Watched = (i64, String, Option<String>, String);

/// A re-check that answered 304, waiting to be written with others.
#[derive(Debug)]
pub(super) struct Checked {
    id: i64,
    at: String,
    next: NextCheck,
}

impl Store {
    /// The article stored under `url` or under an alias of it.
    pub fn find_article(&self, url: &str) -> Result<Option<ArticleState>> {
        let conn = self.conn()?;
        let map = |r: &Row<'_>| {
            Ok(ArticleState {
                id: r.get(0)?,
                validators: Validators {
                    etag: r.get(1)?,
                    last_modified: r.get(2)?,
                },
                body_hash: r.get(3)?,
                next_check_at: r.get(4)?,
                retired: r.get::<Option<String>>(5)?.is_some(),
            })
        };
        let cols = "a.id, a.etag, a.last_modified, a.body_hash, a.next_check_at, a.retired_at";
        if let Some(a) = conn.query_opt(
            &format!("SELECT {cols} FROM articles a WHERE a.url = $1"),
            params![url],
            map,
        )? {
            return Ok(Some(a));
        }
        conn.query_opt(
            &format!(
                "SELECT {cols} FROM article_aliases x JOIN articles a ON a.id = x.article_id
                 WHERE x.url = $1"
            ),
            params![url],
            map,
        )
    }

    /// Another address of an article (a feed's link to a page that names another canonical URL).
    pub fn add_alias(&self, url: &str, article_id: i64) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO article_aliases (url, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![url, article_id],
        )?;
        Ok(())
    }

    /// Records a successful check of an article: its validators, the raw body's hash, and
    /// its next check. `body_hash` `None` keeps the stored one (a 304).
    pub fn article_fetched(
        &self,
        article_id: i64,
        at: &str,
        validators: Option<&Validators>,
        body_hash: Option<&str>,
        next: &NextCheck,
    ) -> Result<()> {
        let (etag, lm) = validators.map_or((None, None), |v| {
            (v.etag.as_deref(), v.last_modified.as_deref())
        });
        self.conn()?.execute(
            &format!(
                "UPDATE articles SET last_checked_at = $2, last_error = NULL, {},
                        etag = CASE WHEN $5 THEN $3 ELSE etag END,
                        last_modified = CASE WHEN $5 THEN $4 ELSE last_modified END,
                        body_hash = coalesce($6, body_hash)
                 WHERE id = $1",
                schedule_sql(7)
            ),
            &schedule_params(
                params![article_id, at, etag, lm, validators.is_some(), body_hash],
                at,
                next,
            ),
        )?;
        Ok(())
    }

    /// A re-check that answered 304: only the schedule is written, in a batch with others
    /// (at once on PostgreSQL, where other workers read the schedule).
    pub fn article_not_modified(&self, article_id: i64, at: &str, next: NextCheck) -> Result<()> {
        let full = {
            let mut pending = self.pending.1.lock().unwrap_or_else(|e| e.into_inner());
            pending.push(Checked {
                id: article_id,
                at: at.to_string(),
                next,
            });
            pending.len() >= super::schedule::BATCH
        };
        if full || self.dialect().shared {
            self.flush_checks()?;
        }
        Ok(())
    }

    /// Writes the re-checks that wait, in one transaction.
    pub(super) fn flush_checks(&self) -> Result<()> {
        let batch = std::mem::take(&mut *self.pending.1.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn()?;
        let sql = format!(
            "UPDATE articles SET last_checked_at = $2, {} WHERE id = $1",
            schedule_sql(3)
        );
        if let [c] = batch.as_slice() {
            conn.execute(&sql, &schedule_params(params![c.id, c.at], &c.at, &c.next))?;
            return Ok(());
        }
        let tx = conn.transaction()?;
        for c in &batch {
            tx.execute(&sql, &schedule_params(params![c.id, c.at], &c.at, &c.next))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// When an article is checked next, written alone (a failed check, a retirement, an
    /// article left to another process).
    pub fn reschedule_article(&self, article_id: i64, at: &str, next: &NextCheck) -> Result<()> {
        self.conn()?.execute(
            &format!("UPDATE articles SET {} WHERE id = $1", schedule_sql(2)),
            &schedule_params(params![article_id], at, next),
        )?;
        Ok(())
    }

    /// Leases to this process the watched articles that `claim` describes, soonest due first;
    /// rows another worker is claiming at that moment are skipped (PostgreSQL), and a live
    /// lease keeps an article from a second claim.
    pub fn claim_articles(&self, claim: &Claim<'_>) -> Result<Vec<DueArticle>> {
        let conn = self.conn()?;
        let d = conn.dialect();
        let sources = match claim.sources {
            None => "AND CAST($4 AS TEXT) IS NULL".to_string(),
            Some(_) => format!("AND source_id IN ({})", (d.json_ids)(4)),
        };
        // A plain lower bound on the indexed column, so that the claim seeks to the cursor.
        let after = match claim.after {
            Some(_) => "AND next_check_at >= $8 AND (next_check_at, id) > ($8, $9)",
            None => "AND CAST($8 AS TEXT) IS NULL AND CAST($9 AS BIGINT) = 0",
        };
        conn.query_map(
            &format!(
                "UPDATE articles SET lease_until = $6, lease_owner = $7
                 WHERE id IN (SELECT id FROM articles
                              WHERE next_check_at <= $1
                                {after}
                                AND (lease_until IS NULL OR lease_until <= $5)
                                AND (last_checked_at IS NULL OR last_checked_at < $2)
                                {sources}
                              ORDER BY next_check_at, id LIMIT $3
                              {lock})
                 RETURNING {DUE}",
                lock = d.skip_locked
            ),
            params![
                claim.due_by,
                claim.checked_before,
                claim.limit,
                claim.sources,
                claim.now,
                claim.until,
                claim.owner,
                claim.after.map(|a| a.0),
                claim.after.map_or(0, |a| a.1)
            ],
            due,
        )
    }

    /// Who holds leases on articles (to free those of processes that died).
    pub fn article_lease_holders(&self) -> Result<Vec<String>> {
        self.conn()?.query_map(
            "SELECT DISTINCT lease_owner FROM articles WHERE lease_owner IS NOT NULL",
            params![],
            |r| r.get(0),
        )
    }

    /// Frees the leases `owner` holds on articles; returns how many.
    pub fn free_article_leases(&self, owner: &str) -> Result<usize> {
        self.conn()?.execute(
            "UPDATE articles SET lease_until = NULL, lease_owner = NULL WHERE lease_owner = $1",
            params![owner],
        )
    }

    /// One article as a claim returns it, claimed (a `figwatch poll URL`).
    pub fn claim_article(&self, id: i64, until: &str, owner: &str) -> Result<Option<DueArticle>> {
        self.conn()?.query_opt(
            &format!(
                "UPDATE articles SET lease_until = $2, lease_owner = $3 WHERE id = $1
                 RETURNING {}",
                DUE.replace("next_check_at", "coalesce(next_check_at, $2)")
            ),
            params![id, until, owner],
            due,
        )
    }

    /// Gives back claims on articles that were not checked (a pass or a daemon that stops).
    pub fn release_articles(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let list = serde_json::to_string(ids)?;
        let sql = format!(
            "UPDATE articles SET lease_until = NULL, lease_owner = NULL WHERE id IN ({})",
            (self.dialect().json_ids)(1)
        );
        self.conn()?.execute(&sql, params![list])?;
        Ok(())
    }

    /// The soonest next check among watched articles (of the sources `sources`, a JSON array).
    pub fn next_article_due(&self, sources: Option<&str>) -> Result<Option<String>> {
        let conn = self.conn()?;
        let list = match sources {
            None => "CAST($1 AS TEXT) IS NULL".to_string(),
            Some(_) => format!("source_id IN ({})", (conn.dialect().json_ids)(1)),
        };
        conn.query_row(
            &format!("SELECT min(next_check_at) FROM articles WHERE next_check_at IS NOT NULL AND {list}"),
            params![sources],
            |r| r.get(0),
        )
    }

    /// A source's watched articles with what their schedule depends on.
    pub fn watched_articles(&self, source_id: i64) -> Result<Vec<Watched>> {
        self.conn()?.query_map(
            "SELECT id, coalesce(age_from, first_seen_at), last_checked_at, next_check_at
             FROM articles WHERE source_id = $1 AND next_check_at IS NOT NULL",
            params![source_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
    }

    /// Moves the next checks of sources whose schedule changed, and of their articles, and
    /// records each source's new schedule key: one transaction for all of them (the first
    /// start after an upgrade changes every source's key).
    pub fn pull_in(&self, sources: &[PullIn]) -> Result<()> {
        if sources.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for s in sources {
            for (id, at) in &s.articles {
                tx.execute(
                    "UPDATE articles SET next_check_at = $2 WHERE id = $1",
                    params![id, at],
                )?;
            }
            tx.execute(
                "UPDATE sources SET schedule_key = $2,
                        next_check_at = coalesce($3, next_check_at) WHERE id = $1",
                params![s.source_id, s.key, s.source_next],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A source's address, by its id.
    pub fn source_url(&self, source_id: i64) -> Result<Option<String>> {
        self.conn()?.query_opt(
            "SELECT url FROM sources WHERE id = $1",
            params![source_id],
            |r| r.get(0),
        )
    }

    /// A source's last poll and next check, as stored.
    pub fn source_times(&self, source_id: i64) -> Result<(Option<String>, Option<String>)> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT last_polled_at, next_check_at FROM sources WHERE id = $1",
                params![source_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .unwrap_or((None, None)))
    }

    /// Brings a retired article back (a feed listed it anew): its age clock starts `at`.
    pub fn revive_article(&self, article_id: i64, at: &str) -> Result<()> {
        self.conn()?.execute(
            "UPDATE articles SET retired_at = NULL, age_from = $2, next_check_at = $2
             WHERE id = $1",
            params![article_id, at],
        )?;
        Ok(())
    }

    /// An article's place in the schedule.
    pub fn article_schedule(&self, article_id: i64) -> Result<Option<ArticleSchedule>> {
        self.conn()?.query_opt(
            "SELECT source_id, first_seen_at, coalesce(age_from, first_seen_at), last_checked_at,
                    next_check_at, retired_at
             FROM articles WHERE id = $1",
            params![article_id],
            |r| {
                Ok(ArticleSchedule {
                    source_id: r.get(0)?,
                    first_seen_at: r.get(1)?,
                    age_from: r.get(2)?,
                    last_checked_at: r.get(3)?,
                    next_check_at: r.get(4)?,
                    retired_at: r.get(5)?,
                })
            },
        )
    }

    /// What a feed listed when it was last parsed: article id → the link it gave.
    pub fn listings(&self, source_id: i64) -> Result<HashMap<i64, String>> {
        Ok(self
            .conn()?
            .query_map(
                "SELECT article_id, link FROM listings WHERE source_id = $1",
                params![source_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .into_iter()
            .collect())
    }

    /// Replaces what a feed lists, when it differs from what was stored (`stored`, as
    /// [`Store::listings`] read it): a re-served feed with the same entries writes nothing.
    pub fn set_listings(
        &self,
        source_id: i64,
        stored: &HashMap<i64, String>,
        listed: &[(i64, String)],
    ) -> Result<()> {
        let wanted: HashMap<i64, String> = listed.iter().cloned().collect();
        if *stored == wanted {
            return Ok(());
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM listings WHERE source_id = $1",
            params![source_id],
        )?;
        for (article_id, link) in &wanted {
            tx.execute(
                "INSERT INTO listings (source_id, article_id, link) VALUES ($1, $2, $3)",
                params![source_id, article_id, link],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// The parameters `first`, then a [`NextCheck`]'s three (see [`schedule_sql`]): its next
/// check, when it retired (`at`, the time of the check, if it did) and its clock.
pub(super) fn schedule_params(
    first: &[super::db::Value],
    at: &str,
    next: &NextCheck,
) -> Vec<super::db::Value> {
    let mut all = first.to_vec();
    let retired_at = next.retired.then_some(at);
    all.extend_from_slice(params![next.at, retired_at, next.clock_from]);
    all
}

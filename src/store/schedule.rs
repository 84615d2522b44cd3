//! The scheduling state of sources and articles, the feeds' listings, and host pauses: what
//! lets `figwatch run` and a later `figwatch --poll` (or a restart) carry on where the other
//! stopped.

use std::collections::HashMap;
use std::time::Duration;

use super::db::{params, Exec, Row, Value};
use super::{Result, Store};
use crate::alerts::SourceAlert;
use crate::fetch::Validators;
use chrono::{DateTime, Utc};

/// What the scheduler knows about a source between polls.
#[derive(Debug, Clone, Default)]
pub struct SourceState {
    /// When it is polled next.
    pub next_check_at: Option<DateTime<Utc>>,
    /// The interval it was last scheduled with (adaptive, so not always the configured one).
    pub interval: Option<Duration>,
    /// When its body last changed.
    pub last_change_at: Option<DateTime<Utc>>,
    /// The average time between the changes seen so far.
    pub change_gap: Option<Duration>,
    /// Failed polls in a row.
    pub consecutive_failures: u32,
    /// Set while a `source_failing` alert stands.
    pub failing_since: Option<String>,
    /// What to send with the next conditional GET.
    pub validators: Validators,
}

/// How a poll of a source ended, as recorded.
#[derive(Debug)]
pub enum PollResult {
    /// 304: nothing but the schedule is written.
    NotModified,
    /// A body was read and processed (`note`: articles that failed or were flagged).
    Fetched {
        /// Articles that failed or were flagged, for `status`.
        note: Option<String>,
        /// What to send with the next conditional GET.
        validators: Validators,
        /// Something new was found: `last_change_at` and `change_gap` move.
        changed: Option<Duration>,
    },
    /// The poll failed.
    Failed {
        /// Why, for `status` and the alert.
        error: String,
    },
    /// Not requested: the host asked us to wait. Only the next check moves.
    Deferred,
}

/// One poll's record: its result, the next check, and the alert it raised, if any.
#[derive(Debug)]
pub struct PollRecord {
    /// The source.
    pub source_id: i64,
    /// When it was polled.
    pub at: String,
    /// What it got.
    pub result: PollResult,
    /// When it is polled next.
    pub next_check_at: String,
    /// The interval it was scheduled with.
    pub interval: Duration,
    /// The HTTP status of the answer, if there was one.
    pub http_status: Option<u16>,
    /// The source alert it raised, if any.
    pub alert: Option<SourceAlert>,
}

/// Poll records not yet written. Written in batches, one transaction for many (a pass of
/// 10,000 sources mostly answering 304 would otherwise spend its time committing one row at a
/// time); a record with an alert is written at once, with everything before it.
/// The re-checks of articles that answered 304 wait beside them, written the same way.
#[derive(Default)]
pub struct PendingPolls(
    std::sync::Mutex<Vec<PollRecord>>,
    pub(super) std::sync::Mutex<Vec<super::articles::Checked>>,
);

/// How many poll records wait before they are written together.
pub(super) const BATCH: usize = 256;
/// Poll records a worker sharing PostgreSQL writes at once (in one round trip).
const SHARED_BATCH: usize = 32;

/// The columns of a source's scheduling state, as [`state`] reads them.
const STATE: &str = "id, next_check_at, interval_secs, last_change_at, change_gap_secs,
    consecutive_failures, failing_since, etag, last_modified";

fn state(r: &Row<'_>) -> Result<(i64, SourceState)> {
    Ok((
        r.get::<i64>(0)?,
        SourceState {
            next_check_at: parse_time(r.get(1)?),
            interval: secs(r.get(2)?),
            last_change_at: parse_time(r.get(3)?),
            change_gap: secs(r.get(4)?),
            consecutive_failures: r.get::<i64>(5)?.clamp(0, u32::MAX as i64) as u32,
            failing_since: r.get(6)?,
            validators: Validators {
                etag: r.get(7)?,
                last_modified: r.get(8)?,
            },
        },
    ))
}

fn parse_time(text: Option<String>) -> Option<DateTime<Utc>> {
    super::parse_timestamp(&text?)
}

fn secs(v: Option<f64>) -> Option<Duration> {
    v.filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

impl Store {
    /// Every source's scheduling state, by id.
    pub fn source_states(&self) -> Result<HashMap<i64, SourceState>> {
        Ok(self
            .conn()?
            .query_map(&format!("SELECT {STATE} FROM sources"), params![], state)?
            .into_iter()
            .collect())
    }

    /// One source's scheduling state as stored (another worker may have polled it since this
    /// one loaded it).
    pub fn source_state(&self, id: i64) -> Result<Option<SourceState>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!("SELECT {STATE} FROM sources WHERE id = $1"),
                params![id],
                state,
            )?
            .map(|(_, s)| s))
    }

    /// Records a poll. A 304 or a deferred poll writes the source's schedule and nothing else.
    /// Records are batched (see [`PendingPolls`]); [`Store::flush_polls`] writes what waits.
    pub fn record_poll(&self, p: PollRecord) -> Result<()> {
        let urgent = p.alert.is_some();
        // Workers sharing PostgreSQL write smaller batches: the sources of a batch waiting in
        // one worker stay leased to it until it is written (the daemon writes at least every
        // second), and a killed worker's batch is polled again by another.
        let batch = if self.dialect().shared {
            SHARED_BATCH
        } else {
            BATCH
        };
        let full = {
            let mut pending = self.pending.0.lock().unwrap_or_else(|e| e.into_inner());
            pending.push(p);
            pending.len() >= batch
        };
        if urgent || full {
            self.flush_polls()?;
        }
        Ok(())
    }

    /// Leases the sources `ids` to `owner` until `until`, except those another process holds a
    /// live lease on and, with `due_by`, those whose stored next check is later (another
    /// worker polled them since this one looked). Returns the sources leased with their state
    /// as stored. One statement, so that workers claiming at once split the sources between
    /// them; on PostgreSQL the rows another worker is claiming are skipped, not waited for.
    pub fn claim_sources(
        &self,
        ids: &[i64],
        owner: &str,
        now: &str,
        until: &str,
        due_by: Option<&str>,
    ) -> Result<HashMap<i64, SourceState>> {
        let conn = self.conn()?;
        let list = serde_json::to_string(ids)?;
        let d = conn.dialect();
        let due = match due_by {
            Some(_) => "AND (next_check_at IS NULL OR next_check_at <= $5)",
            None => "",
        };
        let sql = format!(
            "UPDATE sources SET lease_owner = $2, lease_until = $4
             WHERE id IN (SELECT id FROM sources
                          WHERE id IN ({ids})
                            AND (lease_until IS NULL OR lease_until <= $3 OR lease_owner = $2)
                            {due}
                          {lock})
             RETURNING {STATE}",
            ids = (d.json_ids)(1),
            lock = d.skip_locked,
        );
        let rows = match due_by {
            Some(due_by) => conn.query_map(&sql, params![list, owner, now, until, due_by], state),
            None => conn.query_map(&sql, params![list, owner, now, until], state),
        }?;
        Ok(rows.into_iter().collect())
    }

    /// Leases to `owner`, until `until`, up to `limit` of the sources `ids` (a JSON array)
    /// that are due at `now` and that no live lease holds, soonest due first; returns them with
    /// their state as stored. This is how workers sharing PostgreSQL divide the work: each takes
    /// what is due, rows another worker is taking at that moment are skipped, and a dead
    /// worker's sources come up again when its leases run out.
    /// `ids` `None`: any source of the table (every row is a configured source).
    pub fn claim_due_sources(
        &self,
        ids: Option<&str>,
        owner: &str,
        now: &str,
        until: &str,
        limit: usize,
    ) -> Result<Vec<(i64, SourceState)>> {
        let conn = self.conn()?;
        let d = conn.dialect();
        let list = match ids {
            Some(_) => format!("AND id IN ({})", (d.json_ids)(1)),
            None => "AND CAST($1 AS TEXT) IS NULL".to_string(),
        };
        conn.query_map(
            &format!(
                "UPDATE sources SET lease_owner = $2, lease_until = $4
                 WHERE id IN (SELECT id FROM sources
                              WHERE (next_check_at IS NULL OR next_check_at <= $3) {list}
                                AND (lease_until IS NULL OR lease_until <= $3)
                              ORDER BY next_check_at NULLS FIRST, id LIMIT $5
                              {lock})
                 RETURNING {STATE}",
                lock = d.skip_locked
            ),
            params![ids, owner, now, until, limit],
            state,
        )
    }

    /// When the next of the sources `ids` (a JSON array) can be claimed: its next check, or,
    /// while a lease holds it, the lease's end. `None`: no source.
    pub fn next_claimable(&self, ids: Option<&str>, now: &str) -> Result<Option<String>> {
        let conn = self.conn()?;
        let list = match ids {
            None => "SELECT id FROM sources WHERE CAST($1 AS TEXT) IS NULL".to_string(),
            Some(_) => (conn.dialect().json_ids)(1),
        };
        // A source never polled (no next check) can be claimed now.
        conn.query_row(
            &format!(
                "SELECT min(CASE WHEN lease_until > $2
                                      AND (next_check_at IS NULL OR lease_until > next_check_at)
                                 THEN lease_until ELSE coalesce(next_check_at, $2) END)
                 FROM sources WHERE id IN ({list})"
            ),
            params![ids, now],
            |r| r.get(0),
        )
    }

    /// How many sources the table holds (configured now or once).
    pub fn source_count(&self) -> Result<i64> {
        self.conn()?
            .query_row("SELECT count(*) FROM sources", params![], |r| r.get(0))
    }

    /// Gives back `owner`'s lease on one source.
    pub fn release_source(&self, id: i64, owner: &str) -> Result<()> {
        self.conn()?.execute(
            "UPDATE sources SET lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND lease_owner = $2",
            params![id, owner],
        )?;
        Ok(())
    }

    /// Extends `owner`'s lease on a source to `until`; false when it is no longer `owner`'s.
    pub fn renew_lease(&self, id: i64, owner: &str, until: &str) -> Result<bool> {
        Ok(self.conn()?.execute(
            "UPDATE sources SET lease_until = $3 WHERE id = $1 AND lease_owner = $2",
            params![id, owner, until],
        )? == 1)
    }

    /// Who holds a live lease on a source, and until when.
    pub fn lease_of(&self, id: i64, now: &str) -> Result<Option<(String, String)>> {
        self.conn()?.query_opt(
            "SELECT lease_owner, lease_until FROM sources
             WHERE id = $1 AND lease_until > $2 AND lease_owner IS NOT NULL",
            params![id, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Moves a source's lease from `from` (a process that no longer runs) to `to`.
    pub fn take_over_source(&self, id: i64, from: &str, to: &str, until: &str) -> Result<bool> {
        Ok(self.conn()?.execute(
            "UPDATE sources SET lease_owner = $3, lease_until = $4
             WHERE id = $1 AND lease_owner = $2",
            params![id, from, to, until],
        )? == 1)
    }

    /// Gives back every lease `owner` still holds (a pass that ends, a daemon that stops).
    pub fn release_sources(&self, owner: &str) -> Result<()> {
        self.flush_polls()?;
        let conn = self.conn()?;
        let released = conn.execute(
            "UPDATE sources SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
            params![owner],
        )?;
        if let Some(notify) = conn.dialect().notify.filter(|_| released > 0) {
            // Workers waiting on these leases look again now rather than after a while.
            conn.execute(notify, params![super::SOURCES_CHANNEL])?;
        }
        Ok(())
    }

    /// Writes the waiting poll records in one transaction.
    pub fn flush_polls(&self) -> Result<()> {
        self.flush_checks()?;
        let batch = std::mem::take(&mut *self.pending.0.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn()?;
        // A lone record without an alert is one statement and needs no transaction around it.
        if let [p] = batch.as_slice() {
            if p.alert.is_none() {
                let (sql, params) = poll_statement(p);
                conn.execute(sql, &params)?;
                return Ok(());
            }
        }
        let tx = conn.transaction()?;
        let rows: Vec<_> = batch.iter().map(poll_statement).collect();
        tx.execute_all(&rows)?;
        for p in &batch {
            if let Some(alert) = &p.alert {
                tx.execute(
                    "INSERT INTO alerts (alert_id, ts, kind, source_id, payload)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (alert_id) DO NOTHING",
                    params![
                        alert.id,
                        alert.ts,
                        alert.kind.as_str(),
                        p.source_id,
                        serde_json::to_string(alert)?
                    ],
                )?;
            }
        }
        if batch.iter().any(|p| p.alert.is_some()) {
            super::notify_alerts(&tx)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Remembers that a host asked us to wait, for the next run too.
    pub fn pause_host(&self, host: &str, until: &str, reason: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO hosts (host, paused_until, reason) VALUES ($1, $2, $3)
             ON CONFLICT (host) DO UPDATE SET
                 paused_until = CASE WHEN hosts.paused_until IS NULL
                                          OR excluded.paused_until > hosts.paused_until
                                     THEN excluded.paused_until ELSE hosts.paused_until END,
                 reason = excluded.reason",
            params![host, until, reason],
        )?;
        Ok(())
    }

    /// Hosts whose pause has not ended at `now`.
    pub fn host_pauses(&self, now: &str) -> Result<Vec<(String, DateTime<Utc>)>> {
        let rows = self.conn()?.query_map(
            "SELECT host, paused_until FROM hosts WHERE paused_until > $1",
            params![now],
            |r| Ok((r.get::<String>(0)?, r.get(1)?)),
        )?;
        let mut out = Vec::new();
        for (host, until) in rows {
            if let Some(t) = parse_time(Some(until)) {
                out.push((host, t));
            }
        }
        Ok(out)
    }
}

/// The source's row after a poll: one UPDATE.
fn poll_statement(p: &PollRecord) -> (&'static str, Vec<Value>) {
    let interval = p.interval.as_secs_f64();
    let id = p.source_id;
    match &p.result {
            PollResult::NotModified => ("UPDATE sources SET last_polled_at = $2, last_ok_at = $2, next_check_at = $3,
                        interval_secs = $4, last_http_status = 304,
                        last_error = CASE WHEN consecutive_failures > 0 THEN NULL ELSE last_error END,
                        consecutive_failures = 0, failing_since = NULL,
                        lease_owner = NULL, lease_until = NULL
                 WHERE id = $1", params![id, p.at, p.next_check_at, interval].to_vec()),
            PollResult::Fetched {
                note,
                validators,
                changed,
            } => ("UPDATE sources SET last_polled_at = $2, last_ok_at = $2, next_check_at = $3,
                        interval_secs = $4, last_http_status = $5, last_error = $6,
                        consecutive_failures = 0, failing_since = NULL, etag = $7,
                        last_modified = $8,
                        last_change_at = CASE WHEN $9 THEN $2 ELSE last_change_at END,
                        change_gap_secs = coalesce($10, change_gap_secs),
                        lease_owner = NULL, lease_until = NULL
                 WHERE id = $1", params![
                    id,
                    p.at,
                    p.next_check_at,
                    interval,
                    p.http_status,
                    note,
                    validators.etag,
                    validators.last_modified,
                    changed.is_some(),
                    changed.filter(|d| !d.is_zero()).map(|d| d.as_secs_f64()),
                ].to_vec()),
            PollResult::Failed { error } => ("UPDATE sources SET last_polled_at = $2, last_error = $3, next_check_at = $4,
                        interval_secs = $5, last_http_status = $6,
                        consecutive_failures = consecutive_failures + 1,
                        failing_since = CASE WHEN $7 THEN $2 ELSE failing_since END,
                        lease_owner = NULL, lease_until = NULL
                 WHERE id = $1", params![
                    id,
                    p.at,
                    error,
                    p.next_check_at,
                    interval,
                    p.http_status,
                    p.alert.is_some()
                ].to_vec()),
            PollResult::Deferred => ("UPDATE sources SET next_check_at = $2, lease_owner = NULL, lease_until = NULL
                 WHERE id = $1", params![id, p.next_check_at].to_vec()),
        }
}

//! The outbox: which alert each sink has been given, and which are still to deliver.
//!
//! Alerts are written with the version (or poll) that raised them. Each sink has a cursor over
//! the alerts table; [`Store::queue_deliveries`] moves it, queuing what passes the sink's
//! filters, and a delivery row then lives until the sink has taken the alert. Claims carry a
//! lease, so a second process does not deliver what the first is delivering, and a process that
//! died mid-delivery gives its claims back when the lease runs out.

use chrono::{DateTime, Utc};

use super::db::{params, Exec};
use super::{timestamp, Result, Store};
use crate::alerts::AnyAlert;

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The alert's row id (not its stable `id`).
    pub row: i64,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// The alert.
    pub alert: AnyAlert,
}

/// What is waiting for one sink.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SinkBacklog {
    /// Alerts not delivered yet.
    pub pending: i64,
    /// Alerts delivered.
    pub delivered: i64,
    /// The soonest a pending alert may be tried (again).
    pub next_attempt_at: Option<String>,
    /// When the oldest pending alert was queued (a digest goes out a window after it).
    pub oldest_queued_at: Option<String>,
    /// The error of the most recent failed attempt among the pending ones.
    pub last_error: Option<String>,
}

impl Store {
    /// Registers the configured sinks; one seen for the first time starts after the newest
    /// alert. Sinks no longer configured are forgotten with what they had not delivered; their
    /// keys and undelivered counts are returned so that the caller can say so.
    pub fn sync_sinks(&self, keys: &[&str]) -> Result<Vec<(String, i64)>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let newest: i64 =
            tx.query_row("SELECT coalesce(max(id), 0) FROM alerts", params![], |r| {
                r.get(0)
            })?;
        let now = super::now();
        for key in keys {
            tx.execute(
                "INSERT INTO sinks (sink, cursor, added_at) VALUES ($1, $2, $3)
                 ON CONFLICT (sink) DO NOTHING",
                params![key, newest, now],
            )?;
        }
        let forgotten: Vec<(String, i64)> = tx
            .query_map(
                "SELECT s.sink, (SELECT count(*) FROM deliveries d
                                 WHERE d.sink = s.sink AND d.delivered_at IS NULL)
                 FROM sinks s",
                params![],
                |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
            )?
            .into_iter()
            .filter(|(sink, _)| !keys.contains(&sink.as_str()))
            .collect();
        for (sink, _) in &forgotten {
            tx.execute("DELETE FROM deliveries WHERE sink = $1", params![sink])?;
            tx.execute("DELETE FROM sinks WHERE sink = $1", params![sink])?;
        }
        tx.commit()?;
        Ok(forgotten)
    }

    /// Queues for `sink` the alerts after its cursor that `wanted(kind, topic)` accepts, and
    /// moves the cursor past all of them. Returns how many were queued.
    pub fn queue_deliveries(
        &self,
        sink: &str,
        wanted: impl Fn(&str, Option<&str>) -> bool,
    ) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        if let Some(lock) = tx.dialect().lock_alerts {
            // Workers commit alerts out of id order: without this, the cursor could pass an
            // alert whose transaction had not committed yet, and the sink would never get it.
            // SHARE waits for the transactions inserting alerts and holds off new ones until
            // this commits, so every id below the newest one seen is there to be seen.
            tx.execute(lock, params![])?;
        }
        // The sink's row is locked (PostgreSQL; SQLite's transaction holds the write lock), so
        // two workers moving one cursor take turns instead of both queuing the same alerts.
        let Some(cursor) = tx.query_opt(
            &format!(
                "SELECT cursor FROM sinks WHERE sink = $1 {}",
                tx.dialect().for_update
            ),
            params![sink],
            |r| r.get::<i64>(0),
        )?
        else {
            return Ok(0);
        };
        let fresh: Vec<(i64, String, Option<String>)> = tx.query_map(
            "SELECT id, kind, topic FROM alerts WHERE id > $1 ORDER BY id LIMIT 10000",
            params![cursor],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let Some(last) = fresh.last().map(|f| f.0) else {
            return Ok(0);
        };
        let now = super::now();
        let mut queued = 0;
        for (id, kind, topic) in &fresh {
            if wanted(kind, topic.as_deref()) {
                queued += tx.execute(
                    "INSERT INTO deliveries (sink, alert, queued_at, next_attempt_at)
                     VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING",
                    params![sink, id, now],
                )?;
            }
        }
        tx.execute(
            "UPDATE sinks SET cursor = $2 WHERE sink = $1",
            params![sink, last],
        )?;
        tx.commit()?;
        Ok(queued)
    }

    /// Claims, oldest first, up to `limit` of `sink`'s deliveries that are due at `now` and not
    /// leased by another process, leasing them until `lease_until`. On PostgreSQL, rows another
    /// worker is claiming at the same moment are skipped (`SKIP LOCKED`), not waited for.
    pub fn claim_deliveries(
        &self,
        sink: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Claimed>> {
        let conn = self.conn()?;
        let now = timestamp(now);
        let mut claimed: Vec<(i64, u32)> = conn.query_map(
            &format!(
                "UPDATE deliveries SET lease_until = $3, attempts = attempts + 1
                 WHERE sink = $1 AND alert IN (
                     SELECT alert FROM deliveries
                     WHERE sink = $1 AND delivered_at IS NULL AND next_attempt_at <= $2
                       AND (lease_until IS NULL OR lease_until <= $2)
                     ORDER BY alert LIMIT $4 {})
                 RETURNING alert, attempts",
                conn.dialect().skip_locked
            ),
            params![sink, now, timestamp(lease_until), limit],
            |r| Ok((r.get(0)?, r.get::<i64>(1)?.clamp(0, u32::MAX as i64) as u32)),
        )?;
        claimed.sort_unstable();
        let mut out = Vec::with_capacity(claimed.len());
        for (row, attempts) in claimed {
            let text: String = conn.query_row(
                "SELECT payload FROM alerts WHERE id = $1",
                params![row],
                |r| r.get(0),
            )?;
            out.push(Claimed {
                row,
                attempts,
                alert: serde_json::from_str(&text)?,
            });
        }
        Ok(out)
    }

    /// Marks deliveries done.
    pub fn delivered(&self, sink: &str, rows: &[i64]) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let now = super::now();
        for row in rows {
            tx.execute(
                "UPDATE deliveries SET delivered_at = $3, lease_until = NULL, last_error = NULL
                 WHERE sink = $1 AND alert = $2",
                params![sink, row, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Gives failed deliveries back, to be tried again at `retry_at`.
    pub fn delivery_failed(
        &self,
        sink: &str,
        rows: &[i64],
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let retry_at = timestamp(retry_at);
        for row in rows {
            tx.execute(
                "UPDATE deliveries SET lease_until = NULL, last_error = $3, next_attempt_at = $4
                 WHERE sink = $1 AND alert = $2",
                params![sink, row, error, retry_at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Gives a claimed delivery back without an outcome (its send was cut off).
    pub fn release_delivery(&self, sink: &str, row: i64) -> Result<()> {
        self.conn()?.execute(
            "UPDATE deliveries SET lease_until = NULL
             WHERE sink = $1 AND alert = $2 AND delivered_at IS NULL",
            params![sink, row],
        )?;
        Ok(())
    }

    /// What is pending and delivered for `sink`.
    pub fn sink_backlog(&self, sink: &str) -> Result<SinkBacklog> {
        let conn = self.conn()?;
        let mut backlog = conn.query_row(
            "SELECT count(*) FILTER (WHERE delivered_at IS NULL),
                    count(*) FILTER (WHERE delivered_at IS NOT NULL),
                    min(CASE WHEN lease_until > next_attempt_at THEN lease_until
                             ELSE next_attempt_at END) FILTER (WHERE delivered_at IS NULL),
                    min(queued_at) FILTER (WHERE delivered_at IS NULL)
             FROM deliveries WHERE sink = $1",
            params![sink],
            |r| {
                Ok(SinkBacklog {
                    pending: r.get(0)?,
                    delivered: r.get(1)?,
                    next_attempt_at: r.get(2)?,
                    oldest_queued_at: r.get(3)?,
                    last_error: None,
                })
            },
        )?;
        backlog.last_error = conn.query_opt(
            "SELECT last_error FROM deliveries
             WHERE sink = $1 AND delivered_at IS NULL AND last_error IS NOT NULL
             ORDER BY next_attempt_at DESC LIMIT 1",
            params![sink],
            |r| r.get(0),
        )?;
        Ok(backlog)
    }
}

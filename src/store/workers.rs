//! What workers sharing one store tell each other: who is alive, and, per host, when the next
//! request may start and who holds its request slots. With several `figwatch run` processes on
//! PostgreSQL, this is what keeps `per_host_delay`, `per_host_concurrency` and a host's
//! Retry-After pause true for all of them together rather than for each alone.

use std::time::Duration;

use chrono::Utc;

use super::db::{params, Exec, Row};
use super::{timestamp, Backend, Result, Store, StoreError};
use crate::fetch::HostTurn;

/// A worker as `figwatch status` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkerStatus {
    /// Its name (`host pid N (…)`).
    pub name: String,
    /// When it started.
    pub started_at: String,
    /// When it last said it was alive.
    pub seen_at: String,
    /// Sources it holds a live lease on: those it is polling now.
    pub polling: i64,
}

use super::parse_timestamp as parse;

const RELEASE_HOST: &str = "UPDATE host_slots SET holder = NULL, until = NULL
                            WHERE host = $1 AND slot = $2 AND holder = $3";

impl Store {
    /// Takes one of `host`'s `slots` request slots for `holder` until `hold` from now, and
    /// the start time `delay` after the last start any worker was given. A host every slot
    /// of which is held answers [`HostTurn::Busy`]; a paused host, its pause.
    pub fn reserve_host(
        &self,
        host: &str,
        holder: &str,
        slots: usize,
        delay: Duration,
        hold: Duration,
    ) -> Result<HostTurn> {
        if let Some(turn) = self.reserve_host_detached(host, holder, slots, delay, hold) {
            return futures_executor::block_on(turn);
        }
        let now = Utc::now();
        let now_text = timestamp(now);
        let hold_until = timestamp(super::later(now, hold));
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO hosts (host, paused_until) VALUES ($1, '') ON CONFLICT (host) DO NOTHING",
            params![host],
        )?;
        // The transaction holds the write lock until the commit: processes reserving one host
        // take turns.
        let (paused, next_start): (String, Option<String>) = tx.query_row(
            "SELECT paused_until, next_start_at FROM hosts WHERE host = $1",
            params![host],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if let Some(until) = parse(&paused).filter(|u| *u > now) {
            tx.commit()?;
            return Ok(HostTurn::Paused(until));
        }
        let held: Vec<i64> = tx.query_map(
            "SELECT slot FROM host_slots WHERE host = $1 AND holder IS NOT NULL AND until > $2",
            params![host, now_text],
            |r| r.get(0),
        )?;
        let Some(slot) = (0..slots.max(1) as i64).find(|s| !held.contains(s)) else {
            tx.commit()?;
            return Ok(HostTurn::Busy);
        };
        tx.execute(
            "INSERT INTO host_slots (host, slot, holder, until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (host, slot) DO UPDATE SET holder = excluded.holder, until = excluded.until",
            params![host, slot, holder, hold_until],
        )?;
        let start = next_start
            .as_deref()
            .and_then(parse)
            .filter(|t| *t > now)
            .unwrap_or(now);
        tx.execute(
            "UPDATE hosts SET next_start_at = $2 WHERE host = $1",
            params![host, timestamp(super::later(start, delay))],
        )?;
        tx.commit()?;
        Ok(HostTurn::Go {
            slot,
            start_at: start,
        })
    }

    /// [`Store::reserve_host`] as a future that does not hold up its caller while the
    /// database answers, for a store that has one (PostgreSQL; `None` for SQLite, which
    /// answers from the same machine at once). One round trip
    /// (`migrations/postgres/0003_reserve_host.sql`): this runs before every request of
    /// workers sharing a store, from the task that runs a whole pass's polls.
    pub fn reserve_host_detached(
        &self,
        host: &str,
        holder: &str,
        slots: usize,
        delay: Duration,
        hold: Duration,
    ) -> Option<impl std::future::Future<Output = Result<HostTurn>> + Send + 'static> {
        let (Backend::Postgres(pool), Some(reserve)) = (&self.backend, self.dialect().reserve_host)
        else {
            return None;
        };
        let now = Utc::now();
        let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        let values = params![
            host,
            holder,
            slots as i64,
            delay_ms,
            timestamp(now),
            timestamp(super::later(now, hold))
        ]
        .to_vec();
        let rows = pool.query_detached(reserve, values);
        Some(async move {
            let rows = rows.await?;
            let row = Row::Pg(
                rows.first()
                    .ok_or_else(|| StoreError::NoRow(reserve.to_string()))?,
            );
            let (turn, slot, at): (String, Option<i64>, Option<String>) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            let at = at.as_deref().and_then(parse);
            Ok(match (turn.as_str(), slot, at) {
                ("paused", _, Some(until)) => HostTurn::Paused(until),
                ("go", Some(slot), Some(start_at)) => HostTurn::Go { slot, start_at },
                _ => HostTurn::Busy,
            })
        })
    }

    /// Gives a request slot back.
    pub fn release_host(&self, host: &str, slot: i64, holder: &str) -> Result<()> {
        self.conn()?
            .execute(RELEASE_HOST, params![host, slot, holder])?;
        Ok(())
    }

    /// Gives a request slot back without waiting for the database: on PostgreSQL the
    /// statement runs on the store's own runtime, and a failure is logged (the slot then
    /// runs out by itself at the end of its hold). On SQLite, at once.
    pub fn release_host_detached(&self, host: &str, slot: i64, holder: &str) {
        let failed = {
            let host = host.to_string();
            move |e: StoreError| {
                tracing::warn!(
                    host = %crate::controls::strip(&host),
                    "cannot give back a request slot: {e}; it runs out by itself"
                )
            }
        };
        match &self.backend {
            Backend::Postgres(pool) => {
                pool.execute_detached(RELEASE_HOST, params![host, slot, holder].to_vec(), failed)
            }
            Backend::Sqlite(_) => {
                if let Err(e) = self.release_host(host, slot, holder) {
                    failed(e);
                }
            }
        }
    }

    /// Who holds a live lease on a source or a host's request slot.
    pub fn lease_holders(&self, now: &str) -> Result<Vec<String>> {
        self.conn()?.query_map(
            "SELECT lease_owner FROM sources WHERE lease_until > $1 AND lease_owner IS NOT NULL
             UNION SELECT holder FROM host_slots WHERE until > $1 AND holder IS NOT NULL",
            params![now],
            |r| r.get(0),
        )
    }

    /// Frees every lease and request slot `holder` has (a process known to have ended).
    /// Returns how many sources it held.
    pub fn free_leases_of(&self, holder: &str) -> Result<usize> {
        let conn = self.conn()?;
        conn.execute(
            "UPDATE host_slots SET holder = NULL, until = NULL WHERE holder = $1",
            params![holder],
        )?;
        conn.execute(
            "UPDATE sources SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
            params![holder],
        )
    }

    /// Says that worker `name` is alive (at start, then now and then).
    pub fn worker_alive(&self, name: &str, started_at: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO workers (name, started_at, seen_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at",
            params![name, started_at, super::now()],
        )?;
        Ok(())
    }

    /// Says that worker `name` stopped.
    pub fn worker_gone(&self, name: &str) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM workers WHERE name = $1", params![name])?;
        Ok(())
    }

    /// The workers seen since `since`, with how many sources each is polling.
    pub fn workers(&self, since: &str) -> Result<Vec<WorkerStatus>> {
        self.conn()?.query_map(
            "SELECT w.name, w.started_at, w.seen_at,
                    (SELECT count(*) FROM sources s WHERE s.lease_owner = w.name AND s.lease_until > $2)
             FROM workers w WHERE w.seen_at >= $1 ORDER BY w.started_at, w.name",
            params![since, super::now()],
            |r| {
                Ok(WorkerStatus {
                    name: r.get(0)?,
                    started_at: r.get(1)?,
                    seen_at: r.get(2)?,
                    polling: r.get(3)?,
                })
            },
        )
    }
}

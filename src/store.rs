//! The store: sources, articles, every version of every article, their figures and alerts, in
//! one SQLite file or in PostgreSQL shared by several workers. Every SQL statement of figwatch
//! lives under this module: what both databases say alike in the files of each concern
//! (articles, schedule, ledger, outbox…), what they say differently in [`sqlite`] and
//! [`postgres`], each in its own dialect and with its own migrations (see [`db`]).

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};

use db::{params, Conn, Exec};

use crate::config::SourceConfig;

/// Why the store could not do what it was asked. Every message names the database (never its
/// password) or the statement, and says what to do where there is something to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be opened.
    #[error("database {path}: {reason}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A PostgreSQL URL's TLS settings cannot be used.
    #[error("database {path}: {source}")]
    Tls {
        /// The database, without its password.
        path: String,
        /// What is wrong with them.
        #[source]
        source: Box<postgres::TlsError>,
    },
    /// SQLite failed.
    #[error("database: {}", sqlite::sql_message(.0))]
    Sql(#[from] rusqlite::Error),
    /// A stored JSON value cannot be read.
    #[error("database: stored data is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// PostgreSQL failed.
    #[error("PostgreSQL: {}", postgres::pg_message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// A column holds what its reader did not expect.
    #[error("database: column {index} holds {reason}")]
    Column {
        /// The column.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A statement and its parameters do not match (a bug, found before it runs).
    #[error("database: the statement `{statement}…` cannot take its parameters: {reason}")]
    Parameters {
        /// The start of the statement.
        statement: String,
        /// Why.
        reason: String,
    },
    /// No PostgreSQL connection could be had in time.
    #[error("PostgreSQL: {0}; the server may be restarting, and what failed is tried again at its next turn")]
    Unavailable(String),
    /// A statement that must answer a row answered none.
    #[error("database: no row for `{0}…`")]
    NoRow(String),
    /// A kept page cannot be read back.
    #[error("database: the stored page of article {article_id} is unreadable: {reason}")]
    Page {
        /// The article.
        article_id: i64,
        /// Why.
        reason: String,
    },
}

/// A store call's outcome.
pub type Result<T> = std::result::Result<T, StoreError>;

/// A time before any the store holds: what "since" means when no time is given. Written as the
/// store writes times, so that it sorts first as SQLite's text and parses as PostgreSQL's time.
pub(crate) const BEGINNING: &str = "0001-01-01T00:00:00.000Z";

/// Now, as the store writes times.
pub fn now() -> String {
    timestamp(Utc::now())
}

/// A time as the store writes it: RFC 3339, UTC, milliseconds.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `t` plus `d`, never past the last second of the year 9999: times are stored as sortable
/// text, and date arithmetic must not panic whatever a duration says.
pub fn later(t: DateTime<Utc>, d: std::time::Duration) -> DateTime<Utc> {
    let last = DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z")
        .map(|t| t.with_timezone(&Utc))
        .expect("a valid time");
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .map_or(last, |t| t.min(last))
}

/// A time as the store writes it (RFC 3339), read back; `None` when it is not one.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A source's health, as `figwatch status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceStatus {
    /// The source's row id.
    pub id: i64,
    /// Its URL.
    pub url: String,
    /// `feed` or `page`.
    pub kind: String,
    /// When it was last polled.
    pub last_polled_at: Option<String>,
    /// When a poll last succeeded.
    pub last_ok_at: Option<String>,
    /// Why the last poll failed, if it did.
    pub last_error: Option<String>,
    /// Failed polls in a row.
    pub consecutive_failures: i64,
    /// When it is polled next.
    pub next_check_at: Option<String>,
    /// The interval the source was last scheduled with, in seconds (adaptive).
    pub interval_secs: Option<f64>,
    /// What the last poll got: 200, 304, 429…
    pub last_http_status: Option<i64>,
    /// When the standing `source_failing` alert was raised.
    pub failing_since: Option<String>,
    /// Articles it listed.
    pub articles: i64,
    /// Versions of those articles.
    pub versions: i64,
    /// Its articles on the age schedule: watched, due within the hour, retired.
    pub watched: i64,
    /// Of its watched articles, those due within the hour.
    pub due_within_hour: i64,
    /// Of its articles, those past their last tier.
    pub retired: i64,
    /// The process polling it right now (`host pid N (…)`), while its lease holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polled_by: Option<String>,
    /// When that lease runs out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<String>,
}

/// Every version of every article, the figures read in them and the alerts they raised: an SQLite
/// file, or a PostgreSQL database that several workers share.
pub struct Store {
    /// Its connection (SQLite) or pool of connections (PostgreSQL).
    backend: Backend,
    /// The PostgreSQL URL (for the connection that listens), or `None` for SQLite.
    postgres_url: Option<String>,
    /// Poll records waiting to be written in one transaction.
    pending: schedule::PendingPolls,
    /// The SQLite file as opened (None for PostgreSQL).
    file: Option<file::FileIdentity>,
}

enum Backend {
    /// One connection: SQLite has one writer at a time.
    Sqlite(Mutex<Conn>),
    /// A few, so that the polls of one worker do not queue behind each other's round trips.
    Postgres(postgres::Pool),
}

/// A connection taken for one call of the store; given back when dropped.
enum Held<'a> {
    Lite(std::sync::MutexGuard<'a, Conn>),
    Pg(Box<Conn>),
}

impl std::ops::Deref for Held<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        match self {
            Held::Lite(c) => c,
            Held::Pg(c) => c,
        }
    }
}

impl std::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        match self {
            Held::Lite(c) => c,
            Held::Pg(c) => c,
        }
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Conn::Lite(sqlite::open(path)?);
        Ok(Store::with(
            Backend::Sqlite(Mutex::new(conn)),
            None,
            file::FileIdentity::of(path),
        ))
    }

    fn with(
        backend: Backend,
        postgres_url: Option<String>,
        file: Option<file::FileIdentity>,
    ) -> Store {
        Store {
            backend,
            postgres_url,
            pending: Default::default(),
            file,
        }
    }

    /// Opens the configured database: the SQLite file, or PostgreSQL.
    pub fn connect(database: &crate::config::Database) -> Result<Store> {
        match database {
            crate::config::Database::Sqlite(path) => Store::open(path),
            crate::config::Database::Postgres(url) => Store::open_postgres(url),
        }
    }

    /// Like [`Store::connect`], for reading only: an SQLite file is opened read-only; a
    /// PostgreSQL schema must already be in place.
    pub fn connect_read_only(database: &crate::config::Database) -> Result<Store> {
        match database {
            crate::config::Database::Sqlite(path) => Store::open_read_only(path),
            crate::config::Database::Postgres(url) => Store::open_postgres(url),
        }
    }

    /// Connects to PostgreSQL and brings its schema up to date.
    pub fn open_postgres(url: &str) -> Result<Store> {
        Ok(Store::with(
            Backend::Postgres(postgres::open(url)?),
            Some(url.to_string()),
            None,
        ))
    }

    /// Opens the SQLite database for reading only (the dashboard): no schema change, no write.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let conn = Conn::Lite(sqlite::open_read_only(path)?);
        Ok(Store::with(
            Backend::Sqlite(Mutex::new(conn)),
            None,
            file::FileIdentity::of(path),
        ))
    }
}

impl Store {
    /// What its backend says its own way.
    fn dialect(&self) -> &'static dialect::Dialect {
        match self.backend {
            Backend::Sqlite(_) => &sqlite::DIALECT,
            Backend::Postgres(_) => &postgres::DIALECT,
        }
    }

    fn conn(&self) -> Result<Held<'_>> {
        match &self.backend {
            // A panic while holding the lock cannot leave the database half-written
            // (transactions roll back), so a poisoned lock is safe to take over.
            Backend::Sqlite(c) => Ok(Held::Lite(c.lock().unwrap_or_else(|p| p.into_inner()))),
            Backend::Postgres(pool) => Ok(Held::Pg(Box::new(Conn::Pg(pool.get()?)))),
        }
    }

    /// Notifications of other workers sharing a PostgreSQL store: the channel names of
    /// [`ALERTS_CHANNEL`] and [`SOURCES_CHANNEL`] as they come. `None` for SQLite, whose
    /// readers look for changes instead.
    pub fn listen(&self) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<String>>> {
        let Some(url) = &self.postgres_url else {
            return Ok(None);
        };
        postgres::listen(url, &[ALERTS_CHANNEL, SOURCES_CHANNEL])
            .map(Some)
            .map_err(|reason| StoreError::Open {
                path: migrate::redact(url),
                reason: format!("cannot listen for the other workers: {reason}"),
            })
    }

    /// Why the SQLite file this store opened is no longer at its path (deleted, or replaced),
    /// if it is not.
    pub fn file_gone(&self) -> Option<String> {
        self.file.as_ref().and_then(file::FileIdentity::gone)
    }

    /// True when the store is PostgreSQL (shared by several workers).
    pub fn is_postgres(&self) -> bool {
        self.postgres_url.is_some()
    }

    /// Makes sure every configured source has a row; returns their ids in the same order.
    /// Rows that exist are only read: a configuration of 10,000 sources costs no write at start.
    /// Also returns the indices of the sources whose schedule (intervals, `recheck`) differs
    /// from the one stored with them: their next checks may need pulling in.
    pub fn sync_sources(&self, sources: &[SourceConfig]) -> Result<(Vec<i64>, Vec<usize>)> {
        let mut conn = self.conn()?;
        type Known = (i64, String, Option<String>);
        let known: std::collections::HashMap<String, Known> = conn
            .query_map(
                "SELECT url, id, kind, schedule_key FROM sources",
                params![],
                |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))),
            )?
            .into_iter()
            .collect();
        let mut ids = Vec::with_capacity(sources.len());
        let mut changed = Vec::new();
        let now = now();
        let new: Vec<usize> = (0..sources.len())
            .filter(|&i| {
                !matches!(known.get(sources[i].url.as_str()),
                    Some((_, kind, _)) if kind == sources[i].kind.as_str())
            })
            .collect();
        // A configuration of 10,000 known sources costs no write at start.
        let tx = (!new.is_empty()).then(|| conn.transaction()).transpose()?;
        for (i, s) in sources.iter().enumerate() {
            match (known.get(s.url.as_str()), &tx) {
                (Some((id, kind, key)), _) if kind == s.kind.as_str() => {
                    ids.push(*id);
                    if key.as_deref() != Some(s.schedule_key().as_str()) {
                        changed.push(i);
                    }
                }
                (_, Some(tx)) => ids.push(tx.query_row(
                    "INSERT INTO sources (url, kind, added_at, schedule_key) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (url) DO UPDATE SET kind = excluded.kind
                     RETURNING id",
                    params![s.url.as_str(), s.kind.as_str(), now, s.schedule_key()],
                    |r| r.get(0),
                )?),
                (_, None) => unreachable!("a transaction is open while there are new sources"),
            }
        }
        if let Some(tx) = tx {
            tx.commit()?;
        }
        Ok((ids, changed))
    }

    /// The configured sources' health, in configuration order when `urls` is given.
    pub fn source_statuses(&self) -> Result<Vec<SourceStatus>> {
        self.conn()?.query_map(
            "SELECT s.id, s.url, s.kind, s.last_polled_at, s.last_ok_at, s.last_error,
                    s.consecutive_failures, s.next_check_at, s.interval_secs,
                    s.last_http_status, s.failing_since,
                    (SELECT count(*) FROM articles a WHERE a.source_id = s.id),
                    (SELECT count(*) FROM versions v JOIN articles a ON a.id = v.article_id
                      WHERE a.source_id = s.id),
                    CASE WHEN s.lease_until > $1 THEN s.lease_owner END,
                    CASE WHEN s.lease_until > $1 THEN s.lease_until END,
                    (SELECT count(*) FROM articles a
                      WHERE a.source_id = s.id AND a.next_check_at IS NOT NULL),
                    (SELECT count(*) FROM articles a
                      WHERE a.source_id = s.id AND a.next_check_at <= $2),
                    (SELECT count(*) FROM articles a
                      WHERE a.source_id = s.id AND a.retired_at IS NOT NULL)
             FROM sources s ORDER BY s.id",
            params![now(), timestamp(Utc::now() + chrono::Duration::hours(1))],
            |r| {
                Ok(SourceStatus {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    kind: r.get(2)?,
                    last_polled_at: r.get(3)?,
                    last_ok_at: r.get(4)?,
                    last_error: r.get(5)?,
                    consecutive_failures: r.get(6)?,
                    next_check_at: r.get(7)?,
                    interval_secs: r.get(8)?,
                    last_http_status: r.get(9)?,
                    failing_since: r.get(10)?,
                    articles: r.get(11)?,
                    versions: r.get(12)?,
                    polled_by: r.get(13)?,
                    lease_until: r.get(14)?,
                    watched: r.get(15)?,
                    due_within_hour: r.get(16)?,
                    retired: r.get(17)?,
                })
            },
        )
    }

    /// The article stored under a URL, created on first sight. Returns (id, created). An
    /// article checked `by_age` (a feed entry with a link) is created due at once, so that one
    /// whose first fetch never completed (a process killed mid-way) is still checked.
    pub fn article_for(
        &self,
        url: &str,
        source_id: i64,
        entry_id: Option<&str>,
        by_age: bool,
    ) -> Result<(i64, bool)> {
        let conn = self.conn()?;
        if let Some(id) = conn.query_opt(
            "SELECT id FROM articles WHERE url = $1",
            params![url],
            |r| r.get(0),
        )? {
            return Ok((id, false));
        }
        // Another worker may create it between the two statements: then its row is used.
        let now = now();
        let created = conn.query_opt(
            "INSERT INTO articles (url, source_id, entry_id, first_seen_at, next_check_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (url) DO NOTHING RETURNING id",
            params![url, source_id, entry_id, now, by_age.then_some(&now)],
            |r| r.get(0),
        )?;
        match created {
            Some(id) => Ok((id, true)),
            None => Ok((
                conn.query_row(
                    "SELECT id FROM articles WHERE url = $1",
                    params![url],
                    |r| r.get(0),
                )?,
                false,
            )),
        }
    }

    /// The id of the article at `url` (its canonical form), if it is stored.
    pub fn article_id(&self, url: &str) -> Result<Option<i64>> {
        self.conn()?.query_opt(
            "SELECT id FROM articles WHERE url = $1",
            params![url],
            |r| r.get(0),
        )
    }

    /// Records that an article was checked: with an error, or (None) successfully.
    pub fn article_checked(&self, article_id: i64, at: &str, error: Option<&str>) -> Result<()> {
        let conn = self.conn()?;
        match error {
            None => conn.execute(
                "UPDATE articles SET last_checked_at = $2, last_error = NULL WHERE id = $1",
                params![article_id, at],
            )?,
            Some(e) => conn.execute(
                "UPDATE articles SET last_checked_at = $2, last_error = $3, last_error_at = $2
                 WHERE id = $1",
                params![article_id, at, e],
            )?,
        };
        Ok(())
    }

    /// Article URLs that look like `needle`, to suggest when a lookup finds nothing.
    pub fn similar_article_urls(&self, needle: &str, limit: usize) -> Result<Vec<String>> {
        let conn = self.conn()?;
        conn.query_map(
            conn.dialect().urls_containing,
            params![needle, limit],
            |r| r.get(0),
        )
    }

    /// Counts of what is stored, for summaries and tests.
    pub fn counts(&self) -> Result<StoreCounts> {
        let conn = self.conn()?;
        let count = |table: &str| -> Result<i64> {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), params![], |r| {
                r.get(0)
            })
        };
        Ok(StoreCounts {
            sources: count("sources")?,
            articles: count("articles")?,
            versions: count("versions")?,
            alerts: count("alerts")?,
        })
    }
}

/// The PostgreSQL channel on which committed alerts are announced.
pub const ALERTS_CHANNEL: &str = "figwatch_alerts";
/// The PostgreSQL channel on which a worker that stops announces the sources it gave back.
pub const SOURCES_CHANNEL: &str = "figwatch_sources";

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.flush_polls() {
            tracing::error!("the last polls' schedule could not be written: {e}");
        }
    }
}

/// How many rows the main tables hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    /// Sources.
    pub sources: i64,
    /// Articles.
    pub articles: i64,
    /// Versions.
    pub versions: i64,
    /// Alerts.
    pub alerts: i64,
}

mod articles;
pub(crate) mod db;
mod dialect;
mod export;
mod file;
mod postgres;
mod sqlite;
pub use file::StoreGone;
mod ledger;
pub mod migrate;
mod outbox;
mod pages;
pub use pages::StoredPage;
mod retention;
mod schedule;
mod versions;
mod workers;
pub use articles::{ArticleSchedule, ArticleState, Claim, DueArticle, NextCheck, PullIn};
pub use export::{AlertRow, FigureRow, VersionRow};
pub use ledger::{LedgerEntry, LedgerSource};
pub use outbox::{Claimed, SinkBacklog};
pub use retention::PruneReport;
pub use schedule::{PollRecord, PollResult, SourceState};
pub(crate) use versions::notify_alerts;
pub use versions::{AlertFilter, FetchRecord, NewVersion, StoredVersion, VersionSummary};
pub use workers::WorkerStatus;

#[cfg(test)]
mod tests;

/// Runs a store call `f` from async code without stalling the runtime: on the daemon's
/// multi-threaded runtime, the worker thread hands its other tasks to another thread while `f`
/// waits for the disk or the database (`block_in_place`); elsewhere (a single-threaded test
/// runtime, a blocking thread, no runtime) `f` just runs. The one boundary between the async
/// pipeline and the synchronous store: the pipeline calls the store through it.
pub fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

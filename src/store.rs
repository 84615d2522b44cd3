//! The store: sources, articles, every version of every article, their figures and alerts, in
//! one SQLite file. Every SQL statement of figwatch lives in this module, so that another
//! backend only has to implement what is here.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;

use db::{params, Conn, Exec, Row, Tx};
use rusqlite_migration::{Migrations, M};

use crate::alerts::{Alert, AnyAlert};
use crate::config::SourceConfig;
use crate::extract::Article;
use crate::figures::Figure;

/// The schema, in order; each file is applied once and recorded in `PRAGMA user_version`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_version_flags.sql"),
    include_str!("../migrations/0003_ledger.sql"),
    include_str!("../migrations/0004_schedule.sql"),
    include_str!("../migrations/0005_outbox.sql"),
    include_str!("../migrations/0006_leases.sql"),
    include_str!("../migrations/0007_workers.sql"),
    include_str!("../migrations/0008_article_ages.sql"),
    include_str!("../migrations/0009_figure_scope.sql"),
    include_str!("../migrations/0010_pages.sql"),
];

/// Connections each worker keeps to PostgreSQL.
const PG_POOL: usize = 4;

/// The PostgreSQL schema, in order; the version applied is kept in `figwatch_schema`.
pub(crate) const PG_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_initial.sql"),
    include_str!("../migrations/postgres/0002_workers.sql"),
    include_str!("../migrations/postgres/0003_reserve_host.sql"),
    include_str!("../migrations/postgres/0004_article_ages.sql"),
    include_str!("../migrations/postgres/0005_figure_scope.sql"),
    include_str!("../migrations/postgres/0006_pages.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("database: {}", sql_message(.0))]
    Sql(#[from] rusqlite::Error),
    #[error("database: stored data is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("PostgreSQL: {}", db::pg_message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("database: column {index} holds {reason}")]
    Column { index: usize, reason: String },
    #[error("database: no row for `{0}…`")]
    NoRow(String),
    #[error("database: the stored page of article {article_id} is unreadable: {reason}")]
    Page { article_id: i64, reason: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// SQLite's message, with what to do about the failures a user can fix.
fn sql_message(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => format!(
            "{e}: the disk (or the file size allowed to figwatch) is full; nothing was half-written, and what failed is tried again at its next check — free some space or run `figwatch prune`"
        ),
        Some(ErrorCode::SystemIoFailure) => format!(
            "{e}: writing the database failed (a full disk, a file size limit or a failing disk); the transaction was rolled back, nothing was half-written, and what failed is tried again at its next check"
        ),
        Some(ErrorCode::ReadOnly) => format!(
            "{e}: the database file or its folder is read-only for this user"
        ),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "{e}: another process held the database for too long"
        ),
        _ => e.to_string(),
    }
}

pub fn now() -> String {
    timestamp(Utc::now())
}

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
    pub id: i64,
    pub url: String,
    pub kind: String,
    pub last_polled_at: Option<String>,
    pub last_ok_at: Option<String>,
    pub last_error: Option<String>,
    pub consecutive_failures: i64,
    pub next_check_at: Option<String>,
    /// The interval the source was last scheduled with, in seconds (adaptive).
    pub interval_secs: Option<f64>,
    /// What the last poll got: 200, 304, 429…
    pub last_http_status: Option<i64>,
    /// When the standing `source_failing` alert was raised.
    pub failing_since: Option<String>,
    pub articles: i64,
    pub versions: i64,
    /// Its articles on the age schedule: watched, due within the hour, retired.
    pub watched: i64,
    pub due_within_hour: i64,
    pub retired: i64,
    /// The process polling it right now (`host pid N (…)`), while its lease holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polled_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<String>,
}

/// A stored version of an article.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub id: i64,
    pub number: i64,
    pub fetched_at: String,
    pub content_hash: String,
    pub article: Article,
    /// Why this version is not trusted (paywall, shrank…); `None` for a normal version.
    pub flag: Option<String>,
    /// The extractor that wrote its text (`None`: stored before that was recorded).
    pub extractor: Option<i64>,
}

/// One line of `figwatch history`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionSummary {
    pub number: i64,
    pub fetched_at: String,
    pub size: i64,
    pub hash: String,
    pub alerts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

/// A version about to be stored, with what it raised.
pub struct NewVersion<'a> {
    pub article_id: i64,
    /// The version number this one was compared with (`None`: the article had none). If
    /// another poll stored a version since, nothing is written: its alerts were computed
    /// against the wrong text.
    pub previous: Option<i64>,
    pub fetched_at: &'a str,
    pub article: &'a Article,
    /// Why the version is not trusted; such a version carries no figures or alerts.
    pub flag: Option<&'a str>,
    pub figures: &'a [Figure],
    /// Alerts with `version` still unset; it is filled in with the number given here. The
    /// ledger may drop some (a value another outlet reported first) or give others an old value.
    pub alerts: Vec<Alert>,
    /// The article's URL and host, as the ledger names its sources.
    pub url: &'a str,
    pub site: &'a str,
    /// How long the ledger remembers a value (`figure_memory`).
    pub figure_memory: std::time::Duration,
    /// What the fetch that brought this version said, recorded on the article in the same
    /// transaction: validators, the raw body's hash, and the next check.
    pub fetch: Option<FetchRecord<'a>>,
}

/// How an article was fetched, to keep for its next conditional GET.
pub struct FetchRecord<'a> {
    pub validators: &'a crate::fetch::Validators,
    pub body_hash: &'a str,
    pub next: NextCheck,
}

/// Which alerts to read.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub topic: Option<String>,
    /// `new_figure`, `figure_changed`, `source_failing` or `source_recovered`.
    pub kind: Option<String>,
    pub since: Option<String>,
    pub limit: Option<usize>,
}

pub struct Store {
    /// One SQLite connection; for PostgreSQL, a few, so that the polls of one worker do not
    /// queue behind each other's round trips.
    conns: Vec<Mutex<Conn>>,
    /// The PostgreSQL URL (for the connection that listens), or `None` for SQLite.
    postgres_url: Option<String>,
    /// Poll records waiting to be written in one transaction.
    pending: schedule::PendingPolls,
    /// The SQLite file as opened (None for PostgreSQL).
    file: Option<file::FileIdentity>,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let fail = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(fail(format!(
                    "the folder {} does not exist; create it or change `database` in the configuration",
                    parent.display()
                )));
            }
        }
        let mut conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        Self::prepare(&mut conn).map_err(fail)?;
        Ok(Store {
            conns: vec![Mutex::new(Conn::Lite(conn))],
            postgres_url: None,
            pending: Default::default(),
            file: file::FileIdentity::of(path),
        })
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

    /// Connects to PostgreSQL and brings its schema up to date. Workers starting at once
    /// take turns on an advisory lock, so the schema is applied once.
    pub fn open_postgres(url: &str) -> Result<Store> {
        let fail = |reason: String| StoreError::Open {
            path: migrate::redact(url),
            reason,
        };
        let conn = Conn::Pg(db::PgConn::connect(url).map_err(|e| {
            fail(format!(
                "cannot connect: {e}; check the server is running and the URL's user, host and database"
            ))
        })?);
        conn.batch("SELECT pg_advisory_lock(7242011)")?;
        let applied = (|| -> Result<()> {
            let present = conn.query_row(
                "SELECT CAST(to_regclass('figwatch_schema') IS NOT NULL AS INTEGER)",
                params![],
                |r| r.get::<i64>(0),
            )? == 1;
            let version = if present {
                conn.query_row("SELECT max(version) FROM figwatch_schema", params![], |r| {
                    r.get::<Option<i64>>(0)
                })?
                .unwrap_or(0)
            } else {
                0
            };
            if version > PG_MIGRATIONS.len() as i64 {
                return Err(fail(format!(
                    "its schema (version {version}) is newer than this figwatch knows ({}); upgrade figwatch",
                    PG_MIGRATIONS.len()
                )));
            }
            for (i, sql) in PG_MIGRATIONS.iter().enumerate().skip(version as usize) {
                conn.batch(&format!(
                    "BEGIN; {sql}; UPDATE figwatch_schema SET version = {}; COMMIT;",
                    i + 1
                ))?;
            }
            Ok(())
        })();
        conn.batch("SELECT pg_advisory_unlock(7242011)")?;
        applied?;
        let mut conns = vec![Mutex::new(conn)];
        for _ in 1..PG_POOL {
            conns.push(Mutex::new(Conn::Pg(
                db::PgConn::connect(url).map_err(|e| fail(format!("cannot connect: {e}")))?,
            )));
        }
        Ok(Store {
            conns,
            postgres_url: Some(url.to_string()),
            pending: Default::default(),
            file: None,
        })
    }

    /// Opens the database for reading only (the dashboard): no schema change, no write.
    ///
    /// A WAL database needs its `-shm` file, which SQLite cannot create on a read-only file
    /// system (a read-only mount of the daemon's state): there, the file is opened as
    /// immutable, read as it is, and what is written to it later is seen after a restart.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let fail = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = |target: &str, flags| -> rusqlite::Result<(Connection, i64)> {
            let conn = Connection::open_with_flags(target, flags)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((conn, version))
        };
        if !path.exists() {
            return Err(fail(
                "no such file; run `figwatch --poll` once to create it".to_string(),
            ));
        }
        let (conn, version) = match open(&path.to_string_lossy(), flags) {
            Ok(opened) => opened,
            Err(e) if read_only_file_system(path) => {
                let uri = url::Url::from_file_path(path)
                    .map(|u| format!("{u}?immutable=1"))
                    .map_err(|()| fail(format!("not a usable SQLite database: {e}")))?;
                let opened = open(&uri, flags | rusqlite::OpenFlags::SQLITE_OPEN_URI)
                    .map_err(|e| fail(format!("not a usable SQLite database: {e}")))?;
                tracing::warn!(
                    path = %path.display(),
                    "the database is on a read-only file system: read as it is now; what is written to it later is shown after a restart"
                );
                opened
            }
            Err(e) => return Err(fail(format!("not a usable SQLite database: {e}"))),
        };
        if version < MIGRATIONS.len() as i64 {
            return Err(fail(format!(
                "its schema is older than this figwatch (version {version} of {}); run `figwatch --poll` once to bring it up to date",
                MIGRATIONS.len()
            )));
        }
        Ok(Store {
            conns: vec![Mutex::new(Conn::Lite(conn))],
            postgres_url: None,
            pending: Default::default(),
            file: file::FileIdentity::of(path),
        })
    }
}

/// True when `path` is on a file system mounted read-only.
fn read_only_file_system(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: statvfs only writes the struct it is given.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    unsafe { libc::statvfs(c.as_ptr(), &mut stat) == 0 && stat.f_flag & libc::ST_RDONLY != 0 }
}

impl Store {
    fn prepare(conn: &mut Connection) -> std::result::Result<(), String> {
        // WAL lets `figwatch alerts` read while the daemon writes; the busy timeout makes a
        // second process wait for a lock instead of failing at once.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| e.to_string())?;
        // Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked"
        // at once (without waiting) while another process is creating the same file: a first
        // start beside another is tried again for a few seconds.
        let mut attempt = 0;
        let mode: String = loop {
            match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
                Ok(mode) => break mode,
                Err(e)
                    if attempt < 20
                        && matches!(
                            e.sqlite_error_code(),
                            Some(
                                rusqlite::ErrorCode::DatabaseBusy
                                    | rusqlite::ErrorCode::DatabaseLocked
                            )
                        ) =>
                {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => return Err(format!("not a usable SQLite database: {e}")),
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite did not switch to WAL mode");
        }
        // Every statement of a poll is prepared once and reused; more than the default 16 of
        // them are in use.
        conn.set_prepared_statement_cache_capacity(128);
        // Every transaction here writes. Begun IMMEDIATE, it waits for the write lock (the
        // busy timeout) up front; begun DEFERRED, a read that later wants to write while
        // another process committed fails at once with "database is locked".
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(|e| e.to_string())?;
        let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
        // Two processes starting on a new database at once both see it unmigrated; the second
        // one's migration then fails on the tables the first just made (and rolls back). It
        // is tried again, and finds the schema up to date.
        let mut attempt = 0;
        loop {
            match migrations.to_latest(conn) {
                Ok(()) => return Ok(()),
                Err(_) if attempt < 8 => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50 * attempt));
                }
                Err(e) => return Err(format!("cannot apply the schema: {e}")),
            }
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Conn> {
        // A panic while holding the lock cannot leave the database half-written (transactions
        // roll back), so a poisoned lock is safe to take over.
        for c in &self.conns {
            match c.try_lock() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        let any = &self.conns[fastrand::usize(..self.conns.len())];
        any.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notifications of other workers sharing a PostgreSQL store: the channel names of
    /// [`ALERTS_CHANNEL`] and [`SOURCES_CHANNEL`] as they come. `None` for SQLite, whose
    /// readers look for changes instead.
    pub fn listen(&self) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<String>>> {
        let Some(url) = &self.postgres_url else {
            return Ok(None);
        };
        db::listen(url, &[ALERTS_CHANNEL, SOURCES_CHANNEL])
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
        let mut conn = self.conn();
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
                    "INSERT INTO sources (url, kind, added_at, schedule_key) VALUES (?1, ?2, ?3, ?4)
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
        self.conn().query_map(
            "SELECT s.id, s.url, s.kind, s.last_polled_at, s.last_ok_at, s.last_error,
                    s.consecutive_failures, s.next_check_at, s.interval_secs,
                    s.last_http_status, s.failing_since,
                    (SELECT count(*) FROM articles a WHERE a.source_id = s.id),
                    (SELECT count(*) FROM versions v JOIN articles a ON a.id = v.article_id
                      WHERE a.source_id = s.id),
                    CASE WHEN s.lease_until > ?1 THEN s.lease_owner END,
                    CASE WHEN s.lease_until > ?1 THEN s.lease_until END,
                    (SELECT count(*) FROM articles a
                      WHERE a.source_id = s.id AND a.next_check_at IS NOT NULL),
                    (SELECT count(*) FROM articles a
                      WHERE a.source_id = s.id AND a.next_check_at <= ?2),
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
        let conn = self.conn();
        if let Some(id) = conn.query_opt(
            "SELECT id FROM articles WHERE url = ?1",
            params![url],
            |r| r.get(0),
        )? {
            return Ok((id, false));
        }
        // Another worker may create it between the two statements: then its row is used.
        let created = conn.query_opt(
            "INSERT INTO articles (url, source_id, entry_id, first_seen_at, next_check_at)
             VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 THEN ?4 END)
             ON CONFLICT (url) DO NOTHING RETURNING id",
            params![url, source_id, entry_id, now(), by_age],
            |r| r.get(0),
        )?;
        match created {
            Some(id) => Ok((id, true)),
            None => Ok((
                conn.query_row(
                    "SELECT id FROM articles WHERE url = ?1",
                    params![url],
                    |r| r.get(0),
                )?,
                false,
            )),
        }
    }

    pub fn article_id(&self, url: &str) -> Result<Option<i64>> {
        self.conn().query_opt(
            "SELECT id FROM articles WHERE url = ?1",
            params![url],
            |r| r.get(0),
        )
    }

    /// Records that an article was checked: with an error, or (None) successfully.
    pub fn article_checked(&self, article_id: i64, at: &str, error: Option<&str>) -> Result<()> {
        let conn = self.conn();
        match error {
            None => conn.execute(
                "UPDATE articles SET last_checked_at = ?2, last_error = NULL WHERE id = ?1",
                params![article_id, at],
            )?,
            Some(e) => conn.execute(
                "UPDATE articles SET last_checked_at = ?2, last_error = ?3, last_error_at = ?2
                 WHERE id = ?1",
                params![article_id, at, e],
            )?,
        };
        Ok(())
    }

    /// The newest version of an article, if it has one.
    pub fn latest_version(&self, article_id: i64) -> Result<Option<StoredVersion>> {
        self.version_where(article_id, "ORDER BY number DESC LIMIT 1", None)
    }

    pub fn version(&self, article_id: i64, number: i64) -> Result<Option<StoredVersion>> {
        self.version_where(article_id, "AND number = ?2", Some(number))
    }

    /// The newest version without a flag: what new versions' figures are compared with.
    pub fn latest_good_version(&self, article_id: i64) -> Result<Option<StoredVersion>> {
        self.version_where(
            article_id,
            "AND flag IS NULL ORDER BY number DESC LIMIT 1",
            None,
        )
    }

    fn version_where(
        &self,
        article_id: i64,
        clause: &str,
        number: Option<i64>,
    ) -> Result<Option<StoredVersion>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT id, number, fetched_at, content_hash, title, byline, published, lang, text, flag,
                    extractor
             FROM versions WHERE article_id = ?1 {clause}"
        );
        let map = |r: &Row<'_>| {
            Ok(StoredVersion {
                id: r.get(0)?,
                number: r.get(1)?,
                fetched_at: r.get(2)?,
                content_hash: r.get(3)?,
                article: Article {
                    title: r.get(4)?,
                    byline: r.get(5)?,
                    published: r.get(6)?,
                    lang: r.get(7)?,
                    text: r.get(8)?,
                    canonical: None,
                },
                flag: r.get(9)?,
                extractor: r.get(10)?,
            })
        };
        match number {
            Some(n) => conn.query_opt(&sql, params![article_id, n], map),
            None => conn.query_opt(&sql, params![article_id], map),
        }
    }

    /// Stores a new version with its figures and alerts in one transaction: either all of it
    /// is there afterwards or none of it. Returns the version number and the alerts as stored,
    /// or `None` when another poll stored a version of this article first.
    pub fn insert_version(&self, new: NewVersion<'_>) -> Result<Option<(i64, Vec<Alert>)>> {
        let mut conn = self.conn();
        // SQLite's transactions begin IMMEDIATE (the write lock); PostgreSQL locks the article's
        // row. Either way the check below and the insert see the same state while another
        // process writes.
        let tx = conn.transaction()?;
        if tx.is_postgres() {
            tx.query_opt(
                "SELECT id FROM articles WHERE id = ?1 FOR UPDATE",
                params![new.article_id],
                |r| r.get::<i64>(0),
            )?;
        }
        let latest: Option<i64> = tx.query_row(
            "SELECT max(number) FROM versions WHERE article_id = ?1",
            params![new.article_id],
            |r| r.get(0),
        )?;
        if latest != new.previous {
            return Ok(None);
        }
        let number = latest.unwrap_or(0) + 1;
        let a = new.article;
        let version_id: i64 = tx.query_row(
            "INSERT INTO versions (article_id, number, fetched_at, content_hash, title, byline,
                                   published, lang, text, flag, extractor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
            params![
                new.article_id,
                number,
                new.fetched_at,
                a.content_hash(),
                a.title,
                a.byline,
                a.published,
                a.lang,
                a.text,
                new.flag,
                crate::extract::EXTRACTOR_VERSION
            ],
            |r| r.get(0),
        )?;
        for f in new.figures {
            tx.execute(
                "INSERT INTO figures (version_id, topic, measure, payload) VALUES (?1, ?2, ?3, ?4)",
                params![version_id, f.topic, f.measure, serde_json::to_string(f)?],
            )?;
        }
        let mut alerts = new.alerts;
        for alert in &mut alerts {
            alert.version = number;
            alert.id = Alert::make_id(&alert.url, number, &alert.topic, &alert.measure, &alert.new);
        }
        let remember_since = DateTime::parse_from_rfc3339(new.fetched_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now())
            .checked_sub_signed(
                chrono::Duration::from_std(new.figure_memory).unwrap_or(chrono::Duration::MAX),
            )
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let report = ledger::Report {
            article_id: new.article_id,
            version_id,
            url: new.url,
            site: new.site,
            at: new.fetched_at,
            remember_since: &timestamp(remember_since),
        };
        let alerts = ledger::record(&tx, &report, new.figures, alerts)?;
        for alert in &alerts {
            tx.execute(
                "INSERT OR IGNORE INTO alerts (alert_id, ts, kind, topic, measure, article_id,
                                               version_id, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    alert.id,
                    alert.ts,
                    alert.kind.as_str(),
                    alert.topic,
                    alert.measure,
                    new.article_id,
                    version_id,
                    serde_json::to_string(alert)?
                ],
            )?;
        }
        match &new.fetch {
            Some(f) => tx.execute(
                &format!(
                    "UPDATE articles SET last_checked_at = ?2, last_error = NULL, etag = ?3,
                            last_modified = ?4, body_hash = ?5, {}
                     WHERE id = ?1",
                    articles::schedule_sql(6)
                ),
                &articles::schedule_params(
                    params![
                        new.article_id,
                        new.fetched_at,
                        f.validators.etag,
                        f.validators.last_modified,
                        f.body_hash
                    ],
                    &f.next,
                ),
            )?,
            None => tx.execute(
                "UPDATE articles SET last_checked_at = ?2, last_error = NULL WHERE id = ?1",
                params![new.article_id, new.fetched_at],
            )?,
        };
        if !alerts.is_empty() {
            notify_alerts(&tx)?;
        }
        tx.commit()?;
        Ok(Some((number, alerts)))
    }

    /// Alerts, oldest first; with a limit, the newest `limit` of them.
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AnyAlert>> {
        Ok(self
            .alerts_after(0, filter)?
            .into_iter()
            .map(|(_, a)| a)
            .collect())
    }

    /// Like [`Store::alerts`], only those stored after row `after`, each with its row id (for
    /// `figwatch alerts --follow`, which asks again for what came after the last it showed).
    pub fn alerts_after(&self, after: i64, filter: &AlertFilter) -> Result<Vec<(i64, AnyAlert)>> {
        let limit = filter.limit.map_or(i64::MAX, |l| l as i64);
        let rows = self.conn().query_map(
            "SELECT id, payload FROM (
                SELECT id, payload FROM alerts
                WHERE (CAST(?1 AS TEXT) IS NULL OR topic = ?1)
                  AND (CAST(?2 AS TEXT) IS NULL OR ts >= ?2)
                  AND (CAST(?4 AS TEXT) IS NULL OR kind = ?4) AND id > ?5
                ORDER BY ts DESC, id DESC LIMIT ?3) newest
             ORDER BY id ASC",
            params![filter.topic, filter.since, limit, filter.kind, after],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, payload) in rows {
            out.push((id, serde_json::from_str(&payload)?));
        }
        Ok(out)
    }

    /// The versions of an article, oldest first, with how many alerts each raised.
    pub fn history(&self, article_id: i64) -> Result<Vec<VersionSummary>> {
        self.conn().query_map(
            "SELECT v.number, v.fetched_at, octet_length(v.text), v.content_hash,
                    (SELECT count(*) FROM alerts a WHERE a.version_id = v.id), v.flag
             FROM versions v WHERE v.article_id = ?1 ORDER BY v.number",
            params![article_id],
            |r| {
                Ok(VersionSummary {
                    number: r.get(0)?,
                    fetched_at: r.get(1)?,
                    size: r.get(2)?,
                    hash: r.get(3)?,
                    alerts: r.get(4)?,
                    flag: r.get(5)?,
                })
            },
        )
    }

    /// Article URLs that look like `needle`, to suggest when a lookup finds nothing.
    pub fn similar_article_urls(&self, needle: &str, limit: usize) -> Result<Vec<String>> {
        self.conn().query_map(
            "SELECT url FROM articles WHERE instr(url, ?1) > 0 ORDER BY id DESC LIMIT ?2",
            params![needle, limit],
            |r| r.get(0),
        )
    }

    /// Counts of what is stored, for summaries and tests.
    pub fn counts(&self) -> Result<StoreCounts> {
        let conn = self.conn();
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

/// Tells the workers listening on PostgreSQL that an alert was committed (sent at commit; a
/// rolled-back transaction sends nothing). SQLite has no such channel: its readers poll.
pub(crate) fn notify_alerts(tx: &Tx<'_>) -> Result<()> {
    if tx.is_postgres() {
        tx.execute("SELECT pg_notify(?1, '')", params![ALERTS_CHANNEL])?;
    }
    Ok(())
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    pub sources: i64,
    pub articles: i64,
    pub versions: i64,
    pub alerts: i64,
}

mod articles;
pub(crate) mod db;
mod export;
mod file;
pub use file::StoreGone;
mod ledger;
pub mod migrate;
mod outbox;
mod pages;
pub use pages::StoredPage;
mod retention;
mod schedule;
mod workers;
pub use articles::{ArticleSchedule, ArticleState, Claim, DueArticle, NextCheck, PullIn};
pub use export::{AlertRow, FigureRow, VersionRow};
pub use ledger::{LedgerEntry, LedgerSource};
pub use outbox::{Claimed, SinkBacklog};
pub use retention::PruneReport;
pub use schedule::{PollRecord, PollResult, SourceState};
pub use workers::WorkerStatus;

#[cfg(test)]
mod tests;

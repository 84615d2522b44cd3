//! The store: sources, articles, every version of every article, their figures and alerts, in
//! one SQLite file or in PostgreSQL shared by several workers. Every SQL statement of figwatch
//! lives under this module: what both databases say alike in the files of each concern
//! (articles, schedule, ledger, outbox…), what they say differently in [`sqlite`] and
//! [`postgres`], each in its own dialect and with its own migrations (see [`db`]).

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};

use db::{params, Conn, Exec, Row, Tx};

use crate::alerts::{Alert, AnyAlert};
use crate::config::SourceConfig;
use crate::extract::Article;
use crate::figures::Figure;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("database: {}", sqlite::sql_message(.0))]
    Sql(#[from] rusqlite::Error),
    #[error("database: stored data is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("PostgreSQL: {}", postgres::pg_message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("database: column {index} holds {reason}")]
    Column { index: usize, reason: String },
    #[error("database: the statement `{statement}…` cannot take its parameters: {reason}")]
    Parameters { statement: String, reason: String },
    #[error("PostgreSQL: {0}; the server may be restarting, and what failed is tried again at its next turn")]
    Unavailable(String),
    #[error("database: no row for `{0}…`")]
    NoRow(String),
    #[error("database: the stored page of article {article_id} is unreadable: {reason}")]
    Page { article_id: i64, reason: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A time before any the store holds: what "since" means when no time is given. Written as the
/// store writes times, so that it sorts first as SQLite's text and parses as PostgreSQL's time.
pub(crate) const BEGINNING: &str = "0001-01-01T00:00:00.000Z";

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
    /// Its connection (SQLite) or pool of connections (PostgreSQL).
    backend: Backend,
    /// The PostgreSQL URL (for the connection that listens), or `None` for SQLite.
    postgres_url: Option<String>,
    /// What its backend says its own way.
    dialect: &'static dialect::Dialect,
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
            dialect: match backend {
                Backend::Sqlite(_) => &sqlite::DIALECT,
                Backend::Postgres(_) => &postgres::DIALECT,
            },
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

    /// The newest version of an article, if it has one.
    pub fn latest_version(&self, article_id: i64) -> Result<Option<StoredVersion>> {
        self.version_where(article_id, "ORDER BY number DESC LIMIT 1", None)
    }

    pub fn version(&self, article_id: i64, number: i64) -> Result<Option<StoredVersion>> {
        self.version_where(article_id, "AND number = $2", Some(number))
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
        let conn = self.conn()?;
        let sql = format!(
            "SELECT id, number, fetched_at, content_hash, title, byline, published, lang, text, flag,
                    extractor
             FROM versions WHERE article_id = $1 {clause}"
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
        let mut conn = self.conn()?;
        // SQLite's transactions begin IMMEDIATE (the write lock); PostgreSQL locks the article's
        // row. Either way the check below and the insert see the same state while another
        // process writes.
        let tx = conn.transaction()?;
        if let Some(lock) = tx.dialect().lock_article {
            tx.query_opt(lock, params![new.article_id], |r| r.get::<i64>(0))?;
        }
        let latest: Option<i64> = tx.query_row(
            "SELECT max(number) FROM versions WHERE article_id = $1",
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
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
                "INSERT INTO figures (version_id, topic, measure, payload) VALUES ($1, $2, $3, $4)",
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
                "INSERT INTO alerts (alert_id, ts, kind, topic, measure, article_id, version_id,
                                     payload)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (alert_id) DO NOTHING",
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
                    "UPDATE articles SET last_checked_at = $2, last_error = NULL, etag = $3,
                            last_modified = $4, body_hash = $5, {}
                     WHERE id = $1",
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
                    new.fetched_at,
                    &f.next,
                ),
            )?,
            None => tx.execute(
                "UPDATE articles SET last_checked_at = $2, last_error = NULL WHERE id = $1",
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
        let rows = self.conn()?.query_map(
            "SELECT id, payload FROM (
                SELECT id, payload FROM alerts
                WHERE (CAST($1 AS TEXT) IS NULL OR topic = $1)
                  AND ts >= $2
                  AND (CAST($4 AS TEXT) IS NULL OR kind = $4) AND id > $5
                ORDER BY ts DESC, id DESC LIMIT $3) newest
             ORDER BY id ASC",
            params![
                filter.topic,
                filter.since.as_deref().unwrap_or(BEGINNING),
                limit,
                filter.kind,
                after
            ],
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
        self.conn()?.query_map(
            "SELECT v.number, v.fetched_at, octet_length(v.text), v.content_hash,
                    (SELECT count(*) FROM alerts a WHERE a.version_id = v.id), v.flag
             FROM versions v WHERE v.article_id = $1 ORDER BY v.number",
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

/// Tells the workers listening on PostgreSQL that an alert was committed (sent at commit; a
/// rolled-back transaction sends nothing). SQLite has no such channel: its readers poll.
pub(crate) fn notify_alerts(tx: &Tx<'_>) -> Result<()> {
    if let Some(notify) = tx.dialect().notify {
        tx.execute(notify, params![ALERTS_CHANNEL])?;
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

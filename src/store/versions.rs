//! Versions of articles and the alerts they raise: a version, its figures, its alerts and
//! ledger rows, and the article's next check are stored in one transaction
//! ([`Store::insert_version`]); and read back (history, alerts).

use chrono::{DateTime, Utc};

use super::db::{params, Exec, Row, Tx};
use super::{articles, ledger, timestamp, NextCheck, Result, Store, ALERTS_CHANNEL, BEGINNING};
use crate::alerts::{Alert, AnyAlert};
use crate::extract::Article;
use crate::figures::Figure;

/// A stored version of an article.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    /// The version's row id.
    pub id: i64,
    /// Its number, counted from 1 per article.
    pub number: i64,
    /// When it was fetched.
    pub fetched_at: String,
    /// The SHA-256 of its text.
    pub content_hash: String,
    /// The article as extracted.
    pub article: Article,
    /// Why this version is not trusted (paywall, shrank…); `None` for a normal version.
    pub flag: Option<String>,
    /// The extractor that wrote its text (`None`: stored before that was recorded).
    pub extractor: Option<i64>,
}

/// One line of `figwatch history`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionSummary {
    /// The version's number.
    pub number: i64,
    /// When it was fetched.
    pub fetched_at: String,
    /// Its text's length in bytes.
    pub size: i64,
    /// The start of its text's hash.
    pub hash: String,
    /// Alerts it raised.
    pub alerts: i64,
    /// Why it is not trusted, if it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

/// A version about to be stored, with what it raised.
pub struct NewVersion<'a> {
    /// The article.
    pub article_id: i64,
    /// The version number this one was compared with (`None`: the article had none). If
    /// another poll stored a version since, nothing is written: its alerts were computed
    /// against the wrong text.
    pub previous: Option<i64>,
    /// When it was fetched.
    pub fetched_at: &'a str,
    /// The article as extracted.
    pub article: &'a Article,
    /// Why the version is not trusted; such a version carries no figures or alerts.
    pub flag: Option<&'a str>,
    /// The figures read in its text.
    pub figures: &'a [Figure],
    /// Alerts with `version` still unset; it is filled in with the number given here. The
    /// ledger may drop some (a value another outlet reported first) or give others an old value.
    pub alerts: Vec<Alert>,
    /// The article's URL and host, as the ledger names its sources.
    pub url: &'a str,
    /// The article's host.
    pub site: &'a str,
    /// How long the ledger remembers a value (`figure_memory`).
    pub figure_memory: std::time::Duration,
    /// What the fetch that brought this version said, recorded on the article in the same
    /// transaction: validators, the raw body's hash, and the next check.
    pub fetch: Option<FetchRecord<'a>>,
}

/// How an article was fetched, to keep for its next conditional GET.
pub struct FetchRecord<'a> {
    /// What to send with the next conditional GET.
    pub validators: &'a crate::fetch::Validators,
    /// The hash of the raw body.
    pub body_hash: &'a str,
    /// When to check the article next.
    pub next: NextCheck,
}

/// Which alerts to read.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this topic's.
    pub topic: Option<String>,
    /// `new_figure`, `figure_changed`, `source_failing` or `source_recovered`.
    pub kind: Option<String>,
    /// Only those raised at or after this time.
    pub since: Option<String>,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

impl Store {
    /// The newest version of an article, if it has one.
    pub fn latest_version(&self, article_id: i64) -> Result<Option<StoredVersion>> {
        self.version_where(article_id, "ORDER BY number DESC LIMIT 1", None)
    }

    /// Version `number` of an article, if it is stored.
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
}

/// Tells the workers listening on PostgreSQL that an alert was committed (sent at commit; a
/// rolled-back transaction sends nothing). SQLite has no such channel: its readers poll.
pub(crate) fn notify_alerts(tx: &Tx<'_>) -> Result<()> {
    if let Some(notify) = tx.dialect().notify {
        tx.execute(notify, params![ALERTS_CHANNEL])?;
    }
    Ok(())
}

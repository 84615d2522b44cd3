//! Rows for `figwatch export`: flat records that read well in a spreadsheet and in a script.
//! Each table is streamed to a callback, so an export of years of versions never sits in
//! memory at once.

use serde::Serialize;

use super::db::{params, Exec, Row, Value};
use super::Store;
use crate::alerts::AnyAlert;
use crate::figures::{Figure, FigureValue};

/// One alert, flattened (figure and source alerts share the columns; the other kind's are
/// empty).
#[derive(Debug, Serialize)]
pub struct AlertRow {
    /// The alert's stable id.
    pub id: String,
    /// When it was raised.
    pub ts: String,
    /// `new_figure`, `figure_changed`, `source_failing` or `source_recovered`.
    pub kind: String,
    /// The topic (figure alerts).
    pub topic: Option<String>,
    /// What the figure counts (figure alerts).
    pub measure: Option<String>,
    /// The value before, as written (`figure_changed`).
    pub old: Option<String>,
    /// The value now, as written (figure alerts).
    pub new: Option<String>,
    /// The value now when it is one number, for spreadsheets.
    #[serde(serialize_with = "crate::figures::optional_whole_as_integer")]
    pub value: Option<f64>,
    /// Its unit, if any.
    pub unit: Option<String>,
    /// Its qualifier.
    pub qualifier: Option<String>,
    /// Who the article says it is from.
    pub claimant: Option<String>,
    /// Said as a possibility.
    pub speculative: Option<bool>,
    /// The site it came from.
    pub site: String,
    /// The article (figure alerts).
    pub url: Option<String>,
    /// The article's version that raised it.
    pub version: Option<i64>,
    /// The article's title.
    pub title: Option<String>,
    /// The sentence the figure was read in.
    pub quote: Option<String>,
    /// The source (source alerts).
    pub source: Option<String>,
    /// Failed polls in a row (source alerts).
    pub failures: Option<i64>,
    /// The last failure (source alerts).
    pub error: Option<String>,
}

impl From<AnyAlert> for AlertRow {
    fn from(a: AnyAlert) -> AlertRow {
        match a {
            AnyAlert::Figure(f) => AlertRow {
                id: f.id,
                ts: f.ts,
                kind: f.kind.as_str().into(),
                topic: Some(f.topic),
                measure: Some(f.measure),
                old: f.old.map(|o| o.to_string()),
                new: Some(f.new.to_string()),
                value: f.value,
                unit: f.unit,
                qualifier: Some(f.qualifier.as_str().into()),
                claimant: f.claimant,
                speculative: Some(f.speculative),
                site: f.site,
                url: Some(f.url),
                version: Some(f.version),
                title: f.title,
                quote: Some(f.quote),
                source: None,
                failures: None,
                error: None,
            },
            AnyAlert::Source(s) => AlertRow {
                id: s.id,
                ts: s.ts,
                kind: s.kind.as_str().into(),
                topic: None,
                measure: None,
                old: None,
                new: None,
                value: None,
                unit: None,
                qualifier: None,
                claimant: None,
                speculative: None,
                site: s.site,
                url: None,
                version: None,
                title: None,
                quote: None,
                source: Some(s.source),
                failures: Some(s.failures),
                error: s.error,
            },
        }
    }
}

/// One figure found in one stored version.
#[derive(Debug, Serialize)]
pub struct FigureRow {
    /// When the version was fetched.
    pub fetched_at: String,
    /// The article.
    pub url: String,
    /// The version's number.
    pub version: i64,
    /// The article's title in that version.
    pub title: Option<String>,
    /// The topic.
    pub topic: String,
    /// What it counts.
    pub measure: String,
    /// One number; `lo` and `hi` for a range; `vague` for words such as "thousands".
    #[serde(serialize_with = "crate::figures::optional_whole_as_integer")]
    pub value: Option<f64>,
    /// A range's low end.
    #[serde(serialize_with = "crate::figures::optional_whole_as_integer")]
    pub lo: Option<f64>,
    /// A range's high end.
    #[serde(serialize_with = "crate::figures::optional_whole_as_integer")]
    pub hi: Option<f64>,
    /// A vague quantity's words.
    pub vague: Option<String>,
    /// Its qualifier.
    pub qualifier: String,
    /// Its unit, if any.
    pub unit: Option<String>,
    /// Who the sentence says it is from.
    pub claimant: Option<String>,
    /// Said as a possibility.
    pub speculative: bool,
    /// The sentence it was read in.
    pub quote: String,
}

/// One stored version of an article, with its text.
#[derive(Debug, Serialize)]
pub struct VersionRow {
    /// The article.
    pub url: String,
    /// The version's number.
    pub version: i64,
    /// When it was fetched.
    pub fetched_at: String,
    /// Its title.
    pub title: Option<String>,
    /// Its author line.
    pub byline: Option<String>,
    /// When the page says it was published.
    pub published: Option<String>,
    /// Its language.
    pub lang: Option<String>,
    /// Why the version is not trusted (a paywall, a page that shrank), if it is not.
    pub flag: Option<String>,
    /// The SHA-256 of its text.
    pub content_hash: String,
    /// Its text, paragraph per line.
    pub text: String,
}

impl Store {
    /// Runs `sql`, handing each row to `f`; an error of `f` stops the rows and is returned.
    fn each_exported<T>(
        &self,
        sql: &str,
        params: &[Value],
        mut build: impl FnMut(&Row<'_>) -> anyhow::Result<T>,
        mut f: impl FnMut(T) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut failure = None;
        let read = self.conn()?.each_row(sql, params, &mut |row| {
            if failure.is_some() {
                return Ok(());
            }
            if let Err(e) = build(row).and_then(&mut f) {
                failure = Some(e);
            }
            Ok(())
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(read?),
        }
    }

    /// Alerts raised at or after `since` (all when `None`), oldest first.
    pub fn each_alert(
        &self,
        since: Option<&str>,
        f: impl FnMut(AlertRow) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.each_exported(
            "SELECT payload FROM alerts WHERE ts >= $1 ORDER BY id",
            params![since.unwrap_or(super::BEGINNING)],
            |row| {
                let alert: AnyAlert = serde_json::from_str(&row.get::<String>(0)?)?;
                Ok(alert.into())
            },
            f,
        )
    }

    /// Figures of the versions fetched at or after `since` (of one topic, when given), in the
    /// order they were stored.
    pub fn each_figure(
        &self,
        since: Option<&str>,
        topic: Option<&str>,
        f: impl FnMut(FigureRow) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.each_exported(
            "SELECT v.fetched_at, a.url, v.number, v.title, f.payload
             FROM figures f JOIN versions v ON v.id = f.version_id JOIN articles a ON a.id = v.article_id
             WHERE v.fetched_at >= $1 AND (CAST($2 AS TEXT) IS NULL OR f.topic = $2)
             ORDER BY f.id",
            params![since.unwrap_or(super::BEGINNING), topic],
            |row| {
                let figure: Figure = serde_json::from_str(&row.get::<String>(4)?)?;
                let (value, lo, hi, vague) = match figure.value {
                    FigureValue::Number(n) => (Some(n), None, None, None),
                    FigureValue::Range { lo, hi } => (None, Some(lo), Some(hi), None),
                    FigureValue::Vague { vague } => (None, None, None, Some(vague)),
                };
                Ok(FigureRow {
                    fetched_at: row.get(0)?,
                    url: row.get(1)?,
                    version: row.get(2)?,
                    title: row.get(3)?,
                    topic: figure.topic,
                    measure: figure.measure,
                    value,
                    lo,
                    hi,
                    vague,
                    qualifier: figure.qualifier.as_str().into(),
                    unit: figure.unit,
                    claimant: figure.claimant,
                    speculative: figure.speculative,
                    quote: figure.quote,
                })
            },
            f,
        )
    }

    /// Versions fetched at or after `since`, in the order they were stored.
    pub fn each_version(
        &self,
        since: Option<&str>,
        f: impl FnMut(VersionRow) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.each_exported(
            "SELECT a.url, v.number, v.fetched_at, v.title, v.byline, v.published, v.lang, v.flag,
                    v.content_hash, v.text
             FROM versions v JOIN articles a ON a.id = v.article_id
             WHERE v.fetched_at >= $1
             ORDER BY v.id",
            params![since.unwrap_or(super::BEGINNING)],
            |row| {
                Ok(VersionRow {
                    url: row.get(0)?,
                    version: row.get(1)?,
                    fetched_at: row.get(2)?,
                    title: row.get(3)?,
                    byline: row.get(4)?,
                    published: row.get(5)?,
                    lang: row.get(6)?,
                    flag: row.get(7)?,
                    content_hash: row.get(8)?,
                    text: row.get(9)?,
                })
            },
            f,
        )
    }
}

/// What `/metrics` reports, read from the database.
#[derive(Debug, Default)]
pub struct StoreMetrics {
    pub sources: i64,
    pub failing: i64,
    pub polled: i64,
    pub versions: i64,
    pub alerts_by_kind: Vec<(String, i64)>,
    pub undelivered: i64,
}

impl Store {
    /// What `/metrics` reports of the store: row counts and what is waiting.
    pub fn metrics(&self) -> super::Result<StoreMetrics> {
        let conn = self.conn()?;
        let one =
            |sql: &str| -> super::Result<i64> { conn.query_row(sql, params![], |r| r.get(0)) };
        let mut m = StoreMetrics {
            sources: one("SELECT count(*) FROM sources")?,
            failing: one("SELECT count(*) FROM sources WHERE consecutive_failures > 0")?,
            polled: one("SELECT count(*) FROM sources WHERE last_polled_at IS NOT NULL")?,
            versions: one("SELECT count(*) FROM versions")?,
            undelivered: one("SELECT count(*) FROM deliveries WHERE delivered_at IS NULL")?,
            alerts_by_kind: Vec::new(),
        };
        m.alerts_by_kind = conn.query_map(
            "SELECT kind, count(*) FROM alerts GROUP BY kind ORDER BY kind",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(m)
    }
}

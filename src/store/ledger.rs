//! The figure ledger: every value a (topic, measure) was reported at, with the outlets that
//! reported it. It is what turns per-article alerts into per-story alerts: the first report of
//! a value alerts; the same value from a second outlet within `figure_memory` adds a source
//! instead; a different value alerts with the value before it for comparison, even when the
//! article that reports it is new.

use super::db::{params, Exec, Tx};
use serde::Serialize;

use super::{Result, Store};
use crate::alerts::{Alert, AlertKind, Standing};
use crate::figures::{Figure, FigureValue};

/// One value of one (topic, measure), as `figwatch figures` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    /// The topic.
    pub topic: String,
    /// What it counts.
    pub measure: String,
    /// Its unit, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The value.
    pub value: FigureValue,
    /// Its qualifier, as first reported.
    pub qualifier: String,
    /// What the value covers ("since 2022", "in Europe", "new"); empty when unsaid.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Who it is from, as first reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimant: Option<String>,
    /// The sentence it was first read in.
    pub quote: String,
    /// When it was first seen.
    pub first_seen_at: String,
    /// When any source last stated it.
    pub last_seen_at: String,
    /// The alert its first report raised; `None` when it was recorded without one (a value an
    /// article already stated before the ledger knew it).
    pub alert_id: Option<String>,
    /// Who reported it, first report first.
    pub sources: Vec<LedgerSource>,
}

/// One report of a ledger value.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerSource {
    /// The site.
    pub site: String,
    /// The article.
    pub url: String,
    /// When it stated the value.
    pub seen_at: String,
}

/// Where a version's figures come from, for the ledger's sources.
pub(super) struct Report<'a> {
    pub article_id: i64,
    pub version_id: i64,
    pub url: &'a str,
    pub site: &'a str,
    pub at: &'a str,
    /// Values last seen before this are forgotten.
    pub remember_since: &'a str,
}

/// Records a new version's figures in the ledger and decides which of its alerts stand: an
/// alert for a value that another article already reported is dropped (its article becomes a
/// source of that value); an alert for a (topic, measure) new to this article but known to the
/// ledger becomes a `figure_changed` against the ledger's latest value of the same claim, or
/// stays a `new_figure` listing the values standing under other scopes or claimants.
pub(super) fn record(
    tx: &Tx<'_>,
    report: &Report<'_>,
    figures: &[Figure],
    mut alerts: Vec<Alert>,
) -> Result<Vec<Alert>> {
    let mut kept = Vec::new();
    let mut seen: Vec<&Figure> = Vec::new();
    for f in figures {
        if seen
            .iter()
            .any(|s| same_key(s, f) && s.value.same_as(&f.value))
        {
            continue;
        }
        seen.push(f);
        let alert = alerts
            .iter()
            .position(|a| {
                a.topic == f.topic
                    && a.measure == f.measure
                    && a.unit == f.unit
                    && a.new.same_as(&f.value)
            })
            .map(|i| alerts.remove(i));
        if let Some(id) = remembered_value(tx, f, report.remember_since)? {
            let elsewhere = tx
                .query_opt(
                    "SELECT 1 FROM ledger_sources WHERE ledger_id = $1 AND article_id != $2 LIMIT 1",
                    params![id, report.article_id],
                    |r| r.get::<i64>(0),
                )?
                .is_some();
            add_source(tx, id, report)?;
            match alert {
                Some(a) if elsewhere => {
                    tracing::info!(topic = %a.topic, measure = %a.measure, value = %a.new, url = report.url,
                        "already reported by another outlet; recorded as one more source, no alert");
                }
                Some(a) => kept.push(a),
                None => {}
            }
            continue;
        }
        let alert = match alert {
            Some(mut a) if a.old.is_none() => {
                if let Some((latest, site)) = latest_value(tx, f, report)? {
                    a.old = Some(latest);
                    a.old_site = Some(site);
                    a.kind = AlertKind::FigureChanged;
                } else {
                    a.standing = standing(tx, f, report)?;
                }
                Some(a)
            }
            other => other,
        };
        let id: i64 = tx.query_row(
            "INSERT INTO ledger (topic, measure, unit, value, qualifier, claimant, quote,
                                 first_seen_at, last_seen_at, alert_id, scope)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id",
            params![
                f.topic,
                f.measure,
                f.unit.as_deref().unwrap_or(""),
                serde_json::to_string(&f.value)?,
                f.qualifier.as_str(),
                f.claimant,
                f.quote,
                report.at,
                alert.as_ref().map(|a| a.id.as_str()),
                f.scope,
            ],
            |r| r.get(0),
        )?;
        add_source(tx, id, report)?;
        kept.extend(alert);
    }
    // An alert always comes from one of the version's figures; keep any that did not, rather
    // than lose it.
    kept.extend(alerts);
    Ok(kept)
}

fn same_key(a: &Figure, b: &Figure) -> bool {
    a.topic == b.topic && a.measure == b.measure && a.unit == b.unit
}

/// The ledger row of `f`'s value, if its (topic, measure, unit) still remembers it. Values
/// are stored as the JSON of a parsed figure, so the same value has the same text and is found
/// by index; vague quantities ("dozens" and "dozen") are compared by [`FigureValue::same_as`].
fn remembered_value(tx: &Tx<'_>, f: &Figure, since: &str) -> Result<Option<i64>> {
    let unit = f.unit.as_deref().unwrap_or("");
    let text = serde_json::to_string(&f.value)?;
    let exact = tx.query_opt(
        // The planner would pick ledger_key for the range on last_seen_at and then sort every
        // remembered value; the value index finds the one row.
        &format!(
            "SELECT id FROM ledger {}
             WHERE topic = $1 AND measure = $2 AND unit = $3 AND value = $4 AND last_seen_at >= $5
             ORDER BY first_seen_at DESC, id DESC LIMIT 1",
            tx.dialect().ledger_value_index
        ),
        params![f.topic, f.measure, unit, text, since],
        |r| r.get(0),
    )?;
    if let Some(id) = exact {
        return Ok(Some(id));
    }
    if !matches!(f.value, FigureValue::Vague { .. }) {
        return Ok(None);
    }
    let rows = tx.query_map(
        "SELECT id, value FROM ledger
         WHERE topic = $1 AND measure = $2 AND unit = $3 AND last_seen_at >= $4
               AND value LIKE '{\"vague\"%'
         ORDER BY first_seen_at DESC, id DESC",
        params![f.topic, f.measure, unit, since],
        |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
    )?;
    for (id, value) in rows {
        if serde_json::from_str::<FigureValue>(&value)?.same_as(&f.value) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The newest value still remembered for the same claim as `f`: its (topic, measure, unit),
/// the same scope, and — from another article — the same claimant when both name one. Values
/// this version itself recorded a moment ago are not earlier values: the sentences of one
/// version never change each other. Returns the value with the site of its first report.
fn latest_value(
    tx: &Tx<'_>,
    f: &Figure,
    report: &Report<'_>,
) -> Result<Option<(FigureValue, String)>> {
    let row = tx.query_opt(
        &format!(
            "SELECT l.value,
                    (SELECT site FROM ledger_sources s WHERE s.ledger_id = l.id ORDER BY seen_at LIMIT 1),
                    (SELECT COUNT(*) FROM ledger_sources s WHERE s.ledger_id = l.id AND s.article_id = $8)
             FROM ledger l {}
             WHERE topic = $1 AND measure = $2 AND unit = $3 AND last_seen_at >= $4 AND scope = $5
                   AND EXISTS (SELECT 1 FROM ledger_sources s
                               WHERE s.ledger_id = l.id AND s.version_id != $6)
                   AND (l.claimant IS NULL OR CAST($7 AS TEXT) IS NULL OR l.claimant = $7
                        OR EXISTS (SELECT 1 FROM ledger_sources s
                                   WHERE s.ledger_id = l.id AND s.article_id = $8))
             ORDER BY first_seen_at DESC, id DESC LIMIT 1",
            tx.dialect().ledger_newest_index
        ),
        params![
            f.topic,
            f.measure,
            f.unit.as_deref().unwrap_or(""),
            report.remember_since,
            f.scope,
            report.version_id,
            f.claimant,
            report.article_id
        ],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<Option<String>>(1)?,
                r.get::<i64>(2)? > 0,
            ))
        },
    )?;
    let Some((value, site, same_article)) = row else {
        return Ok(None);
    };
    let value: FigureValue = serde_json::from_str(&value)?;
    // Between articles a value is the same claim moving only when it could be: words such as
    // "several" and "billions" are no reading of a count, and a value ten times larger or
    // smaller than another outlet's is another count their sentences do not tell apart.
    if !same_article && !comparable(&value, &f.value) {
        return Ok(None);
    }
    Ok(Some((value, site.unwrap_or_default())))
}

/// Two values another outlet's report could move between.
fn comparable(a: &FigureValue, b: &FigureValue) -> bool {
    let mid = |v: &FigureValue| match v {
        FigureValue::Number(n) => Some(*n),
        FigureValue::Range { lo, hi } => Some((lo + hi) / 2.0),
        FigureValue::Vague { .. } => None,
    };
    match (mid(a), mid(b)) {
        (Some(x), Some(y)) if x > 0.0 && y > 0.0 => {
            let ratio = if x > y { x / y } else { y / x };
            ratio <= MAX_RATIO_BETWEEN_OUTLETS
        }
        _ => false,
    }
}

/// The largest factor between two outlets' values of one claim.
const MAX_RATIO_BETWEEN_OUTLETS: f64 = 10.0;

/// The values other reports keep standing for `f`'s (topic, measure, unit) under another
/// scope or claimant, newest first: what a reader weighs a new figure against.
fn standing(tx: &Tx<'_>, f: &Figure, report: &Report<'_>) -> Result<Vec<Standing>> {
    let rows = tx.query_map(
        &format!(
            "SELECT l.value, l.scope, l.claimant,
                    (SELECT site FROM ledger_sources s WHERE s.ledger_id = l.id ORDER BY seen_at LIMIT 1)
             FROM ledger l {}
             WHERE topic = $1 AND measure = $2 AND unit = $3 AND last_seen_at >= $4
                   AND EXISTS (SELECT 1 FROM ledger_sources s
                               WHERE s.ledger_id = l.id AND s.version_id != $5)
             ORDER BY first_seen_at DESC, id DESC LIMIT $6",
            tx.dialect().ledger_newest_index
        ),
        params![
            f.topic,
            f.measure,
            f.unit.as_deref().unwrap_or(""),
            report.remember_since,
            report.version_id,
            STANDING_SHOWN
        ],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<Option<String>>(2)?,
                r.get::<Option<String>>(3)?,
            ))
        },
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (value, scope, claimant, site) in rows {
        out.push(Standing {
            value: serde_json::from_str(&value)?,
            site: site.unwrap_or_default(),
            scope,
            claimant,
        });
    }
    Ok(out)
}

/// How many standing values a `new_figure` alert lists.
const STANDING_SHOWN: i64 = 5;

fn add_source(tx: &Tx<'_>, ledger_id: i64, report: &Report<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO ledger_sources (ledger_id, article_id, version_id, url, site, seen_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        params![
            ledger_id,
            report.article_id,
            report.version_id,
            report.url,
            report.site,
            report.at
        ],
    )?;
    tx.execute(
        "UPDATE ledger SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2",
        params![ledger_id, report.at],
    )?;
    Ok(())
}

impl Store {
    /// The ledger as a timeline: per topic and measure, values in the order they were first
    /// reported.
    pub fn ledger(&self, topic: Option<&str>) -> Result<Vec<LedgerEntry>> {
        let conn = self.conn()?;
        let rows = conn.query_map(
            "SELECT id, topic, measure, unit, value, qualifier, claimant, quote, first_seen_at,
                    last_seen_at, alert_id, scope
             FROM ledger WHERE CAST($1 AS TEXT) IS NULL OR topic = $1
             ORDER BY topic, measure, unit, first_seen_at, id",
            params![topic],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(4)?,
                    LedgerEntry {
                        topic: r.get(1)?,
                        measure: r.get(2)?,
                        unit: Some(r.get::<String>(3)?).filter(|u| !u.is_empty()),
                        value: FigureValue::Number(0.0),
                        qualifier: r.get(5)?,
                        claimant: r.get(6)?,
                        quote: r.get(7)?,
                        first_seen_at: r.get(8)?,
                        last_seen_at: r.get(9)?,
                        alert_id: r.get(10)?,
                        scope: r.get(11)?,
                        sources: Vec::new(),
                    },
                ))
            },
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, value, mut entry) in rows {
            entry.value = serde_json::from_str(&value)?;
            entry.sources = conn.query_map(
                "SELECT site, url, seen_at FROM ledger_sources WHERE ledger_id = $1
                 ORDER BY seen_at, article_id",
                params![id],
                |r| {
                    Ok(LedgerSource {
                        site: r.get(0)?,
                        url: r.get(1)?,
                        seen_at: r.get(2)?,
                    })
                },
            )?;
            out.push(entry);
        }
        Ok(out)
    }
}

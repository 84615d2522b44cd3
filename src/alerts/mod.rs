//! Alerts: what figwatch tells the user, written to the database with the version that raised
//! them, then appended to the JSON Lines alert log and logged.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::figures::{FigureValue, Qualifier};

mod log;
pub mod text;

pub use log::AlertLog;

/// What a figure alert says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A (topic, measure) the previous version did not report.
    NewFigure,
    /// A (topic, measure) whose value changed.
    FigureChanged,
}

impl AlertKind {
    /// The kind as the log and the store write it (`new_figure`, `figure_changed`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NewFigure => "new_figure",
            AlertKind::FigureChanged => "figure_changed",
        }
    }
}

/// One alert, exactly as it is logged and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable across re-deliveries: a hash of article, version, topic, measure and value, so a
    /// receiver can drop duplicates.
    pub id: String,
    /// RFC 3339, UTC.
    pub ts: String,
    /// New figure, or a changed one.
    pub kind: AlertKind,
    /// The id of the topic the figure is about.
    pub topic: String,
    /// What the figure counts: `killed`, `casualties`, a topic's own measure.
    pub measure: String,
    /// The new value when it is one number; null for ranges and vague quantities (see `new`).
    #[serde(serialize_with = "crate::figures::optional_whole_as_integer")]
    pub value: Option<f64>,
    /// How the article qualifies the value: about, at least, as many as.
    pub qualifier: Qualifier,
    /// `percent` for percentages, a unit such as `acres` for measured figures; absent for counts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit: Option<String>,
    /// The value before, for `figure_changed`.
    pub old: Option<FigureValue>,
    /// Where `old` was reported when it came from another outlet (the ledger), not from an
    /// earlier version of this article.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub old_site: Option<String>,
    /// The value now.
    pub new: FigureValue,
    /// What the figure covers when its sentence says so ("since 2022", "in Europe", "new"):
    /// values are one claim changing only within one scope.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub scope: String,
    /// For a `new_figure` of a (topic, measure) other outlets already report with another
    /// scope or claimant: the values standing for it, newest first, each with its site, so the
    /// reader sees the new value beside them without it being called a change.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub standing: Vec<Standing>,
    /// The sentence the new figure stands in.
    pub quote: String,
    /// Who the sentence says reports the figure ("Zelensky", "KCNA").
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub claimant: Option<String>,
    /// Said as a possibility ("may send up to 3,000").
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub speculative: bool,
    /// The article's address.
    pub url: String,
    /// The article's title, when it has one.
    pub title: Option<String>,
    /// The host the article came from, for a glance at who reports what.
    pub site: String,
    /// The article version that raised it.
    pub version: i64,
}

/// How a value's unit is written after it: "%" for percent, " acres", nothing for a count.
pub fn unit_suffix(unit: Option<&str>) -> String {
    match unit {
        None => String::new(),
        Some("percent") => "%".into(),
        Some(u) => format!(" {u}"),
    }
}

/// A value already standing for an alert's (topic, measure), as the ledger knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// The value standing.
    pub value: FigureValue,
    /// The site that reported it.
    pub site: String,
    /// What the value covers (a place, an event), empty for the whole topic.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub scope: String,
    /// Who the article says the value is from.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub claimant: Option<String>,
}

impl Alert {
    /// The stable id of an alert: a hash of article, version, topic, measure and value.
    pub fn make_id(
        url: &str,
        version: i64,
        topic: &str,
        measure: &str,
        new: &FigureValue,
    ) -> String {
        let mut h = Sha256::new();
        for part in [url, &version.to_string(), topic, measure, &new.to_string()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        crate::feed::hex(&h.finalize()[..12])
    }

    /// "3,000 → 4,000", "40% (new)": the change with its unit.
    pub fn change(&self) -> String {
        let unit = unit_suffix(self.unit.as_deref());
        match &self.old {
            Some(old) => format!("{old}{unit} → {}{unit}", self.new),
            None => format!("{}{unit} (new)", self.new),
        }
    }

    /// One line for people: `nk-troops · casualties 3,000 → 4,000 (as many as; Zelensky) ·
    /// "…" · washingtonpost.com/… (version 2)`.
    pub fn summary(&self) -> String {
        text::figure_line(self)
    }
}

/// What a source alert says happened to a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceAlertKind {
    /// `fail_after` polls in a row have failed; raised once, not on every failure.
    SourceFailing,
    /// The first successful poll after `source_failing`.
    SourceRecovered,
}

impl SourceAlertKind {
    /// The kind as the log and the store write it (`source_failing`, `source_recovered`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceAlertKind::SourceFailing => "source_failing",
            SourceAlertKind::SourceRecovered => "source_recovered",
        }
    }
}

/// An alert about a source rather than a figure: it stopped working, or works again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceAlert {
    /// Stable across re-deliveries, so that a receiver can drop duplicates.
    pub id: String,
    /// When it was raised, RFC 3339, UTC.
    pub ts: String,
    /// Failing, or recovered.
    pub kind: SourceAlertKind,
    /// The source's configured URL.
    pub source: String,
    /// The source's site (its host, without `www.`).
    pub site: String,
    /// Failed polls in a row (when failing), or how many failed before it recovered.
    pub failures: i64,
    /// When the source started failing (the `source_failing` alert's time, for a recovery).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub since: Option<String>,
    /// The last error, for a failing source.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl SourceAlert {
    /// An alert about `source`, raised at `ts`.
    pub fn new(kind: SourceAlertKind, source: &str, ts: &str) -> SourceAlert {
        let mut h = Sha256::new();
        for part in [kind.as_str(), source, ts] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let site = url::Url::parse(source)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.trim_start_matches("www.").to_string())
            })
            .unwrap_or_default();
        SourceAlert {
            id: crate::feed::hex(&h.finalize()[..12]),
            ts: ts.to_string(),
            kind,
            source: source.to_string(),
            site,
            failures: 0,
            since: None,
            error: None,
        }
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        text::source_line(self)
    }
}

/// Any stored alert: about a figure, or about a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
// Alerts are few and short-lived; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AnyAlert {
    /// About a figure in an article.
    Figure(Alert),
    /// About a source's health.
    Source(SourceAlert),
}

impl AnyAlert {
    /// The alert's stable id.
    pub fn id(&self) -> &str {
        match self {
            AnyAlert::Figure(a) => &a.id,
            AnyAlert::Source(a) => &a.id,
        }
    }

    /// The alert's kind, as written in the log.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyAlert::Figure(a) => a.kind.as_str(),
            AnyAlert::Source(a) => a.kind.as_str(),
        }
    }

    /// When it was raised (RFC 3339, UTC).
    pub fn ts(&self) -> &str {
        match self {
            AnyAlert::Figure(a) => &a.ts,
            AnyAlert::Source(a) => &a.ts,
        }
    }

    /// The figure alert, if this is one.
    pub fn figure(&self) -> Option<&Alert> {
        match self {
            AnyAlert::Figure(a) => Some(a),
            AnyAlert::Source(_) => None,
        }
    }
}

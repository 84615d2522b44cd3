//! Alerts: what figwatch tells the user, written to the database with the version that raised
//! them, then appended to the JSON Lines alert log and logged.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::figures::{FigureValue, Qualifier};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A (topic, measure) the previous version did not report.
    NewFigure,
    /// A (topic, measure) whose value changed.
    FigureChanged,
}

impl AlertKind {
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
    pub kind: AlertKind,
    pub topic: String,
    pub measure: String,
    /// The new value when it is one number; null for ranges and vague quantities (see `new`).
    #[serde(serialize_with = "crate::figures::optional_whole_as_integer")]
    pub value: Option<f64>,
    pub qualifier: Qualifier,
    /// `percent` for percentages, a unit such as `acres` for measured figures; absent for counts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit: Option<String>,
    pub old: Option<FigureValue>,
    /// Where `old` was reported when it came from another outlet (the ledger), not from an
    /// earlier version of this article.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub old_site: Option<String>,
    pub new: FigureValue,
    /// The sentence the new figure stands in.
    pub quote: String,
    /// Who the sentence says reports the figure ("Zelensky", "KCNA").
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub claimant: Option<String>,
    /// Said as a possibility ("may send up to 3,000").
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub speculative: bool,
    pub url: String,
    pub title: Option<String>,
    /// The host the article came from, for a glance at who reports what.
    pub site: String,
    /// The article version that raised it.
    pub version: i64,
}

impl Alert {
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
        let unit = match self.unit.as_deref() {
            None => String::new(),
            Some("percent") => "%".into(),
            Some(u) => format!(" {u}"),
        };
        match &self.old {
            Some(old) => format!("{old}{unit} → {}{unit}", self.new),
            None => format!("{}{unit} (new)", self.new),
        }
    }

    /// One line for people: `nk-troops: casualties 3,000 → 4,000 (at_most), example.org, version 2`.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} {} ({}), {}, version {}",
            self.topic,
            self.measure,
            self.change(),
            self.qualifier.as_str(),
            self.site,
            self.version
        )
    }
}

/// The append-only JSON Lines alert log.
pub struct AlertLog {
    path: PathBuf,
}

impl AlertLog {
    pub fn new(path: &Path) -> AlertLog {
        AlertLog {
            path: path.to_path_buf(),
        }
    }

    /// Appends alerts, one whole line each, in a single write so that a reader never sees half
    /// a line from us.
    pub fn append(&self, alerts: &[Alert]) -> anyhow::Result<()> {
        if alerts.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for a in alerts {
            serde_json::to_writer(&mut buf, a)?;
            buf.push(b'\n');
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| anyhow::anyhow!("cannot open alert log {}: {e}", self.path.display()))?;
        file.write_all(&buf)
            .map_err(|e| anyhow::anyhow!("cannot write alert log {}: {e}", self.path.display()))?;
        Ok(())
    }
}

//! What a pass did, counted for its one-line summary (`polled 12 sources, 1 failed; 3 new
//! articles…`), for `--poll --json` and for the progress line.

use std::fmt;

use serde::Serialize;

use super::article::ArticleOutcome;

/// What a pass (or one source's poll) did, for the one-line summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PassSummary {
    /// Sources polled.
    pub sources: usize,
    /// Of those, failed.
    pub failed: usize,
    /// Answered 304: unchanged since the last poll, nothing parsed.
    pub not_modified: usize,
    /// Not requested because the host asked us to wait (Retry-After).
    pub deferred: usize,
    /// Not polled: another figwatch process (the daemon, another `--poll`) is polling it.
    pub busy: usize,
    /// Not polled: the store could not record the lease (a full disk, a read-only database),
    /// so nothing of a poll could have been stored either.
    pub unleased: usize,
    /// Articles seen for the first time.
    pub new_articles: usize,
    /// Versions stored.
    pub new_versions: usize,
    /// Alerts raised.
    pub alerts: usize,
    /// Articles of healthy feeds that could not be fetched or extracted.
    pub article_errors: usize,
    /// Watched articles checked again by age, and how many of them answered 304.
    pub rechecked: usize,
    /// Of the articles re-checked, those the server answered 304.
    pub rechecked_not_modified: usize,
    /// Articles past their last tier, retired without a fetch.
    pub retired: usize,
}

impl PassSummary {
    pub(super) fn count(&mut self, o: &ArticleOutcome) {
        self.new_articles += o.created as usize;
        self.new_versions += o.new_version as usize;
        self.alerts += o.alerts;
    }

    /// Adds another pass's counts.
    pub fn add(&mut self, o: &PassSummary) {
        self.sources += o.sources;
        self.failed += o.failed;
        self.not_modified += o.not_modified;
        self.deferred += o.deferred;
        self.busy += o.busy;
        self.unleased += o.unleased;
        self.new_articles += o.new_articles;
        self.new_versions += o.new_versions;
        self.alerts += o.alerts;
        self.article_errors += o.article_errors;
        self.rechecked += o.rechecked;
        self.rechecked_not_modified += o.rechecked_not_modified;
        self.retired += o.retired;
    }
}

impl fmt::Display for PassSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "polled {}, {} failed",
            count(self.sources, "source"),
            self.failed
        )?;
        if self.not_modified > 0 {
            write!(f, ", {} not modified", self.not_modified)?;
        }
        if self.deferred > 0 {
            write!(f, ", {} deferred (host asked to wait)", self.deferred)?;
        }
        if self.busy > 0 {
            write!(
                f,
                ", {} skipped (being polled by another figwatch process)",
                self.busy
            )?;
        }
        if self.unleased > 0 {
            write!(
                f,
                ", {} not polled (the store cannot be written; see the error above)",
                self.unleased
            )?;
        }
        if self.rechecked + self.retired > 0 {
            write!(
                f,
                "; re-checked {} ({} not modified",
                count(self.rechecked, "article"),
                self.rechecked_not_modified
            )?;
            if self.retired > 0 {
                write!(f, ", {} retired", self.retired)?;
            }
            write!(f, ")")?;
        }
        write!(
            f,
            "; {}, {}, {}",
            count(self.new_articles, "new article"),
            count(self.new_versions, "new version"),
            count(self.alerts, "alert"),
        )?;
        if self.article_errors > 0 {
            let n = count(self.article_errors, "article");
            write!(f, "; {n} could not be read (see `figwatch status`)")?;
        }
        Ok(())
    }
}

/// "1 alert", "2 alerts".
pub(super) fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

//! Counters of this process's work for `/metrics`: polls by outcome, article checks, and how
//! long fetches take. Lock-free atomics, so counting costs nothing a poll would notice. The
//! dashboard served by the daemon shows them live; `figwatch serve` on its own polls nothing,
//! so its counters stay at zero and only the database's numbers move.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the fetch-duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The counters of this process, as `/metrics` shows them.
pub struct Metrics {
    polls_ok: AtomicU64,
    polls_not_modified: AtomicU64,
    polls_failed: AtomicU64,
    polls_deferred: AtomicU64,
    fetch_buckets: [AtomicU64; BUCKETS.len()],
    fetch_count: AtomicU64,
    fetch_micros: AtomicU64,
}

/// The process's counters.
pub static METRICS: Metrics = Metrics::new();

/// How a poll ended, for counting.
#[derive(Debug, Clone, Copy)]
pub enum PollOutcome {
    /// The body was fetched (it may or may not have changed).
    Fetched,
    /// The server answered 304.
    NotModified,
    /// The poll failed.
    Failed,
    /// Not requested: the host asked us to wait.
    Deferred,
}

impl Metrics {
    const fn new() -> Metrics {
        Metrics {
            polls_ok: AtomicU64::new(0),
            polls_not_modified: AtomicU64::new(0),
            polls_failed: AtomicU64::new(0),
            polls_deferred: AtomicU64::new(0),
            fetch_buckets: [const { AtomicU64::new(0) }; BUCKETS.len()],
            fetch_count: AtomicU64::new(0),
            fetch_micros: AtomicU64::new(0),
        }
    }

    /// Counts one poll's outcome.
    pub fn poll(&self, outcome: PollOutcome) {
        let counter = match outcome {
            PollOutcome::Fetched => &self.polls_ok,
            PollOutcome::NotModified => &self.polls_not_modified,
            PollOutcome::Failed => &self.polls_failed,
            PollOutcome::Deferred => &self.polls_deferred,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// One HTTP fetch (feed, page or article), however it ended.
    pub fn fetch(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.fetch_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.fetch_count.fetch_add(1, Ordering::Relaxed);
        self.fetch_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Prometheus text format.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::from(
            "# HELP figwatch_polls_total Polls by this process, by outcome.\n# TYPE figwatch_polls_total counter\n",
        );
        for (outcome, c) in [
            ("fetched", &self.polls_ok),
            ("not_modified", &self.polls_not_modified),
            ("failed", &self.polls_failed),
            ("deferred", &self.polls_deferred),
        ] {
            out += &format!("figwatch_polls_total{{outcome=\"{outcome}\"}} {}\n", get(c));
        }
        out += "# HELP figwatch_fetch_duration_seconds HTTP fetches by this process (feeds, pages, articles).\n# TYPE figwatch_fetch_duration_seconds histogram\n";
        for (bound, c) in BUCKETS.iter().zip(&self.fetch_buckets) {
            out += &format!(
                "figwatch_fetch_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
                get(c)
            );
        }
        let count = get(&self.fetch_count);
        out += &format!("figwatch_fetch_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n");
        out += &format!(
            "figwatch_fetch_duration_seconds_sum {}\n",
            get(&self.fetch_micros) as f64 / 1e6
        );
        out += &format!("figwatch_fetch_duration_seconds_count {count}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative() {
        let m = Metrics::new();
        m.fetch(Duration::from_millis(30));
        m.fetch(Duration::from_secs(3));
        m.poll(PollOutcome::Failed);
        let text = m.render();
        assert!(text.contains("figwatch_fetch_duration_seconds_bucket{le=\"0.025\"} 0\n"));
        assert!(text.contains("figwatch_fetch_duration_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(text.contains("figwatch_fetch_duration_seconds_bucket{le=\"5\"} 2\n"));
        assert!(text.contains("figwatch_fetch_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(
            text.contains("figwatch_fetch_duration_seconds_sum 3.03\n"),
            "{text}"
        );
        assert!(text.contains("figwatch_polls_total{outcome=\"failed\"} 1\n"));
    }
}

//! When to poll a source next: its interval adapted to how often it really changes, never
//! sooner than the server's own freshness hint, backed off after failures, and jittered so
//! that sources configured alike spread out.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{ScheduleSettings, SourceConfig};

pub mod ages;

/// What the last polls showed about a source.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChangeHistory {
    /// The last poll that found something new (a new article or version).
    pub last_change_at: Option<DateTime<Utc>>,
    /// The average time between changes so far.
    pub change_gap: Option<Duration>,
}

impl ChangeHistory {
    /// The history after a poll that found something new at `now`: the gap since the last
    /// change joins the average, the newest gap weighing half.
    pub fn changed_at(self, now: DateTime<Utc>) -> ChangeHistory {
        let gap = self
            .last_change_at
            .and_then(|last| (now - last).to_std().ok())
            .filter(|g| !g.is_zero());
        let change_gap = match (self.change_gap, gap) {
            (Some(avg), Some(g)) => Some((avg + g) / 2),
            (None, g) => g,
            (avg, None) => avg,
        };
        ChangeHistory {
            last_change_at: Some(now),
            change_gap,
        }
    }
}

/// The interval before the next poll, before jitter.
///
/// A source that keeps failing is backed off: the configured interval doubled for each
/// failure in a row, up to `max_backoff` (never below the interval itself). A healthy source
/// is polled at half the time it is expected to take to change — the average gap between
/// its changes, or, when it has been quiet for longer than that, the quiet time so far —
/// within its `min_interval` and `max_interval`. A freshness hint from the server (RSS `ttl`,
/// `Cache-Control: max-age`, `Expires`) is a lower bound, itself capped by `max_interval` so a
/// server cannot make us stop looking.
pub fn next_interval(
    source: &SourceConfig,
    settings: &ScheduleSettings,
    history: ChangeHistory,
    failures: u32,
    fresh_for: Option<Duration>,
    now: DateTime<Utc>,
) -> Duration {
    if failures > 0 {
        let factor = 2u32.saturating_pow(failures.min(24));
        return source
            .interval
            .saturating_mul(factor)
            .min(settings.max_backoff.max(source.interval));
    }
    let mut interval = source.interval;
    if settings.adaptive {
        if let Some(last) = history.last_change_at {
            let quiet = (now - last).to_std().unwrap_or_default();
            let expected = history.change_gap.unwrap_or(source.interval).max(quiet);
            interval = (expected / 2).clamp(source.min_interval, source.max_interval);
        }
    }
    if let Some(hint) = fresh_for {
        interval = interval.max(hint.min(source.max_interval));
    }
    interval
}

/// Moves an interval by a random amount of up to `fraction` of it, either way.
pub fn jitter(interval: Duration, fraction: f64) -> Duration {
    if fraction <= 0.0 {
        return interval;
    }
    let factor = 1.0 + fraction * (fastrand::f64() * 2.0 - 1.0);
    interval.mul_f64(factor).max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;

    fn source(interval: u64, min: u64, max: u64) -> SourceConfig {
        SourceConfig {
            kind: SourceKind::Feed,
            url: url::Url::parse("https://n.example/rss").unwrap(),
            interval: Duration::from_secs(interval),
            min_interval: Duration::from_secs(min),
            max_interval: Duration::from_secs(max),
            recheck: Default::default(),
            max_age: crate::config::DEFAULT_MAX_AGE,
            links: Default::default(),
            render: false,
        }
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(minutes)
    }

    const MIN: u64 = 60;

    #[test]
    fn a_quiet_source_is_polled_less_often_up_to_its_maximum() {
        let s = source(15 * MIN, 5 * MIN, 4 * 60 * MIN);
        let settings = ScheduleSettings::default();
        let h = ChangeHistory::default().changed_at(at(0));
        let next = |minutes| next_interval(&s, &settings, h, 0, None, at(minutes));
        assert_eq!(
            next(1),
            Duration::from_secs(15 * MIN / 2).max(s.min_interval)
        );
        assert_eq!(
            next(120),
            Duration::from_secs(60 * MIN),
            "quiet 2h: every hour"
        );
        assert_eq!(next(24 * 60), s.max_interval, "quiet a day: the maximum");
    }

    #[test]
    fn a_busy_source_is_polled_more_often_down_to_its_minimum() {
        let s = source(15 * MIN, 5 * MIN, 60 * MIN);
        let settings = ScheduleSettings::default();
        let mut h = ChangeHistory::default();
        for m in [0, 12, 24, 36] {
            h = h.changed_at(at(m));
        }
        assert_eq!(h.change_gap, Some(Duration::from_secs(12 * MIN)));
        let next = next_interval(&s, &settings, h, 0, None, at(36));
        assert_eq!(
            next,
            Duration::from_secs(6 * MIN),
            "half the gap between changes"
        );
        for m in [37, 38, 39, 40] {
            h = h.changed_at(at(m));
        }
        let next = next_interval(&s, &settings, h, 0, None, at(40));
        assert_eq!(next, s.min_interval, "never below min_interval");
    }

    #[test]
    fn adaptive_off_keeps_the_interval() {
        let s = source(15 * MIN, 5 * MIN, 60 * MIN);
        let settings = ScheduleSettings {
            adaptive: false,
            ..Default::default()
        };
        let h = ChangeHistory::default().changed_at(at(0));
        let next = next_interval(&s, &settings, h, 0, None, at(600));
        assert_eq!(next, s.interval);
    }

    #[test]
    fn a_freshness_hint_is_a_floor_capped_by_the_maximum() {
        let s = source(15 * MIN, 15 * MIN, 60 * MIN);
        let settings = ScheduleSettings::default();
        let h = ChangeHistory::default();
        let hint =
            |secs| next_interval(&s, &settings, h, 0, Some(Duration::from_secs(secs)), at(0));
        assert_eq!(hint(30 * MIN), Duration::from_secs(30 * MIN), "ttl 30 min");
        assert_eq!(hint(60), s.interval, "a short max-age changes nothing");
        assert_eq!(hint(24 * 60 * MIN), s.max_interval, "capped");
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap() {
        let s = source(15 * MIN, 15 * MIN, 60 * MIN);
        let settings = ScheduleSettings::default();
        let h = ChangeHistory::default();
        let after = |n| next_interval(&s, &settings, h, n, None, at(0));
        assert_eq!(after(1), Duration::from_secs(30 * MIN));
        assert_eq!(after(2), Duration::from_secs(60 * MIN));
        assert_eq!(after(3), Duration::from_secs(120 * MIN));
        assert_eq!(after(30), settings.max_backoff);
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_spreads() {
        let d = Duration::from_secs(1000);
        let samples: Vec<Duration> = (0..200).map(|_| jitter(d, 0.1)).collect();
        assert!(samples
            .iter()
            .all(|s| *s >= Duration::from_secs(900) && *s <= Duration::from_secs(1100)));
        let distinct: std::collections::HashSet<_> = samples.iter().collect();
        assert!(distinct.len() > 100, "spread out, not one value");
        assert_eq!(jitter(d, 0.0), d);
    }
}

//! When an article is checked again: by its age, counted from when figwatch first saw it or
//! from the last change of its text, through the tiers of its source's `recheck` schedule
//! (every 15 minutes while it is young, daily when it is old), then retired. Independent of
//! whether a feed still lists it: the updated toll and the correction come days after a busy
//! outlet's feed has dropped the story.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Recheck, Tier};

/// What comes after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Checked again at this time.
    At(DateTime<Utc>),
    /// Past the last tier: no more checks.
    Retire,
}

fn age(age_from: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (at - age_from).to_std().unwrap_or_default()
}

fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    crate::store::later(t, d)
}

/// The tier an article is in at `at`; `None` past the last.
pub fn tier_at(recheck: &Recheck, age_from: DateTime<Utc>, at: DateTime<Utc>) -> Option<&Tier> {
    recheck.tier_at(age(age_from, at))
}

/// The check after one at `now`: the interval of the article's tier at `now`, jittered by up to
/// `jitter` of it either way. A check that would fall past the last tier's age is not made:
/// the article retires now.
pub fn next_check(
    recheck: &Recheck,
    age_from: DateTime<Utc>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Next {
    let Some(tier) = tier_at(recheck, age_from, now) else {
        return Next::Retire;
    };
    let next = add(now, super::jitter(tier.every, jitter));
    if age(age_from, next) > recheck.retire_after() {
        return Next::Retire;
    }
    Next::At(next)
}

/// Whether a check that was due at `due_at` is past the schedule (the schedule was shortened
/// since it was planned): such an article is retired without a fetch.
pub fn is_past(recheck: &Recheck, age_from: DateTime<Utc>, due_at: DateTime<Utc>) -> bool {
    age(age_from, due_at) > recheck.retire_after()
}

/// After a change of schedule: the next check the new schedule allows for an article last
/// checked at `last` (`None`: never), when that is sooner than the stored `next`. An article
/// already past the new last tier is due now, to be retired without a fetch.
pub fn pulled_in(
    recheck: &Recheck,
    age_from: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
    next: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let allowed = match last {
        _ if age(age_from, now) > recheck.retire_after() => now,
        None => now,
        Some(last) => match tier_at(recheck, age_from, last) {
            Some(t) => add(last, t.every).min(add(age_from, recheck.retire_after())),
            None => now,
        },
    };
    (allowed < next).then_some(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(minutes)
    }

    #[test]
    fn the_default_schedule_slows_with_age_and_retires_after_two_weeks() {
        let r = Recheck::default();
        assert_eq!(next_check(&r, t(0), t(10), 0.0), Next::At(t(25)));
        assert_eq!(next_check(&r, t(0), t(4 * 60), 0.0), Next::At(t(5 * 60)));
        assert_eq!(
            next_check(&r, t(0), t(2 * 1440), 0.0),
            Next::At(t(2 * 1440 + 180))
        );
        assert_eq!(
            next_check(&r, t(0), t(5 * 1440), 0.0),
            Next::At(t(6 * 1440))
        );
        // The check a day after 13.5 days would be past 14 days: this was the last.
        assert_eq!(next_check(&r, t(0), t(13 * 1440 + 720), 0.0), Next::Retire);
        assert_eq!(next_check(&r, t(0), t(20 * 1440), 0.0), Next::Retire);
    }

    #[test]
    fn a_change_restarts_the_clock() {
        let r = Recheck::default();
        // Ten days old, then its text changed at day 10: 15 minutes again.
        let changed = t(10 * 1440);
        assert_eq!(
            next_check(&r, changed, changed, 0.0),
            Next::At(changed + chrono::Duration::minutes(15))
        );
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let r = Recheck::default();
        for _ in 0..100 {
            let Next::At(at) = next_check(&r, t(0), t(0), 0.1) else {
                panic!("retired")
            };
            assert!(at >= t(0) + chrono::Duration::seconds(810));
            assert!(at <= t(0) + chrono::Duration::seconds(990));
        }
    }

    #[test]
    fn a_shorter_schedule_pulls_next_checks_in() {
        let short = Recheck {
            tiers: vec![Tier {
                up_to: Duration::from_secs(3 * 86400),
                every: Duration::from_secs(600),
            }],
        };
        // Checked at 2h, next planned a day later by the old schedule: 10 minutes after 2h.
        assert_eq!(
            pulled_in(&short, t(0), Some(t(120)), t(120 + 1440), t(125)),
            Some(t(130))
        );
        // Already sooner than the new schedule asks: left alone.
        assert_eq!(pulled_in(&short, t(0), Some(t(120)), t(125), t(121)), None);
        // Five days old: past the new last tier, due now to be retired.
        assert_eq!(
            pulled_in(&short, t(0), Some(t(4 * 1440)), t(6 * 1440), t(5 * 1440)),
            Some(t(5 * 1440))
        );
        assert!(is_past(&short, t(0), t(5 * 1440)));
        assert!(!is_past(&short, t(0), t(2 * 1440)));
    }
}

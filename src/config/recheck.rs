//! `[articles] recheck` (and the same key on a `[[feeds]]` entry): how often an article is
//! checked again as it ages, written as `[["3h", "15m"], ["1d", "1h"], …]` — [age up to, check
//! every] — and checked when the file is read.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{parse_duration, ConfigError};

/// One step of an article's age schedule: while it is younger than `up_to`, it is checked
/// every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// The tier holds while the article is younger than this.
    pub up_to: Duration,
    /// How often the article is checked while it does.
    pub every: Duration,
}

/// The age schedule of an article: tiers in order of age. Past the last tier an article is
/// retired (no more checks); an empty schedule never checks an article again after its first
/// fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recheck {
    /// The tiers, youngest first.
    pub tiers: Vec<Tier>,
}

impl Default for Recheck {
    /// Every 15 minutes for the first 3 hours, hourly up to a day, every 3 hours up to 3 days,
    /// daily up to 14 days: the updated toll and the correction of the following days are
    /// caught, and a two-week-old story costs nothing.
    fn default() -> Self {
        let h = |n: u64| Duration::from_secs(n * 3600);
        Recheck {
            tiers: vec![
                Tier {
                    up_to: h(3),
                    every: Duration::from_secs(15 * 60),
                },
                Tier {
                    up_to: h(24),
                    every: h(1),
                },
                Tier {
                    up_to: h(72),
                    every: h(3),
                },
                Tier {
                    up_to: h(14 * 24),
                    every: h(24),
                },
            ],
        }
    }
}

impl Recheck {
    /// The tier an article of this age is in; `None` past the last one.
    pub fn tier_at(&self, age: Duration) -> Option<&Tier> {
        self.tiers.iter().find(|t| age < t.up_to)
    }

    /// How old an article gets before it is retired.
    pub fn retire_after(&self) -> Duration {
        self.tiers.last().map_or(Duration::ZERO, |t| t.up_to)
    }

    /// The shortest interval of the schedule (zero for an empty one).
    pub fn shortest(&self) -> Duration {
        self.tiers
            .iter()
            .map(|t| t.every)
            .min()
            .unwrap_or(Duration::ZERO)
    }

    /// The schedule as written in the configuration: `3h:15m,1d:1h`. Stored with each source,
    /// so that a start after a change of schedule can tell and pull next checks in.
    pub fn key(&self) -> String {
        let d = |d: Duration| humantime::format_duration(d).to_string().replace(' ', "");
        self.tiers
            .iter()
            .map(|t| format!("{}:{}", d(t.up_to), d(t.every)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// "every 15m until 3h old".
    pub fn describe(tier: &Tier) -> String {
        format!(
            "every {} until {} old",
            humantime::format_duration(tier.every),
            humantime::format_duration(tier.up_to)
        )
    }
}

/// `[articles]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArticles {
    pub recheck: Option<Spanned<Vec<Vec<String>>>>,
}

/// Checks a `recheck` list: each entry two durations, ages strictly growing, intervals of at
/// least a second.
pub(super) fn parse(
    raw: &Spanned<Vec<Vec<String>>>,
    key: &str,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<Recheck, ConfigError> {
    let fail = |i: usize, message: String| {
        Err(at(
            Some(raw.span()),
            Some(format!("{key}[{i}]")),
            format!("{message}; write it like recheck = [[\"3h\", \"15m\"], [\"1d\", \"1h\"]] (age up to, check every)"),
        ))
    };
    let mut tiers: Vec<Tier> = Vec::new();
    for (i, pair) in raw.get_ref().iter().enumerate() {
        let [up_to, every] = pair.as_slice() else {
            return fail(i, format!("{} values where two are needed", pair.len()));
        };
        let up_to = match parse_duration(up_to) {
            Ok(d) => d,
            Err(e) => return fail(i, e),
        };
        let every = match parse_duration(every) {
            Ok(d) => d,
            Err(e) => return fail(i, e),
        };
        if every < Duration::from_secs(1) {
            return fail(
                i,
                format!("the interval {every:?} is too short; the minimum is 1s"),
            );
        }
        if let Some(prev) = tiers.last() {
            if up_to <= prev.up_to {
                return fail(
                    i,
                    format!(
                        "the ages must grow from one entry to the next ({} comes after {})",
                        humantime::format_duration(up_to),
                        humantime::format_duration(prev.up_to)
                    ),
                );
            }
        } else if up_to.is_zero() {
            return fail(i, "an age of 0 leaves nothing to check".into());
        }
        tiers.push(Tier { up_to, every });
    }
    Ok(Recheck { tiers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_reads_like_the_configuration() {
        assert_eq!(
            Recheck::default().key(),
            "3h:15m,1day:1h,3days:3h,14days:1day"
        );
        let r = Recheck::default();
        assert_eq!(
            r.tier_at(Duration::from_secs(60)).unwrap().every.as_secs(),
            900
        );
        assert_eq!(
            r.tier_at(Duration::from_secs(4 * 3600))
                .unwrap()
                .every
                .as_secs(),
            3600
        );
        assert!(r.tier_at(Duration::from_secs(15 * 86400)).is_none());
        assert_eq!(r.retire_after().as_secs(), 14 * 86400);
    }
}

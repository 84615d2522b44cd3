//! The checks a configuration passes after it is read (intervals within bounds, topics that can
//! match), and how an error is placed at its line and column in the file.

use super::*;

/// A key as the user wrote it: serde's path runs through the private fields of `Spanned`
/// values (`interval.$__serde_spanned_private_value`), which name nothing in the file.
pub(super) fn written_key(path: &str) -> String {
    path.split('.')
        .filter(|segment| !segment.starts_with("$__"))
        .collect::<Vec<_>>()
        .join(".")
}

pub(super) fn check_interval(
    d: &Spanned<Dur>,
    key: &str,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<Duration, ConfigError> {
    let value = d.get_ref().0;
    if value < MIN_INTERVAL {
        return Err(at(
            Some(d.span()),
            Some(key.to_string()),
            format!("interval {value:?} is too short; the minimum is 1s"),
        ));
    }
    Ok(value)
}

pub(super) fn opt_interval(
    d: &Option<Spanned<Dur>>,
    key: &str,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<Option<(Duration, std::ops::Range<usize>)>, ConfigError> {
    d.as_ref()
        .map(|d| check_interval(d, key, at).map(|v| (v, d.span())))
        .transpose()
}

/// `min_interval` and `max_interval` as written at one level (top or source), with where.
pub(super) struct Bounds {
    pub(super) min: Option<(Duration, std::ops::Range<usize>)>,
    pub(super) max: Option<(Duration, std::ops::Range<usize>)>,
}

impl Bounds {
    /// The bounds written at one level must hold with the interval of that level.
    pub(super) fn check(
        &self,
        interval: Duration,
        prefix: &str,
        at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let show = |d: Duration| humantime::format_duration(d).to_string();
        if let Some((min, span)) = &self.min {
            if *min > interval {
                return Err(at(
                    Some(span.clone()),
                    Some(format!("{prefix}min_interval")),
                    format!(
                        "min_interval {} is longer than the interval {}; it must be at most the interval",
                        show(*min),
                        show(interval)
                    ),
                ));
            }
        }
        if let Some((max, span)) = &self.max {
            if *max < interval {
                return Err(at(
                    Some(span.clone()),
                    Some(format!("{prefix}max_interval")),
                    format!(
                        "max_interval {} is shorter than the interval {}; it must be at least the interval",
                        show(*max),
                        show(interval)
                    ),
                ));
            }
        }
        Ok(())
    }
}

pub(super) fn schedule_settings(
    raw: &RawConfig,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<ScheduleSettings, ConfigError> {
    let d = ScheduleSettings::default();
    let jitter = match &raw.jitter {
        Some(j) if !(0.0..=0.5).contains(j.get_ref()) => {
            return Err(at(
                Some(j.span()),
                Some("jitter".into()),
                format!(
                    "jitter {} is out of range; write a fraction of the interval from 0 to 0.5 (0.1 moves each check by up to a tenth)",
                    j.get_ref()
                ),
            ))
        }
        Some(j) => *j.get_ref(),
        None => d.jitter,
    };
    let fail_after = match &raw.fail_after {
        Some(n) if *n.get_ref() == 0 => return Err(at(
            Some(n.span()),
            Some("fail_after".into()),
            "fail_after must be at least 1 (failed polls in a row before a source_failing alert)"
                .into(),
        )),
        Some(n) => *n.get_ref(),
        None => d.fail_after,
    };
    Ok(ScheduleSettings {
        adaptive: raw.adaptive.unwrap_or(d.adaptive),
        jitter,
        max_backoff: match &raw.max_backoff {
            Some(b) => check_interval(b, "max_backoff", at)?,
            None => d.max_backoff,
        },
        fail_after,
        lease: match &raw.lease {
            Some(l) => Some(check_interval(l, "lease", at)?),
            None => None,
        },
    })
}

/// Checks what serde cannot: a topic must be able to match something.
pub(super) fn validate_topic(t: &Topic) -> Option<(&'static str, String)> {
    if t.id.trim().is_empty() {
        return Some(("id", "a topic id must not be empty".into()));
    }
    if t.terms.iter().all(|s| s.trim().is_empty()) && t.near.is_empty() {
        return Some((
            "terms",
            format!(
                "topic {:?} has no terms and no near groups, so it can never match",
                t.id
            ),
        ));
    }
    if t.near.iter().any(|g| g.iter().all(|s| s.trim().is_empty())) {
        return Some(("near", format!("topic {:?} has an empty near group", t.id)));
    }
    if !t.near.is_empty() && t.window == 0 {
        return Some((
            "window",
            format!("topic {:?}: window must be at least 1", t.id),
        ));
    }
    for m in &t.measures {
        if m.name.trim().is_empty() || m.words.iter().all(|w| w.trim().is_empty()) {
            return Some((
                "measures",
                format!(
                    "topic {:?}: every measure needs a name and at least one word",
                    t.id
                ),
            ));
        }
    }
    None
}

/// Finds `key =` in the table that starts at `span`, to point an error at it. The table
/// runs to the next `[header]` line (the span toml reports may cover the header only).
pub(super) fn find_key(text: &str, span: std::ops::Range<usize>, key: &str) -> Option<usize> {
    let rest = text.get(span.start..)?;
    let first_line = rest.find('\n').map_or(rest.len(), |i| i + 1);
    let end = rest[first_line..]
        .match_indices('\n')
        .map(|(i, _)| first_line + i + 1)
        .find(|&i| rest[i..].trim_start().starts_with('['))
        .unwrap_or(rest.len());
    let span = span.start..span.start + end;
    let region = text.get(span.clone())?;
    let mut offset = 0;
    for line in region.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(span.start + offset + (line.len() - trimmed.len()));
            }
        }
        offset += line.len();
    }
    None
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |nl| nl + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// A source's `max_age` (sitemaps), `links` and `links_regex` (section fronts), each refused
/// with its key on a source of another kind.
pub(super) fn listing_options(
    src: &RawSource,
    kind: SourceKind,
    prefix: &str,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<(Duration, LinkFilter), ConfigError> {
    let only = |span: std::ops::Range<usize>, key: &str, what: &str| {
        at(
            Some(span),
            Some(format!("{prefix}{key}")),
            format!("`{key}` is for {what}; remove it here"),
        )
    };
    let max_age = match (&src.max_age, kind) {
        (None, _) => DEFAULT_MAX_AGE,
        (Some(d), SourceKind::Sitemap) => d.get_ref().0,
        (Some(d), _) => return Err(only(d.span(), "max_age", "[[sitemaps]]")),
    };
    let mut links = LinkFilter::default();
    if let Some(p) = &src.links {
        if kind != SourceKind::Section {
            return Err(only(p.span(), "links", "[[sections]]"));
        }
        let prefix_text = p.get_ref().trim();
        if !prefix_text.starts_with('/') {
            return Err(at(
                Some(p.span()),
                Some(format!("{prefix}links")),
                format!("{prefix_text:?} is not a path prefix; write one such as \"/world/\""),
            ));
        }
        links.prefix = Some(prefix_text.to_string());
    }
    if let Some(r) = &src.links_regex {
        if kind != SourceKind::Section {
            return Err(only(r.span(), "links_regex", "[[sections]]"));
        }
        let regex = regex::RegexBuilder::new(r.get_ref())
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                at(
                    Some(r.span()),
                    Some(format!("{prefix}links_regex")),
                    format!("not a regular expression: {e}"),
                )
            })?;
        links.regex = Some(regex);
    }
    Ok((max_age, links))
}

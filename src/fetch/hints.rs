//! What a server says about when to ask again: `Cache-Control: max-age`, `Expires` and
//! `Retry-After`. The scheduler takes freshness as a lower bound on a source's interval (capped
//! by `max_interval`), and `Retry-After` as a pause of the whole host.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, AGE, CACHE_CONTROL, DATE, EXPIRES, RETRY_AFTER};

/// How long the response stays fresh by its own headers: `max-age` (less `Age`), else
/// `Expires` less `Date`. `no-cache`, `no-store` and `max-age=0` mean "not at all" (`None`).
pub fn fresh_for(headers: &HeaderMap) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(cc) = text(CACHE_CONTROL) {
        let mut max_age = None;
        for directive in cc.split(',').map(str::trim) {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-cache" || lower == "no-store" {
                return None;
            }
            // s-maxage is for shared caches; we are a private client.
            if let Some(v) = lower.strip_prefix("max-age=") {
                max_age = v.trim_matches('"').parse::<u64>().ok();
            }
        }
        if let Some(secs) = max_age {
            let age = text(AGE).and_then(|a| a.trim().parse::<u64>().ok());
            let left = secs.saturating_sub(age.unwrap_or(0));
            return (left > 0).then(|| Duration::from_secs(left));
        }
    }
    let expires = http_date(text(EXPIRES)?)?;
    // Measured against the server's own clock when it sends one, so a skewed clock on either
    // side does not matter.
    let now = text(DATE).and_then(http_date).unwrap_or_else(Utc::now);
    (expires - now).to_std().ok().filter(|d| !d.is_zero())
}

/// When a 429 or 503 says to come back: `Retry-After` in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u32>() {
        return Some(now + chrono::Duration::seconds(i64::from(secs)));
    }
    http_date(v)
}

/// An HTTP date (RFC 9110's IMF-fixdate, or the RFC 2822 forms servers also send).
fn http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn max_age_less_age_then_expires() {
        let h = headers(&[("cache-control", "public, max-age=600"), ("age", "100")]);
        assert_eq!(fresh_for(&h), Some(Duration::from_secs(500)));
        let h = headers(&[
            ("date", "Wed, 21 Oct 2026 07:28:00 GMT"),
            ("expires", "Wed, 21 Oct 2026 08:28:00 GMT"),
        ]);
        assert_eq!(fresh_for(&h), Some(Duration::from_secs(3600)));
        let h = headers(&[("cache-control", "no-cache, max-age=600")]);
        assert_eq!(fresh_for(&h), None);
        let h = headers(&[("expires", "0")]);
        assert_eq!(
            fresh_for(&h),
            None,
            "an invalid Expires means already expired"
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = Utc::now();
        let h = headers(&[("retry-after", "120")]);
        assert_eq!(
            retry_after(&h, now),
            Some(now + chrono::Duration::seconds(120))
        );
        let h = headers(&[("retry-after", "Wed, 21 Oct 2026 07:28:00 GMT")]);
        assert_eq!(
            retry_after(&h, now).unwrap().to_rfc3339(),
            "2026-10-21T07:28:00+00:00"
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
    }
}

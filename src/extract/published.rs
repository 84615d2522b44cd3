//! The published date the page states, most explicitly first: publication meta tags, JSON-LD
//! `datePublished`, a `<time>` marked as the publication time, then dates in the page's script
//! data (`visible_date` reads what the page only shows). A date is taken as
//! written (its local day), not converted to UTC: "2019-12-10T00:30+01:00" was published on
//! the 10th where it was published.

use std::sync::OnceLock;

use regex::Regex;
use scraper::Html;

use super::meta::Head;

/// Meta tags that name the publication time, most specific first.
const META_KEYS: &[&str] = &[
    "article:published_time",
    "og:article:published_time",
    "published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "article.published",
    "dc.date.issued",
    "dcterms.issued",
    "dcterms.created",
    "dc.date.created",
    "sailthru.date",
    "parsely-pub-date",
    "date",
    "dc.date",
];

/// The publication day (`YYYY-MM-DD`) the page states, if it states one.
/// `offset` is the publisher's UTC offset in hours, from [`local_offset`].
pub fn stated(doc: &Html, head: &Head<'_>, offset: i32) -> Option<String> {
    // Publication meta tags before JSON-LD: where the two disagree, the tags are more often
    // right (JSON-LD graphs carry the dates of other entities too).
    head.meta_where(META_KEYS, |d| day_at(d, offset))
        .or_else(|| {
            head.json_ld.iter().find_map(|value| {
                find_key(value, "datePublished", 0).and_then(|d| day_at(&d, offset))
            })
        })
        .or_else(|| time_element(doc, offset))
        .or_else(|| article_time(doc, offset))
}

/// The publisher's offset from UTC in hours, guessed from the page's language and region:
/// a time stamped in UTC ("2022-11-06T23:00:00Z") was published on the local day there.
/// Europe counts one hour (two in summer would split hairs), the Americas by country.
pub fn local_offset(lang: Option<&str>) -> i32 {
    let lang = lang.unwrap_or_default().to_ascii_lowercase();
    let mut parts = lang.split(['-', '_']);
    let (language, region) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    match region {
        "us" | "ca" | "co" | "pe" | "ec" | "pa" => -5,
        "mx" | "gt" | "hn" | "sv" | "ni" | "cr" => -6,
        "ar" | "br" | "uy" | "cl" | "py" => -3,
        "bo" | "ve" | "do" | "pr" => -4,
        "gb" | "ie" | "pt" | "is" => 0,
        "au" => 10,
        "nz" => 12,
        "in" => 5,
        "jp" | "kr" => 9,
        "cn" | "tw" | "hk" | "sg" => 8,
        _ => match language {
            "de" | "fr" | "it" | "es" | "nl" | "pl" | "cs" | "sk" | "hu" | "sv" | "da" | "nb"
            | "no" | "sl" | "hr" | "sr" | "bs" | "ca" => 1,
            "fi" | "el" | "ro" | "bg" | "uk" | "lt" | "lv" | "et" => 2,
            "ru" | "tr" => 3,
            "ja" | "ko" => 9,
            "zh" => 8,
            _ => 0,
        },
    }
}

/// A publication date in data a page's scripts carry (`"publishedDate":"2016-11-04T20:37Z"`,
/// `"published_at"`, `"createdAt"`): single-page apps state it there and nowhere else.
pub fn in_script_data(html: &str, offset: i32) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?i)"(?:date_?published|published_?(?:date|at|time|on)?|publish_?(?:date|time)|pub_?date|publication_?date|date_?created|created_?(?:at|date))\\?"\s*:\s*\\?"(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)"#)
            .expect("static regex")
    });
    re.captures_iter(html).find_map(|c| day_at(&c[1], offset))
}

/// The first `<time datetime>` inside the `<article>`: on news pages, the dateline.
fn article_time(doc: &Html, offset: i32) -> Option<String> {
    doc.select(selector!("article time[datetime]"))
        .find_map(|t| t.attr("datetime").and_then(|d| day_at(d, offset)))
}

/// The first string under `key` anywhere in a JSON-LD value (graphs nest it).
pub fn find_key(v: &serde_json::Value, key: &str, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    match v {
        serde_json::Value::Object(map) => map
            .get(key)
            .and_then(|d| d.as_str().map(str::to_string))
            .or_else(|| map.values().find_map(|x| find_key(x, key, depth + 1))),
        serde_json::Value::Array(items) => items.iter().find_map(|x| find_key(x, key, depth + 1)),
        _ => None,
    }
}

fn time_element(doc: &Html, offset: i32) -> Option<String> {
    doc.select(selector!("time[datetime]")).find_map(|t| {
        let e = t.value();
        let marked = e
            .attr("itemprop")
            .is_some_and(|p| p.eq_ignore_ascii_case("datePublished"))
            || e.attr("pubdate").is_some()
            || format!("{} {}", e.attr("class").unwrap_or(""), e.id().unwrap_or(""))
                .to_lowercase()
                .contains("publish");
        marked
            .then(|| e.attr("datetime"))
            .flatten()
            .and_then(|d| day_at(d, offset))
    })
}

/// The `YYYY-MM-DD` a date-time string starts with, if it is a plausible date.
/// A time with its own offset ("…T00:30+01:00") is taken on the day it names; one stamped
/// in UTC is moved to the publisher's day by `offset` hours.
pub(super) fn day_at(s: &str, offset: i32) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]00:?00)?)?")
            .expect("static regex")
    });
    let Some(c) = re.captures(s) else {
        // Not ISO 8601: RFC 2822 ("Wed, 04 May 2022 10:00:00 GMT") is the one other form
        // machines write; dates written for people in these fields were more often wrong.
        if let Ok(t) = chrono::DateTime::parse_from_rfc2822(s.trim()) {
            return day_at(&t.to_rfc3339(), offset);
        }
        return None;
    };
    let (y, m, d): (i32, u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d).filter(|_| (1990..=2100).contains(&y))?;
    let date = match (c.get(4), c.get(5), c.get(6)) {
        (Some(h), Some(min), Some(_utc)) if offset != 0 => {
            let (h, min): (i64, i64) = (h.as_str().parse().ok()?, min.as_str().parse().ok()?);
            let local = date.and_hms_opt(0, 0, 0)?
                + chrono::Duration::minutes(h * 60 + min + i64::from(offset) * 60);
            local.date()
        }
        _ => date,
    };
    Some(date.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(html: &str) -> Option<String> {
        let doc = Html::parse_document(html);
        let head = Head::of(&doc);
        stated(
            &doc,
            &head,
            local_offset(super::super::meta::lang(&head).as_deref()),
        )
    }

    #[test]
    fn explicit_sources_in_order() {
        let ld = r#"<script type="application/ld+json">{"@graph":[{"@type":"NewsArticle","datePublished":"2019-12-10T00:30:00+01:00"}]}</script>"#;
        let meta = r#"<meta property="article:published_time" content="2019-12-08T10:00:00Z">"#;
        let time = r#"<time itemprop="datePublished" datetime="2019-12-07">7 Dec</time>"#;
        // Publication meta tags first, then JSON-LD, then a marked <time>.
        assert_eq!(
            date(&format!(
                "<html><head>{ld}{meta}</head><body>{time}</body></html>"
            ))
            .as_deref(),
            Some("2019-12-08")
        );
        assert_eq!(
            date(&format!(
                "<html><head>{ld}</head><body>{time}</body></html>"
            ))
            .as_deref(),
            Some("2019-12-10"),
            "JSON-LD's day as written, not moved to UTC"
        );
        assert_eq!(
            date(&format!("<html><body>{time}</body></html>")).as_deref(),
            Some("2019-12-07")
        );
        assert_eq!(
            date("<html><body><time datetime=\"2019-12-07\">x</time></body></html>"),
            None,
            "an unmarked time outside the article is left to the extractor"
        );
        assert_eq!(date("<html><body><article><time datetime=\"2019-12-07\">x</time></article></body></html>").as_deref(), Some("2019-12-07"));
        assert_eq!(date("<meta name=\"date\" content=\"not a date\">"), None);
        // Stamped in UTC: the publisher's local day, by the page's language.
        let utc = r#"<meta property="article:published_time" content="2022-11-06T23:00:00.000Z">"#;
        assert_eq!(
            date(&format!("<html lang=\"de\"><head>{utc}</head></html>")).as_deref(),
            Some("2022-11-07")
        );
        assert_eq!(
            date(&format!("<html lang=\"en-GB\"><head>{utc}</head></html>")).as_deref(),
            Some("2022-11-06")
        );
        let dotted = Html::parse_document("<html><body><article><p>Boltigen, 1.11.2023 – Das Trinkwasser</p></article></body></html>");
        assert_eq!(
            super::super::visible_date::find(&dotted, None, 0).as_deref(),
            Some("2023-11-01"),
            "a dotted date is day first"
        );
    }

    #[test]
    fn reads_the_date_a_pages_script_data_carries() {
        let html = "<script type=\"application/json\">{\"publishedDate\":\"2016-11-04T20:37:27Z\",\
                    \"updatedDate\":\"2016-11-05\"}</script>";
        assert_eq!(in_script_data(html, 0).as_deref(), Some("2016-11-04"));
        assert_eq!(in_script_data("{\"updatedDate\":\"2016-11-05\"}", 0), None);
    }
}

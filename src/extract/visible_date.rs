//! Dates a page shows rather than declares: in its URL (`/2020/03/12/`), in a `<time>`
//! element, and in the short text of elements named for dates ("date", "published", "meta",
//! "byline"), written the ways news sites write them in the languages figwatch reads:
//! `2020-03-12`, `12.03.2020` (day first), `12 March 2020`, `March 12, 2020`, `12. März 2020`.

use std::sync::OnceLock;

use regex::Regex;
use scraper::Html;

/// Text longer than this is prose, not a date line.
const DATE_LINE_MAX_CHARS: usize = 120;

/// The first date the page shows, as `YYYY-MM-DD`; `offset` as for
/// [`super::published::stated`].
pub fn find(doc: &Html, url: Option<&url::Url>, offset: i32) -> Option<String> {
    url.and_then(|u| in_url(u.path()))
        .or_else(|| {
            doc.select(selector!("time")).find_map(|t| {
                t.attr("datetime")
                    .and_then(|d| super::published::day_at(d, offset))
                    .or_else(|| in_text(&t.text().collect::<String>()))
            })
        })
        .or_else(|| {
            doc.select(selector!("[class], [id]")).find_map(|e| {
                let v = e.value();
                let names = format!("{} {}", v.attr("class").unwrap_or(""), v.id().unwrap_or(""))
                    .to_ascii_lowercase();
                if ![
                    "date", "time", "publish", "posted", "meta", "byline", "dateline", "info",
                ]
                .iter()
                .any(|w| names.contains(w))
                {
                    return None;
                }
                let text: String = e.text().collect();
                (text.len() <= DATE_LINE_MAX_CHARS * 4)
                    .then(|| in_text(&text))
                    .flatten()
            })
        })
}

/// A date in a URL path: `/2020/03/12/`, `/2020-03-12-`, `/20200312`.
pub fn in_url(path: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?:^|[/_-])((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)")
            .expect("static regex")
    });
    let c = re.captures(path)?;
    ymd(&c[1], &c[2], &c[3])
}

/// The first date written in a short text, in any of the forms above.
pub fn in_text(text: &str) -> Option<String> {
    static ISO: OnceLock<Regex> = OnceLock::new();
    static DOTTED: OnceLock<Regex> = OnceLock::new();
    static DAY_MONTH: OnceLock<Regex> = OnceLock::new();
    static MONTH_DAY: OnceLock<Regex> = OnceLock::new();
    let text: String = text.chars().take(DATE_LINE_MAX_CHARS * 4).collect();
    let iso = ISO.get_or_init(|| {
        Regex::new(r"(?-u:\b)((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})(?-u:\b)")
            .expect("static regex")
    });
    let dotted = DOTTED.get_or_init(|| {
        Regex::new(r"(?-u:\b)(\d{1,2})[./](\d{1,2})[./]((?:19|20)\d{2})(?-u:\b)")
            .expect("static regex")
    });
    let day_month = DAY_MONTH.get_or_init(|| {
        Regex::new(r"(?i)(?-u:\b)(\d{1,2})\.?(?:º|er|de)?\s+(?:de\s+)?(\p{L}{3,12})\.?,?\s+(?:de\s+)?((?:19|20)\d{2})(?-u:\b)")
            .expect("static regex")
    });
    let month_day = MONTH_DAY.get_or_init(|| {
        Regex::new(r"(?i)(?-u:\b)(\p{L}{3,12})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{2})(?-u:\b)")
            .expect("static regex")
    });
    // The earliest match in the text wins, whichever form it has.
    let mut found: Vec<(usize, String)> = Vec::new();
    if let Some(c) = iso.captures(&text) {
        if let Some(d) = ymd(&c[1], &c[2], &c[3]) {
            found.push((c.get(0).map_or(0, |m| m.start()), d));
        }
    }
    if let Some(c) = dotted.captures(&text) {
        if let Some(d) = ymd(&c[3], &c[2], &c[1]) {
            found.push((c.get(0).map_or(0, |m| m.start()), d));
        }
    }
    for c in day_month.captures_iter(&text) {
        if let Some(m) = month_number(&c[2]) {
            if let Some(d) = ymd(&c[3], &m.to_string(), &c[1]) {
                found.push((c.get(0).map_or(0, |m| m.start()), d));
                break;
            }
        }
    }
    for c in month_day.captures_iter(&text) {
        if let Some(m) = month_number(&c[1]) {
            if let Some(d) = ymd(&c[3], &m.to_string(), &c[2]) {
                found.push((c.get(0).map_or(0, |m| m.start()), d));
                break;
            }
        }
    }
    found.into_iter().min_by_key(|(at, _)| *at).map(|(_, d)| d)
}

/// Month names and abbreviations in English, German, French, Spanish, Italian, Portuguese,
/// Dutch and Polish (genitive forms as dates use them).
fn month_number(word: &str) -> Option<u32> {
    const NAMES: &[&[&str]] = &[
        &[
            "january", "jan", "januar", "jänner", "janvier", "enero", "ene", "gennaio", "janeiro",
            "januari", "stycznia",
        ],
        &[
            "february",
            "feb",
            "februar",
            "février",
            "fevrier",
            "févr",
            "febrero",
            "febbraio",
            "fevereiro",
            "fev",
            "februari",
            "lutego",
        ],
        &[
            "march", "mar", "märz", "maerz", "mars", "marzo", "março", "marco", "maart", "marca",
        ],
        &[
            "april", "apr", "avril", "avr", "abril", "abr", "aprile", "kwietnia",
        ],
        &["may", "mai", "mayo", "maggio", "maio", "mei", "maja"],
        &[
            "june", "jun", "juni", "juin", "junio", "giugno", "junho", "czerwca",
        ],
        &[
            "july", "jul", "juli", "juillet", "juil", "julio", "luglio", "julho", "lipca",
        ],
        &[
            "august", "aug", "août", "aout", "agosto", "ago", "augustus", "sierpnia",
        ],
        &[
            "september",
            "sep",
            "sept",
            "septembre",
            "septiembre",
            "setiembre",
            "settembre",
            "setembro",
            "set",
            "września",
            "wrzesnia",
        ],
        &[
            "october",
            "oct",
            "oktober",
            "okt",
            "octobre",
            "octubre",
            "ottobre",
            "outubro",
            "out",
            "października",
            "pazdziernika",
        ],
        &[
            "november",
            "nov",
            "novembre",
            "noviembre",
            "novembro",
            "listopada",
        ],
        &[
            "december",
            "dec",
            "dezember",
            "dez",
            "décembre",
            "decembre",
            "déc",
            "diciembre",
            "dic",
            "dicembre",
            "dezembro",
            "grudnia",
        ],
    ];
    let w = word.to_lowercase();
    NAMES
        .iter()
        .position(|names| names.contains(&w.as_str()))
        .map(|i| i as u32 + 1)
}

fn ymd(y: &str, m: &str, d: &str) -> Option<String> {
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d)?;
    (1995..=2100)
        .contains(&y)
        .then(|| date.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dates_in_urls_and_text() {
        assert_eq!(in_url("/2020/03/12/story").as_deref(), Some("2020-03-12"));
        assert_eq!(
            in_url("/news/20200312-story").as_deref(),
            Some("2020-03-12")
        );
        assert_eq!(in_url("/story/1700384"), None);
        for (text, day) in [
            ("Published 2019-12-10 10:00", "2019-12-10"),
            ("Veröffentlicht am 05.03.2021", "2021-03-05"),
            ("12. März 2020, 14:00 Uhr", "2020-03-12"),
            ("March 12, 2020 at 3pm", "2020-03-12"),
            ("3 de mayo de 2022", "2022-05-03"),
            ("le 1er juin 2021", "2021-06-01"),
        ] {
            assert_eq!(in_text(text).as_deref(), Some(day), "{text}");
        }
        assert_eq!(in_text("In 2020 some 300 people came"), None);
    }
}

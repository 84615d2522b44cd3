//! Dates a page shows rather than declares: in its URL (`/2020/03/12/`), in a `<time>`
//! element, on the date line by the headline, after a label ("Datum:"), in the short text of
//! elements named for dates ("date", "published", "meta", "byline"), else anywhere in the
//! visible text — written the ways news sites write them in the languages figwatch reads:
//! `2020-03-12`, `12.03.2020` and `12.03.20` (day first), `12 March 2020`, `March 12, 2020`,
//! `12. März 2020`, `15 августа 2016`.

use std::sync::OnceLock;

use regex::Regex;
use scraper::Html;

/// Text longer than this is prose, not a date line.
const DATE_LINE_MAX_CHARS: usize = 120;

/// The date the page shows, as `YYYY-MM-DD`, from the likeliest place first: the URL, a
/// `<time>`, the date line by the headline, a labelled date, an element named for dates.
/// `offset` as for [`super::published::stated`].
pub fn find(doc: &Html, url: Option<&url::Url>, offset: i32) -> Option<String> {
    url.and_then(|u| in_url(u.path()))
        .or_else(|| {
            doc.select(selector!("time")).find_map(|t| {
                t.attr("datetime")
                    .and_then(|d| super::published::day_at(d, offset))
                    .or_else(|| in_text(&t.text().collect::<String>()))
            })
        })
        .or_else(|| near_headline(doc))
        .or_else(|| {
            let text = visible_text(doc);
            labelled(&text)
                .or_else(|| named_elements(doc))
                .or_else(|| first_date(&text))
        })
}

/// The first date in a short element whose class or id names a date ("date", "posted",
/// "meta", "byline"…).
fn named_elements(doc: &Html) -> Option<String> {
    doc.select(selector!("[class], [id]")).find_map(|e| {
        let v = e.value();
        let names = format!("{} {}", v.attr("class").unwrap_or(""), v.id().unwrap_or(""))
            .to_ascii_lowercase();
        if ![
            "date",
            "time",
            "publish",
            "publica",
            "posted",
            "meta",
            "byline",
            "dateline",
            "info",
            "datum",
            "fecha",
            "submitted",
            "uploaded",
            "created",
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
}

/// A date in a URL path: `/2020/03/12/`, `/2020-03-12-`, `/20200312`.
pub fn in_url(path: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?:^|[/_-])((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)")
            .expect("static regex")
    });
    if let Some(c) = re.captures(path) {
        return ymd(&c[1], &c[2], &c[3]);
    }
    // The year last (`/meldungen/29-10-2021`): day first or month first, read only when the
    // numbers say which (one of them above 12).
    static LAST: OnceLock<Regex> = OnceLock::new();
    let re = LAST.get_or_init(|| {
        Regex::new(r"(?:^|[/_-])(\d{1,2})[._-](\d{1,2})[._-]((?:19|20)\d{2})(?:[/_.-]|$)")
            .expect("static regex")
    });
    let c = re.captures(path)?;
    let (a, b): (u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?);
    match (a > 12, b > 12) {
        (true, false) => ymd(&c[3], &c[2], &c[1]),
        (false, true) => ymd(&c[3], &c[1], &c[2]),
        _ => None,
    }
}

/// How much visible text after the headline's start is searched for the date line, and how
/// much before it (a kicker or date printed above the headline).
const AFTER_HEADLINE_CHARS: usize = 400;
const BEFORE_HEADLINE_CHARS: usize = 160;

/// Elements whose text no reader sees.
fn unseen(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "noscript" | "template" | "title" | "head" | "option" | "select"
    )
}

/// The date printed next to the headline: news and press pages put the date line right
/// under the `<h1>` ("10.11.2021", "Hamburg, 2. November 2021", "Datum: 26. Januar 2022") or
/// just above it. The first date in the visible text after the headline's start wins, else
/// one just before it.
pub fn near_headline(doc: &Html) -> Option<String> {
    let mut before = String::new();
    let mut after = String::new();
    let mut headline = false;
    for edge in doc.tree.root().traverse() {
        let ego_tree::iter::Edge::Open(n) = edge else {
            continue;
        };
        match n.value() {
            scraper::Node::Element(e) if e.name() == "h1" => headline = true,
            scraper::Node::Text(t) => {
                let parent = n
                    .parent()
                    .and_then(|p| p.value().as_element().map(|e| e.name()));
                if parent.is_some_and(unseen) || t.trim().is_empty() {
                    continue;
                }
                if headline {
                    after.push_str(t.trim());
                    after.push(' ');
                    if after.len() >= AFTER_HEADLINE_CHARS {
                        break;
                    }
                } else {
                    before.push_str(t.trim());
                    before.push(' ');
                    if before.len() > BEFORE_HEADLINE_CHARS * 4 {
                        // Keep the tail only: what stands right above the headline.
                        let cut = before.len() - BEFORE_HEADLINE_CHARS;
                        let cut = (cut..before.len())
                            .find(|i| before.is_char_boundary(*i))
                            .unwrap_or(before.len());
                        before.drain(..cut);
                    }
                }
            }
            _ => {}
        }
    }
    if !headline {
        return None;
    }
    let tail_start = (before.len().saturating_sub(BEFORE_HEADLINE_CHARS)..before.len())
        .find(|i| before.is_char_boundary(*i))
        .unwrap_or(before.len());
    first_date(&after).or_else(|| first_date(&before[tail_start..]))
}

/// The first date written in a short text, in any of the forms above.
pub fn in_text(text: &str) -> Option<String> {
    let text: String = text.chars().take(DATE_LINE_MAX_CHARS * 4).collect();
    first_date(&text)
}

/// The earliest date in `text`, in any of the forms above.
fn first_date(text: &str) -> Option<String> {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    static ISO: OnceLock<Regex> = OnceLock::new();
    static DOTTED: OnceLock<Regex> = OnceLock::new();
    static DAY_MONTH: OnceLock<Regex> = OnceLock::new();
    static MONTH_DAY: OnceLock<Regex> = OnceLock::new();
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
    if let Some(c) = iso.captures(text) {
        if let Some(d) = ymd(&c[1], &c[2], &c[3]) {
            found.push((c.get(0).map_or(0, |m| m.start()), d));
        }
    }
    if let Some(c) = dotted.captures(text) {
        if let Some(d) = ymd(&c[3], &c[2], &c[1]) {
            found.push((c.get(0).map_or(0, |m| m.start()), d));
        }
    }
    if let Some((at, d)) = dotted_short_year(text) {
        found.push((at, d));
    }
    for c in day_month.captures_iter(text) {
        if let Some(m) = month_number(&c[2]) {
            if let Some(d) = ymd(&c[3], &m.to_string(), &c[1]) {
                found.push((c.get(0).map_or(0, |m| m.start()), d));
                break;
            }
        }
    }
    for c in month_day.captures_iter(text) {
        if let Some(m) = month_number(&c[1]) {
            if let Some(d) = ymd(&c[3], &m.to_string(), &c[2]) {
                found.push((c.get(0).map_or(0, |m| m.start()), d));
                break;
            }
        }
    }
    found.into_iter().min_by_key(|(at, _)| *at).map(|(_, d)| d)
}

/// A day-first dotted date with a two-digit year ("31.10.23"), as German and Austrian sites
/// print under headlines; not part of a longer dotted number (a version, an IP address).
fn dotted_short_year(text: &str) -> Option<(usize, String)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?-u:\b)(\d{1,2})\.(\d{1,2})\.(\d{2})(?-u:\b)").expect("static regex")
    });
    re.captures_iter(text).find_map(|c| {
        let m = c.get(0)?;
        let rest = &text[m.end()..];
        let before = &text[..m.start()];
        if rest.starts_with(|c: char| c == '.' || c.is_ascii_digit())
            && rest[1..].starts_with(|c: char| c.is_ascii_digit())
            || before.ends_with('.')
        {
            return None;
        }
        let yy: i32 = c[3].parse().ok()?;
        ymd(&(2000 + yy).to_string(), &c[2], &c[1]).map(|d| (m.start(), d))
    })
}

/// A date after a label that says it is one ("Datum: 26. Januar 2022", "Erschienen am
/// 01.11.2023", "Mise en ligne 23 mai 2019", "Pressemitteilung vom 20.01.2022") anywhere in
/// the page's visible text: press releases and institutional pages print it in a fact box
/// away from the headline.
pub fn labelled(text: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)(?-u:\b)(?:datum|date|fecha|data|stand|ver(?:ö|oe)ffentlicht|erschienen|erstellt|aktualisiert|publi(?:é|e|shed|cado|cato)|pubblicato|posted|mise en ligne|mitteilung vom|meldung vom|gespeichert von \S+ am)(?-u:\b)\s*(?:am|on|le|el|il)?\s*:?\s*")
            .expect("static regex")
    });
    re.find_iter(text).find_map(|m| {
        let end = (m.end() + LABELLED_DATE_MAX_CHARS).min(text.len());
        let end = (end..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        let window = &text[m.end()..end];
        // The date must start the text after the label, not stand somewhere further on.
        let d = first_date(window)?;
        window
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c.is_alphabetic())
            .then_some(d)
    })
}

/// The text a reader sees on the page, white space collapsed.
fn visible_text(doc: &Html) -> String {
    let Some(body) = super::body::body_element(doc) else {
        return String::new();
    };
    let mut text = String::new();
    for n in body.descendants() {
        if let scraper::Node::Text(t) = n.value() {
            let parent = n
                .parent()
                .and_then(|p| p.value().as_element().map(|e| e.name()));
            if !parent.is_some_and(unseen) {
                for word in t.split_whitespace() {
                    text.push_str(word);
                    text.push(' ');
                }
            }
        }
    }
    text
}

/// How far after its label a labelled date may end ("Montag, 24. Januar 2022, 14:00").
const LABELLED_DATE_MAX_CHARS: usize = 36;

/// Month names and abbreviations in English, German, French, Spanish, Italian, Portuguese,
/// Dutch and Polish (genitive forms as dates use them).
fn month_number(word: &str) -> Option<u32> {
    const NAMES: &[&[&str]] = &[
        &[
            "января",
            "січня",
            "january",
            "jan",
            "januar",
            "jänner",
            "janvier",
            "enero",
            "ene",
            "gennaio",
            "janeiro",
            "januari",
            "stycznia",
        ],
        &[
            "февраля",
            "лютого",
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
            "марта",
            "березня",
            "march",
            "mar",
            "märz",
            "maerz",
            "mars",
            "marzo",
            "março",
            "marco",
            "maart",
            "marca",
        ],
        &[
            "апреля",
            "квітня",
            "april",
            "apr",
            "avril",
            "avr",
            "abril",
            "abr",
            "aprile",
            "kwietnia",
        ],
        &[
            "мая",
            "травня",
            "may",
            "mai",
            "mayo",
            "maggio",
            "maio",
            "mei",
            "maja",
        ],
        &[
            "июня",
            "червня",
            "june",
            "jun",
            "juni",
            "juin",
            "junio",
            "giugno",
            "junho",
            "czerwca",
        ],
        &[
            "июля",
            "липня",
            "july",
            "jul",
            "juli",
            "juillet",
            "juil",
            "julio",
            "luglio",
            "julho",
            "lipca",
        ],
        &[
            "августа",
            "серпня",
            "august",
            "aug",
            "août",
            "aout",
            "agosto",
            "ago",
            "augustus",
            "sierpnia",
        ],
        &[
            "сентября",
            "вересня",
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
            "октября",
            "жовтня",
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
            "ноября",
            "листопада",
            "november",
            "nov",
            "novembre",
            "noviembre",
            "novembro",
            "listopada",
        ],
        &[
            "декабря",
            "грудня",
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
        assert_eq!(
            in_url("/meldungen/29-10-2021").as_deref(),
            Some("2021-10-29")
        );
        assert_eq!(
            in_url("/news/10-29-2021-story").as_deref(),
            Some("2021-10-29")
        );
        // Either way round: not read.
        assert_eq!(in_url("/news/03-04-2021"), None);
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

    #[test]
    fn reads_the_date_line_by_the_headline() {
        let doc = Html::parse_document(
            "<html><body><div class='menu'>Events: 01.01.2030</div>\
             <h1>Grenzkontrollen</h1><p><em>10.11.2021</em></p><p>Bis Ende Oktober 2021 …</p>\
             </body></html>",
        );
        assert_eq!(near_headline(&doc).as_deref(), Some("2021-11-10"));
        let doc = Html::parse_document(
            "<html><body><p class='date'>15 августа 2016, 13:43</p><h1>Подольски</h1></body></html>",
        );
        assert_eq!(near_headline(&doc).as_deref(), Some("2016-08-15"));
    }

    #[test]
    fn reads_labelled_dates_and_two_digit_years() {
        assert_eq!(
            labelled("Pressemitteilung Nr. 4 Datum: 26. Januar 2022 Ausgabe").as_deref(),
            Some("2022-01-26")
        );
        assert_eq!(
            labelled("Mise en ligne 23 mai 2019 Durée 12 min").as_deref(),
            Some("2019-05-23")
        );
        assert_eq!(
            labelled("Datum der Veranstaltung steht noch nicht fest"),
            None
        );
        assert_eq!(in_text("Stand 31.10.23").as_deref(), Some("2023-10-31"));
        assert_eq!(in_text("Version 1.10.23.4"), None);
        assert_eq!(in_text("192.168.10.23"), None);
    }
}

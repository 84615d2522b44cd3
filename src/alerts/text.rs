//! Alerts as people read them: one line for logs, terminals and chat, a subject and a body for
//! email. Each says what changed, by how much, in whose words and where, so that the reader can
//! decide at a glance whether to open the article.

use super::{Alert, AnyAlert, SourceAlert, SourceAlertKind};
use crate::figures::Qualifier;

/// The longest quote a one-line alert carries; longer sentences are cut around the figure.
const QUOTE_CHARS: usize = 160;

/// `nk-troops · casualties 3,000 → 4,000 (as many as; Zelensky) · "…as many as 4,000 North
/// Korean troops…" · washingtonpost.com/… (version 2)`
pub fn line(alert: &AnyAlert) -> String {
    match alert {
        AnyAlert::Figure(a) => figure_line(a),
        AnyAlert::Source(s) => source_line(s),
    }
}

pub(super) fn figure_line(a: &Alert) -> String {
    format!(
        "{} · {} {}{}{} · \"{}\" · {} (version {})",
        a.topic,
        a.measure,
        change(a),
        notes(a),
        standing(a),
        excerpt(&a.quote, &a.new.to_string(), QUOTE_CHARS),
        short_link(a),
        a.version
    )
}

/// " · standing: 3,000 since 2022 (apnews.com), 25 million in 14th century (bbc.com)": the
/// values other reports keep for the measure under another scope or claimant.
fn standing(a: &Alert) -> String {
    if a.standing.is_empty() {
        return String::new();
    }
    let unit = super::unit_suffix(a.unit.as_deref());
    let values: Vec<String> = a
        .standing
        .iter()
        .map(|s| {
            let mut v = format!("{}{unit}", s.value);
            if !s.scope.is_empty() {
                v.push_str(&format!(" {}", s.scope));
            }
            let mut whose = vec![s.site.as_str()];
            whose.extend(s.claimant.as_deref());
            format!("{v} ({})", whose.join("; "))
        })
        .collect();
    format!(" · standing: {}", values.join(", "))
}

pub(super) fn source_line(s: &SourceAlert) -> String {
    let what = match s.kind {
        SourceAlertKind::SourceFailing => format!(
            "{} polls in a row failed; last error: {}",
            s.failures,
            s.error.as_deref().unwrap_or("-")
        ),
        SourceAlertKind::SourceRecovered => format!(
            "works again after {} failed polls{}",
            s.failures,
            s.since
                .as_deref()
                .map(|t| format!(" (failing since {t})"))
                .unwrap_or_default()
        ),
    };
    format!("{} · {} · {what}", s.kind.as_str(), s.source)
}

/// " (as many as; Zelensky)": the qualifier in words, who says so, and whether it is only a
/// possibility; empty for a plain, unattributed figure.
pub(crate) fn notes(a: &Alert) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if a.old.is_none() {
        parts.push("new");
    }
    if !a.scope.is_empty() {
        parts.push(&a.scope);
    }
    if let Some(q) = qualifier_words(a.qualifier) {
        parts.push(q);
    }
    if let Some(c) = a.claimant.as_deref() {
        parts.push(c);
    }
    if a.speculative {
        parts.push("possible");
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// "3,000 → 4,000", or the value alone for a first report (the notes say "new").
pub(crate) fn change(a: &Alert) -> String {
    match a.old {
        Some(_) => a.change(),
        None => {
            let unit = super::unit_suffix(a.unit.as_deref());
            format!("{}{unit}", a.new)
        }
    }
}

/// The qualifier as a reporter would write it; none for an exact figure.
pub fn qualifier_words(q: Qualifier) -> Option<&'static str> {
    match q {
        Qualifier::Exact => None,
        Qualifier::Approx => Some("about"),
        Qualifier::AtLeast => Some("at least"),
        Qualifier::MoreThan => Some("more than"),
        Qualifier::AtMost => Some("as many as"),
        Qualifier::LessThan => Some("fewer than"),
        // The value says it already: "3,000–4,000", "thousands".
        Qualifier::Range | Qualifier::Vague => None,
    }
}

/// `washingtonpost.com/…`: the site, and a sign that the full link is in the alert.
fn short_link(a: &Alert) -> String {
    let has_path = url::Url::parse(&a.url).is_ok_and(|u| u.path().len() > 1 || u.query().is_some());
    if has_path {
        format!("{}/…", a.site)
    } else {
        a.site.clone()
    }
}

/// At most `max` characters of `quote`, cut around the first place `figure` appears (or from
/// the start), with an ellipsis where text was left out.
pub fn excerpt(quote: &str, figure: &str, max: usize) -> String {
    let quote = quote.trim();
    let chars: Vec<char> = quote.chars().collect();
    if chars.len() <= max {
        return quote.to_string();
    }
    let at_byte = quote.find(figure).unwrap_or(0);
    let at = quote[..at_byte].chars().count();
    let start = at.saturating_sub(max / 3).min(chars.len() - max);
    let end = start + max;
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(chars[start..end].iter());
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// An email subject for a batch of alerts (one, or a digest).
pub fn subject(alerts: &[AnyAlert]) -> String {
    match alerts {
        [AnyAlert::Figure(a)] => {
            format!(
                "figwatch: {} · {} {}{}",
                a.topic,
                a.measure,
                change(a),
                notes(a)
            )
        }
        [AnyAlert::Source(s)] => format!("figwatch: {} · {}", s.kind.as_str(), s.site),
        many => {
            let mut topics: Vec<&str> = many
                .iter()
                .filter_map(|a| a.figure().map(|f| f.topic.as_str()))
                .collect();
            topics.sort_unstable();
            topics.dedup();
            let about = if topics.is_empty() {
                "sources".to_string()
            } else {
                topics.join(", ")
            };
            format!("figwatch: {} alerts ({about})", many.len())
        }
    }
}

/// A plain-text body: per alert the change, the whole quote, the article and its link.
pub fn body(alerts: &[AnyAlert]) -> String {
    let mut out = String::new();
    for (i, alert) in alerts.iter().enumerate() {
        if i > 0 {
            out.push_str("\n----\n\n");
        }
        match alert {
            AnyAlert::Figure(a) => {
                out.push_str(&format!(
                    "{}: {} {}{}\n",
                    a.topic,
                    a.measure,
                    change(a),
                    notes(a)
                ));
                if let (Some(old_site), Some(old)) = (&a.old_site, &a.old) {
                    out.push_str(&format!("Before: {old} as reported by {old_site}\n"));
                }
                out.push_str(&format!("\n  \"{}\"\n\n", a.quote.trim()));
                if let Some(title) = &a.title {
                    out.push_str(&format!("{title}\n"));
                }
                out.push_str(&format!("{} (version {})\n", a.url, a.version));
            }
            AnyAlert::Source(s) => {
                out.push_str(&source_line(s));
                out.push('\n');
            }
        }
        out.push_str(&format!("alert id {} · {}\n", alert.id(), alert.ts()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKind;
    use crate::figures::FigureValue;

    fn alert(quote: &str) -> Alert {
        Alert {
            id: "abc".into(),
            ts: "2026-11-27T10:00:00.000Z".into(),
            kind: AlertKind::FigureChanged,
            topic: "nk-troops".into(),
            measure: "casualties".into(),
            value: Some(4000.0),
            qualifier: Qualifier::AtMost,
            unit: None,
            old: Some(FigureValue::Number(3000.0)),
            old_site: None,
            scope: String::new(),
            standing: Vec::new(),
            new: FigureValue::Number(4000.0),
            quote: quote.into(),
            claimant: Some("Zelensky".into()),
            speculative: false,
            url: "https://www.washingtonpost.com/world/2024/12/17/north-korea-troops/".into(),
            title: Some("North Korean troops".into()),
            site: "washingtonpost.com".into(),
            version: 2,
        }
    }

    #[test]
    fn a_figure_alert_reads_at_a_glance() {
        let a =
            alert("Zelensky said as many as 4,000 North Korean troops had been killed or wounded.");
        assert_eq!(
            line(&AnyAlert::Figure(a)),
            "nk-troops · casualties 3,000 → 4,000 (as many as; Zelensky) · \"Zelensky said as many as 4,000 North Korean troops had been killed or wounded.\" · washingtonpost.com/… (version 2)"
        );
    }

    #[test]
    fn a_long_quote_is_cut_around_the_figure() {
        let long = format!(
            "{} as many as 4,000 North Korean troops had been killed or wounded {}",
            "In a long address to the nation on Tuesday evening, after weeks of fighting in the Kursk region, the president said that".repeat(2),
            "and that the losses would be reported to the United Nations in the coming days.".repeat(2)
        );
        let cut = excerpt(&long, "4,000", 160);
        assert_eq!(cut.chars().count(), 162, "160 and two ellipses: {cut}");
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(
            cut.contains("as many as 4,000 North Korean troops"),
            "{cut}"
        );
    }

    #[test]
    fn an_email_names_the_change_the_quote_and_the_link() {
        let a = AnyAlert::Figure(alert("As many as 4,000 were killed or wounded."));
        assert_eq!(
            subject(std::slice::from_ref(&a)),
            "figwatch: nk-troops · casualties 3,000 → 4,000 (as many as; Zelensky)"
        );
        let body = body(&[a]);
        assert!(
            body.contains("\"As many as 4,000 were killed or wounded.\""),
            "{body}"
        );
        assert!(
            body.contains(
                "https://www.washingtonpost.com/world/2024/12/17/north-korea-troops/ (version 2)"
            ),
            "{body}"
        );
        assert!(body.contains("alert id abc"), "{body}");
    }
}

//! News-specific clean-up of extracted paragraphs: what extractors keep but a reader would
//! not call the article. Teasers for other stories ("Read more: …", "Lea también: …") and
//! calls to action (subscribe, follow us, download the app, comment rules) change from one
//! fetch to the next, so left in they would become false revisions and false figures.

use std::sync::OnceLock;

use regex::Regex;

use super::chrome_lines::{is_bio, is_furniture};
use super::explain::Dropped;
use crate::calendar::{MONTHS, WEEKDAYS};

/// The longest paragraph, in words, that is still judged as a call to action; longer ones are
/// prose that happens to mention subscribing.
const CALL_TO_ACTION_MAX_WORDS: usize = 45;

/// Paragraphs shorter than this may repeat legitimately ("—", "Advertisement" is handled
/// elsewhere); longer ones that repeat are a teaser or lede printed twice.
const REPEAT_MIN_CHARS: usize = 40;

/// Drops teaser, call-to-action and timestamp paragraphs, the title where it stands inside the
/// body, and paragraphs that repeat an earlier one word for word.
#[cfg(test)]
pub fn clean(text: &str, title: Option<&str>) -> String {
    clean_traced(text, title, None)
}

/// [`clean`], recording each line it drops and the rule that dropped it in `dropped`.
pub fn clean_traced(
    text: &str,
    title: Option<&str>,
    mut dropped: Option<&mut Vec<Dropped>>,
) -> String {
    let title = title.map(|t| t.trim().to_lowercase());
    let is_title = |p: &str| {
        title
            .as_deref()
            .is_some_and(|t| p.trim().chars().flat_map(char::to_lowercase).eq(t.chars()))
    };
    let mut seen = std::collections::HashSet::new();
    let mut record = |p: &str, why: &str| {
        if let Some(d) = dropped.as_deref_mut() {
            d.push(Dropped {
                what: "line".into(),
                why: why.into(),
                text: super::explain::preview(p),
            });
        }
    };
    let mut lines = Vec::new();
    for p in text.lines() {
        let why = if is_teaser(p) {
            Some("a teaser for another story")
        } else if is_call_to_action(p) {
            Some("a call to action (subscribe, follow, download…)")
        } else if is_timestamp(p) {
            Some("a time stamp")
        } else if is_label(p) {
            Some("a taxonomy label (tags, category…)")
        } else if is_title(p) {
            Some("the title again")
        } else if is_furniture(p) {
            Some("page furniture (a credit, an embed's chrome, a count, a share prompt, a contact label)")
        } else if p.len() >= REPEAT_MIN_CHARS && !seen.insert(p) {
            Some("a repeat of an earlier paragraph")
        } else {
            None
        };
        match why {
            Some(why) => record(p, why),
            None => lines.push(p),
        }
    }
    let n = lines.len();
    let mut kept = Vec::with_capacity(n);
    for (i, p) in lines.into_iter().enumerate() {
        if is_bio(p, n - 1 - i) {
            record(p, "the author's bio, at the end");
        } else {
            kept.push(p);
        }
    }
    kept.join("\n")
}

/// Taxonomy and link-list labels: "Tags: …", "Kategorie: News", "Related:" — short lines
/// that name the page's filing, not the story.
fn is_label(p: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    if p.split_whitespace().count() > 6 {
        return false;
    }
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^\W{0,3}(tags?|categor(y|ies)|kategorie(n)?|schlagw(ö|oe)rter|themen|temas|topics?|filed under|posted in|ver(ö|oe)ffentlicht in|rubrik|zum weiterlesen|weiterlesen|mehr dazu|quellen(angaben)?|sources?|etiquetas|catégories?|mots-clés)\s*:?\s*($|:)|^\W{0,3}(tags?|categor(y|ies)|kategorie(n)?|schlagw(ö|oe)rter|themen|temas|topics?|filed under|posted in|rubrik|etiquetas|catégories?|mots-clés)\s*:",
        )
        .expect("static regex")
    })
    .is_match(p)
}

/// A line made only of date and time words: "Updated 5 minutes ago", "Published 10:32 GMT",
/// "Jan. 5, 2025 | 3:14 PM". Live pages change these on every fetch.
fn is_timestamp(p: &str) -> bool {
    const TIME_WORDS: &[&str] = &[
        "updated",
        "update",
        "published",
        "posted",
        "last",
        "modified",
        "on",
        "at",
        "ago",
        "just",
        "now",
        "yesterday",
        "today",
        "second",
        "seconds",
        "sec",
        "secs",
        "minute",
        "minutes",
        "min",
        "mins",
        "hour",
        "hours",
        "hr",
        "hrs",
        "day",
        "days",
        "am",
        "pm",
        "a.m",
        "p.m",
        "gmt",
        "utc",
        "bst",
        "est",
        "edt",
        "cst",
        "cdt",
        "pst",
        "pdt",
        "cet",
        "cest",
        "et",
        // The same words in the languages news templates ship in most.
        "uhr",
        "um",
        "stand",
        "aktualisiert",
        "veröffentlicht",
        "publicado",
        "actualizado",
        "publié",
        "modifié",
        "mis",
        "jour",
        "le",
        "à",
        "el",
        "las",
        "a",
        "de",
        "del",
        "publikacja",
        "aktualizacja",
        "pubblicato",
        "aggiornato",
        "alle",
        "ore",
    ];
    // Most paragraphs are prose, far longer than any time stamp: no need to read their words.
    if p.len() > TIMESTAMP_MAX_CHARS {
        return false;
    }
    let words: Vec<String> = p
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | '·' | '•' | '/' | '(' | ')'))
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, '.' | ':' | '-' | '–' | '—'))
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > 12 {
        return false;
    }
    let is_time = |w: &str| {
        w.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | '-'))
    };
    let timely = words
        .iter()
        .any(|w| is_time(w) || matches!(w.as_str(), "ago" | "now" | "yesterday" | "today"));
    timely
        && words.iter().all(|w| {
            is_time(w)
                || TIME_WORDS.contains(&w.as_str())
                || MONTHS.contains(&w.as_str())
                || WEEKDAYS.contains(&w.as_str())
        })
}

/// No time stamp line is longer than this, in bytes.
const TIMESTAMP_MAX_CHARS: usize = 160;

/// "Read more: …", "See also: …", and their equivalents in the languages news is written in,
/// followed by a separator.
fn is_teaser(p: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^\W{0,3}(read (more|also|next)|also read|see also|related( articles?| stories| coverage| content| news)?|recommended( reading)?|more on this( story)?|more from|watch|listen|trending|lea (también|más|además)|lee (también|más)|lea|le puede interesar|te puede interesar|vea (también|además)|ver también|mira( también)?|contenido relacionado|noticias relacionadas|lesen sie (auch|mehr)|auch interessant|mehr zum thema|das könnte sie auch interessieren|lire (aussi|également)|à lire aussi|voir aussi|leia (também|mais)|veja também|leggi anche|czytaj (też|także|również|więcej)|przeczytaj (też|także|również)|zobacz (też|także|również)|lees (ook|meer)|läs (även|också|mer)|les også|læs også|lue myös|citește și|pročitajte (još|i))\s*[:：|»>–—-]",
        )
        .expect("static regex")
    })
    .is_match(p)
}

/// Short paragraphs that ask the reader to do something other than read the story.
fn is_call_to_action(p: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    if p.split_whitespace().count() > CALL_TO_ACTION_MAX_WORDS {
        return false;
    }
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)((?-u:\b)subscribe(?-u:\b)|(?-u:\b)subscribers?(?-u:\b)|(?-u:\b)newsletter(?-u:\b)|(?-u:\b)sign up(?-u:\b)|(?-u:\b)log ?in(?-u:\b)|(?-u:\b)follow (us|the \w+ on)(?-u:\b)|(?-u:\b)download (the|our)(?-u:\b)|(?-u:\b)our app(?-u:\b)|comments? (are|is) moderated|email addresses will not be published|(?-u:\b)copyrighted(?-u:\b)|written permission|all rights reserved|(?-u:\b)full story(?-u:\b)|(?-u:\b)join our(?-u:\b)|canal de (telegram|whatsapp|youtube)|(?-u:\b)suscr[ií]be|(?-u:\b)suscripci[oó]n(?-u:\b)|hazte miembro|(?-u:\b)abonnez(?-u:\b)|(?-u:\b)abonnieren(?-u:\b)|jetzt (abonnieren|anmelden)|s[ií]guenos|folgen sie uns|suivez-nous|seguici|obserwuj nas|subskrypcj|prenumerat|(submit|send) (a|your) letter|letters? to the editor|want to hear from you)",
        )
        .expect("static regex")
    })
    .is_match(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_teasers_and_calls_to_action() {
        let text = "The council met on Monday.\nRead more: Another story entirely\nLea también: Otra noticia\nCzytaj też: Inny artykuł\nSubscribe now to our edition for the full story.\nSíguenos en Telegram y Twitter\nWe want to hear from you: send us your questions.\nIt voted 7 to 2.";
        assert_eq!(
            clean(text, None),
            "The council met on Monday.\nIt voted 7 to 2."
        );
    }

    #[test]
    fn drops_labels() {
        for label in [
            "Tags: war, Ukraine",
            "Kategorie: News",
            "Category : Press Releases",
            "Zum Weiterlesen:",
            "Quellenangaben:",
        ] {
            assert_eq!(
                clean(&format!("The story.\n{label}"), None),
                "The story.",
                "{label}"
            );
        }
        assert_eq!(
            clean("Sources said 40 died.", None),
            "Sources said 40 died."
        );
    }

    #[test]
    fn drops_timestamps() {
        for stamp in [
            "Updated 5 minutes ago",
            "Published 10:32 GMT",
            "Jan. 5, 2025 | 3:14 PM",
            "Last updated: Tuesday 14 January 2025 09:00",
        ] {
            assert_eq!(
                clean(&format!("{stamp}\nThe story."), None),
                "The story.",
                "{stamp}"
            );
        }
        // A short sentence with a number is not a timestamp.
        assert_eq!(
            clean("At 9, 40 were killed.", None),
            "At 9, 40 were killed."
        );
    }

    #[test]
    fn keeps_prose_that_mentions_the_words() {
        let long = "The company said its subscribers rose by 4,000 in the quarter, a gain it credited to a newsletter that readers shared widely, and to a price cut that it introduced in March after a long internal debate about whether the market could bear the higher price it had charged since the product launched two years earlier.";
        assert_eq!(clean(long, None), long);
        assert_eq!(
            clean("Readers watched the vote.", None),
            "Readers watched the vote."
        );
    }

    #[test]
    fn drops_repeats_and_the_title_inside_the_body() {
        let lede = "Protesters covered in fake blood lay down outside the stock exchange.";
        let text = format!("{lede}\nBohren, bis es heiß wird\n{lede}\nThe second paragraph.\n—\n—");
        assert_eq!(
            clean(&text, Some("Bohren, bis es heiß wird")),
            format!("{lede}\nThe second paragraph.\n—\n—")
        );
    }
}

//! News-specific clean-up of extracted paragraphs: what extractors keep but a reader would
//! not call the article. Teasers for other stories ("Read more: …", "Lea también: …") and
//! calls to action (subscribe, follow us, download the app, comment rules) change from one
//! fetch to the next, so left in they would become false revisions and false figures.

use std::sync::OnceLock;

use regex::Regex;

/// The longest paragraph, in words, that is still judged as a call to action; longer ones are
/// prose that happens to mention subscribing.
const CALL_TO_ACTION_MAX_WORDS: usize = 45;

/// Drops teaser and call-to-action paragraphs.
pub fn clean(text: &str) -> String {
    text.lines()
        .filter(|p| !is_teaser(p) && !is_call_to_action(p))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "Read more: …", "See also: …", and their equivalents in the languages news is written in,
/// followed by a separator.
fn is_teaser(p: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^\W{0,3}(read (more|also|next)|also read|see also|related( articles?| stories| coverage| content| news)?|recommended( reading)?|more on this( story)?|more from|watch|listen|trending|lea (también|más|además)|lee (también|más)|lea|le puede interesar|te puede interesar|vea (también|además)|ver también|mira( también)?|contenido relacionado|noticias relacionadas|lesen sie (auch|mehr)|auch interessant|mehr zum thema|das könnte sie auch interessieren|lire (aussi|également)|à lire aussi|voir aussi|leia (também|mais)|veja também|leggi anche)\s*[:：|»>–—-]",
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
            r"(?i)(\bsubscribe\b|\bsubscribers?\b|\bnewsletter\b|\bsign up\b|\blog ?in\b|\bfollow (us|the \w+ on)\b|\bdownload (the|our)\b|\bour app\b|comments? (are|is) moderated|email addresses will not be published|\bcopyrighted\b|written permission|all rights reserved|\bfull story\b|\bjoin our\b|canal de (telegram|whatsapp|youtube)|\bsuscr[ií]be|\bsuscripci[oó]n\b|hazte miembro|\babonnez\b|\babonnieren\b|jetzt (abonnieren|anmelden))",
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
        let text = "The council met on Monday.\nRead more: Another story entirely\nLea también: Otra noticia\nSubscribe now to our edition for the full story.\nIt voted 7 to 2.";
        assert_eq!(clean(text), "The council met on Monday.\nIt voted 7 to 2.");
    }

    #[test]
    fn keeps_prose_that_mentions_the_words() {
        let long = "The company said its subscribers rose by 4,000 in the quarter, a gain it credited to a newsletter that readers shared widely, and to a price cut that it introduced in March after a long internal debate about whether the market could bear the higher price it had charged since the product launched two years earlier.";
        assert_eq!(clean(long), long);
        assert_eq!(
            clean("Readers watched the vote."),
            "Readers watched the vote."
        );
    }
}

//! Lines that are the page's furniture even when they sit inside the article's container:
//! photo credits and caption labels, the chrome of embedded social posts, comment counts and
//! share prompts, contact labels, and the author's bio at the end. Each kind is written the
//! same way on every news site, in every language a template ships in, which is why they are
//! judged by their form rather than by where a site puts them. All of them change without
//! the story changing, and many carry a number ("12 comments") that is no figure.

use std::sync::OnceLock;

use regex::{Regex, RegexSet};

/// No furniture line is longer than this, in words: longer lines are prose that happens to
/// mention a photo, a comment or sharing.
const FURNITURE_MAX_WORDS: usize = 16;

/// An author's bio is a sentence or two.
const BIO_MAX_WORDS: usize = 60;

/// How many lines from the end an author's bio may stand.
const BIO_TAIL_LINES: usize = 2;

/// True for a line of page furniture, wherever it stands in the text.
pub fn is_furniture(line: &str) -> bool {
    let words = line.split_whitespace().count();
    if words == 0 || words > FURNITURE_MAX_WORDS {
        return false;
    }
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        RegexSet::new([
            // A credit or caption label, alone or before a name: "Photo: Jane Roe/AP",
            // "Foto: dpa", "Credit:", "Titelbild:", "Image illustrative".
            r"(?i)^\W{0,3}(photos?|photograph(y|s)?|pictures?|images?|illustrations?|graphics?|credits?|cr[ée]dits?( photo)?|fotos?|fotograf[ií]as?|bilder?|abbildung|titelbild|beitragsbild|bildquelle|quelle bild|grafik|imagen|imágenes|foto di|légende)\s*(by|von|de|par|di)?\s*[:©|]|^\W{0,3}(credit|cr[ée]dit|titelbild|beitragsbild|bildquelle|image illustrative|photo d'illustration|imagen ilustrativa|symbolbild|archivbild|archive photo|file photo)\W*$",
            // A credit that ends in an agency or picture library: "Augusta National/Getty
            // Images", "(Foto: picture alliance / dpa)", "John Smith | Reuters".
            r"(?i)[/|©]\s*(getty( images)?|ap( photo)?|afp|reuters|dpa|epa(-efe)?|efe|shutterstock|istock(photo)?|imago( images)?|picture[- ]alliance|keystone|anadolu|xinhua|sipa|alamy|unsplash|pixabay|adobe ?stock)\W*$",
            // An embedded post's chrome: "View this post on Instagram", "A post shared by…",
            // "pic.twitter.com/…". A tweet's signature ("— Jane Roe (@jroe) May 5, 2025") is
            // kept: it says who posted what the article quotes, and when.
            r"(?i)^\W{0,3}(view this post on instagram|a post shared by|ver esta publicaci[oó]n en instagram|una publicaci[oó]n compartida por|diesen beitrag auf instagram ansehen|ein beitrag geteilt von|voir cette publication sur instagram|une publication partagée par)|^pic\.twitter\.com/\S+$",
            // A count of comments or shares: "12 comments", "Kommentare (3)", "0 Shares".
            r"(?i)^\W{0,3}(\d[\d.,]*\s*(comments?|kommentare?|comentarios?|commentaires?|commenti|replies|reactions?|shares?|likes?)|(comments?|kommentare?|comentarios?|commentaires?)\s*[(\[]?\s*\d+\s*[)\]]?)\W*$",
            // A share prompt: "Share this article", "Artikel teilen", "Möchten Sie den Artikel
            // teilen?", "Compartir en Facebook".
            r"(?i)^\W{0,3}(share|teilen|compartir|compartilhar|partager|condividi)(\s+(this|the|on|via|it|article|story|post|page|artikel|beitrag|seite|auf|en|esta|este|nota|noticia|sur|cet|cette|l'article|su))*\W*$|^\W{0,3}(artikel|beitrag|seite)\s+teilen\W*$|(den|diesen) (artikel|beitrag) teilen\s*[?!]|(gefallen|enjoyed (this|it))\s*\?|(?-u:\b)share (this|it) with",
            // An audio or video player's label: "Listen to this article", "Escucha esta nota
            // aquí", "Video verfügbar bis 28.02.2021".
            r"(?i)^\W{0,3}(listen to (this|the) (article|story)|escucha (esta|la) (nota|noticia)|artikel (anhören|vorlesen)|(é|e)couter (cet|l') ?article|ascolta (l'articolo|questo articolo)|ouça (esta|a) (notícia|matéria)|(video|audio) (verfügbar|available) (bis|until))",
            // A like button's placeholder, as WordPress writes it in every language: "Like
            // Loading…", "Gefällt mir Wird geladen …", "Me gusta Cargando…".
            r"(?i)^\W{0,3}((like|gefällt mir|j'aime|me gusta|mi piace|curtir|lubię to!?)\s+)?(loading|wird geladen|chargement|cargando|caricamento|carregando|ładowanie)\W*$",
            // A contact block's labels, alone on their line: "Kontakt:", "Media contact".
            r"(?i)^\W{0,3}(kontakt|contact|contacto|pressekontakt|press contacts?|media contacts?|medienkontakt|ansprechpartner(in)?|telefon|tel\.?|phone|fax|e-?mail|mail|adresse|address)\s*:?\s*$",
        ])
        .expect("static regex")
    })
    .is_match(line)
}

/// True for an author's bio: "Jane Roe is a reporter for The Daily.", "Max Muster ist
/// Redakteur bei …", "You can keep up with me on Twitter". Only among the last lines of the
/// text, where templates put it; a profile's subject described mid-story is the story.
pub fn is_bio(line: &str, lines_after: usize) -> bool {
    if lines_after >= BIO_TAIL_LINES || line.split_whitespace().count() > BIO_MAX_WORDS {
        return false;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)^\W{0,3}
            ( (\p{Lu}[\p{L}'.-]+\s){1,3}
              (?i: (is|was)\s(a|an|the)\s([\p{L}-]+\s){0,4}
                (reporter|correspondent|writer|editor|journalist|columnist|contributor|author|producer|analyst|fellow|founder|consultant|photographer|critic|intern)
              | ist\s(freie[r]?\s|stellvertretende[r]?\s|leitende[r]?\s)?(journalist|redakteur|autor|korrespondent|reporter|ressortleiter|volont[äa]r)
              | es\s(periodista|redactor|redactora|corresponsal|editor|editora|columnista)
              | est\s(journaliste|rédact(eur|rice)|correspondant)
              )
            | (?i:(you\scan\s)?(keep\sup|follow)\swith\s(me|us|him|her)\son)
            )",
        )
        .expect("static regex")
    })
    .is_match(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furniture_in_the_languages_templates_ship_in() {
        for line in [
            "Photo: Jane Roe/AP",
            "Foto: dpa",
            "Credit:",
            "Titelbild:",
            "Image illustrative",
            "Augusta National/Getty Images",
            "(Foto: picture alliance / dpa)",
            "View this post on Instagram",
            "A post shared by Jane Roe (@jroe)",
            "12 comments",
            "Kommentare (3)",
            "Share this article",
            "Artikel teilen",
            "Möchten Sie den Artikel teilen?",
            "Artikel gefallen?",
            "Kontakt:",
            "Media contact",
            "Listen to this article",
            "Gefällt mir Wird geladen …",
            "Like Loading...",
            "ESCUCHA ESTA NOTA AQUÍ",
            "Video verfügbar bis 28.02.2021",
        ] {
            assert!(is_furniture(line), "{line}");
        }
    }

    #[test]
    fn prose_that_mentions_photos_comments_or_sharing_is_kept() {
        for line in [
            "The photo, taken by a soldier, shows 40 people in the square.",
            "Reuters reported that 3,000 troops had crossed the border.",
            "He declined to comment.",
            "Share prices fell 4% on Monday.",
            "The company will share its results in May.",
            "12 people were killed.",
            "Contact with the crew was lost at 9:40.",
            "Images from the scene showed 30 ambulances.",
            "— Jane Roe (@jroe) May 5, 2025",
        ] {
            assert!(!is_furniture(line), "{line}");
        }
    }

    #[test]
    fn a_bio_only_at_the_end() {
        let bio = "Jane Roe is a staff reporter for The Daily Planet.";
        assert!(is_bio(bio, 0));
        assert!(!is_bio(bio, 5));
        assert!(is_bio("Max Muster ist Redakteur im Ressort Politik.", 1));
        assert!(is_bio("You can keep up with me on Twitter", 0));
        assert!(!is_bio(
            "Smith is a former soldier who lost 3 friends in the war.",
            0
        ));
    }
}

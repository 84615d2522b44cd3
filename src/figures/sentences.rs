//! Sentence splitting that survives "Mr.", "U.S.", "Jan. 5", "No. 3" and quotes.

/// Words after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "lt", "col", "maj", "capt", "cpl",
    "sgt", "adm", "gov", "sen", "rep", "rev", "pres", "no", "nos", "vs", "etc", "approx", "est",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon",
    "tue", "wed", "thu", "fri", "sat", "sun", "inc", "ltd", "co", "corp", "dept", "univ", "fig",
    "vol", "ft", "mt", "e.g", "i.e", "a.m", "p.m", "u.s", "u.k", "u.n", "e.u",
];

/// Splits text into sentences. Paragraph breaks (newlines) always end a sentence. A `.`, `!`
/// or `?` (with any closing quotes or brackets after it) ends one when white space and then
/// an upper-case letter, digit or opening quote follow, unless the word before it is a known
/// abbreviation or a single letter (an initial, or part of "U.S.").
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for paragraph in text.split('\n') {
        let mut start = 0;
        let bytes = paragraph.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if matches!(c, b'.' | b'!' | b'?') {
                // Closing quotes and brackets belong to the sentence they close.
                let mut end = i + 1;
                while end < bytes.len() {
                    let rest = &paragraph[end..];
                    let ch = rest.chars().next().unwrap_or(' ');
                    if matches!(ch, '"' | '\'' | ')' | ']' | '”' | '’' | '»') {
                        end += ch.len_utf8();
                    } else {
                        break;
                    }
                }
                if ends_sentence(paragraph, i, end) {
                    push_trimmed(&mut out, &paragraph[start..end]);
                    start = end;
                }
                i = end;
            } else {
                i += 1;
            }
        }
        push_trimmed(&mut out, &paragraph[start..]);
    }
    out
}

fn push_trimmed<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    let t = s.trim();
    if !t.is_empty() {
        out.push(t);
    }
}

fn ends_sentence(p: &str, mark: usize, end: usize) -> bool {
    let after = &p[end..];
    let trimmed = after.trim_start();
    if trimmed.len() == after.len() && !after.is_empty() {
        return false; // "3.5", "U.S.-led", "example.org"
    }
    let Some(next) = trimmed.chars().next() else {
        return true;
    };
    if !(next.is_uppercase()
        || next.is_ascii_digit()
        || matches!(next, '"' | '“' | '\'' | '‘' | '(' | '['))
    {
        return false;
    }
    if p.as_bytes()[mark] != b'.' {
        return true;
    }
    let word = p[..mark]
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    // "J." in "J. Smith", or the last part of "U.S." when it stands inside a sentence: a
    // single letter before the stop. An "U.S." that really ends a sentence followed by a
    // capitalised word is rarer than one followed by a name, so we keep the sentence whole.
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    let initial = letters.len() == 1 && letters[0].is_uppercase();
    let dotted = word.contains('.') && (1..=3).contains(&letters.len());
    !(initial || dotted)
}

#[cfg(test)]
mod tests {
    use super::split_sentences;

    #[test]
    fn splits_plain_sentences_and_paragraphs() {
        let s = split_sentences("One thing happened. Then another! Did it?\nA new paragraph");
        assert_eq!(
            s,
            vec![
                "One thing happened.",
                "Then another!",
                "Did it?",
                "A new paragraph"
            ]
        );
    }

    #[test]
    fn keeps_abbreviations_inside_sentences() {
        let text =
            "Mr. Zelensky met U.S. officials on Jan. 5 in Kyiv. Gen. Syrskyi said 3,000 were hurt.";
        assert_eq!(
            split_sentences(text),
            vec![
                "Mr. Zelensky met U.S. officials on Jan. 5 in Kyiv.",
                "Gen. Syrskyi said 3,000 were hurt."
            ]
        );
    }

    #[test]
    fn quotes_stay_with_their_sentence() {
        let text = "\"We lost 40 men.\" The commander said so. He added: \"More came.\"";
        assert_eq!(
            split_sentences(text),
            vec![
                "\"We lost 40 men.\"",
                "The commander said so.",
                "He added: \"More came.\""
            ]
        );
    }

    #[test]
    fn a_number_can_end_a_sentence() {
        assert_eq!(
            split_sentences("The rate was 3.5. Then it rose to 4,000. After that."),
            vec!["The rate was 3.5.", "Then it rose to 4,000.", "After that."]
        );
    }

    #[test]
    fn decimals_and_domains_do_not_split() {
        assert_eq!(
            split_sentences("About 1.5 million fled, per unhcr.org data."),
            vec!["About 1.5 million fled, per unhcr.org data."]
        );
    }
}

use super::*;

fn page(title: &str, paragraphs: &[&str], aside: &str) -> String {
    crate::demo::article_page(title, paragraphs).replace("Another story", aside)
}

const PARAGRAPHS: &[&str] = &[
    "Ukraine's military intelligence agency said on Monday that about 3,000 North Korean troops had been killed or wounded since they joined the fighting in the Kursk region.",
    "South Korea's spy agency estimated in December that about 11,000 North Korean soldiers had been deployed to Russia, most of them from special forces units.",
    "The figures could not be independently verified. Pyongyang has not commented on its losses, and Moscow has not confirmed their presence in the region.",
];

#[test]
fn keeps_paragraphs_and_drops_headline_and_boilerplate() {
    let a = extract_html(
        &page("Heavy losses in Kursk", PARAGRAPHS, "Most read story"),
        None,
    )
    .unwrap();
    assert_eq!(a.text, PARAGRAPHS.join("\n"));
    assert_eq!(
        a.title
            .as_deref()
            .map(|t| t.starts_with("Heavy losses in Kursk")),
        Some(true)
    );
    assert_eq!(a.lang.as_deref(), Some("en"));
}

#[test]
fn different_sidebar_same_text() {
    let a = extract_html(&page("Heavy losses", PARAGRAPHS, "A sidebar link"), None).unwrap();
    let b = extract_html(
        &page("Heavy losses", PARAGRAPHS, "Another sidebar link entirely"),
        None,
    )
    .unwrap();
    assert_eq!(a.content_hash(), b.content_hash());
}

#[test]
fn short_pages_still_yield_their_text() {
    let html = "<html><body><p>Only one short line about 40 soldiers.</p></body></html>";
    assert_eq!(
        extract_html(html, None).unwrap().text,
        "Only one short line about 40 soldiers."
    );
    assert!(matches!(
        extract_html("<html><body></body></html>", None),
        Err(ExtractError::Empty)
    ));
}

#[test]
fn ruby_annotations_are_not_text() {
    let sentence = "<ruby>子<rp>(</rp><rt>こ</rt><rp>)</rp></ruby>どもへの\
                    <ruby>虐待<rt>ぎゃくたい</rt></ruby>をなくすための法律ができました。";
    let html = format!("<html><body><p>{}</p></body></html>", sentence.repeat(4));
    assert_eq!(
        extract_html(&html, None).unwrap().text,
        "子どもへの虐待をなくすための法律ができました。".repeat(4)
    );
}

#[test]
fn a_page_without_text_is_read_from_its_description() {
    let html = "<html><head><meta property=\"og:description\" content=\"New York is the \
                epicentre of the pandemic in the US; sport has come to a standstill there.\">\
                </head><body><div id=\"player\"><button>Play</button></div></body></html>";
    assert_eq!(
        extract_html(html, None).unwrap().text,
        "New York is the epicentre of the pandemic in the US; sport has come to a standstill there."
    );
}

#[test]
fn decodes_declared_charsets() {
    let latin1 =
        b"<html><head><meta charset=\"iso-8859-1\"></head><body><p>Kyiv caf\xe9</p></body></html>";
    assert!(decode(latin1, None).contains("Kyiv café"));
    let no_meta = b"<p>caf\xe9</p>";
    assert!(decode(no_meta, Some("windows-1252")).contains("café"));
    // Undeclared: guessed from the bytes.
    let undeclared = "<p>Der Bürgermeister sagte, die Straße über den Fluss bleibe gesperrt; größere Schäden gebe es nicht.</p>";
    let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(undeclared);
    assert_eq!(decode(&latin, None), undeclared);
    // Valid UTF-8 text wins over a stale legacy declaration.
    let stale = "<meta charset=\"gb2312\"><p>谷歌在2014年收购</p>".as_bytes();
    assert!(decode(stale, None).contains("谷歌在2014年收购"));
    assert!(decode(stale, Some("gb2312")).contains("谷歌在2014年收购"));
    // A BOM wins over a wrong header.
    let bom = b"\xef\xbb\xbf<p>ok \xc3\xa9</p>";
    assert_eq!(decode(bom, Some("iso-8859-1")), "<p>ok é</p>");
}

#[test]
fn fragments_and_plain_text() {
    assert_eq!(
        fragment_text("<p>One  line.</p><p>Two<br>lines.</p>"),
        "One line.\nTwo\nlines."
    );
    // A line break in the source is a space; in <pre> it is a line.
    assert_eq!(
        fragment_text("<p>Some 4,000 troops\n   were deployed.</p><pre>a\nb</pre>"),
        "Some 4,000 troops were deployed.\na\nb"
    );
    assert_eq!(
        fragment_text("  plain   text \n\n more "),
        "plain text\nmore"
    );
}

#[test]
fn whitespace_differences_do_not_change_the_hash() {
    assert_eq!(
        content_hash(&normalise("a  b\n\n c")),
        content_hash(&normalise("a b\nc "))
    );
    assert_eq!(
        normalise("Mit\u{ad}tel\u{ad}al\u{ad}ter \u{200b}\nok\u{feff}"),
        "Mittelalter\nok"
    );
}

/// A news page with the boilerplate real sites change between fetches.
fn busy_page(related: &[&str], ad: &str, stamp: &str, sidebar_first: bool) -> String {
    let related: String = related
        .iter()
        .map(|r| format!("<li><a href=\"/r\">{r}</a></li>"))
        .collect();
    let sidebar = format!("<aside class=\"sidebar\"><h3>Most read</h3><ol>{related}</ol></aside>");
    let article = format!(
        "<article><h1>Heavy losses in Kursk</h1><p class=\"updated\">{stamp}</p>{}\
         <div class=\"ad\">{ad}</div><p>Read more: {}</p></article>",
        PARAGRAPHS
            .iter()
            .map(|p| format!("<p>{p}</p>"))
            .collect::<String>(),
        related.len()
    );
    let (first, second) = if sidebar_first {
        (&sidebar, &article)
    } else {
        (&article, &sidebar)
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>Heavy losses in Kursk | News</title></head>\
         <body><header><nav><a href=\"/\">Home</a></nav></header><main>{first}{second}</main>\
         <footer>© News 2025</footer></body></html>"
    )
}

#[test]
fn the_same_article_with_other_boilerplate_extracts_to_the_same_text() {
    let a = extract_html(
        &busy_page(
            &["Storm hits coast", "Markets fall"],
            "Buy shoes now",
            "Updated 5 minutes ago",
            false,
        ),
        None,
    )
    .unwrap();
    let b = extract_html(
        &busy_page(
            &["Election results", "Heatwave warning", "Transfer news"],
            "Cheap flights to Rome",
            "Updated 2 hours ago",
            true,
        ),
        None,
    )
    .unwrap();
    assert_eq!(a.text, PARAGRAPHS.join("\n"));
    assert_eq!(a.text, b.text);
    assert_eq!(a.content_hash(), b.content_hash());
}

#[test]
fn the_day_in_the_address_wins_over_a_stamp_a_day_away() {
    // demo pages state 2025-01-14T08:00:00Z.
    let html = page("Heavy losses in Kursk", PARAGRAPHS, "Most read story");
    let at = |path: &str| {
        let url = url::Url::parse(&format!("https://news.example{path}")).unwrap();
        extract_html(&html, Some(&url)).unwrap().published
    };
    assert_eq!(at("/2025/01/13/kursk").as_deref(), Some("2025-01-13"));
    assert_eq!(at("/2025/01/15/kursk").as_deref(), Some("2025-01-15"));
    // Further away, the address is another day (an archive, a series): the stamp stands.
    assert_eq!(
        at("/2025/01/10/kursk").as_deref().map(|d| &d[..10]),
        Some("2025-01-14")
    );
    assert_eq!(
        at("/world/kursk").as_deref().map(|d| &d[..10]),
        Some("2025-01-14")
    );
}

/// A page holding this makes extraction panic, in tests only.
pub(super) const PANIC_ON: &str = "<!-- figwatch test: panic here -->";

#[test]
fn a_panic_while_extracting_is_its_own_error_not_an_empty_page() {
    let html = format!("<html><body>{PANIC_ON}<p>Text.</p></body></html>");
    let err = extract_html(&html, None).unwrap_err();
    assert!(
        matches!(&err, ExtractError::Panicked(m) if m == "a panic the test asked for"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("extraction crashed on this page"),
        "{err}"
    );
}

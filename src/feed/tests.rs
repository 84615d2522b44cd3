use super::*;

fn base() -> Url {
    Url::parse("https://news.example/rss.xml").unwrap()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/src/feed/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn rss_entries_resolve_links_and_keep_ids_stable() {
    let entries = parse(&read("rss.xml"), &base()).unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0].id, "story-1");
    assert_eq!(
        entries[0].link.as_ref().unwrap().as_str(),
        "https://news.example/world/troops-arrive?utm_source=rss"
    );
    // No guid: the link is the id.
    assert_eq!(entries[1].id, "https://news.example/world/no-guid");
    // Neither guid nor link: a hash of the content, identical on a second parse.
    assert!(entries[2].link.is_none());
    assert!(entries[2].id.starts_with("sha256:"));
    let again = parse(&read("rss.xml"), &base()).unwrap();
    assert_eq!(entries[2].id, again[2].id);
    assert!(entries[2].content.as_deref().unwrap().contains("3,000"));
    // A mailto: link is not something to fetch.
    assert!(entries[3].link.is_none());
}

#[test]
fn atom_prefers_the_alternate_link() {
    let entries = parse(&read("atom.xml"), &base()).unwrap();
    assert_eq!(
        entries[0].link.as_ref().unwrap().as_str(),
        "https://news.example/one"
    );
    assert_eq!(entries[0].id, "urn:entry:1");
}

#[test]
fn json_feed_entries() {
    let entries = parse(&read("feed.json"), &base()).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0].link.as_ref().unwrap().as_str(),
        "https://news.example/j1"
    );
    assert_eq!(entries[1].id, "j2");
    assert!(entries[1].link.is_none());
}

#[test]
fn malformed_feed_is_a_named_error() {
    let err = parse(&read("truncated.xml"), &base())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("https://news.example/rss.xml: not a valid"),
        "{err}"
    );
    // An HTML page is named as one, with the way to watch it.
    let err = parse(b"<html><body>Not a feed</body></html>", &base()).unwrap_err();
    assert!(matches!(err, FeedError::HtmlPage { .. }), "{err}");
    assert!(err.to_string().contains("[[pages]]"), "{err}");
    // A parser reused after a failure could panic; each call builds its own.
    assert!(parse(&read("rss.xml"), &base()).is_ok());
}

#[test]
fn utf16_feeds_are_read() {
    let rss = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>Новости</title>\
        <item><title>Войска</title><link>https://news.example/a</link></item></channel></rss>";
    let url = Url::parse("https://news.example/rss").unwrap();
    let be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(rss.encode_utf16().flat_map(|u| u.to_be_bytes()))
        .collect();
    let le: Vec<u8> = rss.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    for body in [be, le] {
        let entries = parse(&body, &url).expect("a UTF-16 feed parses");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].title.as_deref(), Some("Войска"));
    }
}

#[test]
fn feeds_in_a_declared_legacy_encoding_are_read() {
    let rss = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Nachrichten</title>\
        <item><title>Gespräche in Köln</title><link>https://news.example/a</link></item></channel></rss>";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(rss);
    let url = Url::parse("https://news.example/rss").unwrap();
    let entries = parse(&bytes, &url).expect("an ISO-8859-1 feed parses");
    assert_eq!(entries[0].title.as_deref(), Some("Gespräche in Köln"));
}

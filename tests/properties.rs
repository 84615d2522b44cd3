//! Property tests of the parsers that read what strangers write: feeds, pages, the figures in
//! their text, and the configuration file. None may panic on any input, and where a property
//! can be said of a result, it is checked. (Longer runs: the `cargo fuzz` targets in `fuzz/`.)

use figwatch::config::Config;
use figwatch::figures::{FigureExtractor, FigureValue};
use figwatch::{extract, feed};
use proptest::prelude::*;

const VALID_FEED: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title>\
    <item><title>One</title><link>https://news.example/one</link><guid>1</guid></item>\
    <item><title>Two</title><link>/two</link><description>&lt;p&gt;text&lt;/p&gt;</description></item>\
    </channel></rss>";

fn feed_url() -> url::Url {
    url::Url::parse("https://news.example/rss.xml").unwrap()
}

/// A valid document with some bytes overwritten and some inserted: the inputs a broken server
/// or a truncated transfer produces, much nearer to real feeds than random bytes.
fn mutated(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        proptest::collection::vec(
            (
                any::<prop::sample::Index>(),
                "[<>&\"'/;=a-z\\x00-\\x1f\\u{80}-\\u{10ffff}]{0,6}",
            ),
            0..6,
        ),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(writes, inserts, cut)| {
            let mut bytes = base.as_bytes().to_vec();
            for (at, b) in writes {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            for (at, s) in inserts {
                let i = at.index(bytes.len());
                bytes.splice(i..i, s.into_bytes());
            }
            // Sometimes cut short, as by a connection that dropped.
            let keep = cut.index(bytes.len() * 2).max(1);
            bytes.truncate(keep);
            bytes
        })
}

fn tag_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("<p>".to_string()),
            Just("</p>".to_string()),
            Just("<article>".to_string()),
            Just("<div class=\"content\">".to_string()),
            Just("</div>".to_string()),
            Just("<script>var x = '</p>';</script>".to_string()),
            Just("<meta charset=\"koi8-r\">".to_string()),
            Just("<h1>".to_string()),
            Just("<!--".to_string()),
            Just("<![CDATA[".to_string()),
            Just("&#x1F600;&amp;&nbsp;&#0;".to_string()),
            "[a-zA-Z0-9 ,.;:'\"\\u{400}-\\u{4ff}\\u{4e00}-\\u{4e50}]{0,80}",
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn feeds_never_panic_on_broken_documents(body in mutated(VALID_FEED)) {
        // The parser runs under catch_unwind: a panic would come back as this error.
        let parsed = feed::parse_feed(&body, &feed_url());
        prop_assert!(!matches!(parsed, Err(feed::FeedError::ParserPanicked { .. })), "{parsed:?}");
    }

    #[test]
    fn feeds_never_panic_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let parsed = feed::parse_feed(&body, &feed_url());
        prop_assert!(!matches!(parsed, Err(feed::FeedError::ParserPanicked { .. })), "{parsed:?}");
    }

    #[test]
    fn parsed_feed_links_are_absolute_http(body in mutated(VALID_FEED)) {
        if let Ok(parsed) = feed::parse_feed(&body, &feed_url()) {
            for entry in parsed.entries {
                if let Some(link) = entry.link {
                    prop_assert!(matches!(link.scheme(), "http" | "https"), "{link}");
                }
            }
        }
    }

    #[test]
    fn extraction_never_panics_on_tag_soup(html in tag_soup()) {
        // Extraction runs under catch_unwind: a panic would come back as this error.
        let article = extract::extract_html(&html, None);
        prop_assert!(!matches!(article, Err(extract::ExtractError::Panicked(_))), "{article:?}");
    }

    #[test]
    fn extraction_never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let article = extract::extract_bytes(&body, None, None);
        prop_assert!(!matches!(article, Err(extract::ExtractError::Panicked(_))), "{article:?}");
    }

    #[test]
    fn figures_never_panic_on_arbitrary_text(text in "\\PC{0,400}") {
        let _ = extractor().extract_lang(&text, None);
        let _ = extractor().extract_lang(&text, Some("de"));
    }

    /// A count written in digits, with or without thousands separators, in a sentence about the
    /// topic, is found with its value.
    #[test]
    fn a_reported_count_is_found_with_its_value(n in 2u32..900_000, grouped in any::<bool>()) {
        // Four plain digits from 1800 to 2100 are read as a year, by design ("in 2024"); the
        // same number grouped ("1,900") is a count.
        prop_assume!(grouped || !(1800..=2100).contains(&n));
        let written = if grouped { figwatch::figures::format_number(f64::from(n)) } else { n.to_string() };
        let text = format!("Officials said on Monday that {written} North Korean troops had been killed or wounded in the Kursk region.");
        let figures = extractor().extract_lang(&text, Some("en"));
        prop_assert!(
            figures.iter().any(|f| f.value == FigureValue::Number(f64::from(n))),
            "{text}: {figures:?}"
        );
    }

    #[test]
    fn config_never_panics_and_locates_its_errors(text in mutated(CONFIG)) {
        let text = String::from_utf8_lossy(&text).into_owned();
        if let Err(e) = Config::parse(&text, std::path::Path::new("fuzz.toml")) {
            if let Some((line, _)) = e.position {
                prop_assert!(line >= 1 && line <= text.lines().count().max(1) + 1, "{e}");
            }
            prop_assert!(e.to_string().starts_with("fuzz.toml"));
        }
    }
}

const CONFIG: &str = "database = \"x.db\"\ninterval = \"15m\"\n\n[fetch]\ntimeout = \"30s\"\nmax_body = \"10MB\"\n\n[[feeds]]\nurl = \"https://news.example/rss\"\ninterval = \"10m\"\n\n[[alerts.sinks]]\ntype = \"log\"\npath = \"a.jsonl\"\n\n[[topics]]\nid = \"nk-troops\"\nterms = [\"North Korean troops\"]\n";

fn extractor() -> &'static FigureExtractor {
    static E: std::sync::OnceLock<FigureExtractor> = std::sync::OnceLock::new();
    E.get_or_init(|| {
        let topics: toml::Value = toml::from_str(figwatch::demo::TOPIC_TOML).unwrap();
        let topics: Vec<figwatch::config::Topic> = topics["topics"].clone().try_into().unwrap();
        FigureExtractor::new(&topics)
    })
}

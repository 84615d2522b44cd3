use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("test.toml"))
}

fn error(text: &str) -> String {
    parse(text)
        .expect_err("the configuration should be refused")
        .to_string()
}

const GOOD: &str = r#"
database = "fw.db"
alert_log = "alerts.jsonl"
interval = "15m"

[[feeds]]
url = "https://example.org/world/rss.xml"
interval = "10m"

[[pages]]
url = "https://example.org/live/ukraine"

[[topics]]
id = "nk-troops"
name = "North Korean troops in Russia's war"
terms = ["North Korean troops"]
near = [["North Korea"], ["troops", "killed"]]

  [[topics.measures]]
  name = "acres_burned"
  words = ["acres"]
"#;

#[test]
fn reads_a_complete_file() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.database, PathBuf::from("fw.db"));
    assert_eq!(c.alerts.sinks.len(), 1);
    assert_eq!(
        c.alerts.sinks[0].target,
        SinkTarget::Log {
            path: PathBuf::from("alerts.jsonl")
        }
    );
    assert_eq!(c.sources.len(), 2);
    assert_eq!(c.sources[0].kind, SourceKind::Feed);
    assert_eq!(c.sources[0].interval, Duration::from_secs(600));
    assert_eq!(c.sources[1].kind, SourceKind::Page);
    assert_eq!(
        c.sources[1].interval,
        Duration::from_secs(900),
        "pages inherit the default"
    );
    assert_eq!(c.topics[0].id, "nk-troops");
    assert_eq!(c.topics[0].window, 12);
    assert_eq!(c.topics[0].measures[0].name, "acres_burned");
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let msg = error(
        "database = \"x.db\"\n\n[[feeds]]\nurl = \"https://a.example/rss\"\nintervall = \"5m\"\n",
    );
    assert!(msg.starts_with("test.toml:5:1:"), "{msg}");
    assert!(msg.contains("intervall"), "{msg}");
}

#[test]
fn bad_duration_names_line_and_key() {
    let msg = error("interval = \"15m\"\n[[feeds]]\nurl = \"https://a.example/rss\"\ninterval = \"10 parsecs\"\n");
    assert!(msg.starts_with("test.toml:4:"), "{msg}");
    assert!(msg.contains("feeds[0].interval"), "{msg}");
    assert!(msg.contains("10 parsecs"), "{msg}");
}

#[test]
fn bad_url_names_line_and_key() {
    let msg = error(
        "[[feeds]]\nurl = \"https://a.example/rss\"\n[[feeds]]\nurl = \"ftp://b.example/rss\"\n",
    );
    assert!(msg.starts_with("test.toml:4:"), "{msg}");
    assert!(msg.contains("feeds[1].url"), "{msg}");
    assert!(msg.contains("ftp"), "{msg}");

    let msg = error("[[pages]]\nurl = \"not a url\"\n");
    assert!(msg.starts_with("test.toml:2:"), "{msg}");
    assert!(msg.contains("pages[0].url"), "{msg}");
}

#[test]
fn duplicate_topic_id_names_the_second_one() {
    let text = "[[topics]]\nid = \"a\"\nterms = [\"x\"]\n\n[[topics]]\nname = \"again\"\nid = \"a\"\nterms = [\"y\"]\n";
    let msg = error(text);
    assert!(msg.starts_with("test.toml:7:"), "{msg}");
    assert!(msg.contains("topics[1].id"), "{msg}");
    assert!(msg.contains("duplicate topic id"), "{msg}");
}

#[test]
fn duplicate_source_is_refused() {
    let msg = error(
        "[[feeds]]\nurl = \"https://a.example/rss\"\n[[pages]]\nurl = \"https://a.example/rss\"\n",
    );
    assert!(msg.starts_with("test.toml:4:"), "{msg}");
    assert!(msg.contains("configured twice"), "{msg}");
}

#[test]
fn topic_that_cannot_match_is_refused() {
    let msg = error("[[topics]]\nid = \"empty\"\nname = \"nothing\"\n");
    assert!(msg.contains("topics[0].terms"), "{msg}");
    assert!(msg.contains("never match"), "{msg}");
}

#[test]
fn wrong_type_and_syntax_errors_are_located() {
    let msg = error("interval = 15\n");
    assert!(msg.starts_with("test.toml:1:"), "{msg}");
    assert!(msg.contains("interval"), "{msg}");

    let msg = error("database = \"unterminated\n");
    assert!(msg.starts_with("test.toml:1:"), "{msg}");
}

#[test]
fn too_short_interval_is_refused() {
    let msg = error("interval = \"10ms\"\n");
    assert!(msg.contains("too short"), "{msg}");
}

#[test]
fn fetch_limits_parse_sizes_and_durations() {
    let c = parse("[fetch]\ntimeout = \"5s\"\nmax_body = \"2MiB\"\nmax_redirects = 3\n").unwrap();
    assert_eq!(c.fetch.timeout, Duration::from_secs(5));
    assert_eq!(c.fetch.max_body, 2 * 1024 * 1024);
    assert_eq!(c.fetch.max_redirects, 3);
    let msg = error("[fetch]\nmax_body = \"2 parsecs\"\n");
    assert!(msg.contains("fetch.max_body"), "{msg}");
}

#[test]
fn the_shipped_example_and_shared_topics_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let c = Config::load(&root.join("config/figwatch.toml")).unwrap();
    assert!(!c.sources.is_empty());
    assert!(c.topics.iter().any(|t| t.id == "nk-troops"));
    // The labelled data's topics use the same schema; read them when the folder is there.
    let shared = root.join("../shared/figures/topics.toml");
    if shared.exists() {
        let c = Config::load(&shared).unwrap();
        assert!(c.topics.len() >= 5);
    }
}

#[test]
fn schedule_bounds_default_from_the_interval_and_are_checked() {
    let c = parse(GOOD).unwrap();
    let feed = &c.sources[0];
    assert_eq!(
        feed.min_interval,
        Duration::from_secs(600),
        "never sooner than asked"
    );
    assert_eq!(
        feed.max_interval,
        Duration::from_secs(2400),
        "at most 4× when quiet"
    );
    assert_eq!(c.fetch.per_host_concurrency, 1);
    assert_eq!(c.fetch.per_host_delay, Duration::from_secs(1));
    assert_eq!(c.schedule.fail_after, 10);

    let c = parse(
        "interval = \"15m\"\nmin_interval = \"5m\"\nmax_interval = \"2h\"\n\n[[feeds]]\nurl = \"https://a.example/rss\"\ninterval = \"3h\"\n",
    )
    .unwrap();
    let s = &c.sources[0];
    assert_eq!(
        (s.min_interval, s.max_interval),
        (Duration::from_secs(300), Duration::from_secs(3 * 3600)),
        "an inherited maximum gives way to the source's own longer interval"
    );

    let msg = error(
        "[[feeds]]\nurl = \"https://a.example/rss\"\ninterval = \"10m\"\nmin_interval = \"1h\"\n",
    );
    assert!(msg.starts_with("test.toml:4:"), "{msg}");
    assert!(
        msg.contains("feeds[0].min_interval") && msg.contains("at most the interval"),
        "{msg}"
    );
    let msg = error("jitter = 0.9\n");
    assert!(
        msg.contains("key `jitter`") && msg.contains("0 to 0.5"),
        "{msg}"
    );
    let msg = error("fail_after = 0\n");
    assert!(msg.contains("key `fail_after`"), "{msg}");
}

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
    // Relative paths of state are beside the configuration file (no state_dir, no systemd),
    // here the folder it was found in.
    let here = std::env::current_dir().unwrap();
    assert_eq!(c.database, Database::Sqlite(here.join("fw.db")));
    assert_eq!(c.alerts.sinks.len(), 1);
    assert_eq!(
        c.alerts.sinks[0].target,
        SinkTarget::Log {
            path: here.join("alerts.jsonl")
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

const TOPIC: &str = "[[topics]]\nid = \"nk-troops\"\nterms = [\"North Korean troops\"]\n";

#[test]
fn sinks_are_read_with_their_filters_and_defaults() {
    let c = parse(&format!(
        "alert_log = \"a.jsonl\"\n{TOPIC}\n[alerts]\ndelivery_timeout = \"10s\"\n\n[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"https://hooks.example.org/services/T0/B0/secretpath\"\nformat = \"slack\"\ntopics = [\"nk-troops\"]\nkinds = [\"figure_changed\"]\ndigest = \"15m\"\n\n[[alerts.sinks]]\ntype = \"command\"\nprogram = \"notify-send\"\nargs = [\"figwatch\"]\n"
    ))
    .unwrap();
    let a = &c.alerts;
    assert_eq!(a.delivery_timeout, Duration::from_secs(10));
    assert_eq!(a.retry_initial, Duration::from_secs(30));
    assert_eq!(a.sinks.len(), 3, "the alert log is a sink too");
    let hook = &a.sinks[1];
    assert_eq!(hook.digest, Some(Duration::from_secs(900)));
    assert!(hook.wants("figure_changed", Some("nk-troops")));
    assert!(!hook.wants("new_figure", Some("nk-troops")));
    assert!(
        !hook.wants("figure_changed", None),
        "a topic filter keeps source alerts out"
    );
    assert!(
        !hook.label.contains("secretpath"),
        "a webhook URL can be a secret: {}",
        hook.label
    );
    assert!(a.sinks[2].wants("source_failing", None));
    assert_ne!(a.sinks[1].key, a.sinks[2].key);
}

#[test]
fn sink_mistakes_name_the_key_and_line() {
    let cases = [
        ("type = \"pager\"", "alerts.sinks[0].type", "unknown sink type"),
        (
            "type = \"log\"\npath = \"x.jsonl\"\nurl = \"https://a.example/\"",
            "alerts.sinks[0].url",
            "not a key of a log sink",
        ),
        ("type = \"webhook\"", "alerts.sinks[0].type", "needs `url`"),
        (
            "type = \"webhook\"\nurl = \"https://a.example/\"\nformat = \"teams\"",
            "alerts.sinks[0].format",
            "unknown webhook format",
        ),
        (
            "type = \"log\"\npath = \"x\"\ntopics = [\"nk-trops\"]",
            "alerts.sinks[0].topics",
            "no topic has the id",
        ),
        (
            "type = \"log\"\npath = \"x\"\nkinds = [\"everything\"]",
            "alerts.sinks[0].kinds",
            "unknown alert kind",
        ),
        (
            "type = \"email\"\nsmtp_url = \"smtp://me:pw@mail.example.org\"\nfrom = \"a@example.org\"\nto = \"b@example.org\"",
            "alerts.sinks[0].smtp_url",
            "holds a password",
        ),
        (
            "type = \"email\"\nsmtp_url = \"smtps://mail.example.org\"\nfrom = \"a@example.org\"\nto = \"not an address\"",
            "alerts.sinks[0].to",
            "invalid email address",
        ),
        (
            "type = \"webhook\"\nurl = \"https://a.example/\"\nsecret_file = \"/nonexistent/figwatch.secret\"",
            "alerts.sinks[0].secret_file",
            "cannot read /nonexistent/figwatch.secret",
        ),
    ];
    for (sink, key, message) in cases {
        let text = format!("{TOPIC}\n[[alerts.sinks]]\n{sink}\n");
        let msg = error(&text);
        assert!(msg.contains(key), "{sink}: {msg}");
        assert!(msg.contains(message), "{sink}: {msg}");
        assert!(msg.starts_with("test.toml:"), "{sink}: {msg}");
    }
    // The line is the one with the key.
    let msg = error(&format!(
        "{TOPIC}\n[[alerts.sinks]]\ntype = \"log\"\npath = \"x\"\nkinds = [\"everything\"]\n"
    ));
    assert!(msg.starts_with("test.toml:8:"), "{msg}");
}

#[test]
fn the_same_sink_twice_is_refused_unless_named_apart() {
    let twice = "[[alerts.sinks]]\ntype = \"log\"\npath = \"x.jsonl\"\n\n[[alerts.sinks]]\ntype = \"log\"\npath = \"x.jsonl\"\n";
    assert!(error(twice).contains("configured twice"));
    let named = twice.replacen("type = \"log\"", "type = \"log\"\nname = \"copy\"", 1);
    assert_eq!(parse(&named).unwrap().alerts.sinks.len(), 2);
}

#[test]
fn article_schedules_are_global_or_per_feed_and_checked() {
    let c = parse(&format!(
        "{}\n[articles]\nrecheck = [[\"1h\", \"5m\"], [\"2d\", \"6h\"]]\n",
        GOOD.replace(
            "interval = \"10m\"\n",
            "interval = \"10m\"\nrecheck = [[\"30m\", \"1m\"]]\n"
        )
    ))
    .unwrap();
    assert_eq!(c.recheck.tiers.len(), 2);
    assert_eq!(c.recheck.retire_after(), Duration::from_secs(2 * 86400));
    assert_eq!(c.sources[0].recheck.tiers[0].every, Duration::from_secs(60));
    assert_eq!(c.sources[1].recheck, c.recheck, "a page inherits, unused");
    // The default when nothing is said: 15m / 1h / 3h / 1d up to 14 days.
    let d = parse(GOOD).unwrap();
    assert_eq!(d.recheck, Recheck::default());
    assert_eq!(
        d.sources[0].recheck.tiers[0].every,
        Duration::from_secs(900)
    );
    // An empty schedule: fetched once, never again.
    let none = parse(&format!("{GOOD}\n[articles]\nrecheck = []\n")).unwrap();
    assert!(none.recheck.tiers.is_empty());
    // A change of schedule changes the source's key (what pulls next checks in).
    assert_ne!(c.sources[0].schedule_key(), d.sources[0].schedule_key());
}

#[test]
fn bad_article_schedules_name_the_key() {
    for (text, key, words) in [
        (
            "[articles]\nrecheck = [[\"1h\"]]\n",
            "articles.recheck[0]",
            "two are needed",
        ),
        (
            "[articles]\nrecheck = [[\"1h\", \"soon\"]]\n",
            "articles.recheck[0]",
            "invalid duration",
        ),
        (
            "[articles]\nrecheck = [[\"1h\", \"100ms\"]]\n",
            "articles.recheck[0]",
            "too short",
        ),
        (
            "[articles]\nrecheck = [[\"1d\", \"1h\"], [\"3h\", \"1h\"]]\n",
            "articles.recheck[1]",
            "must grow",
        ),
        (
            "[articles]\nrecheck = [[\"0s\", \"1h\"]]\n",
            "articles.recheck[0]",
            "nothing to check",
        ),
        (
            "[articles]\nrecheck = \"often\"\n",
            "articles.recheck",
            "invalid type",
        ),
        ("[articles]\nevery = \"1h\"\n", "articles", "unknown field"),
    ] {
        let msg = error(text);
        assert!(msg.contains(key) && msg.contains(words), "{text}: {msg}");
        assert!(msg.contains("test.toml:"), "located: {msg}");
    }
    let msg = error(&GOOD.replace(
        "url = \"https://example.org/live/ukraine\"\n",
        "url = \"https://example.org/live/ukraine\"\nrecheck = [[\"1h\", \"1m\"]]\n",
    ));
    assert!(
        msg.contains("pages[0].recheck") && msg.contains("interval"),
        "{msg}"
    );
}

#[test]
fn render_is_read_per_source_with_bounded_settings() {
    let c = parse(&GOOD.replace(
        "[[pages]]\nurl = \"https://example.org/live/ukraine\"\n",
        "[[pages]]\nurl = \"https://example.org/live/ukraine\"\nrender = \"chromium\"\n\n[render]\ntabs = 3\ntimeout = \"10s\"\nmax_memory = \"512MB\"\nchromium = \"bin/chromium\"\n",
    ))
    .unwrap();
    assert_eq!(
        c.sources.iter().map(|s| s.render).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(c.render.tabs, 3);
    assert_eq!(c.render.timeout, Duration::from_secs(10));
    assert_eq!(c.render.max_memory, 512_000_000);
    // A path with a folder is beside the configuration file.
    assert!(c
        .render
        .chromium
        .as_ref()
        .unwrap()
        .ends_with("bin/chromium"));
    assert_eq!(parse(GOOD).unwrap().render, RenderSettings::default());

    let with = |extra: &str| {
        GOOD.replace(
            "[[pages]]\nurl = \"https://example.org/live/ukraine\"\n",
            &format!("[[pages]]\nurl = \"https://example.org/live/ukraine\"\nrender = \"chromium\"\n{extra}"),
        )
    };
    for (extra, key, says) in [
        ("\n[render]\ntabs = 0\n", "render.tabs", "between 1 and 16"),
        ("\n[render]\ntabs = 64\n", "render.tabs", "between 1 and 16"),
        (
            "\n[render]\ntimeout = \"100ms\"\n",
            "render.timeout",
            "at least 1s",
        ),
        (
            "\n[render]\nmax_memory = \"1MB\"\n",
            "render.max_memory",
            "at least 64 MB",
        ),
        ("\n[render]\nheadless = false\n", "render", "unknown field"),
        (
            "\n[fetch]\nproxy = \"http://proxy.example:3128\"\n",
            "fetch.proxy",
            "cannot go through [fetch] proxy",
        ),
    ] {
        let e = error(&with(extra));
        assert!(e.contains(key) && e.contains(says), "{extra}: {e}");
    }
    let e = error(&GOOD.replace(
        "interval = \"10m\"\n",
        "interval = \"10m\"\nrender = \"Chromium \"\n",
    ));
    assert!(
        e.contains("feeds[0].render") && e.contains("is not a renderer"),
        "{e}"
    );
}

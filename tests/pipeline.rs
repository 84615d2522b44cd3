//! The whole pipeline through the real binary, against a news site on 127.0.0.1 whose story
//! changes between polls.

mod common;

use common::*;

#[test]
fn versions_diff_and_one_figure_changed_alert() {
    let (server, home) = story_site();
    let url = server.url(ARTICLE);

    // First poll: version 1, and its figure is new.
    let summary = home.ok(&["--poll"]);
    assert!(
        summary.contains("polled 1 source, 0 failed; 1 new article, 1 new version, 1 alert"),
        "{summary}"
    );
    assert_eq!(home.history(&url).len(), 1);
    let first = home.alert_log();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["kind"], "new_figure");
    assert_eq!(first[0]["new"], 3000);
    assert_eq!(first[0]["old"], serde_json::Value::Null);

    // Second poll, after the edit 3,000 → 4,000: version 2, one figure_changed.
    server.set(ARTICLE, Response::html(story("4,000", None)));
    let summary = home.ok(&["poll"]);
    assert!(
        summary.contains("0 new articles, 1 new version, 1 alert"),
        "{summary}"
    );
    let history = home.history(&url);
    assert_eq!(
        history
            .iter()
            .map(|v| v["number"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(history[1]["alerts"], 1);

    let log = home.alert_log();
    let changed: Vec<_> = log
        .iter()
        .filter(|a| a["kind"] == "figure_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{log:?}");
    let a = changed[0];
    assert_eq!(
        (a["old"].as_f64(), a["new"].as_f64()),
        (Some(3000.0), Some(4000.0))
    );
    assert_eq!(
        (a["topic"].as_str(), a["measure"].as_str()),
        (Some("nk-troops"), Some("casualties"))
    );
    assert_eq!(a["version"], 2);
    assert_eq!(a["url"], url.as_str());
    assert_eq!(a["value"], 4000);
    assert_eq!(a["qualifier"], "exact");
    assert!(a["quote"]
        .as_str()
        .unwrap()
        .starts_with("Officials said on Monday that 4,000 North Korean troops"));
    assert!(chrono::DateTime::parse_from_rfc3339(a["ts"].as_str().unwrap()).is_ok());
    assert!(a["title"]
        .as_str()
        .unwrap()
        .contains("North Korean troops in Kursk"));

    // The diff shows the change, in plain markup when not on a terminal.
    let diff = home.ok(&["diff", &url]);
    assert!(diff.contains("[-3,000-]{+4,000+}"), "{diff}");
    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["diff", &url, "--from", "1", "--to", "2", "--json"]))
            .unwrap();
    let chunks = json["chunks"].as_array().unwrap();
    assert!(chunks
        .iter()
        .any(|c| c["op"] == "delete" && c["text"] == "3,000"));
    assert!(chunks
        .iter()
        .any(|c| c["op"] == "insert" && c["text"] == "4,000"));

    // `figwatch alerts` reads the same alerts back from the database.
    let listed: Vec<serde_json::Value> = home
        .ok(&["alerts", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed, log);
    let table = home.ok(&[
        "alerts",
        "--topic",
        "nk-troops",
        "--since",
        "1h",
        "--limit",
        "1",
    ]);
    assert!(
        table.contains("figure_changed") && table.contains("3,000 → 4,000"),
        "{table}"
    );
    assert!(
        !table.contains("new_figure"),
        "--limit 1 keeps only the newest: {table}"
    );

    // Third poll, nothing changed: nothing stored, nothing raised.
    let summary = home.ok(&["--poll"]);
    assert!(
        summary.contains("0 new articles, 0 new versions, 0 alerts"),
        "{summary}"
    );
    assert_eq!(home.history(&url).len(), 2);
    assert_eq!(home.alert_log(), log);
    assert_eq!(
        server.hits(ARTICLE),
        3,
        "the article is fetched once a poll"
    );
}

#[test]
fn rewording_and_a_new_measure() {
    // The story alone, as a page source.
    let (server, _) = story_site();
    let home = Home::new(&format!("[[pages]]\nurl = \"{}\"\n", server.url(ARTICLE)));
    let url = server.url(ARTICLE);
    home.ok(&["--poll"]);
    // A reworded paragraph with the same figures stores a version but raises nothing.
    let reworded =
        story("3,000", None).replace("Officials said on Monday that", "On Monday, officials said");
    server.set(ARTICLE, Response::html(reworded.clone()));
    let summary = home.ok(&["--poll"]);
    assert!(summary.contains("1 new version, 0 alerts"), "{summary}");
    // A new measure is a new figure, with no old value.
    server.set(
        ARTICLE,
        Response::html(story(
            "3,000",
            Some("Ukraine said two North Korean soldiers had been captured alive."),
        )),
    );
    home.ok(&["--poll"]);
    let log = home.alert_log();
    let last = log.last().unwrap();
    assert_eq!(
        (last["kind"].as_str(), last["measure"].as_str()),
        (Some("new_figure"), Some("captured"))
    );
    assert_eq!(last["new"], 2);
    assert_eq!(last["version"], 3);
    assert_eq!(home.history(&url).len(), 3);
}

#[test]
fn demo_shows_versions_alerts_and_a_diff() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_figwatch"))
        .arg("demo")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("figure_changed    nk-troops · casualties 3,000 → 4,000 (as many as; President Volodymyr Zelensky)"),
        "{text}"
    );
    assert!(text.contains("poll 3"), "{text}");
    assert!(text.contains("[-two-]{+2+}"), "{text}");
    assert!(text.contains("{+"), "the last diff is printed: {text}");
}

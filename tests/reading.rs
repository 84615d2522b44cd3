//! Reading what figwatch found: `alerts` with its filters and `--follow`, and `export` as CSV
//! and JSON, through the real binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

fn watched_site() -> (LocalServer, Home) {
    let (server, home) = story_site();
    home.ok(&["--poll"]);
    server.set(ARTICLE, Response::html(story("4,000", None)));
    home.ok(&["--poll", "--all"]);
    (server, home)
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn alerts_filter_by_kind_and_read_at_a_glance() {
    let (_server, home) = watched_site();
    let all = json_lines(&home.ok(&["alerts", "--json"]));
    assert_eq!(all.len(), 2);
    let changed = json_lines(&home.ok(&["alerts", "--json", "--kind", "figure_changed"]));
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["kind"], "figure_changed");
    assert_eq!(changed[0]["id"], all[1]["id"], "the same stable id");

    let text = home.ok(&["alerts", "--kind", "figure_changed"]);
    assert!(
        text.contains("nk-troops · casualties 3,000 → 4,000 (in Kursk; Officials) · \"Officials said on Monday that 4,000 North Korean troops"),
        "{text}"
    );
    assert!(text.contains("(version 2)"), "{text}");

    let refused = home.figwatch(&["alerts", "--kind", "everything"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("figure_changed"));
}

#[test]
fn follow_prints_new_alerts_as_they_are_committed() {
    let (server, home) = watched_site();
    let mut follower = Command::new(env!("CARGO_BIN_EXE_figwatch"))
        .arg("--config")
        .arg(home.config())
        .args(["alerts", "--follow", "--json", "--kind", "figure_changed"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let first: serde_json::Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(first["new"], 4000, "the existing alert is shown first");

    server.set(ARTICLE, Response::html(story("5,000", None)));
    home.ok(&["--poll", "--all"]);
    let next: serde_json::Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(next["old"], 4000);
    assert_eq!(next["new"], 5000);
    follower.kill().unwrap();
    follower.wait().unwrap();
}

#[test]
fn export_writes_csv_for_spreadsheets_and_json_for_scripts() {
    let (_server, home) = watched_site();

    let csv_text = home.ok(&["export", "alerts", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    for column in [
        "id", "ts", "kind", "topic", "measure", "old", "new", "url", "quote",
    ] {
        assert!(
            headers.iter().any(|h| h == column),
            "{column} in {headers:?}"
        );
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[1][col("old")], "3,000");
    assert_eq!(&rows[1][col("new")], "4,000");
    assert!(rows[1][col("quote")].contains("4,000 North Korean troops"));

    let figures: serde_json::Value =
        serde_json::from_str(&home.ok(&["export", "figures", "--format", "json"])).unwrap();
    let values: Vec<i64> = figures
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_i64().unwrap())
        .collect();
    assert_eq!(values, vec![3000, 4000], "one figure per version");

    let versions =
        json_lines(&home.ok(&["export", "versions", "--format", "jsonl", "--since", "1h"]));
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["version"], 2);
    assert!(versions[1]["text"].as_str().unwrap().contains("4,000"));

    // Nothing that old: an empty but valid document.
    std::thread::sleep(Duration::from_millis(1100));
    let none: serde_json::Value =
        serde_json::from_str(&home.ok(&["export", "alerts", "--format", "json", "--since", "1s"]))
            .unwrap();
    assert_eq!(none, serde_json::json!([]));
}

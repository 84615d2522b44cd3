//! Storage limits: retention with `figwatch prune`, and a disk that fills up mid-poll.

mod common;

use std::process::Command;

use common::*;

fn numbers(home: &Home, url: &str) -> Vec<i64> {
    home.history(url)
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect()
}

#[test]
fn prune_keeps_the_last_versions_and_those_alerts_point_at() {
    let (server, home) = story_site();
    let url = server.url(ARTICLE);
    home.ok(&["--poll"]); // version 1: the figure is new, an alert points at it
    for extra in [
        "Analysts expect more details later this week.",
        "Analysts expect more details in the coming days.",
        "Analysts expect further details in the coming days.",
    ] {
        server.set(ARTICLE, Response::html(story("3,000", Some(extra))));
        home.ok(&["--poll", "--all"]); // a rewording: a version, no alert
    }
    assert_eq!(numbers(&home, &url), vec![1, 2, 3, 4]);

    let refused = home.figwatch(&["prune"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no [retention] configured"));

    let config = std::fs::read_to_string(home.config()).unwrap();
    std::fs::write(
        home.config(),
        format!("{config}\n[retention]\nkeep_for = \"0s\"\nkeep_last = 1\n"),
    )
    .unwrap();
    let dry = home.ok(&["prune", "--dry-run"]);
    assert!(dry.starts_with("would prune 2 versions"), "{dry}");
    assert_eq!(numbers(&home, &url).len(), 4, "a dry run removes nothing");

    let done = home.ok(&["prune", "--vacuum"]);
    assert!(done.starts_with("pruned 2 versions"), "{done}");
    assert!(done.contains("database"), "{done}");
    assert_eq!(
        numbers(&home, &url),
        vec![1, 4],
        "the alert's version and the last one stay"
    );
    let alerts = home.ok(&["alerts", "--json"]);
    assert_eq!(alerts.lines().count(), 1, "alerts are never pruned");
    let diff = home.ok(&["diff", &url, "--from", "1", "--to", "4"]);
    assert!(diff.contains("{+"), "{diff}");
    // And polling goes on from the kept last version.
    server.set(ARTICLE, Response::html(story("4,000", None)));
    home.ok(&["--poll", "--all"]);
    assert_eq!(numbers(&home, &url), vec![1, 4, 5]);

    // The page kept as the article's baseline goes once the article is retired, and the
    // site's remembered paragraphs once they are older than the cut-off.
    assert_eq!(home.count("SELECT count(*) FROM pages"), 1);
    assert!(home.count("SELECT count(*) FROM site_paragraphs") > 0);
    home.execute("UPDATE articles SET retired_at = '2000-01-01T00:00:00Z'");
    let done = home.ok(&["prune"]);
    assert!(
        done.contains("1 kept pages of retired articles; 3 remembered template paragraphs"),
        "{done}"
    );
    assert_eq!(home.count("SELECT count(*) FROM pages"), 0);
    assert_eq!(home.count("SELECT count(*) FROM site_paragraphs"), 0);
}

#[test]
fn a_full_disk_is_a_clear_error_and_damages_nothing() {
    let (server, home) = story_site();
    if !home.on_sqlite("a full disk under the SQLite file") {
        return;
    }
    let url = server.url(ARTICLE);
    home.ok(&["--poll"]);
    // The next version is large, and the files may grow by no more than 4 KiB: the write
    // fails as on a full disk.
    let long: Vec<String> = (0..3000)
        .map(|i| format!("Paragraph {i}: officials repeated that the figures could not be independently verified, and that Pyongyang has not commented on its losses in the region."))
        .collect();
    let mut paragraphs: Vec<&str> = long.iter().map(String::as_str).collect();
    let figure = "Officials said on Monday that 4,000 North Korean troops had been killed or wounded since they joined the fighting in the Kursk region.";
    paragraphs.insert(0, figure);
    server.set(
        ARTICLE,
        Response::html(article_page("North Korean troops in Kursk", &paragraphs)),
    );
    let largest = ["figwatch.db", "figwatch.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(home.path(f)).ok())
        .map(|m| m.len())
        .max()
        .unwrap();
    let limit = largest + 4096;
    let mut command = Command::new(env!("CARGO_BIN_EXE_figwatch"));
    command
        .arg("--config")
        .arg(home.config())
        .args(["--poll", "--all"])
        .env("NO_COLOR", "1");
    limit_file_size(&mut command, limit);
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("full disk") || stderr.contains("is full"),
        "the error says what happened: {stderr}"
    );
    assert_eq!(numbers(&home, &url), vec![1], "nothing half-written");

    // With room again, the same poll works and nothing before was damaged.
    home.ok(&["--poll", "--all"]);
    assert_eq!(numbers(&home, &url), vec![1, 2]);
    assert_eq!(home.integrity(), "ok");
    let alerts = home.ok(&["alerts", "--json"]);
    assert_eq!(alerts.lines().count(), 2);
}

/// A store that cannot record a lease (a full disk) makes `--poll` say so and fail, instead
/// of reporting every source as "being polled by another figwatch process" — here with the
/// lease of a process that has exited waiting to be taken over. With room again, the lease is
/// taken over and the source polled.
#[test]
fn a_store_that_cannot_be_written_is_not_mistaken_for_another_process() {
    let (_server, home) = story_site();
    home.ok(&["--poll"]);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    home.execute(&format!(
        "UPDATE sources SET lease_owner = '{} pid 999999 (00000000)', lease_until = '2999-01-01T00:00:00.000Z'",
        host.trim()
    ));
    // The write of a lease fails as it would on a full disk.
    let (full, room) = if home.postgres.is_some() {
        (
            "CREATE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER disk_full BEFORE UPDATE OF lease_owner ON sources FOR EACH ROW EXECUTE FUNCTION disk_full();",
            "DROP TRIGGER disk_full ON sources; DROP FUNCTION disk_full();",
        )
    } else {
        (
            "CREATE TRIGGER disk_full BEFORE UPDATE OF lease_owner ON sources BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
            "DROP TRIGGER disk_full;",
        )
    };
    home.execute(full);
    let out = home.figwatch(&["--poll", "--all"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains("being polled by another"), "{stdout}");
    assert!(
        stdout.contains("1 not polled (the store cannot be written"),
        "{stdout}"
    );
    assert!(
        stderr.contains("cannot lease sources for polling") && stderr.contains("disk"),
        "{stderr}"
    );

    home.execute(room);
    let out = home.figwatch(&["--poll", "--all"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("which no longer runs"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("polled 1 source, 0 failed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

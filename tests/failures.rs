//! Bad sources, bad configuration, bad databases: the pass completes, the error is recorded
//! and named, nothing stored is lost.

mod common;

use std::time::Duration;

use common::*;

fn status(home: &Home) -> Vec<serde_json::Value> {
    home.ok(&["status", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn status_of<'a>(rows: &'a [serde_json::Value], url: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["url"] == url)
        .unwrap_or_else(|| panic!("no status for {url}: {rows:?}"))
}

#[test]
fn failing_sources_are_recorded_and_the_others_go_on() {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    server.set("/good.html", Response::html(story("3,000", None)));
    // The feed's article is another page than the page source, so that the two never share
    // one fetch (an article being fetched by one poll is left to it by the others).
    server.set("/story.html", Response::html(story("3,000", None)));
    server.set(
        "/broken.xml",
        Response::ok(
            "application/rss+xml",
            "<rss version=\"2.0\"><channel><title>Broken</title><item><title>cut off",
        ),
    );
    server.set("/error.xml", Response::status(500));
    server.set(
        "/slow.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[])).delayed(Duration::from_secs(6)),
    );
    server.set(
        "/mixed.xml",
        Response::ok(
            "application/rss+xml",
            rss_feed(
                &base,
                &[("A report", "/report.pdf"), ("The story", "/story.html")],
            ),
        ),
    );
    server.set(
        "/report.pdf",
        Response::ok("application/pdf", b"%PDF-1.4 not a web page".to_vec()),
    );

    let sources: String = ["/broken.xml", "/error.xml", "/slow.xml", "/mixed.xml"]
        .iter()
        .map(|p| format!("[[feeds]]\nurl = \"{}\"\n\n", server.url(p)))
        .chain(std::iter::once(format!(
            "[[pages]]\nurl = \"{}\"\n",
            server.url("/good.html")
        )))
        .collect();
    let home = Home::new(&sources);

    let started = std::time::Instant::now();
    let out = home.figwatch(&["--poll"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a pass with failing sources still completes: {stdout}\n{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "the slow source was cut off by the 2s timeout"
    );
    assert!(stdout.contains("polled 5 sources, 3 failed"), "{stdout}");
    assert!(stdout.contains("1 article could not be read"), "{stdout}");

    let rows = status(&home);
    let broken = status_of(&rows, &server.url("/broken.xml"));
    assert_eq!(broken["consecutive_failures"], 1);
    let msg = broken["last_error"].as_str().unwrap();
    assert!(
        msg.contains(&server.url("/broken.xml")) && msg.contains("not a valid"),
        "{msg}"
    );

    let msg = status_of(&rows, &server.url("/error.xml"))["last_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("HTTP 500"), "{msg}");
    let msg = status_of(&rows, &server.url("/slow.xml"))["last_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("timed out"), "{msg}");

    // The feed itself is fine; its PDF link is noted, its HTML link stored.
    let mixed = status_of(&rows, &server.url("/mixed.xml"));
    assert_eq!(mixed["consecutive_failures"], 0);
    let note = mixed["last_error"].as_str().unwrap();
    assert!(
        note.contains("report.pdf")
            && note.contains("not an HTML page")
            && note.contains("application/pdf"),
        "{note}"
    );
    assert_eq!(home.history(&server.url("/good.html")).len(), 1);
    assert_eq!(home.history(&server.url("/story.html")).len(), 1);

    // A second failing pass counts up; stored versions stay.
    server.set("/good.html", Response::status(500));
    let out = home.figwatch(&["--poll"]);
    assert!(out.status.success());
    let rows = status(&home);
    assert_eq!(
        status_of(&rows, &server.url("/error.xml"))["consecutive_failures"],
        2
    );
    assert_eq!(
        status_of(&rows, &server.url("/good.html"))["consecutive_failures"],
        1
    );
    assert_eq!(
        home.history(&server.url("/good.html")).len(),
        1,
        "nothing stored is lost"
    );
    assert_eq!(
        home.alert_log().len(),
        1,
        "the alert raised before stays in the log"
    );

    // The readable status names the problem.
    let text = home.ok(&["status"]);
    assert!(text.contains("FAILING (2 in a row)"), "{text}");
}

#[test]
fn config_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "database = \"x.db\"\n\n[[feeds]]\nurl = \"https://news.example/rss\"\ninterval = \"ten minutes\"\n").unwrap();
    let out = figwatch(&path, &["--poll"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:5:")
            && err.contains("key `feeds[0].interval`:")
            && err.contains("ten minutes"),
        "{err}"
    );

    std::fs::write(
        &path,
        "[[feeds]]\nurl = \"https://news.example/rss\"\nlink = \"x\"\n",
    )
    .unwrap();
    let err = String::from_utf8_lossy(&figwatch(&path, &["check-config"]).stderr).to_string();
    assert!(err.contains("bad.toml:3:") && err.contains("link"), "{err}");

    // A key whose value is kept with its position is named as written, not by serde's
    // private field (`interval.$__serde_spanned_private_value`).
    std::fs::write(
        &path,
        "interval = 5

[[feeds]]
url = \"https://news.example/rss\"\n",
    )
    .unwrap();
    let err = String::from_utf8_lossy(&figwatch(&path, &["check-config"]).stderr).to_string();
    assert!(
        err.contains("bad.toml:1:") && err.contains("interval"),
        "{err}"
    );
    assert!(!err.contains("$__"), "{err}");

    // A file named with --config that cannot be read: no advice to pass --config.
    let missing = dir.path().join("missing.toml");
    let out = figwatch(&missing, &["check-config"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.toml"), "{err}");
    assert!(!err.contains("pass --config"), "{err}");
}

/// Relative paths of state resolve against `state_dir`, else `$STATE_DIRECTORY`, else the
/// configuration file's folder — never the working directory; a command that only reads never
/// creates a store, and says where it looked.
#[test]
fn the_store_is_found_from_any_folder_and_never_created_by_a_read() {
    let server = story_server();
    let home = Home::sqlite("");
    let config_dir = home.path("etc");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = config_dir.join("figwatch.toml");
    let feeds = format!("[[feeds]]\nurl = \"{}\"\n", server.url("/rss.xml"));
    let write = |top: &str| {
        std::fs::write(
            &config,
            format!("{top}\ndatabase = \"figwatch.db\"\nalert_log = \"alerts.jsonl\"\ninterval = \"1s\"\n[fetch]\nallow_private = true\n\n{feeds}\n{}", figwatch::demo::TOPIC_TOML),
        )
        .unwrap();
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &std::path::Path)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_figwatch"));
        c.arg("--config")
            .arg(&config)
            .args(args)
            .current_dir(elsewhere.path())
            .env_remove("STATE_DIRECTORY")
            .env_remove("FIGWATCH_DATABASE");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };

    // A read before any poll: an error that says where it looked, and no file made.
    write("");
    let out = run(&["status"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!(
            "no database at {}",
            config_dir.join("figwatch.db").display()
        )),
        "{err}"
    );
    assert!(err.contains("the configuration file's folder"), "{err}");
    assert!(!config_dir.join("figwatch.db").exists());
    assert!(std::fs::read_dir(elsewhere.path())
        .unwrap()
        .next()
        .is_none());

    // Polled from one folder, read from another: the same store, beside the configuration.
    assert!(run(&["--poll"], &[]).status.success());
    assert!(config_dir.join("figwatch.db").exists());
    assert!(config_dir.join("alerts.jsonl").exists());
    let status = String::from_utf8_lossy(&run(&["status"], &[]).stdout).to_string();
    assert!(status.contains("1 articles"), "{status}");
    assert!(std::fs::read_dir(elsewhere.path())
        .unwrap()
        .next()
        .is_none());

    // systemd's $STATE_DIRECTORY, and then a state_dir key, which wins over it.
    let systemd = home.path("var-lib");
    std::fs::create_dir_all(&systemd).unwrap();
    assert!(run(&["--poll"], &[("STATE_DIRECTORY", &systemd)])
        .status
        .success());
    assert!(systemd.join("figwatch.db").exists());
    let keyed = home.path("state");
    std::fs::create_dir_all(&keyed).unwrap();
    write(&format!("state_dir = \"{}\"", keyed.display()));
    assert!(run(&["--poll"], &[("STATE_DIRECTORY", &systemd)])
        .status
        .success());
    assert!(keyed.join("figwatch.db").exists() && keyed.join("alerts.jsonl").exists());
    let checked = String::from_utf8_lossy(&run(&["check-config"], &[]).stdout).to_string();
    assert!(
        checked.contains(&format!("{} (state_dir)", keyed.display())),
        "{checked}"
    );
}

#[test]
fn check_config_summarises_sources_and_topics() {
    let home = Home::new("[[feeds]]\nurl = \"https://news.example/rss\"\ninterval = \"10m\"\n\n[[pages]]\nurl = \"https://news.example/live\"\n");
    let out = home.ok(&["check-config"]);
    assert!(out.contains("ok — 1 feeds, 1 pages, 1 topics"), "{out}");
    assert!(
        out.contains("https://news.example/rss") && out.contains("10m"),
        "{out}"
    );
    assert!(out.contains("nk-troops"), "{out}");
    assert!(out.contains("web        no dashboard"), "{out}");
    assert!(
        out.contains("state      relative paths of state are in"),
        "{out}"
    );

    // A database in a folder that does not exist is found out before the first poll.
    let config = std::fs::read_to_string(home.config()).unwrap();
    let missing = home.path("no-such-folder").join("figwatch.db");
    let db_line = config
        .lines()
        .find(|l| l.starts_with("database"))
        .unwrap()
        .to_string();
    std::fs::write(
        home.config(),
        config.replacen(
            &db_line,
            &format!("database = \"{}\"", missing.display()),
            1,
        ),
    )
    .unwrap();
    let out = home.figwatch(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no-such-folder does not exist"), "{err}");
}

#[test]
fn an_unusable_database_stops_with_a_clear_message() {
    let home = Home::sqlite("[[pages]]\nurl = \"http://127.0.0.1:9/\"\n");
    std::fs::write(home.path("figwatch.db"), vec![b'x'; 4096]).unwrap();
    let out = home.figwatch(&["--poll"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("figwatch.db") && err.contains("not a usable SQLite database"),
        "{err}"
    );
}

#[test]
fn lookups_of_unknown_articles_explain_themselves() {
    let home = Home::new("[[pages]]\nurl = \"http://127.0.0.1:9/\"\n");
    home.figwatch(&["--poll"]);
    let out = home.figwatch(&["history", "https://nowhere.example/a"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no article is stored under https://nowhere.example/a"));
}

/// `figwatch … | head`: a reader that closes standard output early ends every command
/// quietly with status 0, as Unix tools do (it printed "Broken pipe" and failed).
#[test]
fn a_closed_standard_output_ends_commands_quietly() {
    let (server, home) = story_site();
    home.ok(&["--poll"]);
    // The last command's poll finds a change: its alert is delivered though no one reads.
    server.set(ARTICLE, Response::html(story("4,000", None)));
    for args in [
        &["export", "versions", "--format", "jsonl"][..],
        &["export", "alerts", "--format", "csv"],
        &["alerts"],
        &["status"],
        &["check-config"],
        &["figures"],
        &["--poll", "--all"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_figwatch"))
            .arg("--config")
            .arg(home.config())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The read end closed before figwatch writes a byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(
            !stderr.contains("Broken pipe") && !stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }
    let log = home.alert_log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["kind"], "figure_changed");
}

/// An unknown topic is said to be unknown; an HTML page given as a feed suggests `[[pages]]`;
/// html5ever's notes on markup it repairs do not reach the user.
#[test]
fn small_mistakes_are_named_and_repaired_markup_is_not_news() {
    let server = story_server();
    let foster = "<!DOCTYPE html><html><head><title>Kursk</title></head><body><article><table><tr><td>x</td></tr>Officials said on Monday that 3,000 North Korean troops had been killed or wounded in the Kursk region.<p>A second paragraph that sits where a table cell should be, so the parser fosters it out.</p></table></article></body></html>";
    server.set("/foster.html", Response::html(foster.to_string()));
    let home = Home::new(&format!(
        "[[feeds]]\nurl = \"{}\"\n\n[[feeds]]\nurl = \"{}\"\n\n[[pages]]\nurl = \"{}\"\n",
        server.url("/rss.xml"),
        server.url(ARTICLE),
        server.url("/foster.html")
    ));
    let out = home.figwatch(&["--poll"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("foster parenting"), "{stderr}");
    let rows = status(&home);
    let page_as_feed = status_of(&rows, &server.url(ARTICLE));
    let error = page_as_feed["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("this is an HTML page, not a feed") && error.contains("[[pages]]"),
        "{error}"
    );

    let out = home.figwatch(&["alerts", "--topic", "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no topic \"nope\"") && err.contains("nk-troops"),
        "{err}"
    );
    assert!(home
        .figwatch(&["alerts", "--topic", "nk-troops"])
        .status
        .success());
}

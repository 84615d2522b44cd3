//! `figwatch migrate` into a real PostgreSQL server on 127.0.0.1 (`.ci/postgres` starts one;
//! its URL comes in FIGWATCH_TEST_POSTGRES). The test that needs the server is ignored by a
//! plain `cargo test` (listed as ignored, never as passed); `--include-ignored` runs it, and
//! fails without the server. `.ci/run` starts one and runs it.

mod common;

use common::*;

fn fresh_database(name: &str) -> String {
    pg::fresh_database(name)
        .expect("set FIGWATCH_TEST_POSTGRES to a server's URL (start one with .ci/postgres)")
}

fn pg_count(url: &str, table: &str) -> i64 {
    pg::query_text(url, &format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
}

#[test]
#[ignore = "needs PostgreSQL: FIGWATCH_TEST_POSTGRES (see .ci/postgres), then --include-ignored"]
fn migrate_copies_every_table_and_verifies_it() {
    let pg = fresh_database("migrate");
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    server.set(
        "/rss.xml",
        Response::ok(
            "application/rss+xml",
            rss_feed(&base, &[("One", "/one.html"), ("Two", "/two.html")]),
        ),
    );
    server.set("/one.html", Response::html(story("3,000", None)));
    server.set(
        "/two.html",
        Response::html(story(
            "about 4,500",
            Some("It's \"complicated\", officials said;\ttabs, commas, and a line\nbreak."),
        )),
    );
    let home = Home::sqlite(&format!(
        "[[feeds]]\nurl = \"{}\"\n",
        server.url("/rss.xml")
    ));
    home.ok(&["--poll"]);
    server.set("/one.html", Response::html(story("5,000", None)));
    home.ok(&["--poll", "--all"]);

    let db = home.path("figwatch.db");
    let out = home.ok(&["migrate", "--from", db.to_str().unwrap(), "--to", &pg]);
    assert!(out.contains("every table verified"), "{out}");
    assert!(!out.contains("DIFFERENT"), "{out}");

    let sqlite = rusqlite::Connection::open(&db).unwrap();
    for table in [
        "sources",
        "articles",
        "versions",
        "figures",
        "alerts",
        "ledger",
        "deliveries",
        "pages",
        "site_paragraphs",
    ] {
        let n: i64 = sqlite
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(pg_count(&pg, table), n, "{table}");
    }
    assert!(pg_count(&pg, "versions") >= 3);

    // A second copy into the same database is refused: nothing is overwritten.
    let again = home.figwatch(&["migrate", "--from", db.to_str().unwrap(), "--to", &pg]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("migrate into an empty database"));
}

#[test]
fn a_failed_connection_names_the_server_without_its_password() {
    let home = Home::sqlite("");
    let db = home.path("figwatch.db");
    rusqlite::Connection::open(&db).unwrap(); // an empty SQLite file to migrate from
    let out = home.figwatch(&[
        "migrate",
        "--from",
        db.to_str().unwrap(),
        "--to",
        "postgres://figwatch:hunter2@127.0.0.1:1/figwatch",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to postgres://figwatch:***@127.0.0.1:1/figwatch"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
#[ignore = "needs PostgreSQL: FIGWATCH_TEST_POSTGRES (see .ci/postgres), then --include-ignored"]
fn a_store_from_before_timestamptz_keeps_every_time_and_polls_on() {
    // A store as figwatch left it before times were `timestamptz`: schema version 6, times
    // as RFC 3339 text, a host never paused as the empty text.
    let pg = fresh_database("times");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    for file in &files[..6] {
        pg::batch(&pg, &std::fs::read_to_string(file).unwrap());
    }
    pg::batch(
        &pg,
        "UPDATE figwatch_schema SET version = 6;
         INSERT INTO sources (id, url, kind, added_at, last_polled_at, next_check_at)
         VALUES (1, 'http://127.0.0.1:9/gone.xml', 'feed', '2025-03-01T10:00:00.000Z',
                 '2025-03-01T10:05:00.250Z', '2025-03-01T11:00:00.000Z');
         INSERT INTO articles (id, url, source_id, first_seen_at, next_check_at, age_from)
         VALUES (1, 'http://127.0.0.1:9/a.html', 1, '2025-03-01T10:05:01.000Z',
                 '2025-03-01T13:05:01.000Z', '2025-03-01T10:05:01.000Z');
         INSERT INTO hosts (host, paused_until) VALUES ('127.0.0.1', '');
         INSERT INTO hosts (host, paused_until) VALUES ('example.org', '2999-01-01T00:00:00.000Z');",
    );
    let home = Home::with_database(
        "",
        "",
        "[[feeds]]\nurl = \"http://127.0.0.1:9/gone.xml\"\n",
        Some(pg.clone()),
    );
    let status = home.ok(&["status"]);
    assert!(
        status.contains("last poll 2025-03-01T10:05:00.250Z"),
        "{status}"
    );
    assert_eq!(
        pg::query_text(&pg, "SELECT max(version) FROM figwatch_schema"),
        files.len().to_string()
    );
    let text_times = pg::query_text(
        &pg,
        "SELECT count(*) FROM information_schema.columns
         WHERE table_schema = current_schema() AND data_type = 'text'
           AND (column_name LIKE '%\\_at' OR column_name IN ('ts', 'until', 'lease_until',
                'paused_until', 'failing_since', 'age_from'))",
    );
    assert_eq!(text_times, "0", "every time column is a timestamptz");
    for (sql, want) in [
        (
            "SELECT added_at FROM sources WHERE id = 1",
            "2025-03-01T10:00:00.000Z",
        ),
        (
            "SELECT next_check_at FROM articles WHERE id = 1",
            "2025-03-01T13:05:01.000Z",
        ),
        (
            "SELECT paused_until FROM hosts WHERE host = '127.0.0.1'",
            "",
        ),
        (
            "SELECT paused_until FROM hosts WHERE host = 'example.org'",
            "2999-01-01T00:00:00.000Z",
        ),
    ] {
        assert_eq!(pg::query_text(&pg, sql), want, "{sql}");
    }
    // And the store works on: a poll (the feed's server is gone) records its failure, with
    // the time it failed.
    let out = home.figwatch(&["--poll", "--all"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 failed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let polled = pg::query_text(&pg, "SELECT last_polled_at FROM sources WHERE id = 1");
    assert!(polled.as_str() > "2025-03-01T10:05:00.250Z", "{polled}");
    pg::drop_database(&pg);
}

/// The restartable server of `.ci/postgres tls`: its URL (TLS only, verify-full) and its
/// control script.
fn tls_server() -> (String, String) {
    let url = std::env::var("FIGWATCH_TEST_POSTGRES_TLS").expect(
        "set FIGWATCH_TEST_POSTGRES_TLS and FIGWATCH_TEST_POSTGRES_CTL (see .ci/postgres tls)",
    );
    let ctl = std::env::var("FIGWATCH_TEST_POSTGRES_CTL")
        .expect("set FIGWATCH_TEST_POSTGRES_CTL (see .ci/postgres tls)");
    (url, ctl)
}

fn ctl(script: &str, args: &[&str]) {
    let status = std::process::Command::new(script)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "{script} {args:?}: {status}");
}

fn wait_for(what: &str, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs the restartable TLS PostgreSQL server: FIGWATCH_TEST_POSTGRES_TLS and FIGWATCH_TEST_POSTGRES_CTL (see .ci/postgres tls), then --include-ignored"]
fn a_worker_over_tls_rides_out_a_server_restart_and_loses_no_alert() {
    let (base, script) = tls_server();
    let name = format!("figwatch_restart_{}", std::process::id());
    ctl(&script, &["createdb", &name]);
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    let url = url.to_string();

    let server = LocalServer::start().unwrap();
    server.set("/story.html", Response::html(story("3,000", None)));
    let home = Home::with_database(
        "interval = \"1s\"",
        "per_host_delay = \"0s\"",
        &format!("[[pages]]\nurl = \"{}\"\n", server.url("/story.html")),
        Some(url.clone()),
    );
    let mut daemon = home.spawn_daemon();
    wait_for(
        "the first alert",
        std::time::Duration::from_secs(30),
        || home.alert_log().len() == 1,
    );

    // The server restarts under the running worker: every connection it had is closed.
    ctl(&script, &["restart"]);
    server.set("/story.html", Response::html(story("4,000", None)));
    wait_for(
        "the figure_changed alert after the restart",
        std::time::Duration::from_secs(90),
        || home.alert_log().len() >= 2,
    );
    assert!(
        daemon.try_wait().unwrap().is_none(),
        "the worker is still running"
    );
    let log = home.alert_log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["kind"], "figure_changed");
    assert_eq!(log[1]["new"], 4000, "{}", log[1]);
    // The alert is in the store as well as in the log: nothing was lost between them.
    let status = home.ok(&["status"]);
    assert!(status.contains("2 versions"), "{status}");

    // A connection without TLS is refused by this server: the worker's went over TLS.
    let plain = url.replace("sslmode=verify-full", "sslmode=disable");
    let refused = figwatch_with_database(&home, &plain, &["status"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no encryption"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    assert!(daemon.wait().unwrap().success());
}

/// `figwatch ARGS` on `home`'s configuration with another database (`$FIGWATCH_DATABASE`).
fn figwatch_with_database(home: &Home, database: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_figwatch"))
        .env("FIGWATCH_DATABASE", database)
        .arg("--config")
        .arg(home.config())
        .args(args)
        .output()
        .unwrap()
}

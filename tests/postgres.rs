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

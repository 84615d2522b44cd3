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

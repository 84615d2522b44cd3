//! The PostgreSQL side of the end-to-end tests. `.ci/postgres` starts a throw-away server and
//! `.ci/run` passes its URL in FIGWATCH_TEST_POSTGRES; with FIGWATCH_TEST_BACKEND=postgres as
//! well, every test home gets a fresh database on it instead of an SQLite file, so that the
//! same end-to-end suite runs against both backends.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The test server's URL; without one, `None` (the caller skips), unless
/// FIGWATCH_REQUIRE_POSTGRES says a server must be there.
pub fn server() -> Option<String> {
    match std::env::var("FIGWATCH_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("FIGWATCH_REQUIRE_POSTGRES").is_none(),
                "FIGWATCH_REQUIRE_POSTGRES is set but FIGWATCH_TEST_POSTGRES is not: start a server with .ci/postgres"
            );
            None
        }
    }
}

/// True when the test homes are to use PostgreSQL.
pub fn backend_is_postgres() -> bool {
    std::env::var("FIGWATCH_TEST_BACKEND").is_ok_and(|b| b == "postgres") && server().is_some()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs statements (outside a transaction) on the database at `url`.
pub fn batch(url: &str, sql: &str) {
    runtime().block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("the test PostgreSQL server");
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
    });
}

/// A fresh, empty database on the test server, named after `name`, or `None` without one.
pub fn fresh_database(name: &str) -> Option<String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = server()?;
    let db = format!(
        "figwatch_{name}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    batch(&base, &format!("DROP DATABASE IF EXISTS {db}"));
    batch(&base, &format!("CREATE DATABASE {db}"));
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&db);
    Some(url.to_string())
}

/// Drops a database `fresh_database` made, whoever is still connected to it.
pub fn drop_database(url: &str) {
    let Some(base) = server() else { return };
    let name = url::Url::parse(url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_string();
    let _ = std::panic::catch_unwind(|| {
        batch(
            &base,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
    });
}

/// The first column of the first row of `sql`, as text (NULL as "").
pub fn query_text(url: &str, sql: &str) -> String {
    runtime().block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        // A time reads as figwatch writes it (RFC 3339, milliseconds, UTC), as from SQLite.
        let row = client
            .query_one(&format!("SELECT ({sql})"), &[])
            .await
            .unwrap();
        if *row.columns()[0].type_() == tokio_postgres::types::Type::TIMESTAMPTZ {
            return row
                .get::<_, Option<chrono::DateTime<chrono::Utc>>>(0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default();
        }
        let sql = format!("SELECT CAST(({sql}) AS TEXT)");
        client
            .query_one(&sql, &[])
            .await
            .unwrap()
            .get::<_, Option<String>>(0)
            .unwrap_or_default()
    })
}

//! Shared pieces of the end-to-end tests: a temporary home with a configuration, and the real
//! `figwatch` binary run against it.

#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod pg;
pub mod smtp;

pub use figwatch::demo::{article_page, rss_feed};
pub mod localhttp;
pub use localhttp::{LocalServer, Response};

pub struct Home {
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database of this home, when the suite runs against PostgreSQL
    /// (FIGWATCH_TEST_BACKEND=postgres); otherwise `figwatch.db` in `dir`.
    pub postgres: Option<String>,
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Some(url) = &self.postgres {
            pg::drop_database(url);
        }
    }
}

impl Home {
    /// A temporary folder with `figwatch.toml` holding `sources` (TOML) and the nk-troops topic.
    pub fn new(sources: &str) -> Home {
        // Every test server is on 127.0.0.1: one host. The politeness tests set their own limits.
        // Articles are checked again every second, as their feeds are polled.
        Home::custom(
            "interval = \"1s\"\n[articles]\nrecheck = [[\"1h\", \"1s\"]]",
            "per_host_delay = \"0s\"\nper_host_concurrency = 8",
            sources,
        )
    }

    /// Like `new`, with top-level keys (`top`) and `[fetch]` keys of the test's own.
    pub fn custom(top: &str, fetch: &str, sources: &str) -> Home {
        let postgres = if pg::backend_is_postgres() {
            pg::fresh_database("e2e")
        } else {
            None
        };
        Home::with_database(top, fetch, sources, postgres)
    }

    /// Like `new`, always on an SQLite file (tests of SQLite itself, and of `migrate`).
    pub fn sqlite(sources: &str) -> Home {
        Home::with_database(
            "interval = \"1s\"\n[articles]\nrecheck = [[\"1h\", \"1s\"]]",
            "per_host_delay = \"0s\"\nper_host_concurrency = 8",
            sources,
            None,
        )
    }

    /// A home on the PostgreSQL database `url` (several homes may share one: workers).
    pub fn with_database(top: &str, fetch: &str, sources: &str, postgres: Option<String>) -> Home {
        let dir = tempfile::tempdir().unwrap();
        let db = match &postgres {
            Some(url) => url.clone(),
            None => dir.path().join("figwatch.db").display().to_string(),
        };
        let config = format!(
            r#"database = "{db}"
alert_log = "{log}"
{top}

[fetch]
timeout = "2s"
# The test servers are on loopback addresses, which figwatch refuses by default.
allow_private = true
{fetch}

{sources}

{topic}"#,
            db = db,
            log = dir.path().join("alerts.jsonl").display(),
            topic = figwatch::demo::TOPIC_TOML,
        );
        std::fs::write(dir.path().join("figwatch.toml"), config).unwrap();
        Home { dir, postgres }
    }

    /// True when this home's store is an SQLite file; a test of SQLite's own behaviour says
    /// it is skipped otherwise.
    pub fn on_sqlite(&self, test: &str) -> bool {
        if self.postgres.is_some() {
            eprintln!("skipped on PostgreSQL: {test} is about the SQLite file");
        }
        self.postgres.is_none()
    }

    /// The first column of the first row of `sql` on this home's store, as text ("" for NULL).
    pub fn query(&self, sql: &str) -> String {
        match &self.postgres {
            Some(url) => pg::query_text(url, sql),
            None => {
                let db = rusqlite::Connection::open(self.path("figwatch.db")).unwrap();
                db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                db.query_row(sql, [], |r| {
                    Ok(match r.get_ref(0)? {
                        rusqlite::types::ValueRef::Null => String::new(),
                        rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                        rusqlite::types::ValueRef::Real(f) => f.to_string(),
                        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                    })
                })
                .unwrap()
            }
        }
    }

    /// Runs a statement that returns nothing on this home's store (a test moving time in the
    /// stored schedule).
    pub fn execute(&self, sql: &str) {
        match &self.postgres {
            Some(url) => pg::batch(url, sql),
            None => {
                let db = rusqlite::Connection::open(self.path("figwatch.db")).unwrap();
                db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                db.execute_batch(sql).unwrap();
            }
        }
    }

    /// `query` for a count or another integer.
    pub fn count(&self, sql: &str) -> i64 {
        self.query(sql)
            .parse()
            .unwrap_or_else(|_| panic!("not an integer: {sql}"))
    }

    /// SQLite's integrity check ("ok"); PostgreSQL checks its own pages, so "ok" there.
    pub fn integrity(&self) -> String {
        match &self.postgres {
            Some(_) => "ok".into(),
            None => self.query("PRAGMA integrity_check"),
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("figwatch.toml")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Serves the dashboard on a free port of 127.0.0.1: `[web] listen` (with `extra` keys of
    /// `[web]`) at the end of the configuration, in place of a `[web]` it ended with. Returns
    /// the port.
    pub fn listen_web(&self, extra: &str) -> u16 {
        let port = free_port();
        let config = std::fs::read_to_string(self.config()).unwrap();
        let config = match config.find("\n[web]") {
            Some(i) => &config[..i],
            None => &config,
        };
        std::fs::write(
            self.config(),
            format!("{config}\n[web]\nlisten = \"127.0.0.1:{port}\"\n{extra}"),
        )
        .unwrap();
        port
    }

    /// Runs `figwatch --config <home> ARGS` and waits for it.
    pub fn figwatch(&self, args: &[&str]) -> Output {
        figwatch(&self.config(), args)
    }

    /// Like `figwatch`, but the command must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.figwatch(args);
        assert!(
            out.status.success(),
            "figwatch {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Starts `figwatch --config <home> ARGS` in the background, its output on pipes.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_figwatch"))
            .arg("--config")
            .arg(self.config())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Starts `figwatch --config <home> run` in the background, its log on a pipe.
    pub fn spawn_daemon(&self) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_figwatch"))
            .arg("--config")
            .arg(self.config())
            .arg("run")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The alert log's lines, parsed.
    pub fn alert_log(&self) -> Vec<serde_json::Value> {
        match std::fs::read_to_string(self.path("alerts.jsonl")) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).expect("whole JSON lines"))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// `figwatch history URL --json`, parsed.
    pub fn history(&self, url: &str) -> Vec<serde_json::Value> {
        self.ok(&["history", url, "--json"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

pub fn figwatch(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_figwatch"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("FIGWATCH_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The story, with its casualty figure and an optional extra paragraph.
pub fn story(casualties: &str, extra: Option<&str>) -> String {
    let second = format!("Officials said on Monday that {casualties} North Korean troops had been killed or wounded since they joined the fighting in the Kursk region.");
    let mut paragraphs = vec![
        "North Korea has sent soldiers to fight for Russia in the Kursk region, where Ukrainian forces have held ground since August 2024.",
        second.as_str(),
        "The figures could not be independently verified. Pyongyang has not commented on its losses, and Moscow has not confirmed their presence.",
    ];
    if let Some(extra) = extra {
        paragraphs.push(extra);
    }
    article_page("North Korean troops in Kursk", &paragraphs)
}

/// Where `story_site` serves its story.
pub const ARTICLE: &str = "/world/nk-troops.html";

/// A news site with one feed (`/rss.xml`) linking one story at [`ARTICLE`] that reports 3,000
/// casualties, and a home watching it (not yet polled).
pub fn story_site() -> (LocalServer, Home) {
    let server = story_server();
    let home = Home::new(&format!(
        "[[feeds]]\nurl = \"{}\"\n",
        server.url("/rss.xml")
    ));
    (server, home)
}

/// The server of `story_site`: `/rss.xml` listing the story at [`ARTICLE`] (3,000 casualties).
pub fn story_server() -> LocalServer {
    let server = LocalServer::start().unwrap();
    list_story(&server);
    server.set(ARTICLE, Response::html(story("3,000", None)));
    server
}

/// `/rss.xml` lists the story at [`ARTICLE`] (again).
pub fn list_story(server: &LocalServer) {
    let base = server.url("");
    server.set(
        "/rss.xml",
        Response::ok(
            "application/rss+xml",
            rss_feed(&base, &[("North Korean troops in Kursk", ARTICLE)]),
        ),
    );
}

/// Lets `command` write files of at most `limit` bytes, as a disk that fills there would
/// (SIGXFSZ ignored, so the write fails with an error instead of killing the process).
pub fn limit_file_size(command: &mut Command, limit: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let rl = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &rl);
            Ok(())
        });
    }
}

/// `/rss.xml` on `server` lists `paths`, each an entry titled "Story".
pub fn list_paths(server: &LocalServer, paths: &[String]) {
    let entries: Vec<(&str, &str)> = paths.iter().map(|p| ("Story", p.as_str())).collect();
    server.set(
        "/rss.xml",
        Response::ok("application/rss+xml", rss_feed(&server.url(""), &entries)),
    );
}

/// A free port on 127.0.0.1 (for a server the test starts by its own means).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port` of 127.0.0.1 (a server the test started).
pub fn wait_port(port: u16, what: &str) {
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{what} did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Where `dashboard_site` serves the article whose text holds markup.
pub const XSS: &str = "/world/xss.html";

/// The dashboard's fixture: the story revised once (3,000 → 4,000, polled twice) and an
/// article whose text holds `<script>` and `onerror=` (escaped in the page, so they are text).
pub fn dashboard_site(markup: &str) -> (LocalServer, Home) {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    server.set(
        "/rss.xml",
        Response::ok(
            "application/rss+xml",
            rss_feed(&base, &[("Story", ARTICLE), ("Hostile", XSS)]),
        ),
    );
    server.set(ARTICLE, Response::html(story("3,000", None)));
    server.set(XSS, Response::html(story("3,000", Some(markup))));
    let home = Home::new(&format!(
        "[[feeds]]\nurl = \"{}\"\n",
        server.url("/rss.xml")
    ));
    home.ok(&["--poll"]);
    server.set(ARTICLE, Response::html(story("4,000", None)));
    home.ok(&["--poll", "--all"]);
    (server, home)
}

//! Pages written by JavaScript, rendered in headless Chromium by the real binary: the text that
//! appears only after scripts run is read and alerted on, a script's request to an internal
//! address is refused by figwatch's proxy (and logged) while the page is still read, a page
//! that never finishes loading is read at its budget, and the browser is started again when
//! it dies or grows past `[render] max_memory`.
//!
//! The tests that start Chromium need Debian's `chromium`, so a plain `cargo test` lists them
//! as ignored (never as passed); `.ci/run` installs it and runs them with `--include-ignored`.
//! They run on SQLite only: rendering does not touch the store's dialect, and CI stays short.

mod common;

use std::path::Path;

use common::*;

const CHROMIUM: &str = "/usr/bin/chromium";

fn need_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium"
    );
}

/// The paragraphs of the story, with `casualties` in its second.
fn paragraphs(casualties: &str) -> Vec<String> {
    vec![
        "North Korea has sent soldiers to fight for Russia in the Kursk region, where Ukrainian forces have held ground since August 2024.".into(),
        format!("Officials said on Monday that {casualties} North Korean troops had been killed or wounded since they joined the fighting in the Kursk region."),
        "The figures could not be independently verified. Pyongyang has not commented on its losses, and Moscow has not confirmed their presence.".into(),
    ]
}

/// An app shell whose article is fetched and written by `script` (a path on the same server).
fn shell(script: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Demo News</title></head>\
         <body><nav><a href=\"/\">Home</a></nav><div id=\"app\">Loading…</div>\
         <script src=\"{script}\"></script></body></html>"
    )
}

/// The app: the story from `/api/story.json`, and a request to `internal` that figwatch must
/// refuse.
fn app_js(internal: &str) -> String {
    format!(
        r#"fetch("{internal}").catch(() => {{}});
fetch("/api/story.json").then(r => r.json()).then(s => {{
  document.title = s.title + " | Demo News";
  const paragraphs = s.paragraphs.map(p => "<p>" + p + "</p>").join("");
  document.getElementById("app").innerHTML =
    "<article><h1>" + s.title + "</h1><p class=\"byline\">By Demo Desk</p>" + paragraphs + "</article>";
}});"#
    )
}

fn story_json(casualties: &str) -> String {
    serde_json::json!({
        "title": "North Korean troops in Kursk",
        "paragraphs": paragraphs(casualties),
    })
    .to_string()
}

/// The story as a served page (its text in the HTML), with `end` before `</body>`.
fn story_page(end: &str) -> String {
    let story = paragraphs("3,000");
    let refs: Vec<&str> = story.iter().map(String::as_str).collect();
    figwatch::demo::article_page("North Korean troops in Kursk", &refs)
        .replace("</body>", &format!("{end}</body>"))
}

/// The story at `/slow.html`, whose last script never arrives: the page never finishes
/// loading. Rendered within `timeout`.
fn never_loading_site(timeout: &str) -> (LocalServer, Home) {
    let server = LocalServer::start().unwrap();
    server.set(
        "/slow.html",
        Response::html(story_page("<script src=\"/never.js\"></script>")),
    );
    server.set(
        "/never.js",
        Response::ok("text/javascript", "").delayed(std::time::Duration::from_secs(120)),
    );
    let home = guarded_home(
        &format!(
            "[[pages]]\nurl = \"{}\"\nrender = \"chromium\"\n",
            server.url("/slow.html")
        ),
        &format!("timeout = \"{timeout}\""),
    );
    (server, home)
}

/// A home that refuses internal addresses except 127.0.0.1 (the test site), as a deployment
/// would refuse them all.
fn guarded_home(sources: &str, render: &str) -> Home {
    let home = Home::sqlite(sources);
    let config = std::fs::read_to_string(home.config()).unwrap();
    let config = config.replace(
        "allow_private = true",
        "allow_private = false\nallow_hosts = [\"127.0.0.1\"]",
    );
    std::fs::write(home.config(), format!("{config}\n[render]\n{render}\n")).unwrap();
    home
}

#[test]
#[ignore = "needs chromium; run with `cargo test --test render -- --include-ignored` (.ci/run does)"]
fn a_page_written_by_javascript_is_read_after_rendering_and_its_internal_request_refused() {
    need_chromium();
    let server = LocalServer::start().unwrap();
    // Another loopback host, not allowed: nothing may reach it.
    let internal = LocalServer::start_on("127.0.0.2").unwrap();
    internal.set("/secret", Response::ok("text/plain", "secret"));
    server.set("/app.html", Response::html(shell("/app.js?v=1")));
    server.set("/plain.html", Response::html(shell("/app.js?v=1")));
    server.set(
        "/app.js",
        Response::ok("text/javascript", app_js(&internal.url("/secret"))),
    );
    server.set(
        "/api/story.json",
        Response::ok("application/json", story_json("3,000")),
    );
    let home = guarded_home(
        &format!(
            "[[pages]]\nurl = \"{}\"\nrender = \"chromium\"\n\n[[pages]]\nurl = \"{}\"\n",
            server.url("/app.html"),
            server.url("/plain.html")
        ),
        "tabs = 2\ntimeout = \"20s\"",
    );
    let check = home.ok(&["check-config"]);
    assert!(check.contains("render     1 source(s) through"), "{check}");
    assert!(check.contains("(rendered in Chromium)"), "{check}");

    let out = home.figwatch(&["--poll"]);
    let log = String::from_utf8_lossy(&out.stderr);
    let log_alerts = home.alert_log();
    assert_eq!(log_alerts.len(), 1, "{log_alerts:?}\n{log}");
    assert_eq!(log_alerts[0]["new"].as_i64(), Some(3000), "{log_alerts:?}");
    assert!(
        log_alerts[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/app.html")),
        "{log_alerts:?}"
    );
    // The same shell read as served is "Home Loading…": only rendering finds the story.
    let history = home.history(&server.url("/app.html"));
    assert_eq!(history.len(), 1, "{history:?}");
    let plain = home.query(
        "SELECT v.text FROM versions v JOIN articles a ON a.id = v.article_id WHERE a.url LIKE '%/plain.html'",
    );
    assert!(!plain.contains("Kursk"), "{plain}");
    let rendered = home.query(
        "SELECT v.text FROM versions v JOIN articles a ON a.id = v.article_id WHERE a.url LIKE '%/app.html'",
    );
    assert!(
        rendered.contains("killed or wounded") && !rendered.contains("Loading"),
        "{rendered}"
    );
    assert_eq!(internal.hits("/secret"), 0, "the browser reached 127.0.0.2");
    assert!(
        log.contains("refused a request of the browser") && log.contains("127.0.0.2"),
        "the refusal is not logged:\n{log}"
    );
    // `extract --render` shows what a poll would read; without it, the shell.
    let app = server.url("/app.html");
    let shown = home.ok(&["extract", "--render", &app]);
    assert!(shown.contains("killed or wounded"), "{shown}");
    let plain = home.figwatch(&["extract", &app]);
    assert!(
        !String::from_utf8_lossy(&plain.stdout).contains("killed or wounded"),
        "{plain:?}"
    );
    let file = home.figwatch(&["extract", "--render", "page.html"]);
    assert!(
        !file.status.success()
            && String::from_utf8_lossy(&file.stderr).contains("--render needs an http(s) URL"),
        "{file:?}"
    );
    let status = home.ok(&["status"]);
    assert!(status.contains("rendered in headless Chromium"), "{status}");
    let rows: Vec<serde_json::Value> = home
        .ok(&["status", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let render_of = |path: &str| {
        rows.iter()
            .find(|r| r["url"].as_str().is_some_and(|u| u.ends_with(path)))
            .map(|r| r["render"].clone())
    };
    assert_eq!(render_of("/app.html"), Some(serde_json::Value::Bool(true)));
    assert_eq!(
        render_of("/plain.html"),
        Some(serde_json::Value::Bool(false))
    );

    // The story's data changes but the shell does not: the conditional fetch sees the same
    // bytes and nothing is rendered. A new shell (a new script version) is rendered, and the
    // new figure is an edit.
    server.set(
        "/api/story.json",
        Response::ok("application/json", story_json("4,000")),
    );
    let api_before = server.hits("/api/story.json");
    home.ok(&["--poll"]);
    assert_eq!(
        server.hits("/api/story.json"),
        api_before,
        "rendered though unchanged"
    );
    server.set("/app.html", Response::html(shell("/app.js?v=2")));
    home.ok(&["--poll"]);
    let alerts = home.alert_log();
    let last = alerts.last().unwrap();
    assert_eq!(
        (
            last["kind"].as_str(),
            last["old"].as_i64(),
            last["new"].as_i64()
        ),
        (Some("figure_changed"), Some(3000), Some(4000)),
        "{alerts:?}"
    );
}

#[test]
#[ignore = "needs chromium; run with `cargo test --test render -- --include-ignored` (.ci/run does)"]
fn a_page_that_never_finishes_loading_is_read_at_its_budget() {
    need_chromium();
    let (_server, home) = never_loading_site("3s");
    let out = home.figwatch(&["--poll"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("still loading at [render] timeout"),
        "not stopped at its budget:\n{log}"
    );
    let alerts = home.alert_log();
    assert_eq!(alerts.len(), 1, "{alerts:?}\n{log}");
    assert_eq!(alerts[0]["new"].as_i64(), Some(3000));
}

#[test]
fn check_config_fails_clearly_without_chromium() {
    let home =
        Home::new("[[pages]]\nurl = \"http://127.0.0.1:9/app.html\"\nrender = \"chromium\"\n");
    let config = std::fs::read_to_string(home.config()).unwrap();
    std::fs::write(
        home.config(),
        format!("{config}\n[render]\nchromium = \"/nonexistent/chromium\"\n"),
    )
    .unwrap();
    let out = home.figwatch(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "check-config passed without Chromium"
    );
    assert!(
        err.contains("/nonexistent/chromium ([render] chromium) does not exist")
            && err.contains("apt-get install chromium"),
        "{err}"
    );
    let out = home.figwatch(&["--poll"]);
    assert!(!out.status.success(), "a poll ran without Chromium");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Chromium was not found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An unknown renderer is a configuration error at its key.
    std::fs::write(
        home.config(),
        config.replace("render = \"chromium\"", "render = \"firefox\""),
    )
    .unwrap();
    let out = home.figwatch(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("pages[0].render") && err.contains("\"firefox\""),
        "{err}"
    );
}

/// The inodes of the TCP sockets listening on this machine.
fn listening_sockets() -> Vec<String> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .skip(1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // The fourth field is the state (0A: listening), the tenth the inode.
            (fields.get(3) == Some(&"0A")).then(|| fields.get(9).map(|s| s.to_string()))?
        })
        .collect()
}

/// A page for the renderer's own tests.
fn simple_site() -> LocalServer {
    let server = LocalServer::start().unwrap();
    server.set(
        "/a.html",
        Response::html("<html><body><p id=t>static</p><script>document.getElementById('t').textContent = 'written by script';</script></body></html>"),
    );
    server
}

#[test]
#[ignore = "needs chromium; run with `cargo test --test render -- --include-ignored` (.ci/run does)"]
fn the_browser_is_started_again_when_it_dies_or_outgrows_its_memory() {
    need_chromium();
    let server = simple_site();
    let url = url::Url::parse(&server.url("/a.html")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let fetch = figwatch::config::FetchSettings {
            allow_private: false,
            allow_hosts: vec!["127.0.0.1".into()],
            max_body: 1 << 20,
            ..Default::default()
        };
        let settings = figwatch::config::RenderSettings::default();
        let renderer =
            figwatch::render::Renderer::new(settings.clone(), "figwatch-test", &fetch).unwrap();
        let page = renderer.render(&url).await.unwrap();
        assert!(page.html.contains("written by script"), "{}", page.html);
        let pid = renderer.browser_pid().await.unwrap();
        // No memory both writable and executable, for figwatch and (inherited) its browser.
        // SAFETY: PR_GET_MDWE reads a flag of this process.
        let mdwe = unsafe { libc::prctl(libc::PR_GET_MDWE, 0, 0, 0, 0) };
        // A kernel older than 6.3 has no such flag (-1): there, --jitless is what holds.
        if mdwe >= 0 {
            assert_eq!(
                mdwe,
                libc::PR_MDWE_REFUSE_EXEC_GAIN as i32,
                "PR_SET_MDWE was not applied"
            );
        }
        let tree = figwatch::render::memory::tree(pid);
        assert!(
            tree.len() > 1,
            "Chromium runs as a tree of processes: {tree:?}"
        );
        // DevTools is spoken over a pipe: no process of the browser listens on a port that
        // another local user could connect to.
        let listening = listening_sockets();
        for p in &tree {
            let fds = std::fs::read_dir(format!("/proc/{p}/fd"));
            for fd in fds.into_iter().flatten().flatten() {
                let link = std::fs::read_link(fd.path()).unwrap_or_default();
                let link = link.to_string_lossy();
                assert!(
                    !listening
                        .iter()
                        .any(|inode| *link == format!("socket:[{inode}]")),
                    "process {p} of the browser listens on a TCP port"
                );
            }
        }
        // Killed from outside: the next page starts a new browser.
        figwatch::render::memory::kill_tree(pid);
        let page = renderer.render(&url).await.unwrap();
        assert!(page.html.contains("written by script"));
        let counts = renderer.counts();
        assert_eq!((counts.pages, counts.launches), (2, 2), "{counts:?}");
        assert_ne!(renderer.browser_pid().await, Some(pid));
        for p in tree {
            assert!(
                !figwatch::render::memory::is_running(p),
                "process {p} of the dead browser still runs"
            );
        }

        // A browser that holds more than max_memory is retired after each page.
        let small = figwatch::config::RenderSettings {
            max_memory: 64 << 20,
            ..settings
        };
        let renderer = figwatch::render::Renderer::new(small, "figwatch-test", &fetch).unwrap();
        for _ in 0..3 {
            renderer.render(&url).await.unwrap();
        }
        let counts = renderer.counts();
        assert_eq!((counts.pages, counts.launches), (3, 3), "{counts:?}");
    });
}

#[test]
#[ignore = "needs chromium; run with `cargo test --test render -- --include-ignored` (.ci/run does)"]
fn hostile_pages_cost_their_budget_and_nothing_else() {
    need_chromium();
    let server = LocalServer::start().unwrap();
    let internal = LocalServer::start_on("127.0.0.2").unwrap();
    internal.set(
        "/admin",
        Response::html("<html><body><p>admin</p></body></html>"),
    );
    // A script that never ends: the tab is closed by the browser at the budget.
    server.set(
        "/spin.html",
        Response::html(story_page("<script>for (;;) {}</script>")),
    );
    // A script that sends the browser to an internal address: refused by the proxy, and what
    // the browser then shows is not read as the article.
    server.set(
        "/away.html",
        Response::html(story_page(&format!(
            "<script>location.replace({:?})</script>",
            internal.url("/admin")
        ))),
    );
    server.set("/app.html", Response::html(shell("/app.js")));
    server.set(
        "/app.js",
        Response::ok("text/javascript", app_js(&internal.url("/admin"))),
    );
    server.set(
        "/api/story.json",
        Response::ok("application/json", story_json("3,000")),
    );
    let pages: String = ["/spin.html", "/away.html", "/app.html"]
        .iter()
        .map(|p| {
            format!(
                "[[pages]]\nurl = \"{}\"\nrender = \"chromium\"\n\n",
                server.url(p)
            )
        })
        .collect();
    let home = guarded_home(&pages, "tabs = 2\ntimeout = \"3s\"");
    let out = home.figwatch(&["--poll"]);
    let log = String::from_utf8_lossy(&out.stderr);
    let alerts = home.alert_log();
    assert_eq!(alerts.len(), 1, "{alerts:?}\n{log}");
    assert!(
        alerts[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/app.html")),
        "{alerts:?}"
    );
    assert_eq!(internal.hits("/admin"), 0, "the browser reached 127.0.0.2");
    let versions = |path: &str| {
        home.count(&format!(
            "SELECT COUNT(*) FROM versions v JOIN articles a ON a.id = v.article_id WHERE a.url LIKE '%{path}'"
        ))
    };
    assert_eq!(versions("/spin.html"), 0, "{log}");
    assert_eq!(versions("/away.html"), 0, "{log}");
    let status = home.ok(&["status"]);
    assert!(status.contains("Chromium could not read"), "{status}");
    assert!(status.contains("away from the page's site"), "{status}");
}

#[test]
#[ignore = "needs chromium; run with `cargo test --test render -- --include-ignored` (.ci/run does)"]
fn no_browser_outlives_a_figwatch_that_is_killed() {
    need_chromium();
    let (server, home) = never_loading_site("60s");
    let mut figwatch = home.spawn(&["--poll"]);
    let pid = figwatch.id();
    // Wait for the browser to be rendering (it waits for never.js).
    let mut tree = Vec::new();
    for _ in 0..300 {
        tree = figwatch::render::memory::tree(pid);
        if tree.len() > 2 && server.hits("/never.js") > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(server.hits("/never.js") > 0, "the page was never rendered");
    let browser: Vec<u32> = tree.into_iter().filter(|p| *p != pid).collect();
    assert!(!browser.is_empty());
    // SIGKILL: figwatch gets no chance to close its browser.
    figwatch.kill().unwrap();
    figwatch.wait().unwrap();
    let running = |p: &u32| figwatch::render::memory::is_running(*p);
    for _ in 0..100 {
        if !browser.iter().any(running) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let left: Vec<&u32> = browser.iter().filter(|p| running(p)).collect();
    assert!(
        left.is_empty(),
        "browser processes outlived figwatch: {left:?}"
    );
}

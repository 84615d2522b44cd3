//! The dashboard through the real binary (`figwatch serve`) on 127.0.0.1, over a database the
//! real pipeline filled: pages, their links, the diff, the chart's marks, JSON, Atom, metrics,
//! escaping of hostile article text, and the token.

mod common;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

fn request(method: &str, url: &str, token: Option<&str>) -> Page {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // A dashboard that stops answering fails the test instead of hanging it.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let mut req = client.request(method.parse().unwrap(), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        Page {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    })
}

fn get(url: &str) -> Page {
    request("GET", url, None)
}

/// A story revised once (3,000 → 4,000) and an article whose text holds markup.
fn watched() -> (LocalServer, Home) {
    dashboard_site("A reader wrote &lt;script&gt;alert('xss')&lt;/script&gt; and &lt;img src=x onerror=alert(1)&gt; in the comments.")
}

fn serve(home: &Home, extra: &str) -> Served {
    let port = home.listen_web(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_figwatch"))
        .arg("--config")
        .arg(home.config())
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_port(port, "the dashboard");
    Served { child, base }
}

#[test]
fn alerts_lead_to_the_diff_and_the_topic_chart_has_a_mark_per_figure() {
    let (server, home) = watched();
    let web = serve(&home, "");

    let alerts = get(&format!("{}/alerts", web.base));
    assert_eq!(alerts.status, 200);
    let csp = alerts.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(
        alerts.body.contains(
            "<span class=\"measure\">casualties</span> <span class=\"change\">3,000 → 4,000</span>"
        ),
        "{}",
        alerts.body
    );
    // The figure_changed alert links to its version's diff.
    let href = alerts
        .body
        .split("href=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().replace("&amp;", "&"))
        .find(|h| h.starts_with("/article?") && h.contains("to=2"))
        .expect("a link to version 2");
    assert!(href.contains("from=1"), "{href}");
    let diff = get(&format!("{}{href}", web.base));
    assert_eq!(diff.status, 200);
    assert!(diff.body.contains("<del>3,000</del>"), "{}", diff.body);
    assert!(diff.body.contains("<ins>4,000</ins>"), "{}", diff.body);

    // A third version that only adds a paragraph repeats the 4,000: one more stored figure,
    // not one more report.
    server.set(
        ARTICLE,
        Response::html(story("4,000", Some("The ministry gave no details."))),
    );
    home.ok(&["--poll", "--all"]);

    // One mark per stored figure of the topic.
    let stored = home
        .ok(&["export", "figures", "--format", "jsonl"])
        .lines()
        .filter(|l| l.contains("\"topic\":\"nk-troops\""))
        .count();
    let topic = get(&format!("{}/topics/nk-troops", web.base));
    assert_eq!(topic.status, 200);
    assert!(topic.body.contains("<svg"), "{}", topic.body);
    assert_eq!(topic.body.matches("class=\"mark ").count(), stored);
    assert!(stored >= 3);
    assert!(topic.body.contains("<title>4,000"), "marks say their value");
    // Each measure counts the articles that report it, however many versions repeat them.
    let mut articles = std::collections::HashSet::new();
    let mut rows = 0;
    for line in home.ok(&["export", "figures", "--format", "jsonl"]).lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        if row["topic"] == "nk-troops" && row["measure"] == "casualties" {
            articles.insert(row["url"].to_string());
            rows += 1;
        }
    }
    assert!(
        articles.len() < rows,
        "versions repeat their article's figures"
    );
    assert!(
        topic.body.contains(&format!(
            "casualties <span class=\"count\">(reported by {} articles)",
            articles.len()
        )),
        "{}",
        topic.body
    );

    // The article with markup in its text renders it as text.
    let xss = get(&format!(
        "{}/article?url={}",
        web.base,
        url::form_urlencoded::byte_serialize(server.url(XSS).as_bytes()).collect::<String>()
    ));
    assert_eq!(xss.status, 200);
    assert!(
        xss.body
            .contains("&lt;script&gt;alert('xss')&lt;/script&gt;"),
        "{}",
        xss.body
    );
    assert!(!xss.body.contains("<script"), "no script element");
    assert!(!xss.body.contains("<img src=x"), "no img element");

    let sources = get(&format!("{}/sources", web.base));
    assert!(sources.body.contains(&server.url("/rss.xml")));
}

#[test]
fn json_atom_health_and_metrics_say_the_same_as_the_pages() {
    let (_server, home) = watched();
    let web = serve(&home, "");
    let stored: HashSet<String> = home
        .ok(&["alerts", "--json"])
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();

    let api: serde_json::Value =
        serde_json::from_str(&get(&format!("{}/api/alerts", web.base)).body).unwrap();
    let ids: HashSet<String> = api
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, stored);

    let atom = get(&format!("{}/alerts.atom", web.base));
    assert!(atom.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let feed = feed_rs::parser::parse(atom.body.as_bytes()).expect("a valid Atom feed");
    assert_eq!(feed.entries.len(), stored.len());

    assert_eq!(get(&format!("{}/healthz", web.base)).body, "ok\n");
    let metrics = get(&format!("{}/metrics", web.base)).body;
    assert!(metrics.contains("figwatch_versions 3"), "{metrics}");
    assert!(
        metrics.contains("figwatch_alerts{kind=\"figure_changed\"} 1"),
        "{metrics}"
    );

    // Read-only: nothing but GET.
    assert_eq!(
        request("POST", &format!("{}/alerts", web.base), None).status,
        405
    );
    assert_eq!(get(&format!("{}/topics/nope", web.base)).status, 404);
}

#[test]
fn with_a_token_nothing_is_shown_without_it() {
    let (_server, home) = watched();
    std::fs::write(home.path("web.token"), "0123456789abcdef-secret\n").unwrap();
    let web = serve(
        &home,
        &format!("token_file = \"{}\"\n", home.path("web.token").display()),
    );
    let url = format!("{}/alerts", web.base);
    assert_eq!(get(&url).status, 401);
    assert_eq!(
        request("GET", &url, Some("wrong-token-wrong-token")).status,
        401
    );
    let ok = request("GET", &url, Some("0123456789abcdef-secret"));
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("casualties"));
    // Once by query, then by the cookie it sets.
    let by_query = get(&format!("{url}?token=0123456789abcdef-secret"));
    assert_eq!(by_query.status, 200);
    let cookie = by_query.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert_eq!(
        get(&format!("{}/healthz", web.base)).status,
        200,
        "health needs no token"
    );
}

#[test]
fn the_daemon_serves_the_dashboard_with_live_metrics() {
    let (_server, home) = watched();
    let port = home.listen_web("");
    let mut daemon = home.spawn_daemon();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    // The daemon polls at start (the sources are due within the test's 1s interval).
    let metrics = loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let m = get(&format!("{base}/metrics")).body;
            if !m.contains("figwatch_fetch_duration_seconds_count 0\n") {
                break m;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no fetch counted"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert!(
        metrics.contains("# TYPE figwatch_fetch_duration_seconds histogram"),
        "{metrics}"
    );
    assert!(
        metrics.contains("figwatch_polls_total{outcome="),
        "{metrics}"
    );
    assert!(metrics.contains("figwatch_versions 3"), "{metrics}");
}

/// True when `text` holds a control character a terminal acts on or XML forbids (tab and
/// line feed aside).
fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// An article holding terminal sequences (colour, an OSC-8 link, erase-line) and characters XML
/// forbids reaches no terminal and no feed reader, and the sequences make no figure. A store
/// written before the text was cleaned (simulated by editing an alert) is shown, not obeyed.
#[test]
fn control_characters_reach_no_terminal_and_no_feed_reader() {
    let (server, home) = dashboard_site(
        "Officials later said \u{1b}[1m4,500\u{1b}[0m North Korean troops had been killed or \
         wounded\u{7} \u{1b}]8;;http://evil.example/\u{1b}\\in Kursk\u{1b}]8;;\u{1b}\\.\u{1b}[2K\u{0}\u{85}",
    );
    let web = serve(&home, "");
    let versions = home.ok(&["export", "versions", "--format", "jsonl"]);
    let hostile: Vec<serde_json::Value> = versions
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["url"].as_str().unwrap().ends_with(XSS))
        .collect();
    assert_eq!(hostile.len(), 1, "{versions}");
    let text = hostile[0]["text"].as_str().unwrap();
    assert!(!has_control(text), "{text:?}");
    assert!(
        text.contains(
            "Officials later said 4,500 North Korean troops had been killed or wounded in Kursk."
        ),
        "the text around the sequences is kept: {text:?}"
    );
    assert!(!text.contains("[1m") && !text.contains("evil"), "{text:?}");
    let figures = home.ok(&["figures", "--json"]);
    for line in figures.lines() {
        let f: serde_json::Value = serde_json::from_str(line).unwrap();
        let value = f["value"].as_f64().unwrap();
        assert!(
            [3000.0, 4000.0, 4500.0].contains(&value),
            "no figure from a sequence: {f}"
        );
    }

    // An alert stored with control characters (as a store from before would hold them).
    home.execute(
        "UPDATE alerts SET payload = replace(payload, 'Kursk', '\\u001b[2K\\u0007Kursk\\u0085')",
    );
    for args in [
        &["alerts"][..],
        &["figures"],
        &["alerts", "--json"],
        &["status"],
    ] {
        let out = home.ok(args);
        assert!(
            !has_control(&out),
            "{args:?} wrote a control character: {out:?}"
        );
    }
    let shown = home.ok(&["alerts"]);
    assert!(
        shown.contains("\\u001b[2K\\u0007Kursk"),
        "shown, not obeyed: {shown}"
    );
    let atom = get(&format!("{}/alerts.atom", web.base)).body;
    assert!(!has_control(&atom), "{atom:?}");
    assert!(atom.contains("Kursk"), "{atom}");
    feed_rs::parser::parse(atom.as_bytes()).expect("a valid Atom feed");
    drop(server);
}

/// True when the server has closed `stream` (or closes it within 3 s).
async fn closed(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// The open file descriptors of process `pid`.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// 1,100 connections that never finish their request headers, from 40 addresses, against a
/// daemon limited to 1,024 open files (systemd's default): the dashboard keeps at most 256 of
/// them, closing the longest idle to make room, so a health check is answered during the flood
/// and the daemon goes on polling; every one of them is closed within the header timeout
/// (10 s), and so is a kept-alive connection that sends no second request.
#[test]
fn slow_clients_cannot_take_the_daemon_down() {
    use std::os::unix::process::CommandExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (server, home) = story_site();
    let port = home.listen_web("");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_figwatch"));
    daemon
        .arg("--config")
        .arg(home.config())
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
    unsafe {
        daemon.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: 1024,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            Ok(())
        });
    }
    let mut daemon = Served {
        child: daemon.spawn().unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    wait_port(port, "the dashboard");
    let pid = daemon.child.id();
    let wait_for_versions = |n: i64| {
        let started = Instant::now();
        while home.count("SELECT count(*) FROM versions") < n {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "version {n} not stored"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for_versions(1);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut flood = rt.block_on(async {
        let mut flood = Vec::new();
        for i in 0..1100u32 {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket
                .bind(format!("127.0.0.{}:0", 2 + i % 40).parse().unwrap())
                .unwrap();
            let mut stream = socket
                .connect(format!("127.0.0.1:{port}").parse().unwrap())
                .await
                .unwrap();
            let _ = stream
                .write_all(b"GET /alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .await;
            flood.push(stream);
        }
        flood
    });
    let flooded = Instant::now();

    // During the flood: the dashboard answers, holds a bounded share of descriptors, and the
    // daemon polls.
    let health = get(&format!("{}/healthz", daemon.base));
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let held = open_files(pid);
    assert!(held < 400, "the daemon holds {held} open files");
    server.set(ARTICLE, Response::html(story("4,000", None)));
    wait_for_versions(2);

    // A kept-alive connection that asks once and then says nothing.
    let mut kept = rt.block_on(async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        s
    });
    std::thread::sleep(Duration::from_secs(12).saturating_sub(flooded.elapsed()));
    rt.block_on(async {
        let open = {
            let mut open = 0;
            for s in &mut flood {
                if !closed(s).await {
                    open += 1;
                }
            }
            open
        };
        assert_eq!(
            open, 0,
            "slow connections still open after the header timeout"
        );
        assert!(
            closed(&mut kept).await,
            "an idle kept-alive connection was left open"
        );
    });
    drop(flood);
    let health = get(&format!("{}/healthz", daemon.base));
    assert_eq!(health.status, 200);
    let _ = daemon.child.kill();
}

/// The dashboard reads a store on a read-only mount (the daemon's state shared read-only):
/// SQLite cannot create the WAL's `-shm` file there, so the file is read as immutable.
/// The mount is made with `unshare -m` (root, as in CI); without it the test fails, saying so.
#[test]
fn the_dashboard_reads_a_store_on_a_read_only_mount() {
    let server = story_server();
    let home = Home::sqlite(&format!(
        "[[feeds]]\nurl = \"{}\"\n",
        server.url("/rss.xml")
    ));
    home.ok(&["--poll"]);
    let port = home.listen_web("");
    let dir = home.dir.path().display().to_string();
    let script = format!(
        "mount --bind {dir} {dir} && mount -o remount,bind,ro {dir} && touch {dir}/probe 2>/dev/null && exit 3; exec {} --config {} serve",
        env!("CARGO_BIN_EXE_figwatch"),
        home.config().display()
    );
    let child = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("this test needs `unshare` (util-linux)");
    let mut web = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = web.child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(web.child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the dashboard on a read-only mount did not start ({status}): {err}\n(this test needs `unshare -m` and `mount`, as root)");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the dashboard did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let alerts = get(&format!("{}/alerts", web.base));
    assert_eq!(alerts.status, 200, "{}", alerts.body);
    assert!(alerts.body.contains("casualties"), "{}", alerts.body);
    assert_eq!(get(&format!("{}/healthz", web.base)).body, "ok\n");
}

/// A topic added to the configuration and loaded by SIGHUP shows on the daemon's dashboard at
/// once: on `/topics`, at its own page, in the alerts' filter (it was a 404 while its alerts
/// were listed).
#[test]
fn the_dashboard_follows_a_configuration_reloaded_by_sighup() {
    let (_server, home) = story_site();
    let port = home.listen_web("");
    let daemon = Served {
        child: home.spawn_daemon(),
        base: format!("http://127.0.0.1:{port}"),
    };
    wait_port(port, "the dashboard");
    assert_eq!(get(&format!("{}/topics/snow", daemon.base)).status, 404);

    let config = std::fs::read_to_string(home.config()).unwrap();
    let snow = "[[topics]]\nid = \"snow\"\nname = \"Snow days\"\nterms = [\"snow\"]\n\n";
    // Topics before [web]: the new table goes where the topics are.
    let at = config.find("[[topics]]").unwrap();
    std::fs::write(
        home.config(),
        format!("{}{snow}{}", &config[..at], &config[at..]),
    )
    .unwrap();
    assert!(Command::new("kill")
        .args(["-HUP", &daemon.child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    while get(&format!("{}/topics/snow", daemon.base)).status != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the reloaded topic never showed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(get(&format!("{}/topics", daemon.base))
        .body
        .contains("Snow days"));
    let alerts = get(&format!("{}/alerts", daemon.base)).body;
    assert!(
        alerts.contains("value=\"snow\""),
        "the filter offers it: {alerts}"
    );
}

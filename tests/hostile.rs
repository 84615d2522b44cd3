//! Hostile and broken servers, each on 127.0.0.1, polled by the real binary beside a good
//! source: every one ends within its bound with a clear error on its source, memory stays
//! bounded, and the good source is polled all the same. And the guard against internal
//! addresses: a feed cannot make figwatch read an internal page.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;

/// A server whose every connection is handled by `serve` (after the request head is read).
/// Reads a request's head, up to its blank line (or the end of the connection).
fn read_head(conn: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn raw_server(serve: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                read_head(&mut conn);
                serve(conn);
            });
        }
    });
    format!("http://{addr}/")
}

fn trickle(mut c: TcpStream) {
    let _ = c.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html>",
    );
    for _ in 0..60 {
        std::thread::sleep(Duration::from_secs(1));
        if c.write_all(b" ").is_err() {
            return;
        }
    }
}

fn endless(mut c: TcpStream) {
    let _ = c.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body><p>",
    );
    let chunk = vec![b'a'; 64 * 1024];
    while c.write_all(&chunk).is_ok() {}
}

/// gzip of an endless run of zeros, compressed as it is sent: it would inflate to 10 GB, and
/// only as much is made as the client reads.
fn gzip_bomb(mut c: TcpStream) {
    let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n");
    let mut gz = flate2::write::GzEncoder::new(c, flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..10 * 1024 {
        if gz.write_all(&zeros).is_err() {
            return;
        }
    }
    let _ = gz.finish();
}

fn reset_mid_body(c: TcpStream) {
    let mut c = c;
    let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 50000\r\n\r\n<html><body><p>North Korean troops");
    let _ = c.flush();
    std::thread::sleep(Duration::from_millis(100));
    // SO_LINGER 0: close sends a reset instead of a clean end.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a pointer to a linger struct of the size given.
    unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&c),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(c);
}

fn http10_without_length(mut c: TcpStream) {
    let page = story("about 3,000", None);
    let _ = c.write_all(
        format!("HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{page}")
            .as_bytes(),
    );
}

/// A Cyrillic page in windows-1251 that declares no charset anywhere.
fn undeclared_charset(mut c: TcpStream) {
    let text = "<html><head><title>Войска КНДР</title></head><body><article><h1>Войска КНДР в Курской области</h1>\
        <p>По данным разведки, около 3000 северокорейских военнослужащих были убиты или ранены в Курской области с момента вступления в бои.</p>\
        <p>Эти данные не удалось независимо проверить. Пхеньян не комментирует свои потери, а Москва не подтверждает их присутствие.</p>\
        <p>Ранее южнокорейская разведка сообщала о развертывании войск на территории России в течение нескольких месяцев.</p></article></body></html>";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let _ = c.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
            bytes.len()
        )
        .as_bytes(),
    );
    let _ = c.write_all(&bytes);
}

fn status_rows(home: &Home) -> Vec<serde_json::Value> {
    home.ok(&["status", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn row<'a>(rows: &'a [serde_json::Value], url: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["url"] == url)
        .unwrap_or_else(|| panic!("no status for {url}"))
}

/// The largest resident set of the children waited for so far, in MB.
fn children_peak_rss_mb() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

#[test]
fn hostile_servers_end_within_their_bounds_and_the_good_source_is_polled() {
    let good = LocalServer::start().unwrap();
    good.set("/good.html", Response::html(story("3,000", None)));
    // A chain of 20 redirects, a loop, redirects to a file and to data, and a 200 that is an
    // error page.
    for i in 0..20 {
        good.set(
            &format!("/hop{i}"),
            Response::status(302).header("Location", &good.url(&format!("/hop{}", i + 1))),
        );
    }
    good.set("/hop20", Response::html(story("3,000", None)));
    good.set(
        "/loop-a",
        Response::status(302).header("Location", "/loop-b"),
    );
    good.set(
        "/loop-b",
        Response::status(302).header("Location", "/loop-a"),
    );
    good.set(
        "/to-file",
        Response::status(301).header("Location", "file:///etc/passwd"),
    );
    good.set(
        "/to-data",
        Response::status(302).header("Location", "data:text/html,<p>hi</p>"),
    );
    good.set(
        "/error-page",
        Response::html("<html><head><title>Error</title></head><body><h1>Service unavailable</h1><p>Please try again later.</p></body></html>"),
    );

    let hostile = [
        ("trickle", raw_server(trickle), "timed out"),
        ("endless", raw_server(endless), "max_body"),
        ("gzip bomb", raw_server(gzip_bomb), "max_body"),
        (
            "reset",
            raw_server(reset_mid_body),
            "while reading the body",
        ),
        ("20 hops", good.url("/hop0"), "too many redirects"),
        ("loop", good.url("/loop-a"), "a loop"),
        (
            "file",
            good.url("/to-file"),
            "a file: URL; only http and https",
        ),
        (
            "data",
            good.url("/to-data"),
            "a data: URL; only http and https",
        ),
        (
            "error page",
            good.url("/error-page"),
            "looks like an error page",
        ),
    ];
    let working = [
        ("HTTP/1.0", raw_server(http10_without_length)),
        ("windows-1251", raw_server(undeclared_charset)),
        ("good", good.url("/good.html")),
    ];
    let pages: String = hostile
        .iter()
        .map(|(_, url, _)| url.clone())
        .chain(working.iter().map(|(_, url)| url.clone()))
        .map(|url| format!("[[pages]]\nurl = \"{url}\"\n"))
        .collect();
    let home = Home::custom(
        "interval = \"1h\"",
        "timeout = \"3s\"\nmax_body = \"1MB\"\nmax_redirects = 10\nper_host_delay = \"0s\"\nper_host_concurrency = 16\nconcurrency = 16",
        &pages,
    );
    // Home sets a timeout of its own; the one given here comes later and would clash.
    let config =
        std::fs::read_to_string(home.config())
            .unwrap()
            .replacen("timeout = \"2s\"\n", "", 1);
    std::fs::write(home.config(), config).unwrap();

    let started = Instant::now();
    let out = home.figwatch(&["--poll"]);
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Bounds, not speed: nothing may hang on the trickle (60 s long) or the endless body.
    assert!(took < Duration::from_secs(30), "the pass took {took:?}");
    let peak = children_peak_rss_mb();
    assert!(peak < 200.0, "peak RSS {peak:.0} MB with a 1 MB max_body");

    let rows = status_rows(&home);
    for (what, url, expected) in &hostile {
        let r = row(&rows, url);
        let error = r["last_error"].as_str().unwrap_or_default();
        assert!(error.contains(expected), "{what}: {error}");
        assert!(
            error.contains(url.trim_end_matches('/')),
            "{what} names its URL: {error}"
        );
    }
    for (what, url) in &working {
        let r = row(&rows, url);
        assert_eq!(r["consecutive_failures"], 0, "{what}: {r}");
        assert_eq!(r["versions"], 1, "{what}: {r}");
    }
    let versions = home.ok(&["export", "versions", "--format", "jsonl"]);
    let cyrillic: serde_json::Value = versions
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["url"] == working[1].1.as_str())
        .expect("the windows-1251 page was stored");
    assert!(
        cyrillic["text"]
            .as_str()
            .unwrap()
            .contains("северокорейских военнослужащих"),
        "decoded from windows-1251: {cyrillic}"
    );
}

#[test]
fn a_feed_cannot_make_figwatch_read_an_internal_page() {
    let site = LocalServer::start().unwrap();
    let internal = LocalServer::start_on("127.0.0.2").unwrap();
    internal.set("/admin", Response::html(story("3,000", None)));
    let base = site.url("");
    let port = base.rsplit(':').next().unwrap().trim_end_matches('/');
    site.set("/ok.html", Response::html(story("3,000", None)));
    site.set("/admin-by-name", Response::html(story("3,000", None)));
    site.set(
        "/redirect",
        Response::status(302).header("Location", &internal.url("/admin")),
    );
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
         <item><title>ok</title><link>{base}/ok.html</link></item>\
         <item><title>direct</title><link>{}</link></item>\
         <item><title>by name</title><link>http://localhost:{port}/admin-by-name</link></item>\
         <item><title>redirect</title><link>{base}/redirect</link></item>\
         </channel></rss>",
        internal.url("/admin")
    );
    site.set("/rss.xml", Response::ok("application/rss+xml", feed));
    let home = Home::new(&format!("[[feeds]]\nurl = \"{}\"\n", site.url("/rss.xml")));
    let strict = |allow: &str| {
        let config = std::fs::read_to_string(home.config()).unwrap();
        let start = config.find("allow_").unwrap();
        let end = start + config[start..].find('\n').unwrap();
        std::fs::write(
            home.config(),
            format!("{}{allow}{}", &config[..start], &config[end..]),
        )
        .unwrap();
    };

    // Not allowed at all: the configured feed itself is refused (being configured is not
    // enough), with a message that says how to allow it.
    strict("allow_private = false");
    home.ok(&["--poll"]);
    let rows = status_rows(&home);
    let error = rows[0]["last_error"].as_str().unwrap();
    assert!(error.contains("loopback"), "{error}");
    assert!(error.contains("allow_hosts"), "{error}");
    assert_eq!(site.hits("/rss.xml"), 0);

    // The feed's host allowed: its own article is read, the links to internal pages are not —
    // by address, by a name that resolves to loopback, or through a redirect.
    strict("allow_hosts = [\"127.0.0.1\"]");
    home.ok(&["--poll", "--all"]);
    assert_eq!(site.hits("/ok.html"), 1);
    assert_eq!(internal.hits("/admin"), 0, "never requested");
    assert_eq!(
        site.hits("/admin-by-name"),
        0,
        "localhost resolves to loopback"
    );
    assert_eq!(site.hits("/redirect"), 1);
    let rows = status_rows(&home);
    assert_eq!(rows[0]["versions"], 1, "{}", rows[0]);
    let note = rows[0]["last_error"].as_str().unwrap_or_default();
    assert!(note.contains("refused"), "the refusals are noted: {note}");
    let checked = home.ok(&["check-config"]);
    assert!(checked.contains("refused, except 127.0.0.1"), "{checked}");
}

/// An absurd duration is refused when the configuration is read, with its key and the bound,
/// instead of passing `check-config` and then panicking on every poll.
#[test]
fn an_absurd_duration_is_refused_with_its_key_and_bound() {
    for (sources, key) in [
        (
            "[[feeds]]\nurl = \"http://127.0.0.1:9/rss\"\ninterval = \"999999999999d\"\n",
            "feeds[0].interval",
        ),
        (
            "[[feeds]]\nurl = \"http://127.0.0.1:9/rss\"\nrecheck = [[\"99999999d\", \"1h\"]]\n",
            "feeds[0].recheck",
        ),
    ] {
        let home = Home::sqlite(sources);
        for args in [&["check-config"][..], &["--poll"][..]] {
            let out = home.figwatch(args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?}: {err}");
            assert!(err.contains(key), "{args:?}: {err}");
            assert!(err.contains("at most 36500 days"), "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
    }
}

/// A malformed sink URL is named by its key and host at most: a Slack path or an SMTP
/// password in it must not reach the terminal or the journal.
#[test]
fn a_malformed_sink_url_never_shows_its_secret() {
    for sink in [
        "type = \"webhook\"\nurl = \"https//hooks.slack.com/services/T0/B0/s3cretpath\"",
        "type = \"webhook\"\nurl = \"ftp://hooks.example/s3cretpath\"",
        "type = \"webhook\"\nurl = \"https://hooks.example/s3cret path\\u0007\"\nformat = \"teams\"",
        "type = \"email\"\nsmtp_url = \"smtp://me:s3cretpw@mail.example.org:99999\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]",
        "type = \"email\"\nsmtp_url = \"smtps://mail.example.org?tls=s3cret\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]",
        "type = \"email\"\nsmtp_url = \"http://me:s3cretpw@mail.example.org\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]",
    ] {
        let home = Home::sqlite(&format!("[[alerts.sinks]]\n{sink}\n"));
        let out = home.figwatch(&["check-config"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{sink}: {err}");
        assert!(err.contains("alerts.sinks[0]"), "{sink}: {err}");
        assert!(!err.contains("s3cret"), "{sink}: {err}");
    }
}

/// A forward proxy on 127.0.0.1 that records the target of every request it is handed and
/// serves a news site for the public address 93.184.216.34: its feed links one article there,
/// internal addresses by name and by address, and a redirect to an internal name.
fn recording_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let record = std::sync::Arc::clone(&record);
            std::thread::spawn(move || {
                let mut conn = conn;
                let head = read_head(&mut conn);
                let target = head.split(' ').nth(1).unwrap_or_default().to_string();
                record.lock().unwrap().push(target.clone());
                let public = "http://93.184.216.34";
                let (status, kind, body) = if target.ends_with("/rss.xml") {
                    let items: String = [
                        format!("{public}/ok.html"),
                        "http://localhost:9/admin-by-name".to_string(),
                        "http://10.0.0.5/admin-by-address".to_string(),
                        "http://[64:ff9b::7f00:1]/admin-by-nat64".to_string(),
                        format!("{public}/redirect"),
                    ]
                    .iter()
                    .map(|l| format!("<item><title>t</title><link>{l}</link></item>"))
                    .collect();
                    let feed = format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>");
                    ("200 OK", "application/rss+xml", feed)
                } else if target.ends_with("/ok.html") {
                    ("200 OK", "text/html", story("3,000", None))
                } else if target.ends_with("/redirect") {
                    ("302 Found", "text/plain", String::new())
                } else {
                    ("404 Not Found", "text/plain", String::new())
                };
                let location = if status.starts_with("302") {
                    "Location: http://localhost:9/secret-by-redirect\r\n"
                } else {
                    ""
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{location}Connection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// Proxy variables in the environment are ignored unless `[fetch] proxy` asks for a proxy; and
/// through a proxy every target, first URL and redirect alike, is resolved and checked before
/// it is handed over, so the proxy is never asked for an internal address.
#[test]
fn a_proxy_is_never_handed_an_internal_address() {
    let (proxy, seen) = recording_proxy();
    let with_env = |home: &Home, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_figwatch"))
            .arg("--config")
            .arg(home.config())
            .args(args)
            .env("HTTP_PROXY", &proxy)
            .env("HTTPS_PROXY", &proxy)
            .env("ALL_PROXY", &proxy)
            .env("http_proxy", &proxy)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap()
    };

    // Ignored: the site is read directly.
    let (site, home) = story_site();
    let out = with_env(&home, &["--poll"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(site.hits("/rss.xml"), 1);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    let checked = String::from_utf8_lossy(&with_env(&home, &["check-config"]).stdout).to_string();
    assert!(checked.contains("proxy      none"), "{checked}");

    // Asked for, by URL and from the environment: only public targets reach the proxy.
    for setting in [
        format!("proxy = \"{proxy}\""),
        "proxy = \"env\"".to_string(),
    ] {
        seen.lock().unwrap().clear();
        let home = Home::custom(
            "interval = \"1s\"",
            &format!("per_host_delay = \"0s\"\nper_host_concurrency = 8\n{setting}"),
            "[[feeds]]\nurl = \"http://93.184.216.34/rss.xml\"\n",
        );
        let config = std::fs::read_to_string(home.config()).unwrap().replacen(
            "allow_private = true",
            "allow_private = false",
            1,
        );
        std::fs::write(home.config(), config).unwrap();
        let out = with_env(&home, &["--poll"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.iter().any(|t| t.ends_with("/rss.xml")),
            "{setting}: {seen:?}"
        );
        assert!(
            seen.iter().any(|t| t.ends_with("/ok.html")),
            "{setting}: {seen:?}"
        );
        assert!(
            seen.iter().any(|t| t.ends_with("/redirect")),
            "{setting}: {seen:?}"
        );
        assert!(
            !seen
                .iter()
                .any(|t| t.contains("admin") || t.contains("secret")),
            "{setting}: the proxy was handed an internal address: {seen:?}"
        );
        let rows = status_rows(&home);
        assert_eq!(rows[0]["versions"], 1, "{setting}: {}", rows[0]);
        let note = rows[0]["last_error"].as_str().unwrap_or_default();
        assert!(note.contains("refused"), "{setting}: {note}");
        let checked =
            String::from_utf8_lossy(&with_env(&home, &["check-config"]).stdout).to_string();
        assert!(
            checked.contains(&format!("http through {proxy}")),
            "{setting}: {checked}"
        );
    }
}

/// A feed of 2,000 entries: only the first 200 are followed in a poll (not 2,000 requests to
/// one site), and the source says so.
#[test]
fn a_feed_of_thousands_of_entries_is_followed_only_up_to_its_cap() {
    let site = LocalServer::start().unwrap();
    let paths: Vec<String> = (0..2000).map(|i| format!("/a/{i}.html")).collect();
    list_paths(&site, &paths);
    let page = Response::html(story("3,000", None));
    for p in &paths {
        site.set(p, page.clone());
    }
    let home = Home::new(&format!("[[feeds]]\nurl = \"{}\"\n", site.url("/rss.xml")));
    home.ok(&["--poll"]);
    let fetched: Vec<&String> = paths.iter().filter(|p| site.hits(p) > 0).collect();
    assert_eq!(fetched.len(), 200);
    assert!(
        paths[..200].iter().all(|p| site.hits(p) == 1),
        "the first 200, in the feed's order"
    );
    let rows = status_rows(&home);
    let note = rows[0]["last_error"].as_str().unwrap_or_default();
    assert!(
        note.contains("the feed lists 2000 entries; only the first 200 are followed"),
        "{note}"
    );
}

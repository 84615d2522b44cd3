//! `figwatch run`: polls on its interval, picks up a change, and stops cleanly on SIGTERM.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn runs_on_its_interval_and_stops_on_sigterm() {
    let server = LocalServer::start().unwrap();
    server.set("/story.html", Response::html(story("3,000", None)));
    let home = Home::new(&format!(
        "[[pages]]\nurl = \"{}\"\n",
        server.url("/story.html")
    ));
    let url = server.url("/story.html");

    let mut child = home.spawn_daemon();

    wait_for("the first version", Duration::from_secs(30), || {
        home.alert_log().len() == 1
    });
    server.set("/story.html", Response::html(story("4,000", None)));
    wait_for("the figure_changed alert", Duration::from_secs(30), || {
        home.alert_log().len() == 2
    });
    assert_eq!(home.alert_log()[1]["kind"], "figure_changed");
    // Polled again on its 1s interval, unchanged: no third version.
    let hits = server.hits("/story.html");
    wait_for("another poll", Duration::from_secs(30), || {
        server.hits("/story.html") > hits + 1
    });
    assert_eq!(home.history(&url).len(), 2);

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "figwatch run did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(exit.success(), "exit {exit:?}: {log}");
    assert!(log.contains("figwatch stopped"), "{log}");

    // The schedule is kept: status shows when the source is due next.
    let rows = home.ok(&["status", "--json"]);
    assert!(rows.contains("\"next_check_at\":\"20"), "{rows}");
}

fn read_stderr_to_end(child: &mut std::process::Child) -> String {
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    log
}

#[test]
fn sighup_reloads_the_configuration_and_a_bad_one_is_refused() {
    let server = LocalServer::start().unwrap();
    server.set("/one.html", Response::html(story("3,000", None)));
    server.set("/two.html", Response::html(story("3,000", None)));
    let page = |p: &str| format!("[[pages]]\nurl = \"{}\"\n", server.url(p));
    let home = Home::new(&page("/one.html"));
    let mut child = home.spawn_daemon();
    let pid = child.id();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    wait_for("the first poll", Duration::from_secs(30), || {
        server.hits("/one.html") > 0
    });
    assert_eq!(server.hits("/two.html"), 0);

    // A broken file is refused and the daemon goes on with what it had.
    let good = std::fs::read_to_string(home.config()).unwrap();
    std::fs::write(home.config(), format!("{good}\nnonsense = 1\n")).unwrap();
    signal("HUP");
    let hits = server.hits("/one.html");
    wait_for("polls to go on", Duration::from_secs(30), || {
        server.hits("/one.html") > hits + 1
    });
    assert!(child.try_wait().unwrap().is_none(), "still running");

    // A good one is taken: the new source is polled.
    std::fs::write(home.config(), format!("{good}\n{}", page("/two.html"))).unwrap();
    signal("HUP");
    wait_for("the added source", Duration::from_secs(30), || {
        server.hits("/two.html") > 0
    });
    signal("TERM");
    let exit = child.wait().unwrap();
    let log = read_stderr_to_end(&mut child);
    assert!(exit.success(), "{log}");
    assert!(
        log.contains("not reloaded") && log.contains("nonsense"),
        "{log}"
    );
    assert!(log.contains("configuration reloaded"), "{log}");
}

/// The database file deleted under a running daemon is noticed within seconds: the daemon
/// says so and stops with exit status 3 (which the shipped unit does not restart on), instead
/// of writing on for minutes into a file no path leads to.
#[test]
fn a_database_file_deleted_under_the_daemon_stops_it_with_a_clear_error() {
    let server = story_server();
    let home = Home::sqlite(&format!(
        "[[feeds]]\nurl = \"{}\"\n",
        server.url("/rss.xml")
    ));
    let mut child = home.spawn_daemon();
    wait_for("the first version", Duration::from_secs(30), || {
        home.alert_log().len() == 1
    });
    std::fs::remove_file(home.path("figwatch.db")).unwrap();
    let deleted = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if deleted.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the daemon still runs 20 s after its database file was deleted");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("figwatch.db was deleted while figwatch was using it"),
        "{stderr}"
    );
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/figwatch.service"
    ))
    .unwrap();
    assert!(
        unit.contains("RestartPreventExitStatus=3"),
        "the unit does not restart it"
    );
}

//! Alert delivery through the real binary: receivers that are down, a daemon killed mid-way,
//! a failing command, a real SMTP conversation, digests. Everything on 127.0.0.1.

mod common;

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::time::{Duration, Instant};

use common::smtp::SmtpServer;
use common::*;

const EXTRA: &str = "South Korea's spy agency estimated on Tuesday that about 11,000 North Korean soldiers had been deployed to Russia.";
const EXTRA_LATER: &str = "South Korea's spy agency estimated on Friday that about 12,000 North Korean soldiers had been deployed to Russia.";

/// A feed with two stories, each reporting two figures that differ from the other's: four
/// alerts on the first poll.
fn site() -> LocalServer {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    server.set(
        "/rss.xml",
        Response::ok(
            "application/rss+xml",
            rss_feed(&base, &[("One", "/one.html"), ("Two", "/two.html")]),
        ),
    );
    server.set("/one.html", Response::html(story("3,000", Some(EXTRA))));
    server.set(
        "/two.html",
        Response::html(story("about 4,500", Some(EXTRA_LATER))),
    );
    server
}

/// A home watching `site`.
fn home_for(site: &LocalServer) -> Home {
    Home::new(&format!("[[feeds]]\nurl = \"{}\"\n", site.url("/rss.xml")))
}

/// Adds `[alerts]` settings and sinks to the home's configuration.
fn add_alerts(home: &Home, alerts: &str) {
    let config = std::fs::read_to_string(home.config()).unwrap();
    std::fs::write(home.config(), format!("{config}\n{alerts}\n")).unwrap();
}

/// A receiver that takes every webhook POST, configured as a sink of `home`.
fn webhook_receiver(home: &Home) -> LocalServer {
    let receiver = LocalServer::start().unwrap();
    receiver.set("/hook", Response::status(200));
    add_alerts(
        home,
        &format!(
            "[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{}\"",
            receiver.url("/hook")
        ),
    );
    receiver
}

/// The stable ids of every alert figwatch stored.
fn stored_ids(home: &Home) -> HashSet<String> {
    home.ok(&["alerts", "--json"])
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The alert ids in the webhook requests that were answered with `status`.
fn delivered_ids(receiver: &LocalServer, status: u16) -> Vec<String> {
    receiver
        .requests()
        .iter()
        .filter(|r| r.path == "/hook" && r.status == status)
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            body["id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn a_webhook_that_is_down_at_first_gets_every_alert_once_and_signed() {
    let site = site();
    let receiver = LocalServer::start().unwrap();
    receiver.set("/hook", Response::status(503));
    let home = home_for(&site);
    std::fs::write(home.path("hook.secret"), "s3cret-key\n").unwrap();
    add_alerts(
        &home,
        &format!(
            "[alerts]\nretry_initial = \"200ms\"\nretry_max = \"400ms\"\ndelivery_timeout = \"20s\"\n\n[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{}\"\nsecret_file = \"{}\"",
            receiver.url("/hook"),
            home.path("hook.secret").display()
        ),
    );

    let child = home.spawn(&["--poll"]);
    wait_for("two refused deliveries", Duration::from_secs(20), || {
        receiver.hits("/hook") >= 2
    });
    receiver.set("/hook", Response::status(200));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("503"),
        "the failed attempts are logged: {stderr}"
    );

    let stored = stored_ids(&home);
    assert_eq!(stored.len(), 4, "two stories, two figures each");
    let delivered = delivered_ids(&receiver, 200);
    let unique: HashSet<String> = delivered.iter().cloned().collect();
    assert_eq!(unique, stored, "every alert arrives");
    assert_eq!(delivered.len(), unique.len(), "none twice: {delivered:?}");

    // Each body is signed with the secret, and names its alert in a header too.
    for r in receiver.requests().iter().filter(|r| r.status == 200) {
        let expected = figwatch::delivery::sinks::signature(b"s3cret-key", &r.body);
        assert_eq!(r.header("x-figwatch-signature"), Some(expected.as_str()));
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            r.header("x-figwatch-alert-ids"),
            body["id"].as_str(),
            "the id header matches the body"
        );
        assert_eq!(r.method, "POST");
    }

    let status = home.ok(&["status"]);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("sink webhook") && l.contains("up to date; 4 delivered")),
        "{status}"
    );

    // A second run finds nothing left to deliver.
    let before = receiver.requests().len();
    home.ok(&["--poll", "--all"]);
    assert_eq!(
        receiver.requests().len(),
        before,
        "nothing is delivered twice"
    );

    // The secret is never printed, and the webhook is named by its host alone.
    let checked = home.ok(&["check-config"]);
    assert!(!checked.contains("s3cret"), "{checked}");
    assert!(!checked.contains(&receiver.url("/hook")), "{checked}");
    let host = receiver.url("/").trim_end_matches('/').to_string();
    assert!(checked.contains(&format!("webhook {host}/…")), "{checked}");
}

#[test]
fn an_alert_committed_before_the_daemon_was_killed_is_delivered_after_restart() {
    let site = site();
    let receiver = LocalServer::start().unwrap();
    // The receiver accepts the request and never answers in time: the daemon is mid-delivery.
    receiver.set(
        "/hook",
        Response::status(200).delayed(Duration::from_secs(30)),
    );
    let home = home_for(&site);
    add_alerts(
        &home,
        &format!(
            "[alerts]\nretry_initial = \"200ms\"\n\n[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{}\"\ntimeout = \"3s\"",
            receiver.url("/hook")
        ),
    );

    let mut daemon = home.spawn_daemon();
    wait_for("a delivery in progress", Duration::from_secs(20), || {
        receiver.hits("/hook") >= 1
    });
    daemon.kill().unwrap(); // SIGKILL
    daemon.wait().unwrap();
    let before_kill = stored_ids(&home);
    assert!(
        !before_kill.is_empty(),
        "an alert was committed before the kill"
    );
    // What reached the receiver so far was never answered: the daemon died waiting.
    let cut_off = receiver.requests().len();

    receiver.set("/hook", Response::status(200));
    let mut daemon = home.spawn_daemon();
    let after_restart = || -> Vec<String> {
        receiver.requests()[cut_off..]
            .iter()
            .filter(|r| r.path == "/hook")
            .map(|r| {
                let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                body["id"].as_str().unwrap().to_string()
            })
            .collect()
    };
    // The killed daemon's claim runs out (the sink's timeout and a margin), then the
    // restarted daemon delivers everything.
    wait_for("every alert delivered", Duration::from_secs(40), || {
        let stored = stored_ids(&home);
        stored.len() == 4 && after_restart().len() >= stored.len()
    });
    std::thread::sleep(Duration::from_millis(300));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let ids = after_restart();
    let unique: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique, stored_ids(&home));
    assert!(before_kill.is_subset(&unique));
    assert_eq!(
        ids.len(),
        unique.len(),
        "none twice after the restart: {ids:?}"
    );
}

#[test]
fn a_failing_command_is_retried_until_it_succeeds() {
    let site = site();
    let home = home_for(&site);
    let script = home.path("sink.sh");
    // Fails the first two times it runs, then appends what it reads to out.jsonl.
    std::fs::write(
        &script,
        format!(
            "n=$(cat {dir}/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > {dir}/count\n\
             if [ $n -le 2 ]; then echo \"receiver busy ($n)\" >&2; exit 3; fi\n\
             cat >> {dir}/out.jsonl; echo >> {dir}/out.jsonl\n",
            dir = home.dir.path().display()
        ),
    )
    .unwrap();
    add_alerts(
        &home,
        &format!(
            "[alerts]\nretry_initial = \"100ms\"\nretry_max = \"200ms\"\n\n[[alerts.sinks]]\ntype = \"command\"\nprogram = \"/bin/sh\"\nargs = [\"{}\"]\nkinds = [\"new_figure\", \"figure_changed\"]",
            script.display()
        ),
    );

    let out = home.figwatch(&["--poll"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("receiver busy"),
        "the command's error is logged: {stderr}"
    );
    let runs: u32 = std::fs::read_to_string(home.path("count"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(runs, 2 + 4, "two failures, then one run per alert");
    let got: Vec<String> = std::fs::read_to_string(home.path("out.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    let unique: HashSet<String> = got.iter().cloned().collect();
    assert_eq!(unique, stored_ids(&home));
    assert_eq!(got.len(), unique.len());
}

#[test]
fn email_goes_through_a_real_smtp_conversation_with_the_password_from_a_file() {
    let site = site();
    let smtp = SmtpServer::start();
    let home = home_for(&site);
    std::fs::write(home.path("smtp.pass"), "hunter2-smtp\n").unwrap();
    add_alerts(
        &home,
        &format!(
            "[[alerts.sinks]]\ntype = \"email\"\nsmtp_url = \"smtp://figwatch@127.0.0.1:{}?tls=none\"\nfrom = \"figwatch <figwatch@example.org>\"\nto = [\"analyst@example.org\", \"desk@example.org\"]\npassword_file = \"{}\"\ntopics = [\"nk-troops\"]",
            smtp.port,
            home.path("smtp.pass").display()
        ),
    );

    let out = home.figwatch(&["--poll"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!home.ok(&["check-config"]).contains("hunter2"));

    let mails = smtp.mails();
    assert_eq!(mails.len(), 4, "one mail per alert");
    for mail in &mails {
        assert_eq!(mail.from, "figwatch@example.org");
        assert_eq!(mail.to, vec!["analyst@example.org", "desk@example.org"]);
        assert_eq!(
            mail.auth,
            Some(("figwatch".to_string(), "hunter2-smtp".to_string()))
        );
        assert!(
            mail.data.contains("Subject: figwatch: nk-troops"),
            "{}",
            mail.data
        );
    }
    let casualties = mails
        .iter()
        .find(|m| m.data.contains("about 4,500") || m.data.contains("4,500"))
        .expect("the 4,500 story's casualty alert");
    let text = casualties.data.replace("=\r\n", "").replace("\r\n", "\n");
    assert!(text.contains(&site.url("/two.html")), "the link: {text}");
    assert!(
        text.contains("North Korean troops had been killed"),
        "the quote: {text}"
    );
}

#[test]
fn a_digest_collects_alerts_into_one_message_after_its_window() {
    let site = site();
    let receiver = LocalServer::start().unwrap();
    receiver.set("/hook", Response::status(204));
    let home = home_for(&site);
    add_alerts(
        &home,
        &format!(
            "[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{}\"\ndigest = \"2s\"",
            receiver.url("/hook")
        ),
    );

    home.ok(&["--poll"]);
    assert_eq!(receiver.hits("/hook"), 0, "the window is still open");
    std::thread::sleep(Duration::from_millis(2100));
    home.ok(&["--poll"]); // nothing due: only delivery
    assert_eq!(receiver.hits("/hook"), 1, "one message");
    let body: serde_json::Value = serde_json::from_slice(&receiver.requests()[0].body).unwrap();
    let ids: HashSet<String> = body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, stored_ids(&home));
    assert!(body["id"].as_str().unwrap().starts_with("digest-"));
}

#[test]
fn the_alert_log_still_gets_every_alert_and_a_new_sink_starts_from_now() {
    let site = site();
    let home = home_for(&site);
    home.ok(&["--poll"]);
    let logged: HashMap<String, serde_json::Value> = home
        .alert_log()
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_string(), v))
        .collect();
    assert_eq!(
        logged.keys().cloned().collect::<HashSet<_>>(),
        stored_ids(&home)
    );

    // A sink added later does not receive the history, only what comes after it.
    let receiver = webhook_receiver(&home);
    home.ok(&["--poll", "--all"]);
    assert_eq!(receiver.hits("/hook"), 0);
    site.set("/one.html", Response::html(story("5,000", Some(EXTRA))));
    home.ok(&["--poll", "--all"]);
    let ids = delivered_ids(&receiver, 200);
    assert_eq!(ids.len(), 1, "the one new alert: {ids:?}");
    assert_eq!(home.alert_log().len(), 5);
}

#[test]
fn a_sink_added_by_sighup_gets_the_daemons_next_alert() {
    let site = site();
    let home = home_for(&site);
    let mut daemon = home.spawn_daemon();
    wait_for("the first alerts", Duration::from_secs(20), || {
        home.alert_log().len() == 4
    });

    let receiver = webhook_receiver(&home);
    let reloads = || {
        Command::new("kill")
            .args(["-HUP", &daemon.id().to_string()])
            .status()
            .unwrap()
    };
    assert!(reloads().success());
    // The story changes once the reloaded daemon has registered the new sink in its outbox.
    wait_for("the new sink registered", Duration::from_secs(20), || {
        home.count("SELECT count(*) FROM sinks WHERE sink LIKE 'webhook:%'") == 1
    });
    site.set("/one.html", Response::html(story("5,000", Some(EXTRA))));
    // Both sinks deliver on their own, in either order: wait for both before the kill.
    wait_for(
        "the new alert at the webhook and in the log",
        Duration::from_secs(20),
        || receiver.hits("/hook") >= 1 && home.alert_log().len() >= 5,
    );
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let ids = delivered_ids(&receiver, 200);
    assert_eq!(
        ids.len(),
        1,
        "only the alert raised after the sink was added"
    );
    let log = home.alert_log();
    assert_eq!(log.len(), 5, "the log sink goes on too");
    assert_eq!(log[4]["id"].as_str(), Some(ids[0].as_str()));
    assert_eq!(log[4]["new"], 5000);
}

#[test]
fn a_hung_command_is_ended_with_every_process_it_started() {
    let site = site();
    let home = home_for(&site);
    let script = home.path("hang.sh");
    // The first run starts a child that would outlive it, then hangs; later runs succeed.
    std::fs::write(
        &script,
        format!(
            "n=$(cat {dir}/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > {dir}/count\n\
             if [ $n -eq 1 ]; then sleep 300 & echo $! > {dir}/grandchild; sleep 300; fi\n\
             cat > /dev/null\n",
            dir = home.dir.path().display()
        ),
    )
    .unwrap();
    add_alerts(
        &home,
        &format!(
            "[alerts]\nretry_initial = \"100ms\"\nretry_max = \"200ms\"\n\n[[alerts.sinks]]\ntype = \"command\"\nprogram = \"/bin/sh\"\nargs = [\"{}\"]\ntimeout = \"1s\"",
            script.display()
        ),
    );
    let out = home.figwatch(&["--poll"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("did not finish within 1s"), "{stderr}");
    let grandchild: i32 = std::fs::read_to_string(home.path("grandchild"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Give the kernel a moment to reap it, then it must be gone (or a zombie of init's).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = std::fs::read_to_string(format!("/proc/{grandchild}/status")).unwrap_or_default();
    let alive = status
        .lines()
        .find(|l| l.starts_with("State:"))
        .is_some_and(|l| !l.contains('Z'));
    assert!(
        !alive,
        "the hung command's child {grandchild} still runs: {status}"
    );
}

/// The alert log's size in bytes.
fn log_len(home: &Home) -> u64 {
    std::fs::metadata(home.path("alerts.jsonl")).unwrap().len()
}

/// A disk that fills while a line goes to the alert log leaves no part of it: the log keeps
/// whole lines only, the alert waits in the outbox (and `status` says so), and the next run
/// writes it once. Another process holding the log's lock (a second figwatch) is waited for.
#[test]
fn a_full_disk_never_tears_the_alert_log_and_the_alert_waits() {
    use std::os::fd::AsRawFd;

    let (server, home) = story_site();
    // A `--poll` waits this long for deliveries that failed.
    add_alerts(&home, "[alerts]\ndelivery_timeout = \"5s\"");
    home.ok(&["--poll"]);
    assert_eq!(home.alert_log().len(), 1);
    // The log is made larger than the database, so a file-size limit just past its end fails
    // the next line of the log and nothing else, as a disk filling at that moment would.
    let filler: String = (0..40_000)
        .map(|i| format!("{{\"filler\":{i},\"pad\":\"{}\"}}\n", "x".repeat(100)))
        .collect();
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(home.path("alerts.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut log, filler.as_bytes()).unwrap();
    let before = log_len(&home);
    if home.postgres.is_none() {
        assert!(std::fs::metadata(home.path("figwatch.db")).unwrap().len() < before / 2);
    }
    server.set(ARTICLE, Response::html(story("4,000", None)));
    let limit = before + 60;
    let mut command = Command::new(env!("CARGO_BIN_EXE_figwatch"));
    command
        .arg("--config")
        .arg(home.config())
        .args(["--poll", "--all"])
        .env("NO_COLOR", "1");
    limit_file_size(&mut command, limit);
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot write alert log"), "{stderr}");
    assert_eq!(log_len(&home), before, "nothing of the line was kept");
    assert_eq!(home.alert_log().len(), 40_001, "whole lines only");
    let status = home.ok(&["status"]);
    assert!(status.contains("1 waiting"), "{status}");

    // Another process holds the log's lock: the next run (the retry made due now) waits for
    // it, then writes.
    home.execute(
        "UPDATE deliveries SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE delivered_at IS NULL",
    );
    let holder = std::fs::File::open(home.path("alerts.jsonl")).unwrap();
    // SAFETY: flock on a descriptor the File owns.
    assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX) }, 0);
    let mut poll = home.spawn(&["--poll"]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        log_len(&home),
        before,
        "written while another held the lock"
    );
    drop(holder);
    assert!(poll.wait().unwrap().success());
    let logged = home.alert_log();
    let changed: Vec<_> = logged
        .iter()
        .filter(|a| a["kind"] == "figure_changed")
        .collect();
    assert_eq!(
        changed.len(),
        1,
        "the waiting alert, once: {:?}\n{}",
        &logged[40_001..],
        home.ok(&["status"])
    );
    assert_eq!(changed[0]["new"], 4000, "{}", changed[0]);
    assert!(home.ok(&["status"]).contains("up to date"));
}

/// A secret given as a systemd credential (`secret_file = "credential:NAME"`) is read from
/// `$CREDENTIALS_DIRECTORY/NAME` when it is used: `check-config` does not need it, a run
/// without it says which credential is missing and keeps the alerts, and a run with it
/// signs every delivery with it.
#[test]
fn a_secret_can_be_a_systemd_credential_read_when_used() {
    let site = site();
    let receiver = LocalServer::start().unwrap();
    receiver.set("/hook", Response::status(200));
    let home = home_for(&site);
    add_alerts(
        &home,
        &format!(
            "[alerts]\ndelivery_timeout = \"2s\"\n\n[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{}\"\nsecret_file = \"credential:hook-secret\"",
            receiver.url("/hook")
        ),
    );
    let credentials = home.path("credentials");
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::write(credentials.join("hook-secret"), "cr3dential-key\n").unwrap();
    let run = |args: &[&str], with_credentials: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_figwatch"));
        c.arg("--config").arg(home.config()).args(args);
        c.env_remove("CREDENTIALS_DIRECTORY");
        if with_credentials {
            c.env("CREDENTIALS_DIRECTORY", &credentials);
        }
        c.output().unwrap()
    };

    let checked = run(&["check-config"], false);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(String::from_utf8_lossy(&checked.stdout)
        .contains("signed with the secret in credential:hook-secret"));

    run(&["--poll"], false);
    assert_eq!(receiver.hits("/hook"), 0, "nothing sent unsigned");
    let status = String::from_utf8_lossy(&run(&["status"], false).stdout).to_string();
    assert!(status.contains("4 waiting"), "{status}");
    assert!(
        status.contains("credential:hook-secret") && status.contains("CREDENTIALS_DIRECTORY"),
        "{status}"
    );

    home.execute(
        "UPDATE deliveries SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE delivered_at IS NULL",
    );
    let out = run(&["--poll"], true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let delivered = delivered_ids(&receiver, 200);
    assert_eq!(delivered.len(), 4, "{delivered:?}");
    for r in receiver.requests() {
        let expected = figwatch::delivery::sinks::signature(b"cr3dential-key", &r.body);
        assert_eq!(r.header("x-figwatch-signature"), Some(expected.as_str()));
    }
}

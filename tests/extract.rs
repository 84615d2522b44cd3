//! `figwatch extract`: files (gzip too) and URLs, readable or JSON Lines.

mod common;

use std::io::Write;

use common::*;

#[test]
fn extracts_files_gzip_and_urls() {
    let home = Home::new("");
    let page = story("3,000", None);
    std::fs::write(home.path("story.html"), &page).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(page.as_bytes()).unwrap();
    std::fs::write(home.path("story.html.gz"), gz.finish().unwrap()).unwrap();
    let server = LocalServer::start().unwrap();
    server.set("/story.html", Response::html(page));

    let plain = home.path("story.html").display().to_string();
    let zipped = home.path("story.html.gz").display().to_string();
    let url = server.url("/story.html");
    let out = home.ok(&["extract", "--json", &plain, &zipped, &url]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["input"], plain.as_str());
    assert_eq!(lines[2]["input"], url.as_str());
    for l in &lines {
        assert_eq!(
            l["text"], lines[0]["text"],
            "the same page gives the same text"
        );
        assert!(l["title"]
            .as_str()
            .unwrap()
            .contains("North Korean troops in Kursk"));
        assert_eq!(l["lang"], "en");
    }
    assert!(lines[0]["text"]
        .as_str()
        .unwrap()
        .contains("that 3,000 North Korean troops had been killed"));

    let readable = home.ok(&["extract", &plain]);
    assert!(
        readable.contains("title      North Korean troops in Kursk"),
        "{readable}"
    );

    let out = home.figwatch(&["extract", "no-such-file.html", &plain]);
    assert!(!out.status.success(), "a missing input fails the command");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.html"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("North Korean troops"),
        "the other input is still printed"
    );
}

/// A local gzip file of 800 KB that inflates to 768 MB is refused at `[fetch] max_body` (here
/// 1 MB) with a message that says so, instead of being decompressed whole into memory.
#[test]
fn a_gzip_bomb_given_as_a_file_is_refused_at_max_body() {
    let home = Home::custom("", "max_body = \"1MB\"", "");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    // Twelve gzip members of 64 MB each, one after the other: one file to gunzip.
    let member = gz.finish().unwrap();
    std::fs::write(home.path("bomb.html.gz"), member.repeat(12)).unwrap();
    let bomb = home.path("bomb.html.gz").display().to_string();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_figwatch"));
    command
        .arg("--config")
        .arg(home.config())
        .args(["extract", &bomb]);
    // 512 MB of address space: decompressing the whole file cannot fit, the bounded read does.
    // SAFETY: only setrlimit between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            let limit = libc::rlimit {
                rlim_cur: 512 << 20,
                rlim_max: 512 << 20,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
    let out = command.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("bomb.html.gz"), "{err}");
    assert!(
        err.contains("larger than 1000000 bytes once decompressed"),
        "{err}"
    );
}

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

#[test]
fn explain_shows_what_was_kept_and_left_out_and_why() {
    let home = Home::new("");
    let page = r##"<html><head><title>Troops in Kursk | Daily</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Troops in Kursk</h1>
<p>North Korea has sent soldiers to fight for Russia, officials said on Monday, in a move that alarmed its neighbours.</p>
<div class="share-bar"><a href="#">Share</a> <a href="#">Tweet</a></div>
<p>Officials said on Monday that 3,000 North Korean troops had been killed or wounded since they joined the fighting.</p>
<p>Photo: Jane Roe/AP</p>
<p>The figures could not be independently verified, and Moscow has not confirmed their presence in the region.</p>
<ul><li><a href="/a">Another story about the war</a></li><li><a href="/b">Yet another story about the war</a></li></ul>
<p>Pyongyang has not commented on its losses, and the talks are due to resume next week in Geneva.</p>
</article><footer>© Daily</footer></body></html>"##;
    std::fs::write(home.path("page.html"), page).unwrap();
    let file = home.path("page.html").display().to_string();

    let out = home.ok(&["extract", "--explain", &file]);
    assert!(out.starts_with(&format!("== {file}\nreading: ")), "{out}");
    assert!(out.contains("container: article\n"), "{out}");
    assert!(
        out.contains("  - div.share-bar (a widget by its class or id"),
        "{out}"
    );
    assert!(
        out.contains("  - ul (a list of links (100% of its text is links))"),
        "{out}"
    );
    assert!(
        out.contains("  - line (page furniture (a credit, an embed's chrome, a count, a share prompt, a contact label)): \"Photo: Jane Roe/AP\""),
        "{out}"
    );
    assert!(out.contains("kept: 4 paragraphs\n"), "{out}");
    assert!(
        out.contains("    2  Officials said on Monday that 3,000 North Korean troops"),
        "{out}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["extract", "--explain", "--json", &file])).unwrap();
    assert_eq!(json["input"], file.as_str());
    assert_eq!(json["container"][0], "article");
    assert_eq!(json["dropped_blocks"].as_array().unwrap().len(), 2);
    assert_eq!(json["kept"].as_array().unwrap().len(), 4);
    assert_eq!(json["dropped_lines"][0]["text"], "Photo: Jane Roe/AP");

    // A page with no article is explained too, and the command says it failed.
    std::fs::write(
        home.path("empty.html"),
        "<html><body><script>var x = 1;</script></body></html>",
    )
    .unwrap();
    let empty = home.path("empty.html").display().to_string();
    let out = home.figwatch(&["extract", "--explain", &empty]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("error: no article text found in the page"),
        "{stdout}"
    );
    assert!(stdout.contains("kept: 0 paragraphs"), "{stdout}");
}

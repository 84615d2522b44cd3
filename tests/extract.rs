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

//! What is not a revision, through the real binary: the same page read by an upgraded
//! extractor, and a change of the site's template. Neither stores a version; a real edit
//! after them still does, and a template paragraph that carries a tracked figure is read.

mod common;

use common::*;

fn versions(home: &Home) -> i64 {
    home.count("SELECT count(*) FROM versions")
}

#[test]
fn an_extractor_upgrade_is_not_a_new_version_of_every_article() {
    let (server, home) = story_site();
    let url = server.url(ARTICLE);
    home.ok(&["--poll"]);
    assert_eq!(versions(&home), 1);
    assert_eq!(
        home.count("SELECT extractor FROM versions"),
        figwatch::extract::EXTRACTOR_VERSION,
        "each version records the extractor that wrote it"
    );

    // The store as an older extractor left it: that extractor also kept a share line in
    // the text.
    home.execute(
        "UPDATE versions SET extractor = 1, content_hash = 'older',
                text = text || ' Share this story with a friend who follows the war';",
    );
    // The page comes back with new markup around the same story.
    server.set(
        ARTICLE,
        Response::html(story("3,000", None).replace("<footer>", "<footer><p>Build 2</p>")),
    );
    let out = home.figwatch(&["poll", "-v"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        versions(&home),
        1,
        "the same story under a new extractor stored a version: {stderr}"
    );
    assert!(stderr.contains("upgraded extractor"), "{stderr}");
    assert_eq!(home.alert_log().len(), 1);

    // A real edit afterwards is a version, compared with the story as it stood.
    server.set(ARTICLE, Response::html(story("4,000", None)));
    home.ok(&["poll"]);
    let history = home.history(&url);
    assert_eq!(history.len(), 2);
    let log = home.alert_log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["kind"], "figure_changed");
    assert_eq!(
        (log[1]["old"].as_f64(), log[1]["new"].as_f64()),
        (Some(3000.0), Some(4000.0))
    );
    assert_eq!(
        home.count("SELECT extractor FROM versions WHERE number = 2"),
        figwatch::extract::EXTRACTOR_VERSION
    );
}

#[test]
fn a_damaged_kept_page_costs_only_the_comparison_with_it() {
    let (server, home) = story_site();
    let url = server.url(ARTICLE);
    home.ok(&["--poll"]);
    home.execute(
        "UPDATE versions SET extractor = 1;
         UPDATE pages SET body = 'H4sI not base64 at all %%%';",
    );
    server.set(ARTICLE, Response::html(story("4,000", None)));
    let out = home.figwatch(&["poll"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the stored page of article 1 is unreadable: not base64"),
        "{stderr}"
    );
    assert_eq!(home.history(&url).len(), 2);
    assert_eq!(home.alert_log().len(), 2);
    // The new page replaced the damaged one.
    assert!(!home.query("SELECT body FROM pages").contains("not base64"));
}

/// Five stories of one site, each with its own paragraphs.
fn site_page(i: usize, extra: &[&str]) -> String {
    let own = [
        format!("The city council of town number {i} met on Tuesday evening to debate the budget, and its members argued late into the night."),
        format!("Residents of district {i} told reporters that the new bus lanes had made their journeys to work slower, not faster."),
    ];
    let mut paragraphs: Vec<&str> = own.iter().map(String::as_str).collect();
    paragraphs.extend_from_slice(extra);
    article_page(&format!("Council story {i}"), &paragraphs)
}

#[test]
fn a_template_change_across_a_site_is_not_a_revision_unless_it_carries_a_tracked_figure() {
    let server = LocalServer::start().unwrap();
    let paths: Vec<String> = (0..5).map(|i| format!("/local/story-{i}.html")).collect();
    list_paths(&server, &paths);
    for (i, p) in paths.iter().enumerate() {
        server.set(p, Response::html(site_page(i, &[])));
    }
    // One article at a time, so that each sees what the ones before it left.
    let home = Home::custom(
        "interval = \"1s\"\n[articles]\nrecheck = [[\"1h\", \"1s\"]]",
        "per_host_delay = \"0s\"\nper_host_concurrency = 1",
        &format!("[[feeds]]\nurl = \"{}\"\n", server.url("/rss.xml")),
    );
    home.ok(&["--poll"]);
    assert_eq!(versions(&home), 5);

    // The site adds a line to every article's body.
    let template =
        "This story is part of our continuing coverage of the towns along the river valley.";
    for (i, p) in paths.iter().enumerate() {
        server.set(p, Response::html(site_page(i, &[template])));
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = home.figwatch(&["poll", "-v"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The first two articles rechecked cannot know yet; from the third on, the line has been
    // seen on two other articles of the site.
    assert_eq!(versions(&home), 7, "{stderr}");
    assert_eq!(
        stderr
            .matches("only paragraphs of the site's template changed")
            .count(),
        3,
        "{stderr}"
    );

    // A fact box that carries a tracked figure is read on every article, template or not.
    let fact = "So far 3,000 North Korean troops have been killed or wounded in the Kursk region, officials said.";
    for (i, p) in paths.iter().enumerate() {
        server.set(p, Response::html(site_page(i, &[template, fact])));
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    home.ok(&["poll"]);
    assert_eq!(versions(&home), 12);

    // And a plain edit of one article's own text is a revision.
    let edited = site_page(0, &[template, fact]).replace("Tuesday evening", "Wednesday evening");
    server.set(&paths[0], Response::html(edited));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    home.ok(&["poll"]);
    assert_eq!(versions(&home), 13);
}

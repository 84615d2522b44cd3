//! Walls and truncated pages are stored but flagged, raise nothing, and do not become the
//! baseline the next real version is compared with.

mod common;

use common::*;

const PATH: &str = "/story.html";

fn setup() -> (LocalServer, Home, String) {
    let server = LocalServer::start().unwrap();
    server.set(PATH, Response::html(story("3,000", None)));
    let home = Home::new(&format!("[[pages]]\nurl = \"{}\"\n", server.url(PATH)));
    let url = server.url(PATH);
    home.ok(&["--poll"]);
    (server, home, url)
}

fn status_note(home: &Home) -> String {
    let row: serde_json::Value =
        serde_json::from_str(home.ok(&["status", "--json"]).lines().next().unwrap()).unwrap();
    row["last_error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_paywall_is_flagged_and_the_next_real_version_compares_with_the_last_good_one() {
    let (server, home, url) = setup();
    assert_eq!(home.alert_log().len(), 1);

    let wall = article_page(
        "Subscribe",
        &["Subscribe now to continue reading. Already a subscriber? Log in."],
    );
    server.set(PATH, Response::html(wall));
    let summary = home.ok(&["--poll"]);
    assert!(summary.contains("1 new version, 0 alerts"), "{summary}");
    let history = home.history(&url);
    assert_eq!(history.len(), 2);
    assert!(
        history[1]["flag"].as_str().unwrap().contains("paywall"),
        "{history:?}"
    );
    assert!(history[0].get("flag").is_none());
    let note = status_note(&home);
    assert!(
        note.contains("version 2 flagged") && note.contains("paywall"),
        "{note}"
    );
    assert!(home
        .ok(&["history", &url])
        .contains("flagged: looks like a paywall page"));

    // Back to the article, with a new figure: compared with version 1, not with the wall.
    server.set(PATH, Response::html(story("4,000", None)));
    home.ok(&["--poll"]);
    let log = home.alert_log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["kind"], "figure_changed");
    assert_eq!(
        (log[1]["old"].as_f64(), log[1]["new"].as_f64()),
        (Some(3000.0), Some(4000.0))
    );
    assert_eq!(log[1]["version"], 3);
    assert_eq!(status_note(&home), "", "a good poll clears the note");
}

#[test]
fn text_that_shrinks_by_more_than_half_is_flagged() {
    let (server, home, url) = setup();
    let long = story(
        "3,000",
        Some(
            &"The region's governor described the shelling of villages near the border in detail. "
                .repeat(30),
        ),
    );
    server.set(PATH, Response::html(long));
    home.ok(&["--poll"]);
    server.set(PATH, Response::html(article_page("Cut", &["Officials said on Monday that 9,000 North Korean troops had been killed or wounded since they joined the fighting."])));
    let summary = home.ok(&["--poll"]);
    assert!(
        summary.contains("1 new version, 0 alerts"),
        "the 9,000 of a cut page raises nothing: {summary}"
    );
    let history = home.history(&url);
    assert!(
        history[2]["flag"]
            .as_str()
            .unwrap()
            .contains("shrank by more than half"),
        "{history:?}"
    );
}

//! `figwatch figures`: the batch interfaces scripts use, and the ledger that makes the same
//! figure from a second outlet a source rather than a second alert.

mod common;

use common::*;

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

#[test]
fn batch_figures_and_revisions_in_the_labelled_schema() {
    let home = Home::new("");
    let input = home.path("in.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"id": "a", "text": "As many as 4,000 North Korean troops had been killed or wounded, with only two captured alive, Zelensky said."}"#,
            "\n",
            r#"{"id": "broken", "txt": "no text field"}"#,
            "\n",
            r#"{"id": 7, "text": "North Korean troops arrived in Kursk in October 2024, when Kim Jong Un turned 40."}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = home.figwatch(&["figures", "--jsonl", input.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The bad line is named by file and line, the others are all answered, and the exit
    // status says something was skipped.
    assert!(!out.status.success());
    assert!(stderr.contains("in.jsonl:2: skipped"), "{stderr}");
    let answers = lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["id"], "a");
    let figures = answers[0]["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 2, "{figures:?}");
    assert_eq!(figures[0]["topic"], "nk-troops");
    assert_eq!(figures[0]["value"], 4000);
    assert_eq!(figures[0]["qualifier"], "at_most");
    assert_eq!(figures[0]["measure"], "casualties");
    assert_eq!(figures[0]["claimant"], "Zelensky");
    assert!(figures[0]["quote"]
        .as_str()
        .unwrap()
        .starts_with("As many as 4,000"));
    assert_eq!(figures[1]["value"], 2);
    assert_eq!(figures[1]["measure"], "captured");
    // Dates, years and ages are not figures.
    assert_eq!(answers[1]["id"], 7);
    assert_eq!(answers[1]["figures"], serde_json::json!([]));

    let revisions = home.path("rev.jsonl");
    std::fs::write(
        &revisions,
        concat!(
            r#"{"id": "r1", "before": "Officials said 3,000 North Korean troops had been killed or wounded.", "after": "Officials said 4,000 North Korean troops had been killed or wounded."}"#,
            "\n",
            r#"{"id": "r2", "before": "Two North Korean soldiers were captured.", "after": "Ukraine said 2 North Korean soldiers had been captured."}"#,
            "\n",
        ),
    )
    .unwrap();
    let answers = lines(&home.ok(&["figures", "--revisions", revisions.to_str().unwrap()]));
    assert_eq!(
        answers[0],
        serde_json::json!({"id": "r1", "alerts": [
            {"topic": "nk-troops", "measure": "casualties", "old": 3000, "new": 4000}]})
    );
    assert_eq!(answers[1], serde_json::json!({"id": "r2", "alerts": []}));
}

#[test]
fn text_shows_figures_and_the_numbers_passed_over() {
    let home = Home::new("");
    let shown = home.ok(&[
        "figures",
        "--text",
        "Pyongyang may send up to 3,000 more North Korean troops. North Korean troops guard 12 bridges.",
    ]);
    assert!(
        shown.contains("nk-troops · deployed · 3,000 (at_most; speculative)"),
        "{shown}"
    );
    assert!(
        shown.contains("nk-troops · 12: nothing named beside it that the topic counts"),
        "{shown}"
    );
}

#[test]
fn figures_text_says_why_a_number_was_passed_over() {
    let home = Home::new("");
    let shown = home.ok(&[
        "figures",
        "--text",
        "In 2024, 3,000 North Korean troops were killed or wounded, two officials said. \
         North Korean soldiers were sent on Jan. 5 for 3 or 4 weeks. \
         About 50,000 Russian soldiers fought beside North Korean troops. \
         North Korea sent troops worth $2 billion.",
    ]);
    assert!(
        shown.contains("nk-troops · casualties · 3,000 (exact; 2024"),
        "{shown}"
    );
    for why in [
        "2024: a year",
        "two: a count of the people quoted",
        "5: a date",
        "3: a duration or an age",
        "4: a duration or an age",
        "50,000: about another party, place, event or time",
        "2 billion: an amount of money (USD), and no measure of the topic has money = true",
    ] {
        assert!(
            shown.contains(&format!("nk-troops · {why}")),
            "{why}: {shown}"
        );
    }
}

/// A home watching two outlets of `server`: the feeds `/a.xml` and `/b.xml`.
fn two_outlets(server: &LocalServer) -> Home {
    Home::new(&format!(
        "[[feeds]]\nurl = \"{}\"\n[[feeds]]\nurl = \"{}\"\n",
        server.url("/a.xml"),
        server.url("/b.xml")
    ))
}

#[test]
fn the_same_figure_from_a_second_outlet_is_a_source_not_an_alert() {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    let page = |figure: &str| {
        article_page(
            "North Korean troops",
            &[&format!(
                "Officials said {figure} North Korean troops had been killed or wounded in Kursk."
            )],
        )
    };
    server.set(
        "/a.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[("A", "/a.html")])),
    );
    // The second outlet has nothing on the story yet.
    server.set(
        "/b.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[])),
    );
    server.set("/a.html", Response::html(page("3,000")));
    let home = two_outlets(&server);

    home.ok(&["--poll"]);
    assert_eq!(home.alert_log().len(), 1);

    // The second outlet reports the same 3,000: no alert, one more source.
    server.set(
        "/b.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[("B", "/b.html")])),
    );
    server.set("/b.html", Response::html(page("3,000")));
    home.ok(&["--poll"]);
    assert_eq!(home.alert_log().len(), 1, "{:?}", home.alert_log());
    let ledger = lines(&home.ok(&["figures", "--json"]));
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0]["value"], 3000);
    let sources: Vec<&str> = ledger[0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap())
        .collect();
    assert_eq!(sources, [server.url("/a.html"), server.url("/b.html")]);

    // The second outlet moves to 4,000: one alert, against the 3,000 both reported.
    server.set("/b.html", Response::html(page("4,000")));
    home.ok(&["--poll"]);
    let log = home.alert_log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["kind"], "figure_changed");
    assert_eq!(log[1]["old"], 3000);
    assert_eq!(log[1]["new"], 4000);

    // The first outlet catches up: the 4,000 is known, so only a source is added.
    server.set("/a.html", Response::html(page("4,000")));
    home.ok(&["--poll"]);
    assert_eq!(home.alert_log().len(), 2, "{:?}", home.alert_log());

    let timeline = home.ok(&["figures", "--topic", "nk-troops"]);
    assert!(timeline.contains("nk-troops · casualties"), "{timeline}");
    // Both outlets say where: the place is part of what the figure covers.
    let three = timeline
        .find("3,000 in Kursk (exact")
        .expect("3,000 listed");
    let four = timeline
        .find("4,000 in Kursk (exact")
        .expect("4,000 listed");
    assert!(three < four, "oldest first: {timeline}");
    let unknown = home.figwatch(&["figures", "--topic", "nope"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("configured topics: nk-troops"));
}

#[test]
fn one_version_never_changes_its_own_figures_and_scopes_keep_claims_apart() {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    server.set(
        "/a.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[("A", "/a.html")])),
    );
    server.set(
        "/b.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[])),
    );
    // One version with two casualty values: two new figures, not a change between them.
    server.set(
        "/a.html",
        Response::html(article_page(
            "North Korean troops",
            &[
                "Since December, 3,000 North Korean troops have been killed or wounded in Kursk, officials said.",
                "Over the past decade, 40 North Korean soldiers were killed or wounded in border clashes.",
            ],
        )),
    );
    let home = two_outlets(&server);
    home.ok(&["--poll"]);
    let log = home.alert_log();
    let kinds: Vec<&str> = log.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["new_figure", "new_figure"], "{log:?}");
    assert_eq!(log[1]["scope"], "over decade", "{log:?}");

    // A second outlet reports a toll over another period: a new figure that lists the values
    // standing, not a change of the decade's 40.
    server.set(
        "/b.xml",
        Response::ok("application/rss+xml", rss_feed(&base, &[("B", "/b.html")])),
    );
    server.set(
        "/b.html",
        Response::html(article_page(
            "North Korean troops",
            &["Between 1950 and 1953, 400,000 North Korean soldiers were killed or wounded."],
        )),
    );
    home.ok(&["--poll"]);
    let log = home.alert_log();
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[2]["kind"], "new_figure", "{log:?}");
    assert_eq!(log[2]["scope"], "1950–1953");
    let standing: Vec<String> = log[2]["standing"]
        .as_array()
        .expect("standing values")
        .iter()
        .map(|s| s["value"].to_string())
        .collect();
    assert_eq!(standing, ["40", "3000"], "{log:?}");
    let shown = home.ok(&["alerts"]);
    assert!(
        shown.contains("standing: 40 over decade (127.0.0.1"),
        "{shown}"
    );

    // The same outlet edits its decade figure: that is the claim changing.
    server.set(
        "/a.html",
        Response::html(article_page(
            "North Korean troops",
            &[
                "Since December, 3,000 North Korean troops have been killed or wounded in Kursk, officials said.",
                "Over the past decade, 55 North Korean soldiers were killed or wounded in border clashes.",
            ],
        )),
    );
    home.ok(&["--poll"]);
    let log = home.alert_log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[3]["kind"], "figure_changed", "{log:?}");
    assert_eq!(log[3]["old"], 40);
    assert_eq!(log[3]["new"], 55);
}

#[test]
fn outlets_values_far_apart_or_vague_are_not_one_claim_moving() {
    let server = LocalServer::start().unwrap();
    let base = server.url("");
    let feed =
        |entries: &[(&str, &str)]| Response::ok("application/rss+xml", rss_feed(&base, entries));
    let page = |sentence: &str| Response::html(article_page("North Korean troops", &[sentence]));
    server.set("/a.xml", feed(&[("A", "/a.html")]));
    server.set("/b.xml", feed(&[]));
    server.set(
        "/a.html",
        page("Officials said 3,000 North Korean troops had been killed or wounded."),
    );
    let home = two_outlets(&server);
    home.ok(&["--poll"]);
    // Another outlet's 40 is not the 3,000 falling: a new figure beside it.
    server.set("/b.xml", feed(&[("B", "/b.html")]));
    server.set(
        "/b.html",
        page("Officials said 40 North Korean troops had been killed or wounded."),
    );
    home.ok(&["--poll"]);
    let log = home.alert_log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["kind"], "new_figure", "{log:?}");
    assert_eq!(log[1]["standing"][0]["value"], 3000, "{log:?}");
    // The same outlet moving from 40 to 400 is its own claim moving, however far.
    server.set(
        "/b.html",
        page("Officials said 400 North Korean troops had been killed or wounded."),
    );
    home.ok(&["--poll"]);
    let log = home.alert_log();
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[2]["kind"], "figure_changed", "{log:?}");
    assert_eq!(log[2]["old"], 40);
}

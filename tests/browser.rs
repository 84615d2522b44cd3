//! The dashboard in headless Chromium, driven over WebDriver (chromedriver): open the alerts,
//! follow an alert to its diff and see the new figure highlighted, count the chart's marks,
//! and check that hostile article text stays inert. Screenshots of the three pages are saved
//! under `target/screenshots/` for review.
//!
//! Needs Debian's `chromium` and `chromium-driver`, so a plain `cargo test` lists it as
//! ignored (never as passed); `cargo test --test browser -- --include-ignored` runs it, and
//! fails if they are missing. `.ci/run` installs them and runs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::*;
use fantoccini::{ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
#[ignore = "needs chromium and chromium-driver; run with `cargo test --test browser -- --include-ignored` (.ci/run does)"]
fn the_dashboard_in_a_real_browser() {
    assert!(
        Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
        "{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
    );

    // A story revised 3,000 → 4,000, and an article whose text holds markup.
    let (server, home) = dashboard_site("A reader wrote &lt;script&gt;document.title='pwned'&lt;/script&gt; and &lt;img src=x onerror=\"document.title='pwned'\"&gt; below.");
    // An outbreak whose case count runs from 2 to 50,000,000 over four versions, with a
    // percentage beside it.
    let outbreak = "/health/cholera.html";
    let config = std::fs::read_to_string(home.config()).unwrap();
    std::fs::write(
        home.config(),
        format!(
            "{config}\n[[pages]]\nurl = \"{}\"\n\n[[topics]]\nid = \"outbreak\"\nname = \"Cholera outbreak\"\nterms = [\"cholera\"]\n\n  [[topics.measures]]\n  name = \"cases\"\n  words = [\"cases\"]\n\n  [[topics.measures]]\n  name = \"positivity\"\n  words = [\"positivity rate\"]\n",
            server.url(outbreak)
        ),
    )
    .unwrap();
    for (cases, rate) in [
        ("2", "12%"),
        ("350", "12%"),
        ("40,000", "12%"),
        ("50,000,000", "15%"),
    ] {
        let first = format!(
            "Health officials said {cases} cases of cholera had been recorded across the region."
        );
        let second =
            format!("The cholera test positivity rate stood at {rate} on Monday, officials said.");
        server.set(
            outbreak,
            Response::html(article_page("Cholera spreads", &[&first, &second])),
        );
        home.ok(&["--poll", "--all"]);
    }
    let figures: Vec<serde_json::Value> = home
        .ok(&["export", "figures", "--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stored_marks = figures.iter().filter(|f| f["topic"] == "nk-troops").count();
    let outbreak_figures: Vec<&serde_json::Value> = figures
        .iter()
        .filter(|f| f["topic"] == "outbreak")
        .collect();
    assert!(outbreak_figures.len() >= 6, "{outbreak_figures:?}");

    let web_port = home.listen_web("");
    let _web = Killed(
        Command::new(env!("CARGO_BIN_EXE_figwatch"))
            .arg("--config")
            .arg(home.config())
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(web_port, "the dashboard");
    let driver_port = free_port();
    let _driver = Killed(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(driver_port, "chromedriver");

    let web = format!("http://127.0.0.1:{web_port}");
    let shots = screenshots();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("a WebDriver session with headless Chromium");

        // The alerts page: each figure alert's change is an element of its own, the page says
        // how many alerts it holds; then the nk-troops change's link to its diff.
        client.goto(&format!("{web}/alerts")).await.unwrap();
        std::fs::write(shots.join("alerts.png"), client.screenshot().await.unwrap()).unwrap();
        let count = client.find(Locator::Css("p.count")).await.unwrap().text().await.unwrap();
        let items = client.find_all(Locator::Css("ol.alerts > li")).await.unwrap();
        assert!(count.starts_with(&format!("{} alerts", items.len())), "{count}");
        let changed = client
            .find_all(Locator::Css("li.figure_changed"))
            .await
            .unwrap();
        assert!(changed.len() >= 4, "nk-troops once, cases three times");
        for li in &changed {
            let change = li.find(Locator::Css(".change")).await.expect("the change, its own element");
            assert!(change.text().await.unwrap().contains(" → "));
        }
        let mut link = None;
        for li in &changed {
            if li.find(Locator::Css(".change")).await.unwrap().text().await.unwrap() == "3,000 → 4,000" {
                link = Some(li.find(Locator::Css("a.where")).await.unwrap());
            }
        }
        let link = link.expect("the nk-troops change, with a link");
        link.click().await.unwrap();
        let url = client.current_url().await.unwrap();
        assert_eq!(url.path(), "/article", "{url}");
        let inserted = client.find(Locator::Css(".diff ins")).await.unwrap();
        assert_eq!(inserted.text().await.unwrap().trim(), "4,000");
        // Highlighted: the stylesheet gives insertions a background of their own.
        let background = client
            .execute(
                "return getComputedStyle(document.querySelector('.diff ins')).backgroundColor",
                vec![],
            )
            .await
            .unwrap();
        let background = background.as_str().unwrap_or_default().to_string();
        assert!(
            !background.is_empty() && background != "rgba(0, 0, 0, 0)",
            "the insertion is highlighted: {background}"
        );
        std::fs::write(shots.join("article.png"), client.screenshot().await.unwrap()).unwrap();

        // The topic's chart: one mark per stored figure.
        client.goto(&format!("{web}/topics/nk-troops")).await.unwrap();
        let marks = client.find_all(Locator::Css("svg.chart .mark")).await.unwrap();
        assert_eq!(marks.len(), stored_marks);
        std::fs::write(shots.join("topic.png"), client.screenshot().await.unwrap()).unwrap();

        // The outbreak: counts and percentages in charts of their own; the count chart keeps
        // its story visible (more than three heights for four values across 2 to 50,000,000);
        // each chart writes its latest value; every stored value is in the table beside it.
        client.goto(&format!("{web}/topics/outbreak")).await.unwrap();
        std::fs::write(shots.join("topic-outbreak.png"), client.screenshot().await.unwrap()).unwrap();
        let sections = client.find_all(Locator::Css("section.measure")).await.unwrap();
        assert_eq!(sections.len(), 2);
        let mut seen = std::collections::HashMap::new();
        for s in &sections {
            let heading = s.find(Locator::Css("h2")).await.unwrap().text().await.unwrap();
            let mut values = Vec::new();
            let mut heights = std::collections::HashSet::new();
            for m in s.find_all(Locator::Css("svg.chart .mark.value")).await.unwrap() {
                values.push(m.attr("data-value").await.unwrap().unwrap());
                heights.insert(m.attr("cy").await.unwrap().unwrap());
            }
            let latest = s.find(Locator::Css("svg.chart text.latest")).await.unwrap();
            assert!(latest.is_displayed().await.unwrap());
            let latest = latest.text().await.unwrap();
            let table = s.find(Locator::Css("table.values")).await.unwrap().text().await.unwrap();
            seen.insert(heading.clone(), (values, heights, latest, table));
        }
        let (cases, percent): (Vec<_>, Vec<_>) = seen.iter().partition(|(h, _)| h.starts_with("cases"));
        let (_, (case_values, case_heights, case_latest, case_table)) = cases[0];
        let (_, (pct_values, _, pct_latest, pct_table)) = percent[0];
        assert!(case_values.iter().all(|v| v != "12" && v != "15"), "{case_values:?}");
        assert!(pct_values.iter().all(|v| v == "12" || v == "15"), "{pct_values:?}");
        assert!(case_heights.len() > 3, "{case_heights:?}");
        assert!(case_latest.contains("50,000,000"), "{case_latest}");
        assert!(pct_latest.contains("15%"), "{pct_latest}");
        for f in &outbreak_figures {
            let shown = figwatch::figures::format_number(f["value"].as_f64().unwrap());
            let table = if f["measure"] == "cases" { case_table } else { pct_table };
            assert!(table.contains(&shown), "{shown} is not in the table: {table}");
        }

        // The hostile article: its markup is text, nothing ran.
        let xss = url::form_urlencoded::byte_serialize(server.url(XSS).as_bytes()).collect::<String>();
        client.goto(&format!("{web}/article?url={xss}")).await.unwrap();
        let scripts = client.find_all(Locator::Css("script, .diff img")).await.unwrap();
        assert!(scripts.is_empty(), "no script or img element came from the article");
        let diff = client.find(Locator::Css(".diff")).await.unwrap().text().await.unwrap();
        assert!(diff.contains("<script>document.title='pwned'</script>"), "{diff}");
        let title = client.title().await.unwrap();
        assert!(!title.contains("pwned"), "{title}");

        client.close().await.unwrap();
    });
}

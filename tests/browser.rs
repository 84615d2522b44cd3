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
    let stored_marks = home
        .ok(&["export", "figures", "--format", "jsonl"])
        .lines()
        .filter(|l| l.contains("\"topic\":\"nk-troops\""))
        .count();

    let web_port = free_port();
    let config = std::fs::read_to_string(home.config()).unwrap();
    std::fs::write(
        home.config(),
        format!("{config}\n[web]\nlisten = \"127.0.0.1:{web_port}\"\n"),
    )
    .unwrap();
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

        // The alerts page, then the figure_changed alert's link to its diff.
        client.goto(&format!("{web}/alerts")).await.unwrap();
        std::fs::write(shots.join("alerts.png"), client.screenshot().await.unwrap()).unwrap();
        let link = client
            .find(Locator::Css("li.figure_changed a.line"))
            .await
            .expect("a figure_changed alert with a link");
        assert!(link.text().await.unwrap().contains("3,000 → 4,000"));
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

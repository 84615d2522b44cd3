//! `figwatch demo`: a local news site whose story on North Korean troops is revised twice,
//! polled three times into a fresh database, so a newcomer sees versions, alerts and a diff in
//! seconds without network or configuration.

use std::io::Write;
use std::sync::Arc;

use crate::config::Config;
use crate::localhttp::{LocalServer, Response};
use crate::pipeline::Pipeline;
use crate::store::{AlertFilter, Store};

/// The story as it reads on each poll: a list of paragraphs.
const REVISIONS: [&[&str]; 3] = [
    &[
        "KYIV, Ukraine — North Korea has sent thousands of soldiers to fight for Russia in the Kursk region, where Ukrainian forces have held ground since August 2024.",
        "Ukraine's military intelligence agency said on Monday that about 3,000 North Korean troops had been killed or wounded since they joined the fighting.",
        "South Korea's spy agency estimated in December that about 11,000 North Korean soldiers had been deployed to Russia.",
        "The figures could not be independently verified. Pyongyang has not commented on its losses, and Moscow has not confirmed their presence.",
    ],
    &[
        "KYIV, Ukraine — North Korea has sent thousands of soldiers to fight for Russia in the Kursk region, where Ukrainian forces have held ground since August 2024.",
        "President Volodymyr Zelensky said on Tuesday that as many as 4,000 North Korean troops had been killed or wounded, and two had been captured alive.",
        "South Korea's spy agency estimated in December that about 11,000 North Korean soldiers had been deployed to Russia.",
        "The figures could not be independently verified. Pyongyang has not commented on its losses, and Moscow has not confirmed their presence.",
    ],
    &[
        "KYIV, Ukraine — North Korea has sent thousands of soldiers to fight for Russia in the Kursk region, where Ukrainian forces have held ground since August 2024.",
        "As many as 4,000 North Korean troops had been killed or wounded and 2 had been captured alive, President Volodymyr Zelensky said on Tuesday.",
        "A U.S. official said on Wednesday that at least 1,100 North Korean soldiers had been killed.",
        "South Korea's spy agency estimated in December that about 11,000 North Korean soldiers had been deployed to Russia.",
        "The figures could not be independently verified. Pyongyang has not commented on its losses, and Moscow has not confirmed their presence.",
    ],
];

const OTHER_STORY: &[&str] = &[
    "Heavy snow closed schools across the region on Thursday, and 14 flights were cancelled at the main airport.",
    "Forecasters expect 20 centimetres more by Saturday; the last storm of this size struck in 2019.",
];

/// The topic the demo (and the end-to-end tests) track, as configuration text.
pub const TOPIC_TOML: &str = r#"[[topics]]
id = "nk-troops"
name = "North Korean troops in Russia's war"
terms = ["North Korean troops", "North Korean soldiers"]
near = [["North Korea", "North Korean", "Pyongyang"], ["troops", "soldiers", "killed", "wounded"]]
"#;

pub const ARTICLE_PATH: &str = "/world/north-korean-troops-kursk.html";
const WEATHER_PATH: &str = "/local/snow-closes-schools.html";

/// Builds a news page around paragraphs, with the boilerplate a real site has.
pub fn article_page(title: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} | Demo News</title>\
         <meta name=\"author\" content=\"Demo Desk\"><meta property=\"article:published_time\" content=\"2025-01-14T08:00:00Z\"></head>\
         <body><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>\
         <article><h1>{title}</h1><p class=\"byline\">By Demo Desk</p>\n{body}</article>\
         <aside><h2>Most read</h2><ul><li><a href=\"/x\">Another story</a></li></ul></aside>\
         <footer>© Demo News</footer></body></html>"
    )
}

/// An RSS feed listing the given (title, path) entries.
pub fn rss_feed(base: &str, entries: &[(&str, &str)]) -> String {
    let items: String = entries
        .iter()
        .map(|(title, path)| format!("<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid></item>"))
        .collect();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Demo News</title><link>{base}/</link>{items}</channel></rss>")
}

pub fn run() -> anyhow::Result<()> {
    let server = LocalServer::start()?;
    let base = server.url("");
    let title = "North Korean troops suffer heavy losses in Kursk";
    server.set(
        "/feed.xml",
        Response::ok(
            "application/rss+xml",
            rss_feed(
                &base,
                &[(title, ARTICLE_PATH), ("Snow closes schools", WEATHER_PATH)],
            ),
        ),
    );
    server.set(
        WEATHER_PATH,
        Response::html(article_page("Snow closes schools", OTHER_STORY)),
    );

    let dir = std::env::temp_dir().join(format!(
        "figwatch-demo-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp()
    ));
    std::fs::create_dir_all(&dir)?;
    let config_path = dir.join("figwatch.toml");
    std::fs::write(
        &config_path,
        format!(
            r#"database = "{db}"
alert_log = "{log}"
# The demo polls three times in a few seconds, as if its interval had passed each time.
interval = "2s"

[fetch]
per_host_delay = "0s"
allow_hosts = ["127.0.0.1"]       # the demo's own site; figwatch fetches no internal address unless told

[[feeds]]
url = "{base}/feed.xml"

{TOPIC_TOML}"#,
            db = dir.join("figwatch.db").display(),
            log = dir.join("alerts.jsonl").display(),
        ),
    )?;
    let config = Config::load(&config_path)?;
    let store = Store::connect(&config.database)?;
    let outbox = crate::alerts::outbox::Outbox::open(&config)?;
    let pipeline = Arc::new(Pipeline::new(config, store)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    writeln!(
        crate::cli::stdout(),
        "figwatch demo: a local news site at {base}, watched with the topic \"nk-troops\".\n"
    )?;
    for (i, paragraphs) in REVISIONS.iter().enumerate() {
        server.set(
            ARTICLE_PATH,
            Response::html(article_page(title, paragraphs)),
        );
        let summary = runtime.block_on(pipeline.poll_all());
        let what = match i {
            0 => "first poll",
            1 => "second poll, after the casualty figure was revised",
            _ => "third poll, after a rewrite and a new figure",
        };
        writeln!(crate::cli::stdout(), "poll {} ({what}): {summary}", i + 1)?;
    }

    runtime.block_on(outbox.drain(std::time::Duration::from_secs(5)));
    writeln!(
        crate::cli::stdout(),
        "\nalerts (also in {}):\n",
        dir.join("alerts.jsonl").display()
    )?;
    let alerts = pipeline.store.alerts(&AlertFilter::default())?;
    crate::cli::print_alerts(&alerts, false, &mut crate::cli::stdout())?;

    let url = format!("{base}{ARTICLE_PATH}");
    let article = pipeline
        .store
        .article_id(&url)?
        .ok_or_else(|| anyhow::anyhow!("the demo article was not stored"))?;
    let (old, new) = (
        pipeline.store.version(article, 2)?,
        pipeline.store.version(article, 3)?,
    );
    if let (Some(old), Some(new)) = (old, new) {
        writeln!(crate::cli::stdout(), "\nthe last change, word by word:\n")?;
        let chunks = crate::diff::word_diff(&old.article.text, &new.article.text);
        let color = std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::env::var_os("NO_COLOR").is_none();
        crate::cli::write_diff(
            &mut std::io::stdout().lock(),
            &url,
            (2, &old.fetched_at),
            (3, &new.fetched_at),
            &chunks,
            false,
            color,
        )?;
    }
    writeln!(crate::cli::stdout(),
        "\nThe database and alert log stay in {} — try:\n  figwatch --config {} alerts\n  figwatch --config {} history {url}",
        dir.display(),
        config_path.display(),
        config_path.display()
    )?;
    Ok(())
}

//! The demo's story: a news page on North Korean troops revised twice, a weather page beside it,
//! the feed that lists them and the topic that tracks them. `figwatch demo` serves it from a
//! local site; the end-to-end tests, `figwatch-eval` and `figwatch-load` build their sites from
//! the same pages, so what a newcomer sees is what the tests check.

/// The story as it reads on each poll: a list of paragraphs.
pub const REVISIONS: [&[&str]; 3] = [
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

/// The other page of the demo's site, with numbers about something else.
pub const OTHER_STORY: &[&str] = &[
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

/// Where the demo's site serves its story.
pub const ARTICLE_PATH: &str = "/world/north-korean-troops-kursk.html";
/// Where it serves the other page.
pub const WEATHER_PATH: &str = "/local/snow-closes-schools.html";

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

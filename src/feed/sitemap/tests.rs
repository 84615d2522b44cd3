use super::*;

fn url() -> Url {
    Url::parse("https://news.example/news-sitemap.xml").unwrap()
}

const NEWS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example/world/2025/01/14/troops-kursk.html?a=1&amp;b=2</loc>
    <lastmod>2025-01-14T10:30:00+01:00</lastmod>
    <news:news>
      <news:publication><news:name>Example News</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2025-01-14T08:00:00Z</news:publication_date>
      <news:title><![CDATA[Troops & losses in Kursk]]></news:title>
    </news:news>
  </url>
  <url><loc>/local/snow-closes-schools</loc><lastmod>2025-01-13</lastmod></url>
  <url><loc>ftp://news.example/file</loc></url>
  <url><lastmod>2025-01-13</lastmod></url>
</urlset>"#;

#[test]
fn a_news_sitemap_gives_each_url_with_its_news_metadata() {
    let Sitemap::Urls(entries) = parse(NEWS.as_bytes(), &url()).unwrap() else {
        panic!("a urlset")
    };
    assert_eq!(entries.len(), 2, "{entries:?}");
    let first = &entries[0];
    assert_eq!(
        first.url.as_str(),
        "https://news.example/world/2025/01/14/troops-kursk.html?a=1&b=2"
    );
    assert_eq!(first.title.as_deref(), Some("Troops & losses in Kursk"));
    assert_eq!(first.language.as_deref(), Some("en"));
    assert_eq!(
        first.published.unwrap().to_rfc3339(),
        "2025-01-14T08:00:00+00:00"
    );
    assert_eq!(
        first.lastmod.unwrap().to_rfc3339(),
        "2025-01-14T09:30:00+00:00"
    );
    assert_eq!(first.date(), first.published);
    // A relative <loc> is read against the sitemap; a date alone is midnight UTC.
    assert_eq!(
        entries[1].url.as_str(),
        "https://news.example/local/snow-closes-schools"
    );
    assert_eq!(
        entries[1].date().unwrap().to_rfc3339(),
        "2025-01-13T00:00:00+00:00"
    );
}

#[test]
fn a_gzipped_sitemap_index_lists_its_children() {
    use std::io::Write;
    let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://news.example/sitemap-2025-01.xml.gz</loc><lastmod>2025-01-14</lastmod></sitemap>
      <sitemap><loc>https://news.example/sitemap-2024-12.xml.gz</loc></sitemap>
    </sitemapindex>"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(index.as_bytes()).unwrap();
    let Sitemap::Index(children) = parse(&gz.finish().unwrap(), &url()).unwrap() else {
        panic!("an index")
    };
    assert_eq!(children.len(), 2);
    assert!(children[0].url.as_str().ends_with("sitemap-2025-01.xml.gz"));
    assert!(children[0].lastmod.is_some() && children[1].lastmod.is_none());
}

#[test]
fn what_is_no_sitemap_is_refused_with_what_it_is() {
    let feed = r#"<rss version="2.0"><channel><title>x</title></channel></rss>"#;
    let err = parse(feed.as_bytes(), &url()).unwrap_err().to_string();
    assert!(err.contains("its root element is <rss>"), "{err}");
    let broken = "<urlset><url><loc>https://news.example/a</loc></url";
    assert!(parse(broken.as_bytes(), &url()).is_err());
    let err = parse(b"\x1f\x8b not gzip at all", &url())
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not inflate"), "{err}");
}

#[test]
fn a_gzip_bomb_is_refused_without_being_inflated_whole() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..=(MAX_BYTES / zeros.len() as u64) {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let err = parse(&bomb, &url()).unwrap_err().to_string();
    assert!(err.contains("inflates past"), "{err}");
}

#[test]
fn control_characters_in_a_title_are_dropped() {
    let xml = "<urlset><url><loc>https://news.example/a</loc><news:news><news:title>Evil\u{1b}[31m title</news:title></news:news></url></urlset>";
    let Sitemap::Urls(entries) = parse(xml.as_bytes(), &url()).unwrap() else {
        panic!()
    };
    assert!(!entries[0].title.as_deref().unwrap().contains('\u{1b}'));
}

#[test]
fn w3c_dates_in_every_precision() {
    for (text, want) in [
        ("2024-05-06", "2024-05-06T00:00:00+00:00"),
        ("2024-05-06T10:00Z", "2024-05-06T10:00:00+00:00"),
        ("2024-05-06T10:00+02:00", "2024-05-06T08:00:00+00:00"),
        ("2024-05-06T10:00:00.5Z", "2024-05-06T10:00:00.500+00:00"),
    ] {
        assert_eq!(
            w3c_date(text).map(|t| t.to_rfc3339()).as_deref(),
            Some(want),
            "{text}"
        );
    }
    assert_eq!(w3c_date("yesterday"), None);
}

#[test]
fn robots_txt_names_its_sitemaps() {
    let robots = "User-agent: *\nDisallow: /search\nSitemap: https://news.example/news-sitemap.xml\nsitemap:/sitemap-index.xml # all\nSitemap: javascript:alert(1)\n";
    let found: Vec<String> = robots_sitemaps(robots, &url())
        .iter()
        .map(Url::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "https://news.example/news-sitemap.xml",
            "https://news.example/sitemap-index.xml"
        ]
    );
}

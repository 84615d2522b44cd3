//! An article's identity by address: the canonical URL it is stored under (tracking parameters
//! and fragments removed, so one story linked from several listings is one article), and the
//! site it belongs to. Below both the pipeline, which stores by them, and the front reader,
//! which lists by them.

use url::Url;

/// The host an article came from, as alerts and the ledger name it: `washingtonpost.com`.
pub fn site_of(url: &Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches("www.")
        .to_string()
}

/// Two URLs on one site, `www.` aside.
pub fn same_site(a: &Url, b: &Url) -> bool {
    let host = |u: &Url| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
    };
    host(a).is_some() && host(a) == host(b)
}

/// The address an article is stored under: tracking parameters (`utm_*`) and the fragment
/// removed, so the same story linked from several feeds is one article.
pub fn canonical_url(url: &Url) -> Url {
    let mut out = url.clone();
    if url.fragment().is_some_and(|f| !f.starts_with("entry-")) {
        out.set_fragment(None);
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        out.set_query(None);
    } else if kept.len() != url.query_pairs().count() {
        out.query_pairs_mut().clear().extend_pairs(kept);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_url_drops_tracking_and_fragments() {
        let u =
            Url::parse("https://n.example/a?id=3&utm_source=rss&utm_medium=x#comments").unwrap();
        assert_eq!(canonical_url(&u).as_str(), "https://n.example/a?id=3");
        let u = Url::parse("https://n.example/a?utm_source=rss").unwrap();
        assert_eq!(canonical_url(&u).as_str(), "https://n.example/a");
        let u = Url::parse("https://n.example/feed.xml#entry-abc").unwrap();
        assert_eq!(
            canonical_url(&u).as_str(),
            "https://n.example/feed.xml#entry-abc"
        );
    }
}

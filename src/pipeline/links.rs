//! Addresses: the canonical URL an article is stored under, where a feed entry's article comes
//! from, and the site an article belongs to.

use url::Url;

use crate::extract;
use crate::feed::FeedEntry;

/// The host an article came from, as alerts and the ledger name it: `washingtonpost.com`.
pub(super) fn site_of(url: &Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches("www.")
        .to_string()
}

/// Two URLs on one site, `www.` aside.
pub(super) fn same_site(a: &Url, b: &Url) -> bool {
    let host = |u: &Url| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
    };
    host(a).is_some() && host(a) == host(b)
}

/// Where an entry's article comes from: its link, or (no link) its own content under a
/// stable address inside the feed.
pub(super) fn entry_target<'e>(feed_url: &Url, entry: &'e FeedEntry) -> (Url, Option<&'e str>) {
    match &entry.link {
        Some(link) => (link.clone(), None),
        None => {
            let mut url = feed_url.clone();
            url.set_fragment(Some(&format!(
                "entry-{}",
                extract::content_hash(&entry.id)[..16].to_owned()
            )));
            (url, Some(entry.content.as_deref().unwrap_or_default()))
        }
    }
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

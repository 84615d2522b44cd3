//! Where a feed entry's article comes from; the canonical URL and site of an article are
//! `feed::urls`'s, re-exported here for the pipeline.

use url::Url;

use crate::extract;
use crate::feed::FeedEntry;

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

pub use crate::feed::urls::{canonical_url, same_site, site_of};

//! A listing source's poll: the feed, sitemap or section front fetched unless it is
//! unchanged, read into the links it lists, and each link followed that is new, retired and
//! listed anew, or changed since the last poll by the listing's own word (a sitemap's
//! `lastmod`). A 304 costs no parsing; the articles are checked again on their own age
//! schedule whether the listing still names them or not. A front's own text is never stored.

use chrono::{DateTime, Utc};
use url::Url;

use super::*;
use crate::extract::front;
use crate::feed::sitemap::{self, Sitemap, SitemapEntry};
use crate::feed::FeedEntry;
use crate::fetch::Fetched;

/// The child sitemaps of an index read in one poll: the most recently changed.
const MAX_CHILD_SITEMAPS: usize = 5;

/// One link a listing names.
struct Item {
    entry: FeedEntry,
    /// What the listing says of when it last changed (a sitemap's `lastmod`), as recorded
    /// with the listing: a different one next time makes the article due.
    stamp: Option<String>,
    /// Recent enough to follow on first sight (a sitemap's `max_age`; always, elsewhere).
    recent: bool,
}

/// What one read of a listing gives.
struct Listing {
    items: Vec<Item>,
    /// RSS `<ttl>`.
    ttl: Option<Duration>,
    /// What was left out, for `status`.
    notes: Vec<String>,
}

impl Pipeline {
    /// Polls a feed, sitemap or section front (see the module's comment).
    pub(super) async fn poll_listing(
        &self,
        source_id: i64,
        source: &SourceConfig,
        state: &SourceState,
        summary: &mut PassSummary,
    ) -> Result<Polled, Failure> {
        let url = &source.url;
        let fetched = match self
            .fetcher
            .get_if_changed(url, &state.validators)
            .await
            .map_err(|e| self.fetch_failed(e))?
        {
            Conditional::NotModified { fresh_for } => {
                return Ok(Polled::NotModified { fresh_for });
            }
            Conditional::Changed(f) => f,
        };
        let (status, validators, fresh_for) = (
            fetched.status,
            fetched.validators.clone(),
            fetched.fresh_for,
        );
        let listing = self.read_listing(source, fetched).await?;
        let before =
            crate::store::off_runtime(|| self.store.listings(source_id)).unwrap_or_else(|e| {
                tracing::error!(source = %url, "cannot read the listing's last links: {e}");
                Default::default()
            });
        // A listing's record is the link, then the stamp after a space (a URL holds none).
        let stamps_before: HashMap<&str, Option<&str>> = before
            .values()
            .map(|v| match v.split_once(' ') {
                Some((link, stamp)) => (link, Some(stamp)),
                None => (v.as_str(), None),
            })
            .collect();
        let n = listing.items.len();
        let mut notes = listing.notes;
        let wanted: Vec<&Item> = listing
            .items
            .iter()
            .filter(|i| {
                let link = i.entry.link.as_ref().map(Url::as_str);
                i.recent || link.is_some_and(|l| stamps_before.contains_key(l))
            })
            .collect();
        if wanted.len() < n {
            notes.push(format!(
                "{} of {n} listed links are older than max_age ({}) and not followed",
                n - wanted.len(),
                humantime::format_duration(source.max_age)
            ));
        }
        // An archive feed of thousands of entries would be thousands of requests a poll.
        let followed = &wanted[..wanted.len().min(MAX_ENTRIES)];
        if wanted.len() > MAX_ENTRIES {
            let (what, things) = match source.kind {
                SourceKind::Sitemap => ("sitemap", "recent links (newest first)"),
                SourceKind::Section => ("front", "article links"),
                SourceKind::Feed | SourceKind::Page => ("feed", "entries"),
            };
            notes.push(format!(
                "the {what} lists {} {things}; only the first {MAX_ENTRIES} are followed",
                wanted.len()
            ));
        }
        let mut failures: Vec<String> = Vec::new();
        let mut flagged: Vec<String> = Vec::new();
        let mut listed: Vec<(i64, String)> = Vec::new();
        for item in followed {
            let entry = &item.entry;
            let (link, inline) = links::entry_target(url, entry);
            let before = stamps_before.get(link.as_str());
            let how = match inline {
                Some(content) => Listed::Inline {
                    id: &entry.id,
                    content,
                    entry,
                },
                None => Listed::Entry {
                    id: &entry.id,
                    listed_before: before.is_some(),
                    updated: item.stamp.is_some()
                        && before.is_some_and(|b| *b != item.stamp.as_deref()),
                },
            };
            let record = match &item.stamp {
                Some(stamp) => format!("{link} {stamp}"),
                None => link.to_string(),
            };
            let checked = self.check_article(source_id, source, &link, how).await;
            match checked {
                Ok(o) => {
                    summary.count(&o);
                    flagged.extend(o.flag);
                    listed.extend(o.article_id.map(|id| (id, record)));
                }
                Err(f) if f.deferred_until.is_some() => {}
                Err(f) => {
                    tracing::warn!(source = %url, article = %link, "article skipped: {}", f.error);
                    failures.push(f.error.to_string());
                }
            }
        }
        if let Err(e) =
            crate::store::off_runtime(|| self.store.set_listings(source_id, &before, &listed))
        {
            tracing::error!(source = %url, "cannot record the listing's links: {e}");
        }
        summary.article_errors += failures.len();
        for (list, what) in [
            (&failures, "could not be read"),
            (&flagged, "stored but flagged"),
        ] {
            if let Some(last) = list.last() {
                notes.push(format!(
                    "{} of {} articles {what}; last: {last}",
                    list.len(),
                    followed.len()
                ));
            }
        }
        Ok(Polled::Fetched {
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            validators,
            fresh_for: fresh_for.max(listing.ttl),
            status,
        })
    }

    /// The links of a fetched listing, by its kind; parsing runs on the blocking pool.
    async fn read_listing(
        &self,
        source: &SourceConfig,
        fetched: Fetched,
    ) -> Result<Listing, Failure> {
        let url = &source.url;
        let base = fetched.url.clone();
        match source.kind {
            SourceKind::Section => {
                let filter = source.links.clone();
                let charset = fetched.charset.clone();
                let done = tokio::task::spawn_blocking(move || {
                    let html = crate::extract::decode(&fetched.body, charset.as_deref());
                    front::article_links(&html, &base, &filter)
                })
                .await;
                let links = PollError::joined(done, url, "reading the front's links")
                    .map_err(Failure::new)?;
                let items = links
                    .into_iter()
                    .map(|l| Item {
                        entry: FeedEntry {
                            id: l.url.to_string(),
                            link: Some(l.url),
                            title: l.title,
                            content: None,
                        },
                        stamp: None,
                        recent: true,
                    })
                    .collect();
                Ok(Listing {
                    items,
                    ttl: None,
                    notes: Vec::new(),
                })
            }
            SourceKind::Sitemap => self.read_sitemap(source, fetched).await,
            SourceKind::Feed | SourceKind::Page => {
                let body = fetched.body;
                let done =
                    tokio::task::spawn_blocking(move || feed::parse_feed(&body, &base)).await;
                let parsed = PollError::joined(done, url, "the feed parser")
                    .map_err(Failure::new)?
                    .map_err(Failure::new)?;
                let items = parsed
                    .entries
                    .into_iter()
                    .map(|entry| Item {
                        entry,
                        stamp: None,
                        recent: true,
                    })
                    .collect();
                Ok(Listing {
                    items,
                    ttl: parsed.ttl,
                    notes: Vec::new(),
                })
            }
        }
    }

    /// A sitemap's URLs, newest first; an index's most recently changed children are fetched
    /// and read in its place.
    async fn read_sitemap(
        &self,
        source: &SourceConfig,
        fetched: Fetched,
    ) -> Result<Listing, Failure> {
        let url = &source.url;
        let mut notes = Vec::new();
        let parsed = parse_sitemap(url, fetched).await?;
        let urls = match parsed {
            Sitemap::Urls(urls) => urls,
            Sitemap::Index(mut children) => {
                // Newest first; children without a `lastmod` after those with one.
                children.sort_by_key(|c| std::cmp::Reverse(c.lastmod));
                if children.len() > MAX_CHILD_SITEMAPS {
                    notes.push(format!(
                        "the index lists {} sitemaps; the {MAX_CHILD_SITEMAPS} changed last are read",
                        children.len()
                    ));
                }
                let mut urls = Vec::new();
                for child in children.iter().take(MAX_CHILD_SITEMAPS) {
                    let got = self
                        .fetcher
                        .get_if_changed(&child.url, &Default::default())
                        .await;
                    let result = match got {
                        Ok(Conditional::Changed(f)) => parse_sitemap(&child.url, f).await,
                        Ok(Conditional::NotModified { .. }) => continue,
                        Err(e) => Err(self.fetch_failed(e)),
                    };
                    match result {
                        Ok(Sitemap::Urls(more)) => urls.extend(more),
                        Ok(Sitemap::Index(_)) => notes.push(format!(
                            "{}: an index inside an index is not read",
                            child.url
                        )),
                        Err(f) => notes.push(f.error.to_string()),
                    }
                }
                urls
            }
        };
        let now = Utc::now();
        let cutoff = now - chrono::Duration::from_std(source.max_age).unwrap_or_default();
        let mut urls: Vec<SitemapEntry> = urls;
        urls.sort_by_key(|u| std::cmp::Reverse(u.date()));
        let items = urls
            .into_iter()
            .map(|u| Item {
                recent: u.date().is_some_and(|d: DateTime<Utc>| d >= cutoff),
                stamp: u.lastmod.map(store::timestamp),
                entry: FeedEntry {
                    id: u.url.to_string(),
                    link: Some(u.url),
                    title: u.title,
                    content: None,
                },
            })
            .collect();
        Ok(Listing {
            items,
            ttl: None,
            notes,
        })
    }
}

/// Parses a fetched sitemap on the blocking pool.
async fn parse_sitemap(url: &Url, fetched: Fetched) -> Result<Sitemap, Failure> {
    let base = fetched.url.clone();
    let done = tokio::task::spawn_blocking(move || sitemap::parse(&fetched.body, &base)).await;
    PollError::joined(done, url, "the sitemap reader")
        .map_err(Failure::new)?
        .map_err(|e| Failure::new(PollError::Sitemap(e)))
}

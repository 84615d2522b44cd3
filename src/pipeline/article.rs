//! One article: found by its canonical URL, fetched only when due and changed (a conditional
//! GET, then a hash of the raw body before any extraction), extracted, and stored as a new
//! version with its figures and alerts when its text changed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use url::Url;

use super::baseline::NotRevision;
use super::links::{canonical_url, same_site, site_of};
use super::{Failure, Pipeline, PollError};
use crate::alerts::{Alert, AlertKind};
use crate::cadence::ages;
use crate::config::{Recheck, SourceConfig};
use crate::extract::{self, Article};
use crate::feed::FeedEntry;
use crate::fetch::Conditional;
use crate::figures::{compare, Figure};
use crate::store::{self, ArticleState, FetchRecord, NewVersion, NextCheck, StoredPage};

/// What happened to one article.
#[derive(Debug, Default)]
pub(super) struct ArticleOutcome {
    /// The article's id; `None` when it was skipped before it had one.
    pub article_id: Option<i64>,
    pub created: bool,
    pub new_version: bool,
    pub alerts: usize,
    pub flag: Option<String>,
    /// The server answered 304.
    pub not_modified: bool,
    pub fresh_for: Option<Duration>,
}

/// How an article came to be checked.
#[derive(Clone, Copy)]
pub(super) enum Listed<'a> {
    /// A page source: the page is the article, checked on the source's own interval.
    Page,
    /// A listed link (a feed entry, a sitemap URL, a front's link): fetched when new, when
    /// retired and listed anew (`listed_before`: the listing had it last time too), or when
    /// the listing says it changed since (`updated`: a sitemap's `lastmod` moved). A known
    /// article is otherwise left to its age schedule.
    Entry {
        id: &'a str,
        listed_before: bool,
        updated: bool,
    },
    /// A feed entry without a link: its own content is the article, read with the feed.
    Inline {
        id: &'a str,
        content: &'a str,
        entry: &'a FeedEntry,
    },
}

/// How an article is scheduled after a check.
#[derive(Clone, Copy)]
pub(super) enum Watch<'a> {
    /// A page or an entry without a link: checked with its source, not by age.
    BySource,
    /// By age, through `recheck`, its clock started at `age_from`.
    Ages {
        recheck: &'a Recheck,
        age_from: DateTime<Utc>,
    },
}

/// Removes a URL from the in-flight set when its check ends, however it ends.
pub(super) struct InFlight<'a> {
    pipeline: &'a Pipeline,
    key: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut set = self
            .pipeline
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.remove(&self.key);
    }
}

impl Pipeline {
    /// Marks `key` as being checked by this process; `None` when another poll is checking it
    /// at this moment (two feeds linking one article at once fetch it once).
    pub(super) fn in_flight(&self, key: &str) -> Option<InFlight<'_>> {
        let mut set = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(key.to_string()).then(|| InFlight {
            pipeline: self,
            key: key.to_string(),
        })
    }

    /// When an article is checked next, after a check at this moment; `changed`: its text
    /// changed, which starts its age clock again.
    pub(super) fn next_check(&self, watch: Watch<'_>, changed: bool) -> NextCheck {
        let Watch::Ages { recheck, age_from } = watch else {
            return NextCheck::by_source();
        };
        let now = chrono::Utc::now();
        let from = if changed { now } else { age_from };
        let mut next = match ages::next_check(recheck, from, now, self.config.schedule.jitter) {
            ages::Next::At(t) => NextCheck::at(store::timestamp(t)),
            ages::Next::Retire => NextCheck::retired(),
        };
        if changed {
            next.clock_from = Some(store::timestamp(now));
        }
        next
    }

    /// Checks one article a source lists: a new one is fetched at once; a known one is left
    /// to its age schedule, unless it is a page (checked on the source's interval), an entry
    /// without a link (read from the feed), or a retired article a feed lists anew (its clock
    /// starts again). An article another poll is checking at this moment is left to it. Errors
    /// are recorded on the article and returned.
    pub(super) async fn check_article(
        &self,
        source_id: i64,
        source: &SourceConfig,
        link: &Url,
        listed: Listed<'_>,
    ) -> Result<ArticleOutcome, Failure> {
        let key = canonical_url(link);
        let db = |e| Failure::new(PollError::store(link)(e));
        let known = match crate::store::off_runtime(|| self.store.find_article(key.as_str()))
            .map_err(db)?
        {
            Some(k) => Some(k),
            None if key != *link => {
                crate::store::off_runtime(|| self.store.find_article(link.as_str())).map_err(db)?
            }
            None => None,
        };
        let now = chrono::Utc::now();
        let watch = match listed {
            Listed::Page | Listed::Inline { .. } => Watch::BySource,
            Listed::Entry { .. } => Watch::Ages {
                recheck: &source.recheck,
                age_from: now,
            },
        };
        if let (
            Some(k),
            Listed::Entry {
                listed_before,
                updated,
                ..
            },
        ) = (&known, listed)
        {
            if !updated && (!k.retired || listed_before) {
                return Ok(ArticleOutcome {
                    article_id: Some(k.id),
                    ..Default::default()
                });
            }
            if k.retired {
                // Retired, and listed anew or updated: watched again from now.
                self.store
                    .revive_article(k.id, &store::timestamp(now))
                    .map_err(db)?;
                tracing::info!(article = %link, "a listing names a retired article anew; it is watched again");
            }
        }
        let Some(_guard) = self.in_flight(key.as_str()) else {
            return Ok(ArticleOutcome {
                article_id: known.map(|k| k.id),
                ..Default::default()
            });
        };
        match listed {
            Listed::Inline { id, content, entry } => {
                self.inline_entry(source_id, &key, known, id, content, entry)
            }
            Listed::Page => {
                self.fetched_article(source_id, link, &key, known, None, watch)
                    .await
            }
            Listed::Entry { id, .. } => {
                self.fetched_article(source_id, link, &key, known, Some(id), watch)
                    .await
            }
        }
    }

    /// An entry without a link: its own content is the article. Unchanged content (by the
    /// hash of what the feed sent) is not read again.
    fn inline_entry(
        &self,
        source_id: i64,
        key: &Url,
        known: Option<ArticleState>,
        entry_id: &str,
        content: &str,
        entry: &FeedEntry,
    ) -> Result<ArticleOutcome, Failure> {
        let next_check = NextCheck::by_source();
        let hash = body_hash(content.as_bytes());
        let db = |e| Failure::new(PollError::store(key)(e));
        let (id, created) = match &known {
            Some(k) => (k.id, false),
            None => self
                .store
                .article_for(key.as_str(), source_id, Some(entry_id), false)
                .map_err(db)?,
        };
        let mut outcome = ArticleOutcome {
            article_id: Some(id),
            created,
            ..Default::default()
        };
        if known.as_ref().and_then(|k| k.body_hash.as_deref()) == Some(hash.as_str()) {
            return Ok(outcome);
        }
        let article = Article {
            title: entry.title.clone(),
            text: extract::fragment_text(content),
            ..Default::default()
        };
        if article.text.is_empty() {
            let e = PollError::EmptyEntry {
                url: key.to_string(),
            };
            self.record_article_error(id, key, &e, &next_check);
            return Err(Failure::new(e));
        }
        self.store_article(id, key, (article, None), None, None, &mut outcome)?;
        self.store
            .article_fetched(id, &store::now(), None, Some(&hash), &next_check)
            .map_err(db)?;
        Ok(outcome)
    }

    /// An article behind a link: fetched conditionally, extracted only when its bytes changed,
    /// and stored under the canonical URL the page names (on the same site) when it is new.
    pub(super) async fn fetched_article(
        &self,
        source_id: i64,
        link: &Url,
        key: &Url,
        known: Option<ArticleState>,
        entry_id: Option<&str>,
        watch: Watch<'_>,
    ) -> Result<ArticleOutcome, Failure> {
        let db = |e| Failure::new(PollError::store(link)(e));
        let validators = known
            .as_ref()
            .map(|k| k.validators.clone())
            .unwrap_or_default();
        let fetched = match self.fetcher.get_if_changed(link, &validators).await {
            Ok(Conditional::Changed(f)) => f,
            Ok(Conditional::NotModified { fresh_for }) => {
                let id = known
                    .as_ref()
                    .map(|k| k.id)
                    .expect("validators come from a known article");
                self.store
                    .article_not_modified(id, &store::now(), self.next_check(watch, false))
                    .map_err(db)?;
                return Ok(ArticleOutcome {
                    article_id: Some(id),
                    not_modified: true,
                    fresh_for,
                    ..Default::default()
                });
            }
            Err(e) => {
                let f = self.fetch_failed(e);
                if f.deferred_until.is_none() {
                    let id = self
                        .known_or_new(&known, key, source_id, entry_id)
                        .map_err(db)?
                        .0;
                    self.record_article_error(id, link, &f.error, &self.next_check(watch, false));
                }
                return Err(f);
            }
        };
        let hash = body_hash(&fetched.body);
        let fresh_for = fetched.fresh_for;
        let validators = fetched.validators.clone();
        if let Some(k) = known
            .as_ref()
            .filter(|k| k.body_hash.as_deref() == Some(hash.as_str()))
        {
            self.store
                .article_fetched(
                    k.id,
                    &store::now(),
                    Some(&validators),
                    Some(&hash),
                    &self.next_check(watch, false),
                )
                .map_err(db)?;
            return Ok(ArticleOutcome {
                article_id: Some(k.id),
                fresh_for,
                ..Default::default()
            });
        }
        let rendered = match self.renders(source_id) && fetched.is_html() {
            true => Some(self.render(link, &fetched).await),
            false => None,
        };
        let extracted = match rendered {
            Some(Err(e)) => Err(e),
            Some(Ok(page)) => self.extract_article(link, page).await,
            None => self.extract_article(link, fetched).await,
        };
        let (article, figures, page) = match extracted {
            Ok(a) => a,
            Err(e) => {
                let id = self
                    .known_or_new(&known, key, source_id, entry_id)
                    .map_err(db)?
                    .0;
                self.record_article_error(id, link, &e, &self.next_check(watch, false));
                return Err(Failure::new(e));
            }
        };
        let (id, created, stored_as) = match &known {
            Some(k) => (k.id, false, key.clone()),
            None => self
                .place_new_article(source_id, link, key, entry_id, &article)
                .map_err(db)?,
        };
        let mut outcome = ArticleOutcome {
            article_id: Some(id),
            created,
            fresh_for,
            ..Default::default()
        };
        let fetch = Fetch {
            validators: &validators,
            body_hash: &hash,
            watch,
        };
        self.store_article(
            id,
            &stored_as,
            (article, Some(&page)),
            Some(figures),
            Some(fetch),
            &mut outcome,
        )?;
        // A new version recorded the fetch with it; otherwise it is recorded on its own.
        if !outcome.new_version {
            self.store
                .article_fetched(
                    id,
                    &store::now(),
                    Some(&validators),
                    Some(&hash),
                    &self.next_check(watch, false),
                )
                .map_err(db)?;
        }
        Ok(outcome)
    }

    fn known_or_new(
        &self,
        known: &Option<ArticleState>,
        key: &Url,
        source_id: i64,
        entry_id: Option<&str>,
    ) -> store::Result<(i64, bool)> {
        match known {
            Some(k) => Ok((k.id, false)),
            None => self
                .store
                .article_for(key.as_str(), source_id, entry_id, entry_id.is_some()),
        }
    }

    /// Where a newly seen article is stored: under the canonical URL its page names when that
    /// is on the same site (so a feed's tracking link and the clean address are one article),
    /// with the link's own address kept as an alias.
    fn place_new_article(
        &self,
        source_id: i64,
        link: &Url,
        key: &Url,
        entry_id: Option<&str>,
        article: &Article,
    ) -> store::Result<(i64, bool, Url)> {
        let canonical = article
            .canonical
            .as_deref()
            .and_then(|c| Url::parse(c).ok())
            .filter(|c| matches!(c.scheme(), "http" | "https") && same_site(c, link))
            .map(|c| canonical_url(&c))
            .filter(|c| c != key);
        let Some(canonical) = canonical else {
            let (id, created) =
                self.store
                    .article_for(key.as_str(), source_id, entry_id, entry_id.is_some())?;
            return Ok((id, created, key.clone()));
        };
        let (id, created) = match crate::store::off_runtime(|| {
            self.store.find_article(canonical.as_str())
        })? {
            Some(existing) => (existing.id, false),
            None => crate::store::off_runtime(|| {
                self.store
                    .article_for(canonical.as_str(), source_id, entry_id, entry_id.is_some())
            })?,
        };
        crate::store::off_runtime(|| self.store.add_alias(key.as_str(), id))?;
        Ok((id, created, canonical))
    }

    fn record_article_error(&self, id: i64, url: &Url, error: &PollError, next: &NextCheck) {
        let error = error.to_string();
        let now = store::now();
        let recorded = self
            .store
            .article_checked(id, &now, Some(&error))
            .and_then(|()| {
                crate::store::off_runtime(|| self.store.reschedule_article(id, &now, next))
            });
        if let Err(db) = recorded {
            tracing::error!(article = %url, "cannot record the error: {db}");
        }
    }

    fn store_article(
        &self,
        id: i64,
        url: &Url,
        (article, page): (Article, Option<&StoredPage>),
        figures: Option<Vec<Figure>>,
        fetch: Option<Fetch<'_>>,
        outcome: &mut ArticleOutcome,
    ) -> Result<(), Failure> {
        let saved = self
            .save(id, url, (article, page), figures, fetch)
            .map_err(|e| Failure::new(PollError::store(url)(e)))?;
        outcome.new_version = saved.stored;
        outcome.alerts = saved.alerts;
        outcome.flag = saved.flag;
        Ok(())
    }

    /// Stores the article if it is a revision (see `baseline`), with the figures it reports
    /// and the alerts they raise. A version that looks like a wall or lost more than half its
    /// text is stored with a flag and raises nothing. The page it came from is kept as the
    /// article's baseline either way.
    fn save(
        &self,
        article_id: i64,
        url: &Url,
        (article, page): (Article, Option<&StoredPage>),
        figures: Option<Vec<Figure>>,
        fetch: Option<Fetch<'_>>,
    ) -> store::Result<Saved> {
        let now = store::now();
        let previous = crate::store::off_runtime(|| self.store.latest_version(article_id))?;
        let not_revision = self.not_revision(article_id, url, previous.as_ref(), &article, page)?;
        if let Some(why) = not_revision {
            if why != NotRevision::SameText {
                tracing::info!(article = %url, "no new version: {}", why.describe());
            }
            crate::store::off_runtime(|| self.store.article_checked(article_id, &now, None))?;
            return Ok(Saved::default());
        }
        let flag = suspicion(&article, previous.as_ref().map(|p| &p.article));
        let (figures, alerts) = match flag {
            Some(_) => (Vec::new(), Vec::new()),
            None => self.figures_and_alerts(article_id, url, &article, figures, &now)?,
        };
        let stored = crate::store::off_runtime(|| {
            self.store.insert_version(NewVersion {
                article_id,
                previous: previous.as_ref().map(|p| p.number),
                fetched_at: &now,
                article: &article,
                flag: flag.as_deref(),
                figures: &figures,
                alerts,
                url: url.as_str(),
                site: &site_of(url),
                figure_memory: self.config.figure_memory,
                // A trusted change of text starts the article's age clock again.
                fetch: fetch.map(|f| FetchRecord {
                    validators: f.validators,
                    body_hash: f.body_hash,
                    next: self.next_check(f.watch, flag.is_none()),
                }),
            })
        })?;
        let Some((number, alerts)) = stored else {
            // Another source linking the same article stored it a moment ago.
            tracing::debug!(article = %url, "already stored by a concurrent poll");
            return Ok(Saved::default());
        };
        if let Some(why) = &flag {
            tracing::warn!(article = %url, version = number, "stored but flagged, no alerts: {why}");
        } else {
            tracing::info!(article = %url, version = number, figures = figures.len(), "stored a new version");
        }
        for a in &alerts {
            tracing::info!(alert = a.kind.as_str(), id = %a.id, url = %a.url, "{}", a.summary());
        }
        if !alerts.is_empty() {
            // They are in the outbox with the version; the delivery workers take it from there.
            self.alert_committed();
        }
        let flag = flag.map(|why| format!("{url}: version {number} flagged: {why}"));
        Ok(Saved {
            stored: true,
            alerts: alerts.len(),
            flag,
        })
    }

    /// The figures of a new version and the alerts they raise against the last trusted one.
    fn figures_and_alerts(
        &self,
        article_id: i64,
        url: &Url,
        article: &Article,
        figures: Option<Vec<Figure>>,
        now: &str,
    ) -> store::Result<(Vec<Figure>, Vec<Alert>)> {
        let figures = figures.unwrap_or_else(|| {
            self.figures
                .extract_lang(&article.text, article.lang.as_deref())
        });
        // The baseline is read again with today's extractor, so an improved extractor never
        // shows up as a change in the news.
        let baseline = crate::store::off_runtime(|| self.store.latest_good_version(article_id))?;
        let old_figures = baseline
            .map(|p| {
                self.figures
                    .extract_lang(&p.article.text, p.article.lang.as_deref())
            })
            .unwrap_or_default();
        let site = site_of(url);
        let alerts = compare(&old_figures, &figures)
            .into_iter()
            .map(|c| Alert {
                id: String::new(),
                ts: now.to_string(),
                kind: if c.old.is_some() {
                    AlertKind::FigureChanged
                } else {
                    AlertKind::NewFigure
                },
                topic: c.figure.topic.clone(),
                measure: c.figure.measure.clone(),
                value: c.figure.value.number(),
                qualifier: c.figure.qualifier,
                unit: c.figure.unit.clone(),
                old: c.old,
                old_site: None,
                scope: c.figure.scope.clone(),
                standing: Vec::new(),
                new: c.figure.value.clone(),
                quote: c.figure.quote.clone(),
                claimant: c.figure.claimant.clone(),
                speculative: c.figure.speculative,
                url: url.to_string(),
                title: article.title.clone(),
                site: site.clone(),
                version: 0,
            })
            .collect();
        Ok((figures, alerts))
    }
}

/// What a fetch that brought a new text leaves for the article's next check.
pub(super) struct Fetch<'a> {
    validators: &'a crate::fetch::Validators,
    body_hash: &'a str,
    watch: Watch<'a>,
}

/// The hash of a response body as it came, before decoding or extraction.
fn body_hash(body: &[u8]) -> String {
    crate::feed::hex(&Sha256::digest(body)[..16])
}

/// What storing one fetched article did.
#[derive(Debug, Default)]
struct Saved {
    stored: bool,
    alerts: usize,
    /// Why the stored version was flagged, for the source's status.
    flag: Option<String>,
}

/// Why a new version should not be trusted: it looks like a wall rather than the article, or
/// it lost more than half of the previous version's text (a broken page, a truncated
/// response, a template change that cut the body).
fn suspicion(article: &Article, previous: Option<&Article>) -> Option<String> {
    if let Some(kind) = extract::guard::wall_kind(&article.text) {
        let a = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        return Some(format!("looks like {a} {kind} page, not the article"));
    }
    let (now, before) = (article.text.chars().count(), previous?.text.chars().count());
    (now * 2 < before)
        .then(|| format!("the text shrank by more than half ({before} → {now} characters)"))
}

//! One poll of one source, end to end: fetch → feed or page → extract → store → figures →
//! alerts. Each source's failure is recorded on it and never stops the others.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::alerts::{Alert, AlertKind, AlertLog};
use crate::config::{Config, SourceKind};
use crate::extract::{self, Article};
use crate::feed::{self, FeedEntry};
use crate::fetch::Fetcher;
use crate::figures::{compare, Figure, FigureExtractor};
use crate::store::{self, NewVersion, Store};

/// What a pass (or one source's poll) did, for the one-line summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PassSummary {
    pub sources: usize,
    pub failed: usize,
    pub new_articles: usize,
    pub new_versions: usize,
    pub alerts: usize,
    /// Articles of healthy feeds that could not be fetched or extracted.
    pub article_errors: usize,
}

impl PassSummary {
    fn count(&mut self, o: &ArticleOutcome) {
        self.new_articles += o.created as usize;
        self.new_versions += o.new_version as usize;
        self.alerts += o.alerts;
    }

    fn add(&mut self, o: &PassSummary) {
        self.sources += o.sources;
        self.failed += o.failed;
        self.new_articles += o.new_articles;
        self.new_versions += o.new_versions;
        self.alerts += o.alerts;
        self.article_errors += o.article_errors;
    }
}

impl fmt::Display for PassSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "polled {}, {} failed; {}, {}, {}",
            count(self.sources, "source"),
            self.failed,
            count(self.new_articles, "new article"),
            count(self.new_versions, "new version"),
            count(self.alerts, "alert"),
        )?;
        if self.article_errors > 0 {
            let n = count(self.article_errors, "article");
            write!(f, "; {n} could not be read (see `figwatch status`)")?;
        }
        Ok(())
    }
}

/// "1 alert", "2 alerts".
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

pub struct Pipeline {
    pub config: Config,
    pub store: Store,
    fetcher: Fetcher,
    figures: FigureExtractor,
    alert_log: Option<AlertLog>,
    /// Database ids of `config.sources`, same order.
    source_ids: Vec<i64>,
    /// At most `[fetch] concurrency` sources are polled at once, by a pass or by the daemon.
    limit: Arc<Semaphore>,
}

/// What happened to one article.
#[derive(Debug, Default)]
struct ArticleOutcome {
    created: bool,
    new_version: bool,
    alerts: usize,
    flag: Option<String>,
}

impl Pipeline {
    pub fn new(config: Config, store: Store) -> anyhow::Result<Pipeline> {
        let fetcher = Fetcher::new(&config.user_agent, &config.fetch)?;
        let figures = FigureExtractor::new(&config.topics);
        let alert_log = config.alert_log.as_deref().map(AlertLog::new);
        let source_ids = store.sync_sources(&config.sources)?;
        let limit = Arc::new(Semaphore::new(config.fetch.concurrency));
        Ok(Pipeline {
            config,
            store,
            fetcher,
            figures,
            alert_log,
            source_ids,
            limit,
        })
    }

    pub fn source_id(&self, index: usize) -> i64 {
        self.source_ids[index]
    }

    /// Polls the given sources, at most `[fetch] concurrency` at a time.
    pub async fn poll_sources(self: &Arc<Self>, indices: Vec<usize>) -> PassSummary {
        let mut tasks = JoinSet::new();
        for i in indices {
            let me = Arc::clone(self);
            tasks.spawn(async move { me.poll_source(i).await });
        }
        let mut total = PassSummary::default();
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(s) => total.add(&s),
                Err(e) => {
                    // A bug, not bad input: count it as a failed source and keep going.
                    tracing::error!("a poll task failed: {e}");
                    total.sources += 1;
                    total.failed += 1;
                }
            }
        }
        total
    }

    /// Polls every configured source once.
    pub async fn poll_all(self: &Arc<Self>) -> PassSummary {
        self.poll_sources((0..self.config.sources.len()).collect())
            .await
    }

    /// Polls one source and records the outcome on it.
    pub async fn poll_source(&self, index: usize) -> PassSummary {
        let _permit = self.limit.acquire().await;
        let source = &self.config.sources[index];
        let id = self.source_ids[index];
        let mut summary = PassSummary {
            sources: 1,
            ..Default::default()
        };
        let result = match source.kind {
            SourceKind::Feed => self.poll_feed(id, &source.url, &mut summary).await,
            SourceKind::Page => self.article(id, &source.url, None, None).await.map(|o| {
                summary.count(&o);
                o.flag
            }),
        };
        let at = store::now();
        let recorded = match result {
            Ok(note) => self.store.source_ok(id, &at, note.as_deref()),
            Err(error) => {
                summary.failed += 1;
                tracing::warn!(source = %source.url, "poll failed: {error}");
                self.store.source_failed(id, &at, &error).map(|n| {
                    if n > 1 {
                        tracing::warn!(source = %source.url, "{n} polls in a row have failed");
                    }
                })
            }
        };
        // The next check is kept in the database, so `figwatch run` started after a
        // `--poll` (or restarted) does not poll everything again at once.
        let next =
            chrono::Utc::now() + chrono::Duration::from_std(source.interval).unwrap_or_default();
        let recorded =
            recorded.and_then(|()| self.store.set_next_check(id, &store::timestamp(next)));
        if let Err(e) = recorded {
            tracing::error!(source = %source.url, "cannot record the poll: {e}");
        }
        summary
    }

    /// Fetches and parses a feed, then follows each entry. Returns a note for the source's
    /// status when some articles failed, or the error that made the whole feed fail.
    async fn poll_feed(
        &self,
        source_id: i64,
        url: &Url,
        summary: &mut PassSummary,
    ) -> Result<Option<String>, String> {
        let fetched = self.fetcher.get(url).await.map_err(|e| e.to_string())?;
        let body = fetched.body;
        let base = fetched.url.clone();
        let entries = tokio::task::spawn_blocking(move || feed::parse(&body, &base))
            .await
            .map_err(|e| format!("{url}: feed parsing failed: {e}"))?
            .map_err(|e| e.to_string())?;
        let mut failures: Vec<String> = Vec::new();
        let mut flagged: Vec<String> = Vec::new();
        for entry in &entries {
            let (article_url, inline) = entry_target(url, entry);
            match self
                .article(
                    source_id,
                    &article_url,
                    Some(&entry.id),
                    inline.map(|c| (c, entry)),
                )
                .await
            {
                Ok(o) => {
                    summary.count(&o);
                    flagged.extend(o.flag);
                }
                Err(e) => {
                    tracing::warn!(source = %url, article = %article_url, "article skipped: {e}");
                    failures.push(e);
                }
            }
        }
        summary.article_errors += failures.len();
        let n = entries.len();
        let notes: Vec<String> = [
            (&failures, "could not be read"),
            (&flagged, "stored but flagged"),
        ]
        .into_iter()
        .filter_map(|(list, what)| {
            let last = list.last()?;
            Some(format!(
                "{} of {n} articles {what}; last: {last}",
                list.len()
            ))
        })
        .collect();
        Ok((!notes.is_empty()).then(|| notes.join("; ")))
    }

    /// Fetches (or takes inline) one article, extracts it and stores a version if its text
    /// changed. Errors are recorded on the article and returned.
    async fn article(
        &self,
        source_id: i64,
        url: &Url,
        entry_id: Option<&str>,
        inline: Option<(&str, &FeedEntry)>,
    ) -> Result<ArticleOutcome, String> {
        let key = canonical_url(url);
        let (article_id, created) = self
            .store
            .article_for(key.as_str(), source_id, entry_id)
            .map_err(|e| e.to_string())?;
        let extracted = match inline {
            Some((content, entry)) => Ok(Article {
                title: entry.title.clone(),
                text: extract::fragment_text(content),
                ..Default::default()
            }),
            None => self.fetch_article(url).await,
        }
        .and_then(|a| match a.text.is_empty() {
            true => Err(format!("{url}: the entry has no text")),
            false => Ok(a),
        });
        let article = match extracted {
            Ok(a) => a,
            Err(e) => {
                let recorded = self
                    .store
                    .article_checked(article_id, &store::now(), Some(&e));
                if let Err(db) = recorded {
                    tracing::error!(article = %url, "cannot record the error: {db}");
                }
                return Err(e);
            }
        };
        let saved = self
            .save(article_id, &key, article)
            .map_err(|e| e.to_string())?;
        Ok(ArticleOutcome {
            created,
            new_version: saved.stored,
            alerts: saved.alerts,
            flag: saved.flag,
        })
    }

    async fn fetch_article(&self, url: &Url) -> Result<Article, String> {
        let fetched = self.fetcher.get(url).await.map_err(|e| e.to_string())?;
        if !fetched.is_html() {
            return Err(format!(
                "{url}: not an HTML page (Content-Type {}); only web pages are followed",
                fetched.media_type.as_deref().unwrap_or("missing")
            ));
        }
        let final_url = fetched.url.clone();
        tokio::task::spawn_blocking(move || {
            extract::extract_bytes(&fetched.body, fetched.charset.as_deref(), Some(&final_url))
        })
        .await
        .map_err(|e| format!("{url}: extraction failed: {e}"))?
        .map_err(|e| format!("{url}: {e}"))
    }

    /// Stores the article if its text changed, with the figures it reports and the alerts they
    /// raise, then appends the alerts to the log. A version that looks like a wall or lost
    /// more than half its text is stored with a flag and raises nothing.
    fn save(&self, article_id: i64, url: &Url, article: Article) -> store::Result<Saved> {
        let now = store::now();
        let previous = self.store.latest_version(article_id)?;
        if previous
            .as_ref()
            .is_some_and(|p| p.content_hash == article.content_hash())
        {
            self.store.article_checked(article_id, &now, None)?;
            return Ok(Saved::default());
        }
        let flag = suspicion(&article, previous.as_ref().map(|p| &p.article));
        let (figures, alerts) = match flag {
            Some(_) => (Vec::new(), Vec::new()),
            None => self.figures_and_alerts(article_id, url, &article, &now)?,
        };
        let stored = self.store.insert_version(NewVersion {
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
        if let Some(log) = &self.alert_log {
            // The alerts are safe in the database already; a full disk or a bad path must not
            // lose them, only delay the log.
            if let Err(e) = log.append(&alerts) {
                tracing::error!("{e}");
            }
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
        now: &str,
    ) -> store::Result<(Vec<Figure>, Vec<Alert>)> {
        let figures = self
            .figures
            .extract_lang(&article.text, article.lang.as_deref());
        // The baseline is read again with today's extractor, so an improved extractor never
        // shows up as a change in the news.
        let baseline = self.store.latest_good_version(article_id)?;
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

/// The host an article came from, as alerts and the ledger name it: `washingtonpost.com`.
fn site_of(url: &Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches("www.")
        .to_string()
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
        return Some(format!("looks like a {kind} page, not the article"));
    }
    let (now, before) = (article.text.chars().count(), previous?.text.chars().count());
    (now * 2 < before)
        .then(|| format!("the text shrank by more than half ({before} → {now} characters)"))
}

/// Where an entry's article comes from: its link, or (no link) its own content under a
/// stable address inside the feed.
fn entry_target<'e>(feed_url: &Url, entry: &'e FeedEntry) -> (Url, Option<&'e str>) {
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

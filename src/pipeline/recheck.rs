//! Articles checked again by age, whether or not a feed still lists them: claimed from the
//! store in batches (so that a `--poll` beside the daemon, or workers sharing PostgreSQL, never
//! check one article twice at once), spread over their hosts, fetched with a conditional GET
//! under the same politeness as every request, and scheduled again by their source's
//! `recheck` tiers. Also `figwatch poll URL`, and the pull-in of next checks after a change of
//! schedule.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use url::Url;

use super::article::Watch;
use super::{PassSummary, Pipeline};
use crate::cadence::ages;
use crate::config::SourceConfig;
use crate::store::{self, ArticleState, Claim, DueArticle, NextCheck, PullIn, Store};

/// Which watched articles a pass checks.
#[derive(Debug, Clone, Copy)]
pub enum ArticlePass {
    /// Those due now, or within `slack` (a cron line must not miss an article whose jittered
    /// check falls a few seconds after the run).
    /// Those due within `slack` from now too.
    Due {
        /// How far ahead.
        slack: Duration,
    },
    /// Every watched article, due or not (`--poll --all`).
    All,
}

/// A far-away time: every watched article is due by it.
const EVER: &str = "9999-12-31T00:00:00.000Z";

use crate::store::parse_timestamp as parse_time;

impl Pipeline {
    /// The schedule an article follows: its source's, or the global one when its source is
    /// not configured here.
    fn recheck_of(&self, source_id: Option<i64>) -> &crate::config::Recheck {
        source_id
            .and_then(|id| self.source_index.get(&id))
            .map_or(&self.config.recheck, |&i| &self.config.sources[i].recheck)
    }

    /// Frees the claims on articles of processes of this machine that have ended (killed, or
    /// crashed mid-pass), so that their articles are checked now rather than when the claims
    /// run out.
    fn free_dead_article_leases(&self) {
        let holders = match crate::store::off_runtime(|| self.store.article_lease_holders()) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!("cannot read the articles' claims: {e}");
                return;
            }
        };
        for holder in holders.iter().filter(|h| super::lease::is_dead_local(h)) {
            match crate::store::off_runtime(|| self.store.free_article_leases(holder)) {
                Ok(n) => tracing::info!(
                    "took over {n} article check(s) from {holder}, which no longer runs"
                ),
                Err(e) => tracing::warn!("cannot free the claims of {holder}: {e}"),
            }
        }
    }

    /// How long the daemon waits before it looks for due articles again: until the next is
    /// due, and at most a few seconds (a feed's poll may have added one due sooner).
    pub fn next_article_wait(&self) -> Duration {
        const MOST: Duration = Duration::from_secs(5);
        let next =
            match crate::store::off_runtime(|| self.store.next_article_due(self.article_sources()))
            {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!("cannot read when the next article is due: {e}");
                    return MOST;
                }
            };
        next.as_deref()
            .and_then(parse_time)
            .map_or(MOST, |t| (t - Utc::now()).to_std().unwrap_or_default())
            .clamp(Duration::from_millis(50), MOST)
    }

    /// How much earlier than due a one-shot pass checks an article: the jitter of the
    /// shortest tier, and 5 seconds.
    pub fn recheck_slack(&self) -> Duration {
        let shortest = self
            .config
            .sources
            .iter()
            .map(|s| s.recheck.shortest())
            .chain([self.config.recheck.shortest()])
            .filter(|d| !d.is_zero())
            .min()
            .unwrap_or_default();
        shortest.mul_f64(self.config.schedule.jitter.clamp(0.0, 1.0)) + Duration::from_secs(5)
    }

    /// The articles of this process's sources, for a claim (`None`: every row of the table
    /// belongs to a source configured here).
    fn article_sources(&self) -> Option<&str> {
        self.claims_name_sources
            .load(std::sync::atomic::Ordering::Relaxed)
            .then_some(self.source_ids_json.as_str())
    }

    /// Checks watched articles as `which` says, `[fetch] concurrency` at a time, until none is
    /// left or `stop` turns true. A pass checks each article once: none checked since
    /// `started` (the start of a `--poll` whose feeds have just fetched their new articles;
    /// `None`: the start of this call). `progress` hears of each.
    pub async fn recheck_articles(
        self: &Arc<Self>,
        which: ArticlePass,
        started: Option<String>,
        stop: tokio::sync::watch::Receiver<bool>,
        mut progress: impl FnMut(&PassSummary),
    ) -> PassSummary {
        use futures_util::StreamExt;
        let started = started.unwrap_or_else(store::now);
        self.free_dead_article_leases();
        let concurrency = self.config.fetch.concurrency;
        let mut total = PassSummary::default();
        let mut after: Option<(String, i64)> = None;
        while !*stop.borrow() {
            let now = Utc::now();
            let due_by = match which {
                ArticlePass::Due { slack } => {
                    store::timestamp(now + chrono::Duration::from_std(slack).unwrap_or_default())
                }
                ArticlePass::All => EVER.to_string(),
            };
            let claimed = crate::store::off_runtime(|| {
                self.store.claim_articles(&Claim {
                    due_by: &due_by,
                    checked_before: &started,
                    sources: self.article_sources(),
                    now: &store::timestamp(now),
                    until: &store::timestamp(now + self.lease_length()),
                    owner: &self.lease_owner,
                    after: after.as_ref().map(|(t, id)| (t.as_str(), *id)),
                    limit: (concurrency * 8).clamp(32, 1024),
                })
            });
            let batch = match claimed {
                Ok(b) if b.is_empty() => break,
                Ok(b) => {
                    after = b.iter().map(|a| (a.due_at.clone(), a.id)).max().or(after);
                    interleave_hosts(b)
                }
                Err(e) => {
                    tracing::error!("cannot claim the articles due for a check: {e}");
                    break;
                }
            };
            let mut left: std::collections::HashSet<i64> = batch.iter().map(|a| a.id).collect();
            // Once `stop` turns true no further check starts; those running finish.
            let stopping = stop.clone();
            let mut checks = futures_util::stream::iter(batch)
                .take_while(move |_| std::future::ready(!*stopping.borrow()))
                .map(|a| {
                    let id = a.id;
                    async move { (id, self.recheck(a, false).await) }
                })
                .buffer_unordered(concurrency);
            while let Some((id, s)) = checks.next().await {
                left.remove(&id);
                total.add(&s);
                progress(&total);
            }
            drop(checks);
            if !left.is_empty() {
                // Stopped: what was claimed and not checked is due again at once.
                let ids: Vec<i64> = left.into_iter().collect();
                if let Err(e) = crate::store::off_runtime(|| self.store.release_articles(&ids)) {
                    tracing::warn!("cannot give back claimed articles: {e}; they are due again when the claims run out");
                }
            }
        }
        self.flush();
        total
    }

    /// Checks one claimed article. An article whose check falls past its schedule (shortened
    /// since) is retired without a fetch, unless `force` (a user asked for it by name).
    async fn recheck(&self, a: DueArticle, force: bool) -> PassSummary {
        let mut summary = PassSummary::default();
        let now = Utc::now();
        let recheck = self.recheck_of(a.source_id);
        let age_from = parse_time(&a.age_from).unwrap_or(now);
        let due_at = parse_time(&a.due_at).unwrap_or(now);
        let at = store::timestamp(now);
        let link = Url::parse(&a.url).ok();
        if link.is_none() || (!force && ages::is_past(recheck, age_from, due_at)) {
            if let Err(e) = self
                .store
                .reschedule_article(a.id, &at, &NextCheck::retired())
            {
                tracing::error!(article = %a.url, "cannot retire the article: {e}");
            }
            summary.retired += 1;
            return summary;
        }
        let link = link.expect("checked above");
        let Some(_guard) = self.in_flight(&a.url) else {
            // A feed's poll is fetching it this moment, and writes its next check.
            return summary;
        };
        let known = ArticleState {
            id: a.id,
            validators: a.validators,
            body_hash: a.body_hash,
            next_check_at: Some(a.due_at),
            retired: false,
        };
        let watch = Watch::Ages { recheck, age_from };
        let source_id = a.source_id.unwrap_or_default();
        match self
            .fetched_article(source_id, &link, &link, Some(known), None, watch)
            .await
        {
            Ok(o) => {
                summary.rechecked += 1;
                summary.rechecked_not_modified += o.not_modified as usize;
                summary.count(&o);
            }
            Err(f) if f.deferred_until.is_some() => {
                let until = f.deferred_until.expect("matched");
                summary.deferred += 1;
                let next = NextCheck::at(store::timestamp(until));
                if let Err(e) =
                    crate::store::off_runtime(|| self.store.reschedule_article(a.id, &at, &next))
                {
                    tracing::error!(article = %link, "cannot reschedule the article: {e}");
                }
            }
            Err(f) => {
                summary.rechecked += 1;
                summary.article_errors += 1;
                tracing::warn!(article = %link, "re-check failed: {}", f.error);
                // A failed fetch wrote its next check; a failed write (a full disk) did not,
                // and the article is due again at once rather than when the claim runs out.
                let _ = crate::store::off_runtime(|| self.store.release_articles(&[a.id]));
            }
        }
        summary
    }

    /// `figwatch poll URL`: one configured source, or one stored article (by its address, an
    /// alias, or its canonical form), checked now. An article read with its source (a page, a
    /// feed entry without a link) is checked by polling that source.
    pub async fn check_now(self: &Arc<Self>, url: &str) -> anyhow::Result<PassSummary> {
        let parsed = Url::parse(url).ok();
        let is = |s: &SourceConfig| s.url.as_str() == url || Some(&s.url) == parsed.as_ref();
        if let Some(i) = self.config.sources.iter().position(is) {
            return Ok(self.poll_sources(vec![i], |_| {}).await);
        }
        let canonical = parsed.as_ref().map(super::canonical_url);
        let found = match crate::store::off_runtime(|| self.store.find_article(url))? {
            Some(a) => Some(a),
            None => match &canonical {
                Some(c) => crate::store::off_runtime(|| self.store.find_article(c.as_str()))?,
                None => None,
            },
        };
        let Some(found) = found else {
            anyhow::bail!(
                "{url} is neither a configured source nor a stored article; `figwatch status` lists the sources, `figwatch export versions` the articles"
            );
        };
        let schedule = self
            .store
            .article_schedule(found.id)?
            .ok_or_else(|| anyhow::anyhow!("{url}: the article was removed meanwhile"))?;
        if schedule.next_check_at.is_none() && schedule.retired_at.is_none() {
            let source = schedule
                .source_id
                .and_then(|id| self.source_index.get(&id).copied());
            return match source {
                Some(i) => Ok(self.poll_sources(vec![i], |_| {}).await),
                None => anyhow::bail!(
                    "{url} is read with its source, which is no longer configured; nothing to check"
                ),
            };
        }
        let until = store::timestamp(Utc::now() + self.lease_length());
        let claimed = self
            .store
            .claim_article(found.id, &until, &self.lease_owner)?
            .ok_or_else(|| anyhow::anyhow!("{url}: the article was removed meanwhile"))?;
        let summary = self.recheck(claimed, true).await;
        self.flush();
        Ok(summary)
    }
}

/// Reorders claimed articles round-robin over their hosts, so that a batch does not spend its
/// concurrency waiting on one host's politeness while others sit idle.
fn interleave_hosts(articles: Vec<DueArticle>) -> Vec<DueArticle> {
    let mut by_host: Vec<Vec<DueArticle>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for a in articles {
        let host = Url::parse(&a.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let slot = *index.entry(host).or_insert_with(|| {
            by_host.push(Vec::new());
            by_host.len() - 1
        });
        by_host[slot].push(a);
    }
    let mut queues: Vec<std::collections::VecDeque<DueArticle>> =
        by_host.into_iter().map(Into::into).collect();
    let mut out = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        for q in &mut queues {
            out.extend(q.pop_front());
        }
    }
    out
}

/// After a change of sources' schedules (their `interval` or `recheck`, or the global ones they
/// inherit): their next polls and their articles' next checks, where later than the new
/// schedule allows, are pulled in; the new schedules are recorded with them.
pub(super) fn pull_in(store: &Store, changed: &[(i64, &SourceConfig)]) -> store::Result<()> {
    let moves = changed
        .iter()
        .map(|&(id, source)| moves_of(store, id, source))
        .collect::<store::Result<Vec<_>>>()?;
    store.pull_in(&moves)
}

/// What a new schedule moves for one source.
fn moves_of(store: &Store, source_id: i64, source: &SourceConfig) -> store::Result<PullIn> {
    let now = Utc::now();
    let (last_polled, next) = store.source_times(source_id)?;
    let source_next = match (
        last_polled.as_deref().and_then(parse_time),
        next.as_deref().and_then(parse_time),
    ) {
        (Some(last), Some(next)) => {
            let allowed = store::later(last, source.interval);
            (allowed < next).then(|| store::timestamp(allowed))
        }
        _ => None,
    };
    let mut articles = Vec::new();
    if source.kind.lists_articles() {
        for (id, age_from, last, next) in store.watched_articles(source_id)? {
            let (Some(age_from), Some(next)) = (parse_time(&age_from), parse_time(&next)) else {
                continue;
            };
            let last = last.as_deref().and_then(parse_time);
            if let Some(at) = ages::pulled_in(&source.recheck, age_from, last, next, now) {
                articles.push((id, store::timestamp(at)));
            }
        }
    }
    if source_next.is_some() || !articles.is_empty() {
        tracing::info!(
            source = %source.url,
            articles = articles.len(),
            "the schedule changed: next checks later than it allows are pulled in"
        );
    }
    Ok(PullIn {
        source_id,
        source_next,
        articles,
        key: source.schedule_key(),
    })
}

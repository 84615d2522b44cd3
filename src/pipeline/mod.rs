//! One poll of one source, end to end: fetch → feed or page → extract → store → figures →
//! alerts, and the next check. Each source's failure is recorded on it and never stops the
//! others.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::alerts::{SourceAlert, SourceAlertKind};
use crate::cadence::{self, ChangeHistory};
use crate::config::{Config, SourceConfig, SourceKind};
use crate::feed;
use crate::fetch::{Conditional, FetchError, Fetcher, HostLimiter, Validators};
use crate::figures::FigureExtractor;
use crate::store::{self, PollRecord, PollResult, SourceState, Store};

mod article;
mod baseline;
mod error;
mod lease;
mod links;
mod listing;
mod reading;
mod recheck;
mod summary;
mod workers;

use article::Listed;
pub use error::PollError;
pub use links::canonical_url;
pub use recheck::ArticlePass;
pub use summary::PassSummary;
use workers::StoreHosts;

/// The entries of one feed followed in one poll, in the feed's order (newest first, as feeds
/// list them). News feeds list tens; an archive feed of thousands would be thousands of
/// requests to one site every poll.
pub const MAX_ENTRIES: usize = 200;

/// Prunes the store as `retention` says.
pub fn prune(
    store: &Store,
    retention: &crate::config::Retention,
    dry_run: bool,
) -> store::Result<store::PruneReport> {
    let cutoff = Utc::now() - chrono::Duration::from_std(retention.keep_for).unwrap_or_default();
    store.prune(&store::timestamp(cutoff), retention.keep_last, dry_run)
}

/// Why a poll (or one article) did not succeed.
#[derive(Debug)]
struct Failure {
    error: PollError,
    http_status: Option<u16>,
    /// The host asked us to wait: nothing was requested, and this is no failure of the source.
    deferred_until: Option<DateTime<Utc>>,
    /// The source must not be polled before this (a 429's Retry-After).
    not_before: Option<DateTime<Utc>>,
}

impl Failure {
    fn new(error: impl Into<PollError>) -> Failure {
        Failure {
            error: error.into(),
            http_status: None,
            deferred_until: None,
            not_before: None,
        }
    }
}

/// How a source's poll went, when it did not fail.
enum Polled {
    NotModified {
        fresh_for: Option<Duration>,
    },
    Fetched {
        note: Option<String>,
        validators: Validators,
        fresh_for: Option<Duration>,
        status: u16,
    },
}

/// One configuration's polling: sources, fetcher, figure extractor and store, shared by the
/// daemon's tasks and the one-shot commands.
pub struct Pipeline {
    /// The configuration it polls by.
    pub config: Config,
    /// Shared with the host limiter, which keeps politeness in it when workers share the store.
    pub store: Arc<Store>,
    fetcher: Fetcher,
    /// Shared with the blocking pool, where a new page's figures are read beside its text.
    figures: Arc<FigureExtractor>,
    /// Bumped after every commit that wrote an alert, to wake the delivery workers.
    alerts_raised: tokio::sync::watch::Sender<u64>,
    /// This process's name on the sources it leases while it polls them.
    lease_owner: String,
    /// Database ids of `config.sources`, same order.
    source_ids: Vec<i64>,
    /// The same, as a JSON array (what the claims of workers sharing a store name), and by id.
    source_ids_json: String,
    source_index: HashMap<i64, usize>,
    /// Whether the claims must name this worker's sources: only while the table holds sources
    /// it does not poll (removed from the configuration, or configured elsewhere). Naming ten
    /// thousand ids costs each claim more than the claim itself.
    claims_name_sources: std::sync::atomic::AtomicBool,
    /// Each source's scheduling state, by id: read once, then kept by the polls, so that a
    /// poll costs no read of it.
    states: Mutex<HashMap<i64, SourceState>>,
    /// Canonical URLs of the articles being checked right now: two feeds linking one article
    /// at the same moment fetch it once.
    in_flight: Mutex<HashSet<String>>,
    /// Headless Chromium, for the sources with `render = "chromium"` (none: no source renders).
    renderer: Option<Arc<crate::render::Renderer>>,
}

impl Pipeline {
    /// A pipeline with fresh politeness state. Host pauses stored by earlier runs are honoured.
    pub fn new(config: Config, store: Store) -> anyhow::Result<Pipeline> {
        Pipeline::with_hosts(config, store, None)
    }

    /// A pipeline that keeps the politeness state of `hosts` (the daemon's configuration
    /// reload). Host pauses stored by earlier runs are honoured.
    pub fn with_hosts(
        config: Config,
        store: Store,
        hosts: Option<Arc<HostLimiter>>,
    ) -> anyhow::Result<Pipeline> {
        let hosts = hosts.unwrap_or_else(|| {
            Arc::new(HostLimiter::new(
                config.fetch.per_host_concurrency,
                config.fetch.per_host_delay,
            ))
        });
        for (host, until) in store.host_pauses(&store::now())? {
            hosts.pause(&host, until);
        }
        let store = Arc::new(store);
        let lease_owner = lease::owner_name();
        if store.is_postgres() {
            // Workers on other machines poll the same hosts: the limits go through the store.
            hosts.share(Arc::new(StoreHosts {
                store: Arc::clone(&store),
                holder: lease_owner.clone(),
                hold: config.fetch.timeout * 2 + Duration::from_secs(5),
            }));
        }
        let fetcher = Fetcher::with_hosts(&config.user_agent, &config.fetch, hosts)?;
        let renderer = match config.sources.iter().any(|s| s.render) {
            false => None,
            true => {
                // Refused now, not at the first page: a missing browser is a set-up error.
                Some(Arc::new(crate::render::Renderer::new(
                    config.render.clone(),
                    &config.user_agent,
                    &config.fetch,
                )?))
            }
        };
        let figures = Arc::new(FigureExtractor::new(&config.topics));
        let (source_ids, changed) = store.sync_sources(&config.sources)?;
        let changed: Vec<_> = changed
            .iter()
            .map(|&i| (source_ids[i], &config.sources[i]))
            .collect();
        recheck::pull_in(&store, &changed)?;
        let states = Mutex::new(store.source_states()?);
        let name_sources = store.source_count()? != source_ids.len() as i64;
        Ok(Pipeline {
            config,
            store,
            fetcher,
            figures,
            alerts_raised: tokio::sync::watch::Sender::new(0),
            lease_owner,
            claims_name_sources: std::sync::atomic::AtomicBool::new(name_sources),
            source_ids_json: serde_json::to_string(&source_ids)?,
            source_index: source_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (*id, i))
                .collect(),
            source_ids,
            states,
            in_flight: Mutex::new(HashSet::new()),
            renderer,
        })
    }

    /// This process's name as a worker (on its leases, its request slots, in `status`).
    pub fn worker_name(&self) -> &str {
        &self.lease_owner
    }

    /// The renderer, when a source renders (its counts are the run's).
    pub fn renderer(&self) -> Option<&Arc<crate::render::Renderer>> {
        self.renderer.as_ref()
    }

    /// Whether the articles of the source `source_id` are rendered in Chromium.
    fn renders(&self, source_id: i64) -> bool {
        self.source_index
            .get(&source_id)
            .is_some_and(|&i| self.config.sources[i].render)
    }

    /// The store's id of the source at `index` of the configuration.
    pub fn source_id(&self, index: usize) -> i64 {
        self.source_ids[index]
    }

    /// The per-host limits its requests go through.
    pub fn hosts(&self) -> &Arc<HostLimiter> {
        self.fetcher.hosts()
    }

    /// A source's scheduling state as this process knows it (read from the database at start,
    /// kept up to date by every poll).
    pub fn state_of(&self, source_id: i64) -> SourceState {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&source_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Each configured source's next check and current interval, in configuration order, as
    /// this process knows them (no database read: a one-shot pass has just loaded them).
    pub fn next_checks(&self) -> Vec<(Option<DateTime<Utc>>, Option<Duration>)> {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        self.source_ids
            .iter()
            .map(|id| {
                states
                    .get(id)
                    .map_or((None, None), |s| (s.next_check_at, s.interval))
            })
            .collect()
    }

    /// Tells the delivery workers that an alert is in the outbox.
    pub fn alert_committed(&self) {
        self.alerts_raised.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever an alert has been committed.
    pub fn alerts_raised(&self) -> tokio::sync::watch::Receiver<u64> {
        self.alerts_raised.subscribe()
    }

    /// Writes the schedule of the polls not yet written (they are batched).
    pub fn flush(&self) {
        if let Err(e) = crate::store::off_runtime(|| self.store.flush_polls()) {
            tracing::error!("cannot record the polls' schedule: {e}");
        }
    }

    /// Polls the given sources in their order, at most `[fetch] concurrency` at a time;
    /// `progress` hears of each source as it finishes.
    pub async fn poll_sources(
        self: &Arc<Self>,
        indices: Vec<usize>,
        mut progress: impl FnMut(&PassSummary),
    ) -> PassSummary {
        use futures_util::{FutureExt, StreamExt};
        let asked = indices.len();
        let (indices, busy, unleased) = match self.claim(&indices, None) {
            Ok(mine) => {
                let busy = asked - mine.len();
                (mine, busy, 0)
            }
            Err(e) => {
                tracing::error!("cannot lease sources for polling: {e}");
                (Vec::new(), 0, asked)
            }
        };
        // The polls of a pass run as futures of this one task, `concurrency` at a time, as a
        // plain client loop would: no task per source, no hand-off between threads for each.
        // Parsing and extraction still run on the blocking pool, in parallel. A panic in a poll
        // (a bug, not bad input: parsers catch their own) costs that source, not the pass.
        let mut polls = futures_util::stream::iter(indices)
            .map(|i| {
                std::panic::AssertUnwindSafe(self.poll_source(i))
                    .catch_unwind()
                    .map(move |r| (i, r))
            })
            .buffer_unordered(self.config.fetch.concurrency);
        let mut total = PassSummary {
            busy,
            unleased,
            ..PassSummary::default()
        };
        while let Some((i, result)) = polls.next().await {
            match result {
                Ok(s) => total.add(&s),
                Err(_) => {
                    tracing::error!(source = %self.config.sources[i].url, "a poll failed on an internal error; the pass goes on");
                    total.sources += 1;
                    total.failed += 1;
                }
            }
            progress(&total);
        }
        self.release();
        total
    }

    /// Polls every configured source once, then checks every watched article it did not
    /// just fetch (`figwatch --poll --all`).
    pub async fn poll_all(self: &Arc<Self>) -> PassSummary {
        let started = store::now();
        let mut total = self
            .poll_sources((0..self.config.sources.len()).collect(), |_| {})
            .await;
        let (_stop, never) = tokio::sync::watch::channel(false);
        let articles = self
            .recheck_articles(ArticlePass::All, Some(started), never, |_| {})
            .await;
        total.add(&articles);
        total
    }

    /// Polls one source, records the outcome on it and schedules its next check. The caller
    /// bounds how many run at once (`[fetch] concurrency`). On PostgreSQL, a poll that runs
    /// long (a slow host, a wait for its turn) renews its lease, so that only a worker that
    /// died loses its sources to another.
    pub async fn poll_source(&self, index: usize) -> PassSummary {
        // On SQLite the workers are one machine's processes, whose leases end with them (a
        // dead one's are taken over at once): no renewal, and no timer per poll.
        if !self.store.is_postgres() {
            return self.poll_source_now(index).await;
        }
        let every = (self.lease_length() / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(60))
            .max(Duration::from_secs(1));
        let renew = async {
            loop {
                tokio::time::sleep(every).await;
                let until = store::timestamp(Utc::now() + self.lease_length());
                match self
                    .store
                    .renew_lease(self.source_ids[index], &self.lease_owner, &until)
                {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        source = %self.config.sources[index].url,
                        "this worker's lease on the source ran out while it polled it"
                    ),
                    Err(e) => tracing::warn!("cannot renew a lease: {e}"),
                }
            }
        };
        tokio::select! {
            biased;
            summary = self.poll_source_now(index) => summary,
            never = renew => never,
        }
    }

    async fn poll_source_now(&self, index: usize) -> PassSummary {
        let source = &self.config.sources[index];
        let id = self.source_ids[index];
        let mut summary = PassSummary {
            sources: 1,
            ..Default::default()
        };
        let state = self.state_of(id);
        let result = match source.kind {
            SourceKind::Feed | SourceKind::Sitemap | SourceKind::Section => {
                self.poll_listing(id, source, &state, &mut summary).await
            }
            SourceKind::Page => self.poll_page(id, source, &mut summary).await,
        };
        self.finish_poll(id, source, &state, result, &mut summary);
        summary
    }

    /// Records a poll and when the source is due next.
    fn finish_poll(
        &self,
        id: i64,
        source: &SourceConfig,
        state: &SourceState,
        result: Result<Polled, Failure>,
        summary: &mut PassSummary,
    ) {
        let now = Utc::now();
        let at = store::timestamp(now);
        let settings = &self.config.schedule;
        let history = ChangeHistory {
            last_change_at: state.last_change_at,
            change_gap: state.change_gap,
        };
        let changed = summary.new_articles + summary.new_versions > 0;
        let mut alert = None;
        let (interval, not_before, status) = match &result {
            Ok(Polled::NotModified { fresh_for, .. }) => {
                summary.not_modified += 1;
                let i = cadence::next_interval(source, settings, history, 0, *fresh_for, now);
                (i, None, Some(304))
            }
            Ok(Polled::Fetched {
                fresh_for, status, ..
            }) => {
                let h = if changed {
                    history.changed_at(now)
                } else {
                    history
                };
                let i = cadence::next_interval(source, settings, h, 0, *fresh_for, now);
                (i, None, Some(*status))
            }
            Err(f) if f.deferred_until.is_some() => {
                summary.deferred += 1;
                tracing::info!(source = %source.url, "{}", f.error);
                (source.interval, f.deferred_until, None)
            }
            Err(f) => {
                summary.failed += 1;
                let failures = state.consecutive_failures.saturating_add(1);
                tracing::warn!(source = %source.url, failures, "poll failed: {}", f.error);
                if failures >= settings.fail_after && state.failing_since.is_none() {
                    let mut a =
                        SourceAlert::new(SourceAlertKind::SourceFailing, source.url.as_str(), &at);
                    a.failures = i64::from(failures);
                    a.error = Some(f.error.to_string());
                    alert = Some(a);
                }
                let i = cadence::next_interval(source, settings, history, failures, None, now);
                (i, f.not_before, f.http_status)
            }
        };
        if result.is_ok() && state.failing_since.is_some() {
            let mut a =
                SourceAlert::new(SourceAlertKind::SourceRecovered, source.url.as_str(), &at);
            a.failures = i64::from(state.consecutive_failures);
            a.since = state.failing_since.clone();
            alert = Some(a);
        }
        let mut next = store::later(now, cadence::jitter(interval, settings.jitter));
        if let Some(t) = not_before {
            next = next.max(t);
        }
        let deferred = matches!(&result, Err(f) if f.deferred_until.is_some());
        // What the scheduler keeps in memory, and what the database is told.
        let mut after = state.clone();
        after.next_check_at = Some(next);
        after.interval = Some(interval);
        let record_result = match result {
            Ok(Polled::NotModified { .. }) => {
                after.consecutive_failures = 0;
                after.failing_since = None;
                PollResult::NotModified
            }
            Ok(Polled::Fetched {
                note, validators, ..
            }) => {
                after.consecutive_failures = 0;
                after.failing_since = None;
                after.validators = validators.clone();
                let gap = changed.then(|| {
                    let h = history.changed_at(now);
                    after.last_change_at = h.last_change_at;
                    after.change_gap = h.change_gap;
                    h.change_gap.unwrap_or_default()
                });
                PollResult::Fetched {
                    note,
                    validators,
                    changed: gap,
                }
            }
            Err(_) if deferred => PollResult::Deferred,
            Err(f) => {
                after.consecutive_failures = after.consecutive_failures.saturating_add(1);
                if alert.is_some() {
                    after.failing_since = Some(at.clone());
                }
                PollResult::Failed {
                    error: f.error.to_string(),
                }
            }
        };
        crate::metrics::METRICS.poll(match &record_result {
            PollResult::NotModified => crate::metrics::PollOutcome::NotModified,
            PollResult::Fetched { .. } => crate::metrics::PollOutcome::Fetched,
            PollResult::Failed { .. } => crate::metrics::PollOutcome::Failed,
            PollResult::Deferred => crate::metrics::PollOutcome::Deferred,
        });
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, after);
        let record = PollRecord {
            source_id: id,
            at,
            result: record_result,
            next_check_at: store::timestamp(next),
            interval,
            http_status: status,
            alert: alert.clone(),
        };
        if let Err(e) = crate::store::off_runtime(|| self.store.record_poll(record)) {
            tracing::error!(source = %source.url, "cannot record the poll: {e}");
            return;
        }
        if let Some(a) = alert {
            summary.alerts += 1;
            tracing::warn!(alert = a.kind.as_str(), id = %a.id, "{}", a.summary());
            self.alert_committed();
        }
    }

    /// Turns a fetch error into a failure, remembering a host's request to wait.
    fn fetch_failed(&self, e: FetchError) -> Failure {
        let mut f = Failure::new(PollError::Fetch(e));
        let PollError::Fetch(e) = &f.error else {
            unreachable!("built just above")
        };
        match e {
            FetchError::HostPaused { until, .. } => f.deferred_until = Some(*until),
            FetchError::RateLimited {
                host,
                until,
                status,
                ..
            } => {
                f.http_status = Some(*status);
                f.not_before = Some(*until);
                let reason = format!("HTTP {status} with Retry-After");
                if let Err(db) = self
                    .store
                    .pause_host(host, &store::timestamp(*until), &reason)
                {
                    tracing::error!(host, "cannot record the pause: {db}");
                }
            }
            FetchError::Status { status, .. } => f.http_status = Some(*status),
            _ => {}
        }
        f
    }

    /// A page source is one article, checked on the source's schedule.
    async fn poll_page(
        &self,
        source_id: i64,
        source: &SourceConfig,
        summary: &mut PassSummary,
    ) -> Result<Polled, Failure> {
        let o = self
            .check_article(source_id, source, &source.url, Listed::Page)
            .await?;
        summary.count(&o);
        Ok(match o.not_modified {
            true => Polled::NotModified {
                fresh_for: o.fresh_for,
            },
            false => Polled::Fetched {
                note: o.flag,
                validators: Validators::default(),
                fresh_for: o.fresh_for,
                status: 200,
            },
        })
    }
}

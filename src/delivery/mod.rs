//! Delivery from the outbox: one worker per sink queues the alerts meant for it, sends them
//! (each alone, or collected into a digest), and records the outcome, so that an alert is
//! delivered at least once to every sink whatever fails in between.
//!
//! A failed delivery is tried again after `retry_initial`, doubling up to `retry_max`; the sink
//! then rests until that time, so a receiver that is down costs one attempt per wait, not one
//! per waiting alert.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::alerts::AnyAlert;
use crate::config::{AlertSettings, Config};
use crate::store::{self, Claimed, Store};
use sinks::Sender;

pub mod sinks;

/// How long a claim holds beyond the sink's own timeout, so that a process that died while
/// sending gives its alerts back soon, and a slow but living one keeps them.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// The most alerts one digest carries; more go in the next one.
const DIGEST_MAX: usize = 500;

/// How often an idle daemon worker looks for alerts raised by another process (a `--poll`
/// beside the daemon writes alerts it does not hear of).
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// The delivery workers of one configuration: one per sink, each taking its alerts from the store's
/// outbox.
pub struct Outbox {
    store: Store,
    settings: AlertSettings,
    senders: Vec<Sender>,
    /// Deliveries this process has claimed and not yet settled: given back if it stops early.
    claimed: Mutex<HashSet<(String, i64)>>,
}

/// What is left for one sink after a drain.
#[derive(Debug, Clone)]
pub struct Leftover {
    /// The sink's name.
    pub sink: String,
    /// Alerts it has not delivered yet.
    pub pending: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// A digest still collecting (not an error).
    pub collecting: bool,
}

impl Outbox {
    /// Opens the outbox of `config`'s database and registers its sinks.
    pub fn open(config: &Config) -> anyhow::Result<Outbox> {
        let store = Store::connect(&config.database)?;
        let keys: Vec<&str> = config.alerts.sinks.iter().map(|s| s.key.as_str()).collect();
        for (sink, pending) in store.sync_sinks(&keys)? {
            tracing::warn!(
                sink,
                pending,
                "a sink is no longer configured; its undelivered alerts are dropped from the outbox (they stay in `figwatch alerts`)"
            );
        }
        let senders = config
            .alerts
            .sinks
            .iter()
            .map(|s| Sender::new(s.clone(), &config.user_agent, &config.fetch.proxy))
            .collect::<anyhow::Result<_>>()?;
        Ok(Outbox {
            store,
            settings: config.alerts.clone(),
            senders,
            claimed: Mutex::new(HashSet::new()),
        })
    }

    /// Whether nothing was left.
    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// Delivers what can be delivered within `timeout` (`figwatch --poll`), then gives back
    /// what this process still holds. Returns what is left per sink.
    pub async fn drain(&self, timeout: Duration) -> Vec<Leftover> {
        let deadline = Utc::now() + chrono::Duration::from_std(timeout).unwrap_or_default();
        let work = futures_util::future::join_all(
            self.senders
                .iter()
                .map(|sender| self.drain_sink(sender, deadline)),
        );
        let _ = tokio::time::timeout(timeout, work).await;
        self.give_back();
        let mut left = Vec::new();
        for sender in &self.senders {
            match crate::store::off_runtime(|| self.store.sink_backlog(&sender.config.key)) {
                Ok(b) if b.pending > 0 => left.push(Leftover {
                    sink: sender.config.label.clone(),
                    pending: b.pending,
                    collecting: b.last_error.is_none() && sender.config.digest.is_some(),
                    last_error: b.last_error,
                }),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(sink = %sender.config.label, "cannot read the outbox: {e}")
                }
            }
        }
        left
    }

    async fn drain_sink(&self, sender: &Sender, deadline: DateTime<Utc>) {
        loop {
            let Some(next) = self.round(sender).await else {
                return;
            };
            // A digest whose window is still open waits for the next run, not for us.
            if next > deadline || (sender.config.digest.is_some() && next > Utc::now()) {
                return;
            }
            sleep_until(next).await;
        }
    }

    /// The daemon's delivery: one worker per sink until `stop` turns true. `raised` changes
    /// whenever the pipeline commits an alert.
    pub async fn run(self: Arc<Self>, raised: watch::Receiver<u64>, stop: watch::Receiver<bool>) {
        let workers = (0..self.senders.len()).map(|i| {
            let me = Arc::clone(&self);
            let mut raised = raised.clone();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let sender = &me.senders[i];
                // Once the pipeline is gone (a reload), only the timer and `stop` wake us.
                let mut pipeline_gone = false;
                while !*stop.borrow() {
                    let next = me.round(sender).await;
                    let wait = next
                        .map(|t| (t - Utc::now()).to_std().unwrap_or_default())
                        .unwrap_or(IDLE_CHECK)
                        .min(IDLE_CHECK);
                    tokio::select! {
                        changed = raised.changed(), if !pipeline_gone => {
                            pipeline_gone = changed.is_err();
                        }
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => {}
                    }
                }
            })
        });
        futures_util::future::join_all(workers).await;
        self.give_back();
    }

    /// One round for one sink: queue its new alerts, send what is due. Returns when it has
    /// something to do next (`None`: nothing pending).
    async fn round(&self, sender: &Sender) -> Option<DateTime<Utc>> {
        let sink = &sender.config;
        let outcome = async {
            self.store
                .queue_deliveries(&sink.key, |kind, topic| sink.wants(kind, topic))?;
            loop {
                let backlog = crate::store::off_runtime(|| self.store.sink_backlog(&sink.key))?;
                if backlog.pending == 0 {
                    return Ok::<_, store::StoreError>(None);
                }
                let now = Utc::now();
                let mut next = backlog.next_attempt_at.as_deref().and_then(parse);
                if let (Some(window), Some(oldest)) = (
                    sink.digest,
                    backlog.oldest_queued_at.as_deref().and_then(parse),
                ) {
                    let ready = oldest + chrono::Duration::from_std(window).unwrap_or_default();
                    next = Some(next.map_or(ready, |n| n.max(ready)));
                }
                if next.is_some_and(|n| n > now) {
                    return Ok(next);
                }
                // A log takes a whole batch in one write; a digest is one message; the others
                // get one message per alert, oldest first.
                let limit = match (&sink.digest, &sink.target) {
                    (Some(_), _) => DIGEST_MAX,
                    (None, crate::config::SinkTarget::Log { .. }) => 1000,
                    (None, _) => 1,
                };
                let lease = now
                    + chrono::Duration::from_std(sink.timeout + LEASE_MARGIN).unwrap_or_default();
                let claimed = crate::store::off_runtime(|| {
                    self.store.claim_deliveries(&sink.key, now, lease, limit)
                })?;
                if claimed.is_empty() {
                    // Held by another process: look again when its lease can have run out.
                    return Ok(Some(lease));
                }
                if !self.send(sender, claimed).await? {
                    // Failed: the sink rests until the retry time just recorded.
                    return Ok(self
                        .store
                        .sink_backlog(&sink.key)?
                        .next_attempt_at
                        .as_deref()
                        .and_then(parse));
                }
            }
        }
        .await;
        match outcome {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(sink = %sink.label, "cannot use the outbox: {e}");
                Some(Utc::now() + chrono::Duration::seconds(10))
            }
        }
    }

    /// Sends one claimed batch and records the outcome; `Ok(false)` when the sink failed.
    async fn send(&self, sender: &Sender, claimed: Vec<Claimed>) -> store::Result<bool> {
        let sink = &sender.config;
        let rows: Vec<i64> = claimed.iter().map(|c| c.row).collect();
        self.hold(&sink.key, &rows, true);
        let batch: Vec<AnyAlert> = claimed.iter().map(|c| c.alert.clone()).collect();
        let retry = claimed.iter().any(|c| c.attempts > 1);
        let result = sender.send(&batch, retry).await;
        let settled = match &result {
            Ok(()) => {
                for a in &batch {
                    tracing::debug!(sink = %sink.label, id = a.id(), "alert delivered");
                }
                crate::store::off_runtime(|| self.store.delivered(&sink.key, &rows))
            }
            Err(error) => {
                let attempts = claimed.iter().map(|c| c.attempts).max().unwrap_or(1);
                let wait = self.backoff(attempts);
                tracing::warn!(
                    sink = %sink.label,
                    alerts = batch.len(),
                    first = batch[0].id(),
                    attempt = attempts,
                    "not delivered: {error}; next attempt in {}",
                    humantime::format_duration(Duration::from_secs(wait.as_secs().max(1)))
                );
                let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                crate::store::off_runtime(|| {
                    self.store
                        .delivery_failed(&sink.key, &rows, &error.to_string(), at)
                })
            }
        };
        self.hold(&sink.key, &rows, false);
        settled.map(|()| result.is_ok())
    }

    /// `retry_initial`, doubled per earlier failure, at most `retry_max`, ±10 % so that sinks
    /// failing together do not retry together.
    fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let base = self
            .settings
            .retry_initial
            .saturating_mul(1u32 << doublings)
            .min(self.settings.retry_max);
        base.mul_f64(0.9 + fastrand::f64() * 0.2)
    }

    fn hold(&self, sink: &str, rows: &[i64], held: bool) {
        let mut claimed = self.claimed.lock().unwrap_or_else(|p| p.into_inner());
        for row in rows {
            if held {
                claimed.insert((sink.to_string(), *row));
            } else {
                claimed.remove(&(sink.to_string(), *row));
            }
        }
    }

    /// Gives back the claims of sends that were cut off, so the next run need not wait for
    /// their leases to run out.
    fn give_back(&self) {
        let held: Vec<(String, i64)> = self
            .claimed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        for (sink, row) in held {
            if let Err(e) = crate::store::off_runtime(|| self.store.release_delivery(&sink, row)) {
                tracing::error!(sink, "cannot give back an unfinished delivery: {e}");
            }
        }
    }
}

use crate::store::parse_timestamp as parse;

async fn sleep_until(t: DateTime<Utc>) {
    let wait = (t - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
}

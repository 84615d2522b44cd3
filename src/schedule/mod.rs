//! The daemon's loop, and which sources a one-shot pass takes. Each source's next check is
//! kept in the database, so `figwatch run`, a restart and `figwatch --poll` from cron share
//! one schedule. The daemon tells systemd when it is ready, pings its watchdog, reloads the
//! configuration on SIGHUP, and on SIGTERM finishes the polls in progress.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::Config;
use crate::pipeline::{ArticlePass, Pipeline};
use crate::store::Store;

mod tasks;
use tasks::*;
mod signals;
pub use signals::*;

/// How soon the daemon looks again at a source another process is polling.
const LEASE_RETRY: Duration = Duration::from_secs(30);
/// How often the daemon checks that its SQLite file is still at its path.
const FILE_CHECK: Duration = Duration::from_secs(2);

/// How often a running worker says it is alive (`figwatch status` lists workers seen in the
/// last two minutes).
const HEARTBEAT: Duration = Duration::from_secs(15);

/// How long a worker sharing PostgreSQL lets freed slots gather before it claims again.
const CLAIM_GATHER: Duration = Duration::from_millis(10);

/// The longest a worker sharing PostgreSQL waits before it looks for due sources again.
const SHARED_IDLE: Duration = Duration::from_secs(2);

mod systemd;

/// The sources a one-shot pass polls: those due now, or within the jitter of their interval
/// (a cron line every 15 minutes must not miss a source whose jittered check fell a few
/// seconds after the run). Ordered so that consecutive sources are on different hosts.
pub fn due_sources(pipeline: &Pipeline) -> anyhow::Result<Vec<usize>> {
    let now = Utc::now();
    let due: Vec<usize> = pipeline
        .next_checks()
        .into_iter()
        .enumerate()
        .filter(|(i, (next, interval))| {
            let interval = interval.unwrap_or(pipeline.config.sources[*i].interval);
            let slack = interval.mul_f64(pipeline.config.schedule.jitter) + Duration::from_secs(5);
            next.is_none_or(|t| t <= now + chrono::Duration::from_std(slack).unwrap_or_default())
        })
        .map(|(i, _)| i)
        .collect();
    Ok(interleave_hosts(pipeline, due))
}

/// Reorders sources round-robin over their hosts, so that a pass does not spend all its
/// concurrency waiting on one host's politeness delay while others sit idle.
pub fn interleave_hosts(pipeline: &Pipeline, sources: Vec<usize>) -> Vec<usize> {
    let mut by_host: Vec<(String, Vec<usize>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for i in sources {
        let host = pipeline.config.sources[i]
            .url
            .host_str()
            .unwrap_or_default()
            .to_string();
        let slot = *index.entry(host.clone()).or_insert_with(|| {
            by_host.push((host, Vec::new()));
            by_host.len() - 1
        });
        by_host[slot].1.push(i);
    }
    let longest = by_host.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    (0..longest)
        .flat_map(|round| {
            by_host
                .iter()
                .filter_map(move |(_, v)| v.get(round).copied())
        })
        .collect()
}

/// When source `i` is due, as an instant of this process: from the stored next check.
fn due_at(pipeline: &Pipeline, next: Option<DateTime<Utc>>, i: usize) -> Instant {
    let Some(at) = next else {
        return Instant::now();
    };
    let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    // A stored time further away than the longest interval configured now (the configuration
    // was changed, or the clock jumped) is not waited for.
    let s = &pipeline.config.sources[i];
    let longest = s.max_interval.max(pipeline.config.schedule.max_backoff);
    Instant::now() + wait.min(longest)
}

/// The queue of sources by due time.
struct Queue {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
}

impl Queue {
    fn load(pipeline: &Pipeline) -> anyhow::Result<Queue> {
        if pipeline.store.is_postgres() {
            // Workers sharing PostgreSQL keep no queue: they claim what is due from the store.
            return Ok(Queue {
                heap: BinaryHeap::new(),
            });
        }
        let states = crate::store::off_runtime(|| pipeline.store.source_states())?;
        let order = interleave_hosts(pipeline, (0..pipeline.config.sources.len()).collect());
        let mut heap = BinaryHeap::new();
        // Sources due at once keep the interleaved order: each is a nanosecond behind the last.
        let base = Instant::now();
        for (rank, i) in order.into_iter().enumerate() {
            let next = states
                .get(&pipeline.source_id(i))
                .and_then(|s| s.next_check_at);
            let at = due_at(pipeline, next, i).max(base + Duration::from_nanos(rank as u64));
            heap.push(Reverse((at, i)));
        }
        Ok(Queue { heap })
    }

    fn next_due(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }
}

/// Runs until a shutdown signal. Polls that are running when it comes are finished; a second
/// signal stops at once. SIGHUP reloads the configuration (a bad one is refused and the
/// running one kept).
pub async fn run(pipeline: Pipeline) -> anyhow::Result<()> {
    let mut pipeline = Arc::new(pipeline);
    if pipeline.config.sources.is_empty() {
        anyhow::bail!(
            "{}: no [[feeds]] or [[pages]] configured; nothing to watch",
            pipeline.config.path.display()
        );
    }
    let mut queue = Queue::load(&pipeline)?;
    let mut delivery = Delivery::start(&pipeline)?;
    let mut articles = ArticleChecks::start(&pipeline);
    let (web_stop, web_stopped) = tokio::sync::watch::channel(false);
    let mut dashboard = None;
    let web = match &pipeline.config.web {
        Some(w) => {
            let d = Arc::new(crate::web::Dashboard::open(&pipeline.config)?);
            dashboard = Some(Arc::clone(&d));
            let listen = w.listen;
            let mut stopped = web_stopped.clone();
            Some(tokio::spawn(async move {
                let dashboard = d;
                let stop = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                if let Err(e) = crate::web::serve(dashboard, listen, stop).await {
                    tracing::error!("dashboard: {e:#}");
                }
            }))
        }
        None => None,
    };
    let mut running: HashSet<usize> = HashSet::new();
    let mut tasks: JoinSet<()> = JoinSet::new();
    // Which source (and of which configuration) each task polls, so that a task that
    // panicked still frees its source.
    let mut task_source: HashMap<tokio::task::Id, (usize, u64)> = HashMap::new();
    let mut generation = 0u64;
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let mut hangup = hangup_signal()?;
    let mut watchdog = systemd::Watchdog::new();
    // Poll records are written in batches; a quiet daemon still writes its last ones soon.
    let mut flush_timer = tokio::time::interval(Duration::from_secs(1));
    // Retention runs at start and then once a day.
    let mut prune_timer = tokio::time::interval(Duration::from_secs(24 * 3600));
    // Workers sharing PostgreSQL hear of each other's alerts and released sources at once.
    let mut notes = match pipeline.store.listen() {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("{e}; alerts of other workers are delivered within 30s instead");
            None
        }
    };
    let started_at = crate::store::now();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut file_check = tokio::time::interval(FILE_CHECK);
    let mut gone = None;
    systemd::ready(&status_line(&pipeline));
    tracing::info!(
        sources = pipeline.config.sources.len(),
        "figwatch is running; stop with SIGTERM or Ctrl-C, reload the configuration with SIGHUP"
    );

    // Workers sharing PostgreSQL take what is due from the store instead of each keeping its
    // own queue of every source: a source is claimed once, by whichever worker has a free slot.
    let shared = pipeline.store.is_postgres();
    let mut shared_wake = Instant::now();
    // Leases of this machine's processes that died are freed at start and then now and then.
    let mut dead_check = Instant::now();
    loop {
        let now = Instant::now();
        let slots = pipeline.config.fetch.concurrency;
        if shared && running.len() < slots && shared_wake <= now {
            if dead_check <= now {
                pipeline.free_dead_leases();
                dead_check = now + SHARED_IDLE;
            }
            let want = slots - running.len();
            let claimed = pipeline.claim_due(want);
            shared_wake = if claimed.len() == want {
                // Every slot is busy: the polls ending bring the next claim forward.
                now + SHARED_IDLE
            } else {
                // Nothing more is due: look again when the next source can be claimed, and
                // at least every 2 s (a lease of a worker that died may run out).
                let next = pipeline
                    .next_claimable()
                    .and_then(|t| (t - Utc::now()).to_std().ok())
                    .unwrap_or_default();
                now + next.clamp(Duration::from_millis(50), SHARED_IDLE)
            };
            for i in claimed {
                if !running.insert(i) {
                    continue;
                }
                let p = Arc::clone(&pipeline);
                let handle = tasks.spawn(async move {
                    let summary = p.poll_source(i).await;
                    tracing::debug!(source = %p.config.sources[i].url, "{summary}");
                });
                task_source.insert(handle.id(), (i, generation));
            }
        }
        while !shared && running.len() < slots && queue.next_due().is_some_and(|at| at <= now) {
            let Reverse((_, i)) = queue.heap.pop().expect("peeked");
            if running.contains(&i) {
                continue;
            }
            let host = pipeline.config.sources[i]
                .url
                .host_str()
                .unwrap_or_default();
            if let Some(until) = pipeline.hosts().paused_until(host) {
                // Not started at all: its host asked us to wait.
                let at = due_at(&pipeline, Some(until), i);
                queue.heap.push(Reverse((at, i)));
                continue;
            }
            // Claimed only if its stored next check is still the one this worker saw: a
            // worker sharing the store that polled it since has moved it.
            let seen = pipeline.state_of(pipeline.source_id(i)).next_check_at;
            let due_by =
                seen.map_or(Utc::now(), |t| t.max(Utc::now())) + chrono::Duration::seconds(1);
            let claimed = pipeline.claim(&[i], Some(due_by)).unwrap_or_else(|e| {
                // The store cannot be written (a full disk): nothing could be stored, so
                // nothing is fetched; the source is tried again after a while.
                tracing::error!(source = %pipeline.config.sources[i].url, "cannot lease the source for polling: {e}");
                Vec::new()
            });
            if claimed.is_empty() {
                // Another figwatch is polling it (a `--poll` beside the daemon, another
                // worker), or has polled it: wait for its next check as stored, or, while the
                // other one polls it, look again after a while.
                let at = match pipeline.refresh_state(i) {
                    Some(next) if next > Utc::now() => due_at(&pipeline, Some(next), i),
                    // Its holder records the poll (and frees it) well before the lease ends;
                    // a holder that died frees it when the lease ends. No lease to be seen:
                    // another worker was claiming it at that very moment; look again soon.
                    _ => {
                        let left = pipeline.lease_left(i).unwrap_or(Duration::from_secs(1));
                        now + (left + Duration::from_millis(fastrand::u64(50..500)))
                            .min(LEASE_RETRY)
                    }
                };
                queue.heap.push(Reverse((at, i)));
                continue;
            }
            running.insert(i);
            let p = Arc::clone(&pipeline);
            let handle = tasks.spawn(async move {
                let summary = p.poll_source(i).await;
                tracing::debug!(source = %p.config.sources[i].url, "{summary}");
            });
            task_source.insert(handle.id(), (i, generation));
        }
        let wake = if running.len() >= slots {
            None
        } else if shared {
            Some(shared_wake)
        } else {
            queue.next_due()
        };
        tokio::select! {
            _ = &mut shutdown => break,
            _ = hangup.recv() => {
                if let Some(new) = reload(&pipeline) {
                    pipeline = Arc::new(new);
                    if let Some(d) = &dashboard {
                        d.set_topics(pipeline.config.topics.clone());
                    }
                    delivery.stop().await;
                    delivery = match Delivery::start(&pipeline) {
                        Ok(d) => d,
                        Err(e) => {
                            tracing::error!("SIGHUP: cannot start alert delivery: {e:#}");
                            Delivery::none()
                        }
                    };
                    // The old checks finish what they started; their claims keep the new
                    // ones off those articles.
                    articles.stop();
                    articles = ArticleChecks::start(&pipeline);
                    generation += 1;
                    queue = Queue::load(&pipeline)?;
                    shared_wake = Instant::now();
                    running.clear();
                    systemd::ready(&status_line(&pipeline));
                }
            }
            Some(done) = tasks.join_next_with_id() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => {
                        tracing::error!("a poll task failed: {e}");
                        e.id()
                    }
                };
                if let Some((i, g)) = task_source.remove(&id) {
                    if g == generation && shared {
                        running.remove(&i);
                        // Claims are gathered: one statement for a quarter of the slots, or
                        // whatever is free a few milliseconds on.
                        let free = pipeline.config.fetch.concurrency.saturating_sub(running.len());
                        let soon = if free * 4 >= pipeline.config.fetch.concurrency {
                            Instant::now()
                        } else {
                            Instant::now() + CLAIM_GATHER
                        };
                        shared_wake = shared_wake.min(soon);
                    } else if g == generation {
                        running.remove(&i);
                        let next = pipeline
                            .state_of(pipeline.source_id(i))
                            .next_check_at
                            .or_else(|| Some(crate::store::later(Utc::now(), pipeline.config.sources[i].interval)));
                        queue.heap.push(Reverse((due_at(&pipeline, next, i), i)));
                    }
                }
            }
            _ = sleep_until(wake) => {}
            ended = articles.ended() => {
                tracing::error!("the article re-checks stopped ({ended}); starting them again");
                articles = ArticleChecks::start(&pipeline);
            }
            _ = watchdog.tick() => {}
            _ = heartbeat.tick() => {
                if let Err(e) = crate::store::off_runtime(|| pipeline.store.worker_alive(pipeline.worker_name(), &started_at)) {
                    tracing::warn!("cannot record this worker as alive: {e}");
                }
                // Notifications lost with their connection (a server restart) are listened
                // for again once the server answers.
                if notes.is_none() && shared {
                    if let Ok(Some(again)) = pipeline.store.listen() {
                        tracing::info!("listening to the other workers again");
                        notes = Some(again);
                    }
                }
            }
            note = next_note(&mut notes) => match note.as_deref() {
                Some(crate::store::ALERTS_CHANNEL) => pipeline.alert_committed(),
                // Another worker stopped and gave its sources back: look for due ones now.
                // (Notifications come only from PostgreSQL, so only to shared workers.)
                Some(_) => shared_wake = Instant::now(),
                None => {
                    tracing::warn!("lost the notifications of the other workers (listening again at the next heartbeat); alerts of other workers are delivered within 30s");
                    notes = None;
                }
            },
            _ = file_check.tick() => if let Some(why) = pipeline.store.file_gone() {
                tracing::error!("{why}; stopping");
                gone = Some(why);
                break;
            },
            _ = flush_timer.tick() => pipeline.flush(),
            _ = prune_timer.tick() => prune(&pipeline),
        }
    }

    systemd::stopping();
    articles.stop();
    if let Some(task) = articles.task.take() {
        // Waited for with the polls below, as one of them.
        tasks.spawn(async move {
            let _ = task.await;
        });
    }
    if !tasks.is_empty() {
        tracing::info!(
            in_flight = tasks.len(),
            "stopping: finishing the polls in progress (signal again to stop now)"
        );
        let mut again = std::pin::pin!(shutdown_signal());
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { break },
                _ = &mut again => {
                    tracing::warn!("stopping now; unfinished polls are retried next time");
                    tasks.abort_all();
                    break;
                }
                _ = watchdog.tick() => {}
            }
        }
    }
    pipeline.release();
    if let Err(e) = crate::store::off_runtime(|| pipeline.store.worker_gone(pipeline.worker_name()))
    {
        tracing::warn!("cannot record this worker as stopped: {e}");
    }
    delivery.stop().await;
    let _ = web_stop.send(true);
    if let Some(web) = web {
        let _ = tokio::time::timeout(Duration::from_secs(5), web).await;
    }
    tracing::info!("figwatch stopped");
    match gone {
        Some(why) => Err(crate::store::StoreGone(why).into()),
        None => Ok(()),
    }
}

/// The daemon's daily retention pass.
fn prune(pipeline: &Pipeline) {
    let Some(r) = &pipeline.config.retention else {
        return;
    };
    match crate::pipeline::prune(&pipeline.store, r, false) {
        Ok(report)
            if report.versions + report.deliveries + report.pages + report.paragraphs > 0 =>
        {
            tracing::info!(
                versions = report.versions,
                figures = report.figures,
                deliveries = report.deliveries,
                pages = report.pages,
                paragraphs = report.paragraphs,
                "retention: pruned old versions"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::error!("retention: cannot prune: {e}"),
    }
}

/// Reads the configuration again; `None` (and the reason logged) when it cannot be used.
fn reload(current: &Arc<Pipeline>) -> Option<Pipeline> {
    let path = &current.config.path;
    systemd::reloading();
    // The new pipeline reads the schedule from the database: it must be all there.
    current.flush();
    let loaded = Config::load(path)
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            let store = Store::connect(&config.database)?;
            Pipeline::with_hosts(config, store, Some(Arc::clone(current.hosts())))
        });
    let reloaded = match loaded {
        Ok(p) if p.config.sources.is_empty() => {
            tracing::error!(
                "SIGHUP: {} has no sources; keeping the running configuration",
                path.display()
            );
            None
        }
        Ok(p) => {
            tracing::info!(
                sources = p.config.sources.len(),
                topics = p.config.topics.len(),
                "SIGHUP: configuration reloaded from {}",
                path.display()
            );
            Some(p)
        }
        Err(e) => {
            tracing::error!(
                "SIGHUP: the configuration was not reloaded, the running one is kept: {e:#}"
            );
            None
        }
    };
    if reloaded.is_none() {
        // systemd was told we are reloading; the old configuration is ready again.
        systemd::ready(&status_line(current));
    }
    reloaded
}

fn status_line(p: &Pipeline) -> String {
    format!(
        "watching {} sources for {} topics",
        p.config.sources.len(),
        p.config.topics.len()
    )
}

/// The next notification from the other workers; never, without them.
async fn next_note(
    notes: &mut Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
) -> Option<String> {
    match notes {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

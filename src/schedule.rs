//! The daemon's loop: each source polled on its own interval until SIGTERM or SIGINT, then
//! in-flight polls are finished and the process exits cleanly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::pipeline::Pipeline;

/// Runs until a shutdown signal. Polls that are running when it comes are finished; a second
/// signal stops at once.
pub async fn run(pipeline: Arc<Pipeline>) -> anyhow::Result<()> {
    let n = pipeline.config.sources.len();
    if n == 0 {
        anyhow::bail!(
            "{}: no [[feeds]] or [[pages]] configured; nothing to watch",
            pipeline.config.path.display()
        );
    }
    // Resume where the last run (or `--poll`) left off: a source checked five minutes ago with
    // a fifteen-minute interval is due in ten minutes, not now.
    let mut due: Vec<Instant> = (0..n).map(|i| resume_at(&pipeline, i)).collect();
    let mut running = vec![false; n];
    let mut tasks: JoinSet<()> = JoinSet::new();
    // Which source each task polls, so a task that panicked still frees its source.
    let mut task_source: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    tracing::info!(
        sources = n,
        "figwatch is running; stop with SIGTERM or Ctrl-C"
    );

    loop {
        let now = Instant::now();
        for i in 0..n {
            if !running[i] && due[i] <= now {
                running[i] = true;
                let p = Arc::clone(&pipeline);
                let handle = tasks.spawn(async move {
                    let summary = p.poll_source(i).await;
                    tracing::info!(source = %p.config.sources[i].url, "{summary}");
                });
                task_source.insert(handle.id(), i);
            }
        }
        let next_due = (0..n).filter(|&i| !running[i]).map(|i| due[i]).min();
        tokio::select! {
            _ = &mut shutdown => break,
            Some(done) = tasks.join_next_with_id() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => {
                        tracing::error!("a poll task failed: {e}");
                        e.id()
                    }
                };
                if let Some(i) = task_source.remove(&id) {
                    running[i] = false;
                    due[i] = Instant::now() + pipeline.config.sources[i].interval;
                }
            }
            _ = sleep_until(next_due) => {}
        }
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
            }
        }
    }
    tracing::info!("figwatch stopped");
    Ok(())
}

fn resume_at(pipeline: &Pipeline, i: usize) -> Instant {
    let stored = pipeline
        .store
        .next_check(pipeline.source_id(i))
        .ok()
        .flatten();
    let Some(at) = stored.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()) else {
        return Instant::now();
    };
    let wait = (at.with_timezone(&Utc) - Utc::now())
        .to_std()
        .unwrap_or(Duration::ZERO);
    // Never wait longer than the interval configured now, which may have been shortened.
    Instant::now() + wait.min(pipeline.config.sources[i].interval)
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

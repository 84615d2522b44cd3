//! The daemon's tasks beside the polls, one set per configuration: the re-checks of watched
//! articles by age, and the delivery workers; each stopped and replaced on a reload.

use super::*;

/// The daemon's re-checks of watched articles, for one configuration: passes over what is due,
/// and between them a wait until the next article is due.
pub(super) struct ArticleChecks {
    stop: tokio::sync::watch::Sender<bool>,
    pub(super) task: Option<tokio::task::JoinHandle<()>>,
}

impl ArticleChecks {
    pub(super) fn start(pipeline: &Arc<Pipeline>) -> ArticleChecks {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let p = Arc::clone(pipeline);
        let task = tokio::spawn(async move {
            while !*stopped.borrow() {
                let pass = ArticlePass::Due {
                    slack: Duration::ZERO,
                };
                let done = p
                    .recheck_articles(pass, None, stopped.clone(), |_| {})
                    .await;
                if done.rechecked + done.retired > 0 {
                    tracing::debug!("article re-checks: {done}");
                }
                let wait = p.next_article_wait();
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped.wait_for(|s| *s) => {}
                }
            }
        });
        ArticleChecks {
            stop,
            task: Some(task),
        }
    }

    /// No further check starts; those running finish.
    pub(super) fn stop(&mut self) {
        let _ = self.stop.send(true);
    }

    /// Resolves if the task ends while it should run (a panic, a bug): why.
    pub(super) async fn ended(&mut self) -> String {
        match self.task.as_mut() {
            Some(t) => {
                let why = match t.await {
                    Ok(()) => "it returned".to_string(),
                    Err(e) => e.to_string(),
                };
                self.task = None;
                why
            }
            None => std::future::pending().await,
        }
    }
}

/// The daemon's delivery workers, for one configuration.
pub(super) struct Delivery {
    stop: tokio::sync::watch::Sender<bool>,
    pub(super) task: Option<tokio::task::JoinHandle<()>>,
}

impl Delivery {
    pub(super) fn start(pipeline: &Arc<Pipeline>) -> anyhow::Result<Delivery> {
        let outbox = Arc::new(crate::delivery::Outbox::open(&pipeline.config)?);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = (!outbox.is_empty())
            .then(|| tokio::spawn(outbox.run(pipeline.alerts_raised(), stopped)));
        Ok(Delivery { stop, task })
    }

    pub(super) fn none() -> Delivery {
        Delivery {
            stop: tokio::sync::watch::channel(false).0,
            task: None,
        }
    }

    /// Lets the sends in progress finish (for a few seconds at most; what is cut off stays in
    /// the outbox).
    pub(super) async fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

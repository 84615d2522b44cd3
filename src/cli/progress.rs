//! Progress of a `--poll` pass: a bar on a terminal, a log line every ten seconds otherwise
//! (cron mail and journals get a few lines, not one per source).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use figwatch::pipeline::PassSummary;

pub struct Progress {
    bar: Option<ProgressBar>,
    due: usize,
    last_line: Instant,
}

const LOG_EVERY: Duration = Duration::from_secs(10);

impl Progress {
    pub fn new(due: usize, total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(due as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} sources  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        if bar.is_none() {
            tracing::info!("polling {due} of {total} sources (the others are not due yet)");
        }
        Progress {
            bar,
            due,
            last_line: Instant::now(),
        }
    }

    /// The re-checks of watched articles: how many are due is not known before they are
    /// claimed, so a count rather than a bar.
    pub fn articles() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {pos} articles re-checked  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            due: 0,
            last_line: Instant::now(),
        }
    }

    pub fn update_articles(&mut self, s: &PassSummary) {
        let msg = format!(
            "{} not modified, {} new versions, {} alerts",
            s.rechecked_not_modified, s.new_versions, s.alerts
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(s.rechecked as u64);
                bar.set_message(msg);
            }
            None if self.last_line.elapsed() >= LOG_EVERY => {
                self.last_line = Instant::now();
                tracing::info!("re-checked {} articles: {msg}", s.rechecked);
            }
            None => {}
        }
    }

    pub fn update(&mut self, s: &PassSummary) {
        let msg = format!(
            "{} failed, {} not modified, {} new versions, {} alerts",
            s.failed, s.not_modified, s.new_versions, s.alerts
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(s.sources as u64);
                bar.set_message(msg);
            }
            None if self.last_line.elapsed() >= LOG_EVERY => {
                self.last_line = Instant::now();
                tracing::info!("polled {} of {} sources: {msg}", s.sources, self.due);
            }
            None => {}
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

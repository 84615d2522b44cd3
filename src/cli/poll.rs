//! `figwatch --poll` (or `figwatch poll`): one pass over what is due — the sources, then the
//! watched articles by their age schedule — or everything (`--all`), or one source or article
//! by URL; then what waits in the outbox is delivered.

use std::io::Write;
use std::sync::Arc;

use anyhow::bail;

use super::progress::Progress;
use figwatch::config::Config;
use figwatch::pipeline::{ArticlePass, PassSummary, Pipeline};

/// What a pass takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    /// The feeds and pages, not the articles' re-checks
    Sources,
    /// The watched articles' re-checks, not the sources
    Articles,
}

#[derive(clap::Args, Debug, Clone)]
pub struct PollArgs {
    /// Every source and every watched article, due or not
    #[arg(long, conflicts_with = "url")]
    pub all: bool,
    /// Only the sources (feeds and pages), or only the articles' re-checks
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// Check this one source, or this one stored article, now
    #[arg(value_name = "URL")]
    pub url: Option<String>,
}

/// `figwatch --poll`: a progress bar on a terminal or progress lines in a log, and a one-line
/// summary on stdout.
pub async fn poll(config: Config, args: PollArgs) -> anyhow::Result<()> {
    if config.sources.is_empty() {
        bail!(
            "{}: no [[feeds]] or [[pages]] configured; nothing to poll",
            config.path.display()
        );
    }
    let store = super::open_store(&config)?;
    // Sinks are registered before the pass, so that a sink added to the configuration gets
    // the alerts of this very run.
    let outbox = figwatch::delivery::Outbox::open(&config)?;
    let pipeline = Arc::new(Pipeline::new(config, store)?);
    if let Some(url) = &args.url {
        let summary = pipeline.check_now(url).await?;
        // Delivered whether or not anyone still reads the summary (`| head`).
        let printed = writeln!(super::stdout(), "{summary}");
        deliver(&pipeline.config, outbox).await;
        return Ok(printed?);
    }
    let mut summary = PassSummary::default();
    let started = figwatch::store::now();
    if args.only != Some(Only::Articles) {
        let sources = if args.all {
            figwatch::schedule::interleave_hosts(
                &pipeline,
                (0..pipeline.config.sources.len()).collect(),
            )
        } else {
            figwatch::schedule::due_sources(&pipeline)?
        };
        if !sources.is_empty() {
            let mut progress = Progress::new(sources.len(), pipeline.config.sources.len());
            summary.add(&pipeline.poll_sources(sources, |s| progress.update(s)).await);
            progress.finish();
        }
    }
    if args.only != Some(Only::Sources) {
        let which = if args.all {
            ArticlePass::All
        } else {
            ArticlePass::Due {
                slack: pipeline.recheck_slack(),
            }
        };
        let mut progress = Progress::articles();
        let (_stop, never) = tokio::sync::watch::channel(false);
        let checked = pipeline
            .recheck_articles(which, Some(started), never, |s| progress.update_articles(s))
            .await;
        progress.finish();
        summary.add(&checked);
    }
    pipeline.flush();
    let printed =
        if summary.sources + summary.rechecked + summary.retired + summary.busy + summary.unleased
            == 0
        {
            writeln!(super::stdout(), "{}", nothing_due(&pipeline)?)
        } else {
            writeln!(super::stdout(), "{summary}")
        };
    // Alerts left by an earlier run still go out, whether or not anyone reads the summary.
    deliver(&pipeline.config, outbox).await;
    printed?;
    if summary.unleased > 0 {
        bail!(
            "{} source(s) not polled: the store cannot be written (a full disk?); nothing was fetched",
            summary.unleased
        );
    }
    Ok(())
}

/// What a pass that found nothing due says: when the next source and article are due.
fn nothing_due(pipeline: &Pipeline) -> anyhow::Result<String> {
    let next_source = pipeline
        .store
        .source_states()?
        .values()
        .filter_map(|s| s.next_check_at)
        .min()
        .map_or("-".into(), figwatch::store::timestamp);
    let next_article = pipeline
        .store
        .next_article_due(None)?
        .unwrap_or_else(|| "-".into());
    Ok(format!(
        "nothing is due (of {} sources): the next source at {next_source}, the next article check at {next_article}; `figwatch --poll --all` checks everything now",
        pipeline.config.sources.len()
    ))
}

/// Delivers what waits in the outbox, within `delivery_timeout`, and says what is left.
async fn deliver(config: &Config, outbox: figwatch::delivery::Outbox) {
    if outbox.is_empty() {
        return;
    }
    for left in outbox.drain(config.alerts.delivery_timeout).await {
        if left.collecting {
            tracing::info!(
                sink = %left.sink,
                "{} alert(s) collected for the next digest",
                left.pending
            );
        } else {
            tracing::warn!(
                sink = %left.sink,
                "{} alert(s) not delivered yet (last error: {}); they stay in the outbox for the next run or the daemon",
                left.pending,
                left.last_error.as_deref().unwrap_or("none; not tried within the delivery timeout")
            );
        }
    }
}

//! Why a poll, or one article of it, failed: one variant per stage of the data's path, each
//! keeping its cause. The message is what the user reads in the log, in `status` and in a
//! `source_failing` alert; the cause stays reachable through [`std::error::Error::source`].

use crate::extract::ExtractError;
use crate::feed::FeedError;
use crate::fetch::FetchError;
use crate::store::StoreError;

/// What went wrong, by stage.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The request failed, was refused, or the server asked us to wait.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The body is no feed.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// The body is no sitemap.
    #[error(transparent)]
    Sitemap(#[from] crate::feed::sitemap::SitemapError),
    /// A followed link is no web page.
    #[error("{url}: not an HTML page (Content-Type {media_type}); only web pages are followed")]
    NotHtml {
        /// The URL concerned.
        url: String,
        /// What the server said it is.
        media_type: String,
    },
    /// A feed entry whose content was to be stored holds no text.
    #[error("{url}: the entry has no text")]
    /// A feed entry whose content was to be stored holds no text.
    EmptyEntry {
        /// The URL concerned.
        url: String,
    },
    /// The page holds no article text.
    #[error("{url}: {source}")]
    Extract {
        /// The page.
        url: String,
        /// Why it gave no article.
        #[source]
        source: ExtractError,
    },
    /// Chromium could not render the page (`render = "chromium"`).
    #[error("{url}: {source}")]
    Render {
        /// The page.
        url: String,
        /// What the browser said (boxed: it is the largest cause, and the rarest).
        #[source]
        source: Box<crate::render::RenderError>,
    },
    /// The store refused a read or a write (a full disk, a lost database).
    #[error("{url}: {source}")]
    Store {
        /// The feed, page or article being handled.
        url: String,
        /// What the store said.
        #[source]
        source: StoreError,
    },
    /// Parsing or reading figures panicked: a bug in figwatch or a parser, caught so that it
    /// costs this feed or page only, and said as what it is, not as a page without text.
    #[error("{url}: {stage} crashed (a bug in figwatch or its parser; nothing else is affected): {message}")]
    Panicked {
        /// The feed or page.
        url: String,
        /// What was running: "the feed parser", "reading the figures".
        stage: &'static str,
        /// What the panic said.
        message: String,
    },
}

impl PollError {
    /// A store error met while handling `url`.
    pub fn store(url: impl ToString) -> impl Fn(StoreError) -> PollError {
        let url = url.to_string();
        move |source| PollError::Store {
            url: url.clone(),
            source,
        }
    }

    /// The outcome of work handed to the blocking pool: a panic there is [`PollError::Panicked`].
    pub fn joined<T>(
        result: Result<T, tokio::task::JoinError>,
        url: impl ToString,
        stage: &'static str,
    ) -> Result<T, PollError> {
        result.map_err(|e| PollError::Panicked {
            url: url.to_string(),
            stage,
            message: if e.is_panic() {
                crate::extract::panic_message(e.into_panic().as_ref())
            } else {
                "stopped before it finished (the runtime is shutting down)".to_string()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_on_the_blocking_pool_is_said_as_a_crash_with_its_message() {
        let done = tokio::task::spawn_blocking(|| -> usize { panic!("index out of range") }).await;
        let e = PollError::joined(done, "https://news.example/a", "reading the figures")
            .expect_err("the task panicked");
        assert!(
            matches!(&e, PollError::Panicked { message, .. } if message == "index out of range")
        );
        let shown = e.to_string();
        assert!(
            shown.starts_with("https://news.example/a: reading the figures crashed"),
            "{shown}"
        );
        assert!(!shown.contains("no article text"), "{shown}");
    }

    #[test]
    fn a_stage_error_keeps_its_cause() {
        let e = PollError::Extract {
            url: "https://news.example/a".into(),
            source: ExtractError::Empty,
        };
        let cause = std::error::Error::source(&e).expect("the extractor's error is kept");
        assert_eq!(cause.to_string(), "no article text found in the page");
        assert_eq!(
            e.to_string(),
            "https://news.example/a: no article text found in the page"
        );
    }
}

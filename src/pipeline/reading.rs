//! Reading a fetched page: rendered in Chromium first when its source says so, then its
//! article extracted and its figures found, off the async runtime.

use std::sync::Arc;

use url::Url;

use super::{Pipeline, PollError};
use crate::extract::{self, Article};
use crate::fetch::Fetched;
use crate::figures::Figure;
use crate::store::StoredPage;

impl Pipeline {
    /// The page as Chromium renders it, in place of what the server sent: the DOM after its
    /// scripts ran. The fetch before it was conditional, so a page is rendered only when its
    /// bytes changed.
    pub(super) async fn render(&self, url: &Url, fetched: &Fetched) -> Result<Fetched, PollError> {
        let renderer = self
            .renderer
            .as_ref()
            .expect("a pipeline whose sources render has a renderer");
        let rendered = renderer
            .render(&fetched.url)
            .await
            .map_err(|source| PollError::Render {
                url: url.to_string(),
                source: Box::new(source),
            })?;
        Ok(Fetched {
            url: fetched.url.clone(),
            status: fetched.status,
            media_type: Some("text/html".into()),
            charset: Some("utf-8".into()),
            body: rendered.html.into_bytes(),
            validators: fetched.validators.clone(),
            fresh_for: fetched.fresh_for,
        })
    }

    /// The article of a fetched page, and the figures of its text: both computed on the
    /// blocking pool, in parallel with the other polls.
    pub(super) async fn extract_article(
        &self,
        url: &Url,
        fetched: Fetched,
    ) -> Result<(Article, Vec<Figure>, StoredPage), PollError> {
        if !fetched.is_html() {
            return Err(PollError::NotHtml {
                url: url.to_string(),
                media_type: fetched
                    .media_type
                    .as_deref()
                    .unwrap_or("missing")
                    .to_string(),
            });
        }
        let final_url = fetched.url.clone();
        let figures = Arc::clone(&self.figures);
        let done = tokio::task::spawn_blocking(move || {
            let article = extract::extract_bytes(
                &fetched.body,
                fetched.charset.as_deref(),
                Some(&final_url),
            )?;
            let found = figures.extract_lang(&article.text, article.lang.as_deref());
            let page = StoredPage {
                url: final_url.to_string(),
                charset: fetched.charset,
                body: fetched.body,
            };
            Ok::<_, extract::ExtractError>((article, found, page))
        })
        .await;
        PollError::joined(done, url, "reading the figures")?.map_err(|source| PollError::Extract {
            url: url.to_string(),
            source,
        })
    }
}

//! Whether a new text is a revision of the story. Two changes that are not: figwatch's own
//! extractor was upgraded since the last version was stored (the last page, kept compressed,
//! is read again by today's extractor and compared with the new text), and the site changed
//! its template (every paragraph that changed is one seen on several other articles of the
//! same site — a "most read" box, a newsletter call, a new footer line — and none of them
//! holds a figure of a tracked topic, so a live story's repeated fact box is still read).

use std::borrow::Cow;
use std::collections::HashSet;

use sha2::{Digest, Sha256};
use url::Url;

use super::links::site_of;
use super::Pipeline;
use crate::extract::{self, Article, EXTRACTOR_VERSION};
use crate::store::{self, StoredVersion};

/// A paragraph seen on this many other articles of a site is the site's template.
const TEMPLATE_MIN_ARTICLES: usize = 2;

/// At most this many paragraphs of one text are remembered for the site.
const MAX_REMEMBERED: usize = 300;

/// Why a new text is not a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotRevision {
    SameText,
    /// Today's extractor reads the previous page as the new text.
    ExtractorUpgrade,
    /// Only paragraphs of the site's template changed.
    Template,
}

impl NotRevision {
    pub(super) fn describe(self) -> &'static str {
        match self {
            NotRevision::SameText => "the same text",
            NotRevision::ExtractorUpgrade => {
                "the text differs only as figwatch's upgraded extractor reads the same page"
            }
            NotRevision::Template => {
                "only paragraphs of the site's template changed (each seen on other articles of the site, none with a tracked figure)"
            }
        }
    }
}

/// The hash a paragraph is remembered by: of its words, case and spacing aside.
pub(super) fn paragraph_hash(p: &str) -> String {
    let words: Vec<String> = p.split_whitespace().map(str::to_lowercase).collect();
    crate::feed::hex(&Sha256::digest(words.join(" ").as_bytes())[..12])
}

fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

impl Pipeline {
    /// Why `article`, just fetched, is no revision of `previous`; `None` when it is one.
    pub(super) fn not_revision(
        &self,
        article_id: i64,
        url: &Url,
        previous: &StoredVersion,
        article: &Article,
    ) -> store::Result<Option<NotRevision>> {
        if previous.content_hash == article.content_hash() {
            return Ok(Some(NotRevision::SameText));
        }
        let mut baseline = Cow::Borrowed(previous.article.text.as_str());
        if previous.extractor != Some(EXTRACTOR_VERSION) {
            if let Some(text) = self.reread_page(article_id)? {
                if extract::content_hash(&text) == article.content_hash() {
                    return Ok(Some(NotRevision::ExtractorUpgrade));
                }
                baseline = Cow::Owned(text);
            }
        }
        if self.only_template_changed(article_id, url, &baseline, article)? {
            return Ok(Some(NotRevision::Template));
        }
        Ok(None)
    }

    /// The article's last kept page as today's extractor reads it.
    fn reread_page(&self, article_id: i64) -> store::Result<Option<String>> {
        // A kept page that cannot be read back (a damaged row) only costs the comparison
        // with it: the new text is compared with the stored one, as before pages were kept.
        let page = match self.store.page(article_id) {
            Ok(Some(page)) => page,
            Ok(None) => return Ok(None),
            Err(e @ store::StoreError::Page { .. }) => {
                tracing::warn!("{e}; comparing with the stored text instead");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let url = Url::parse(&page.url).ok();
        Ok(
            extract::extract_bytes(&page.body, page.charset.as_deref(), url.as_ref())
                .ok()
                .map(|a| a.text),
        )
    }

    fn only_template_changed(
        &self,
        article_id: i64,
        url: &Url,
        baseline: &str,
        article: &Article,
    ) -> store::Result<bool> {
        let old: HashSet<&str> = paragraphs(baseline).collect();
        let new: HashSet<&str> = paragraphs(&article.text).collect();
        let changed: Vec<&str> = new.symmetric_difference(&old).copied().collect();
        // Paragraphs in a new order, or one repeated, are a change of the story's text.
        if changed.is_empty() {
            return Ok(false);
        }
        let hashes: Vec<String> = changed.iter().map(|p| paragraph_hash(p)).collect();
        let recurring = self.store.recurring_paragraphs(
            &site_of(url),
            article_id,
            &hashes,
            TEMPLATE_MIN_ARTICLES,
        )?;
        if recurring.len() < hashes.len() {
            return Ok(false);
        }
        let lang = article.lang.as_deref();
        Ok(changed
            .iter()
            .all(|p| self.figures.extract_lang(p, lang).is_empty()))
    }

    /// Remembers the paragraphs of a fetched text for its site. Done before the text is
    /// judged, so that articles checked at the same moment see each other's paragraphs.
    pub(super) fn remember_paragraphs(
        &self,
        article_id: i64,
        url: &Url,
        article: &Article,
    ) -> store::Result<()> {
        let hashes: Vec<String> = paragraphs(&article.text)
            .take(MAX_REMEMBERED)
            .map(paragraph_hash)
            .collect();
        self.store
            .record_paragraphs(&site_of(url), article_id, &hashes, &store::now())
    }
}

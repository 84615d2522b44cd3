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
use crate::store::{self, StoredPage, StoredVersion};

/// A paragraph seen on this many other articles of a site is the site's template.
const TEMPLATE_MIN_ARTICLES: usize = 2;

/// At most this many paragraphs of one text are remembered for the site.
const MAX_REMEMBERED: usize = 300;

/// Only paragraphs of at most this many words are remembered: a template's lines (a call
/// to subscribe, a "most read" entry, a disclaimer) are short, and a longer paragraph that
/// changed is always read as the story's, which keeps the memory to a few rows an article.
const TEMPLATE_MAX_WORDS: usize = 40;

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

/// The hash a paragraph of a site is remembered by: of the site and the paragraph's words,
/// case and spacing aside, in 64 bits.
pub(super) fn paragraph_hash(site: &str, p: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(site.as_bytes());
    h.update([0u8]);
    for (i, w) in p.split_whitespace().enumerate() {
        if i > 0 {
            h.update(b" ");
        }
        h.update(w.to_lowercase().as_bytes());
    }
    i64::from_be_bytes(h.finalize()[..8].try_into().expect("eight bytes"))
}

/// Short enough to be a template's line (see [`TEMPLATE_MAX_WORDS`]).
fn is_template_sized(p: &str) -> bool {
    p.split_whitespace().count() <= TEMPLATE_MAX_WORDS
}

fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

impl Pipeline {
    /// Why `article`, just fetched from `page`, is no revision of `previous`; `None` when it
    /// is one (or the first version). The fetch is remembered either way: its paragraphs for
    /// the site, and its page as the article's baseline from now on — in one transaction,
    /// after the previous page was read and before the site's paragraphs are counted, so that
    /// articles checked at the same moment see each other's.
    pub(super) fn not_revision(
        &self,
        article_id: i64,
        url: &Url,
        previous: Option<&StoredVersion>,
        article: &Article,
        page: Option<&StoredPage>,
    ) -> store::Result<Option<NotRevision>> {
        let hash = article.content_hash();
        let same = previous.is_some_and(|p| p.content_hash == hash);
        let reread = match previous {
            Some(p) if !same && p.extractor != Some(EXTRACTOR_VERSION) => {
                self.reread_page(article_id)?
            }
            _ => None,
        };
        self.remember(article_id, url, article, page)?;
        let Some(previous) = previous else {
            return Ok(None);
        };
        if same {
            return Ok(Some(NotRevision::SameText));
        }
        let baseline = match reread {
            Some(text) if extract::content_hash(&text) == hash => {
                return Ok(Some(NotRevision::ExtractorUpgrade));
            }
            Some(text) => Cow::Owned(text),
            None => Cow::Borrowed(previous.article.text.as_str()),
        };
        if self.only_template_changed(article_id, url, &baseline, article)? {
            return Ok(Some(NotRevision::Template));
        }
        Ok(None)
    }

    /// The article's last kept page as today's extractor reads it.
    fn reread_page(&self, article_id: i64) -> store::Result<Option<String>> {
        // A kept page that cannot be read back (a damaged row) only costs the comparison
        // with it: the new text is compared with the stored one, as before pages were kept.
        let page = match crate::store::off_runtime(|| self.store.page(article_id)) {
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
        // Paragraphs in a new order, or one repeated, are a change of the story's text; so is
        // a long paragraph, which is never remembered as a template's.
        if changed.is_empty() || !changed.iter().all(|p| is_template_sized(p)) {
            return Ok(false);
        }
        let site = site_of(url);
        let hashes: Vec<i64> = changed.iter().map(|p| paragraph_hash(&site, p)).collect();
        if !self
            .store
            .all_recurring(article_id, &hashes, TEMPLATE_MIN_ARTICLES)?
        {
            return Ok(false);
        }
        let lang = article.lang.as_deref();
        Ok(changed
            .iter()
            .all(|p| self.figures.extract_lang(p, lang).is_empty()))
    }

    /// Remembers a fetched text's short paragraphs for its site, and its page.
    fn remember(
        &self,
        article_id: i64,
        url: &Url,
        article: &Article,
        page: Option<&StoredPage>,
    ) -> store::Result<()> {
        let site = site_of(url);
        let hashes: Vec<i64> = paragraphs(&article.text)
            .filter(|p| is_template_sized(p))
            .take(MAX_REMEMBERED)
            .map(|p| paragraph_hash(&site, p))
            .collect();
        self.store
            .remember_fetch(article_id, &store::now(), &hashes, page)
    }
}

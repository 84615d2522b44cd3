//! What the store remembers beside the versions, to tell a revision from a change of
//! figwatch or of the site's template: the last page fetched of each article (compressed),
//! read again when the extractor was upgraded, and which of a site's articles each paragraph
//! was seen in.

use std::io::Write;

use base64::Engine;

use super::db::{params, Exec};
use super::{Result, Store, StoreError};

/// A fetched page as stored: enough to extract it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPage {
    /// The URL it was fetched from, after redirects.
    pub url: String,
    /// The charset its headers declared.
    pub charset: Option<String>,
    /// The body as fetched.
    pub body: Vec<u8>,
}

/// A page as stored: gzip, then base64 (text, which both backends and `migrate` carry as is).
fn compress(article_id: i64, body: &[u8]) -> Result<String> {
    // Compressing into memory fails only if memory does.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let compressed = gz.write_all(body).and_then(|()| gz.finish());
    let compressed = compressed.map_err(|e| StoreError::Page {
        article_id,
        reason: e.to_string(),
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(compressed))
}

/// A stored page is read back within this many bytes, as a fetched one is: a row written by
/// someone else cannot make figwatch inflate a bomb.
const MAX_PAGE_BYTES: u64 = 64 << 20;

impl Store {
    /// Records a fetch of the article in one transaction: the paragraphs `hashes` (of the
    /// site and the paragraph) as seen in it, and `page` as its last page fetched, replacing
    /// the one before.
    pub fn remember_fetch(
        &self,
        article_id: i64,
        at: &str,
        hashes: &[i64],
        page: Option<&StoredPage>,
    ) -> Result<()> {
        let body = page.map(|p| compress(article_id, &p.body)).transpose()?;
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for hash in hashes {
            tx.execute(
                "INSERT INTO site_paragraphs (hash, article_id, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (hash, article_id) DO UPDATE SET seen_at = excluded.seen_at",
                params![hash, article_id, at],
            )?;
        }
        if let (Some(page), Some(body)) = (page, body) {
            tx.execute(
                "INSERT INTO pages (article_id, fetched_at, url, charset, body)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (article_id) DO UPDATE SET fetched_at = excluded.fetched_at,
                     url = excluded.url, charset = excluded.charset, body = excluded.body",
                params![article_id, at, page.url, page.charset, body],
            )?;
        }
        tx.commit()
    }

    /// The last page fetched of the article, if one is kept.
    pub fn page(&self, article_id: i64) -> Result<Option<StoredPage>> {
        let row = self.conn()?.query_opt(
            "SELECT url, charset, body FROM pages WHERE article_id = $1",
            params![article_id],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<String>(2)?,
                ))
            },
        )?;
        let Some((url, charset, body)) = row else {
            return Ok(None);
        };
        let bad = |reason: String| StoreError::Page { article_id, reason };
        let gz = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|e| bad(format!("not base64: {e}")))?;
        let body = crate::extract::gunzip_within(&gz, MAX_PAGE_BYTES)
            .map_err(|e| bad(format!("not gzip: {e}")))?;
        if body.len() as u64 > MAX_PAGE_BYTES {
            return Err(bad(format!("larger than {MAX_PAGE_BYTES} bytes")));
        }
        Ok(Some(StoredPage { url, charset, body }))
    }

    /// True when every one of `hashes` was seen in at least `min_articles` articles other
    /// than `article_id` (asked one at a time, stopping at the first that was not).
    pub fn all_recurring(
        &self,
        article_id: i64,
        hashes: &[i64],
        min_articles: usize,
    ) -> Result<bool> {
        let conn = self.conn()?;
        for hash in hashes {
            let n: i64 = conn.query_row(
                "SELECT count(*) FROM site_paragraphs WHERE hash = $1 AND article_id <> $2",
                params![hash, article_id],
                |r| r.get(0),
            )?;
            if n < min_articles as i64 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_article() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("fw.db")).unwrap();
        let source = crate::config::SourceConfig {
            kind: crate::config::SourceKind::Feed,
            url: url::Url::parse("https://example.com/rss").unwrap(),
            interval: std::time::Duration::from_secs(60),
            min_interval: std::time::Duration::from_secs(60),
            max_interval: std::time::Duration::from_secs(240),
            recheck: Default::default(),
            max_age: crate::config::DEFAULT_MAX_AGE,
            links: Default::default(),
            render: false,
        };
        let sources = store.sync_sources(&[source]).unwrap().0;
        let (id, _) = store
            .article_for("https://example.com/a", sources[0], None, true)
            .unwrap();
        (dir, store, id)
    }

    #[test]
    fn a_page_is_kept_compressed_and_read_back_whole() {
        let (_dir, store, id) = store_with_article();
        assert_eq!(store.page(id).unwrap(), None);
        let page = StoredPage {
            url: "https://example.com/a".into(),
            charset: Some("iso-8859-1".into()),
            body: b"<html><body><p>caf\xe9</p></body></html>".repeat(100),
        };
        store
            .remember_fetch(id, "2026-01-01T00:00:00Z", &[], Some(&page))
            .unwrap();
        assert_eq!(store.page(id).unwrap().as_ref(), Some(&page));
        let stored: String = store
            .conn()
            .unwrap()
            .query_row("SELECT body FROM pages", params![], |r| r.get(0))
            .unwrap();
        assert!(
            stored.len() < page.body.len() / 4,
            "compressed: {}",
            stored.len()
        );
        // The next fetch replaces it.
        let next = StoredPage {
            body: b"<p>new</p>".to_vec(),
            ..page
        };
        store
            .remember_fetch(id, "2026-01-02T00:00:00Z", &[1, 2], Some(&next))
            .unwrap();
        assert_eq!(store.page(id).unwrap(), Some(next));
    }

    #[test]
    fn a_tampered_page_is_refused_with_its_article_named_not_inflated() {
        let (_dir, store, id) = store_with_article();
        // A bomb: far more than any fetched page may be, in a few kilobytes of gzip.
        let bomb = StoredPage {
            url: "https://example.com/a".into(),
            charset: None,
            body: vec![0u8; (MAX_PAGE_BYTES + 1024) as usize],
        };
        store
            .remember_fetch(id, "2026-01-01T00:00:00Z", &[], Some(&bomb))
            .unwrap();
        let err = store.page(id).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "stored page of article {id} is unreadable: larger than"
            )),
            "{err}"
        );
        store
            .conn()
            .unwrap()
            .execute("UPDATE pages SET body = 'SGVsbG8='", params![])
            .unwrap();
        let err = store.page(id).unwrap_err().to_string();
        assert!(err.contains("not gzip"), "{err}");
    }
}

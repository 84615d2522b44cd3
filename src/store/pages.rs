//! What the store remembers beside the versions, to tell a revision from a change of
//! figwatch or of the site's template: the last page fetched of each article (compressed),
//! read again when the extractor was upgraded, and which of a site's articles each paragraph
//! was seen in.

use std::collections::HashSet;
use std::io::{Read, Write};

use base64::Engine;

use super::db::{params, Exec};
use super::{Result, Store, StoreError};

/// A fetched page as stored: enough to extract it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPage {
    pub url: String,
    pub charset: Option<String>,
    /// The extractor that read it when it was fetched.
    pub extractor: i64,
    pub body: Vec<u8>,
}

/// A stored page is read back within this many bytes, as a fetched one is: a row written by
/// someone else cannot make figwatch inflate a bomb.
const MAX_PAGE_BYTES: u64 = 64 << 20;

impl Store {
    /// Keeps `page` as the last page fetched of the article, replacing the one before.
    pub fn put_page(&self, article_id: i64, at: &str, page: &StoredPage) -> Result<()> {
        // Compressing into memory fails only if memory does.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let compressed = gz.write_all(&page.body).and_then(|()| gz.finish());
        let compressed = compressed.map_err(|e| StoreError::Page {
            article_id,
            reason: e.to_string(),
        })?;
        let body = base64::engine::general_purpose::STANDARD.encode(compressed);
        self.conn().execute(
            "INSERT INTO pages (article_id, fetched_at, url, charset, extractor, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (article_id) DO UPDATE SET fetched_at = excluded.fetched_at,
                 url = excluded.url, charset = excluded.charset,
                 extractor = excluded.extractor, body = excluded.body",
            params![article_id, at, page.url, page.charset, page.extractor, body],
        )?;
        Ok(())
    }

    /// The last page fetched of the article, if one is kept.
    pub fn page(&self, article_id: i64) -> Result<Option<StoredPage>> {
        let row = self.conn().query_opt(
            "SELECT url, charset, extractor, body FROM pages WHERE article_id = ?1",
            params![article_id],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<String>(3)?,
                ))
            },
        )?;
        let Some((url, charset, extractor, body)) = row else {
            return Ok(None);
        };
        let bad = |reason: String| StoreError::Page { article_id, reason };
        let gz = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|e| bad(format!("not base64: {e}")))?;
        let mut body = Vec::new();
        flate2::read::MultiGzDecoder::new(gz.as_slice())
            .take(MAX_PAGE_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| bad(format!("not gzip: {e}")))?;
        if body.len() as u64 > MAX_PAGE_BYTES {
            return Err(bad(format!("larger than {MAX_PAGE_BYTES} bytes")));
        }
        Ok(Some(StoredPage {
            url,
            charset,
            extractor,
            body,
        }))
    }

    /// Records that the paragraphs `hashes` were seen in the article, a page of `site`.
    pub fn record_paragraphs(
        &self,
        site: &str,
        article_id: i64,
        hashes: &[String],
        at: &str,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for hash in hashes {
            tx.execute(
                "INSERT INTO site_paragraphs (site, hash, article_id, seen_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (site, hash, article_id) DO UPDATE SET seen_at = excluded.seen_at",
                params![site, hash, article_id, at],
            )?;
        }
        tx.commit()
    }

    /// Of `hashes`, those seen in at least `min_articles` articles of `site` other than
    /// `article_id`.
    pub fn recurring_paragraphs(
        &self,
        site: &str,
        article_id: i64,
        hashes: &[String],
        min_articles: usize,
    ) -> Result<HashSet<String>> {
        let conn = self.conn();
        let mut out = HashSet::new();
        for hash in hashes {
            let n: i64 = conn.query_row(
                "SELECT count(*) FROM site_paragraphs WHERE site = ?1 AND hash = ?2 AND article_id <> ?3",
                params![site, hash, article_id],
                |r| r.get(0),
            )?;
            if n >= min_articles as i64 {
                out.insert(hash.clone());
            }
        }
        Ok(out)
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
            extractor: 7,
            body: b"<html><body><p>caf\xe9</p></body></html>".repeat(100),
        };
        store.put_page(id, "2026-01-01T00:00:00Z", &page).unwrap();
        assert_eq!(store.page(id).unwrap().as_ref(), Some(&page));
        let stored: String = store
            .conn()
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
        store.put_page(id, "2026-01-02T00:00:00Z", &next).unwrap();
        assert_eq!(store.page(id).unwrap(), Some(next));
    }

    #[test]
    fn a_tampered_page_is_refused_with_its_article_named_not_inflated() {
        let (_dir, store, id) = store_with_article();
        // A bomb: far more than any fetched page may be, in a few kilobytes of gzip.
        let bomb = StoredPage {
            url: "https://example.com/a".into(),
            charset: None,
            extractor: 1,
            body: vec![0u8; (MAX_PAGE_BYTES + 1024) as usize],
        };
        store.put_page(id, "2026-01-01T00:00:00Z", &bomb).unwrap();
        let err = store.page(id).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "stored page of article {id} is unreadable: larger than"
            )),
            "{err}"
        );
        store
            .conn()
            .execute("UPDATE pages SET body = 'SGVsbG8='", params![])
            .unwrap();
        let err = store.page(id).unwrap_err().to_string();
        assert!(err.contains("not gzip"), "{err}");
    }
}

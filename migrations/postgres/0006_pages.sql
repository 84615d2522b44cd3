-- As migrations/0010_pages.sql for SQLite.
-- The extractor that wrote each version's text (`extract::EXTRACTOR_VERSION`; NULL for
-- versions stored before it was recorded). A version written by an older extractor is
-- compared with the new fetch through its page read again by today's extractor.
ALTER TABLE versions ADD COLUMN extractor BIGINT;

-- The last page fetched of each article (gzip, then base64), as long as the article is
-- checked: the baseline a new fetch is compared with after an extractor upgrade.
CREATE TABLE pages (
    article_id BIGINT PRIMARY KEY REFERENCES articles(id),
    fetched_at TEXT NOT NULL,
    url        TEXT NOT NULL,
    charset    TEXT,
    body       TEXT NOT NULL
);

-- Which articles of a site each paragraph was seen in, by a hash of the site and the
-- paragraph's words (64 bits): a paragraph on several of a site's articles is the site's
-- template, and a change in it alone is no revision. Only short paragraphs are recorded.
CREATE TABLE site_paragraphs (
    hash       BIGINT NOT NULL,
    article_id BIGINT NOT NULL REFERENCES articles(id),
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (hash, article_id)
);

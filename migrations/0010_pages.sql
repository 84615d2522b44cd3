-- The extractor that wrote each version's text (`extract::EXTRACTOR_VERSION`; NULL for
-- versions stored before it was recorded). A version written by an older extractor is
-- compared with the new fetch through its page read again by today's extractor.
ALTER TABLE versions ADD COLUMN extractor INTEGER;

-- The last page fetched of each article (gzip, then base64), as long as the article is
-- checked: the baseline a new fetch is compared with after an extractor upgrade.
CREATE TABLE pages (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id),
    fetched_at TEXT NOT NULL,
    url        TEXT NOT NULL,
    charset    TEXT,
    extractor  INTEGER NOT NULL,
    body       TEXT NOT NULL
);

-- Which articles of a site each paragraph was seen in (by hash of its normalised text): a
-- paragraph on many of a site's articles is the site's template, and a change in it alone
-- is no revision.
CREATE TABLE site_paragraphs (
    site       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (site, hash, article_id)
);
CREATE INDEX site_paragraphs_seen ON site_paragraphs(seen_at);

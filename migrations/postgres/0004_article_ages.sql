-- As migrations/0008_article_ages.sql for SQLite. Articles are checked again by age, not by the feed that lists them: each has an age clock
-- (`age_from`: first seen, or the last change of its text), a next check by the schedule of
-- its source's `recheck` tiers, and `retired_at` once it is past the last tier. A lease
-- (`lease_owner`, `lease_until`) holds an article while a process checks it. A NULL `next_check_at` without `retired_at`
-- is an article checked with its source: a page, or a feed entry without a link.
ALTER TABLE articles ADD COLUMN age_from TEXT;
ALTER TABLE articles ADD COLUMN retired_at TEXT;
ALTER TABLE articles ADD COLUMN lease_until TEXT;
ALTER TABLE articles ADD COLUMN lease_owner TEXT;
-- The schedule a source was last configured with: when it changes, next checks later than the
-- new one allows are pulled in.
ALTER TABLE sources ADD COLUMN schedule_key TEXT;

UPDATE articles SET age_from = coalesce(
    (SELECT max(v.fetched_at) FROM versions v WHERE v.article_id = articles.id AND v.flag IS NULL),
    first_seen_at);
-- An article never scheduled is due now; pages and entries without a link go with their source.
UPDATE articles SET next_check_at = first_seen_at WHERE next_check_at IS NULL;
UPDATE articles SET next_check_at = NULL
 WHERE url LIKE '%#entry-%'
    OR url IN (SELECT url FROM sources WHERE kind = 'page')
    OR id IN (SELECT x.article_id FROM article_aliases x
               JOIN sources s ON s.url = x.url WHERE s.kind = 'page');

CREATE INDEX articles_due ON articles(next_check_at);
-- Few articles are leased at a time: the leases of a process that died are found at once.
CREATE INDEX articles_leased ON articles(lease_owner) WHERE lease_owner IS NOT NULL;

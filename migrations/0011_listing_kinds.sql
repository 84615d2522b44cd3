-- Sources may be sitemaps and section fronts too. SQLite cannot change a CHECK constraint in
-- place: the table is rebuilt, its rows copied as they are (ids kept, so every reference
-- to a source still holds; foreign keys are off while migrations run and checked after).

CREATE TABLE sources_new (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL CHECK (kind IN ('feed', 'page', 'sitemap', 'section')),
    added_at             TEXT NOT NULL,
    last_polled_at       TEXT,
    last_ok_at           TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_check_at        TEXT,
    etag                 TEXT,
    last_modified        TEXT,
    interval_secs        REAL,
    last_change_at       TEXT,
    change_gap_secs      REAL,
    failing_since        TEXT,
    last_http_status     INTEGER,
    articles_due_at      TEXT,
    lease_owner          TEXT,
    lease_until          TEXT,
    schedule_key         TEXT
);

INSERT INTO sources_new (id, url, kind, added_at, last_polled_at, last_ok_at, last_error,
                         consecutive_failures, next_check_at, etag, last_modified,
                         interval_secs, last_change_at, change_gap_secs, failing_since,
                         last_http_status, articles_due_at, lease_owner, lease_until,
                         schedule_key)
SELECT id, url, kind, added_at, last_polled_at, last_ok_at, last_error,
       consecutive_failures, next_check_at, etag, last_modified,
       interval_secs, last_change_at, change_gap_secs, failing_since,
       last_http_status, articles_due_at, lease_owner, lease_until,
       schedule_key
FROM sources;

DROP TABLE sources;
ALTER TABLE sources_new RENAME TO sources;
CREATE INDEX sources_due ON sources(next_check_at);

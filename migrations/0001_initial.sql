-- figwatch schema, version 1.
-- Times are RFC 3339 text in UTC, so they sort and compare as strings.

CREATE TABLE sources (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL CHECK (kind IN ('feed', 'page')),
    added_at             TEXT NOT NULL,
    last_polled_at       TEXT,
    last_ok_at           TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_check_at        TEXT
);

CREATE TABLE articles (
    id             INTEGER PRIMARY KEY,
    url            TEXT NOT NULL UNIQUE,
    source_id      INTEGER REFERENCES sources(id),
    entry_id       TEXT,
    first_seen_at  TEXT NOT NULL,
    last_checked_at TEXT,
    last_error     TEXT,
    last_error_at  TEXT
);

CREATE TABLE versions (
    id           INTEGER PRIMARY KEY,
    article_id   INTEGER NOT NULL REFERENCES articles(id),
    number       INTEGER NOT NULL,
    fetched_at   TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    title        TEXT,
    byline       TEXT,
    published    TEXT,
    lang         TEXT,
    text         TEXT NOT NULL,
    UNIQUE (article_id, number)
);

-- Figures found in each version, kept for the ledger and for later comparison.
CREATE TABLE figures (
    id         INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id),
    topic      TEXT NOT NULL,
    measure    TEXT NOT NULL,
    payload    TEXT NOT NULL  -- the whole figure as JSON
);
CREATE INDEX figures_version ON figures(version_id);
CREATE INDEX figures_topic ON figures(topic, measure);

-- Alerts, written in the same transaction as the version that raised them.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    alert_id   TEXT NOT NULL UNIQUE,  -- stable id carried in every payload
    ts         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    topic      TEXT NOT NULL,
    measure    TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    version_id INTEGER NOT NULL REFERENCES versions(id),
    payload    TEXT NOT NULL          -- the alert as JSON, exactly as logged
);
CREATE INDEX alerts_ts ON alerts(ts);
CREATE INDEX alerts_topic ON alerts(topic, ts);
CREATE INDEX alerts_version ON alerts(version_id);

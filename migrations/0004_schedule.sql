-- Scheduling and politeness state, kept in the database so that `figwatch run` and one-shot
-- `figwatch --poll` runs share it.

-- Per source: the validators for a conditional GET, the current (adaptive) interval, and
-- how often the source really changes.
ALTER TABLE sources ADD COLUMN etag TEXT;
ALTER TABLE sources ADD COLUMN last_modified TEXT;
ALTER TABLE sources ADD COLUMN interval_secs REAL;        -- the interval last scheduled with
ALTER TABLE sources ADD COLUMN last_change_at TEXT;       -- the last poll that found something new
ALTER TABLE sources ADD COLUMN change_gap_secs REAL;      -- average time between changes
ALTER TABLE sources ADD COLUMN failing_since TEXT;        -- set while a source_failing alert stands
ALTER TABLE sources ADD COLUMN last_http_status INTEGER;  -- 200, 304, 429…: what the last poll got
ALTER TABLE sources ADD COLUMN articles_due_at TEXT;      -- the soonest next check of its listed articles
CREATE INDEX sources_due ON sources(next_check_at);

-- Per article: validators, a hash of the raw body (a page served again byte for byte is not
-- extracted again), and when it is due to be checked again.
ALTER TABLE articles ADD COLUMN etag TEXT;
ALTER TABLE articles ADD COLUMN last_modified TEXT;
ALTER TABLE articles ADD COLUMN body_hash TEXT;
ALTER TABLE articles ADD COLUMN next_check_at TEXT;

-- Other addresses of an article: the link a feed gave when the page names another canonical
-- URL, so that both lead to one article.
CREATE TABLE article_aliases (
    url        TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id)
);

-- What each feed listed when it was last parsed: when the feed answers 304, these are the
-- articles still watched through it. `link` is the address to fetch.
CREATE TABLE listings (
    source_id  INTEGER NOT NULL REFERENCES sources(id),
    article_id INTEGER NOT NULL REFERENCES articles(id),
    link       TEXT NOT NULL,
    PRIMARY KEY (source_id, article_id)
);

-- Hosts that asked us to wait (429 or 503 with Retry-After).
CREATE TABLE hosts (
    host         TEXT PRIMARY KEY,
    paused_until TEXT NOT NULL,
    reason       TEXT
);

-- Alerts about a source (source_failing, source_recovered) have no article, version, topic
-- or measure: those columns become optional, and a source column is added.
CREATE TABLE alerts_v2 (
    id         INTEGER PRIMARY KEY,
    alert_id   TEXT NOT NULL UNIQUE,
    ts         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    topic      TEXT,
    measure    TEXT,
    article_id INTEGER REFERENCES articles(id),
    version_id INTEGER REFERENCES versions(id),
    source_id  INTEGER REFERENCES sources(id),
    payload    TEXT NOT NULL
);
INSERT INTO alerts_v2 (id, alert_id, ts, kind, topic, measure, article_id, version_id, payload)
    SELECT id, alert_id, ts, kind, topic, measure, article_id, version_id, payload FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_v2 RENAME TO alerts;
CREATE INDEX alerts_ts ON alerts(ts);
CREATE INDEX alerts_topic ON alerts(topic, ts);
CREATE INDEX alerts_version ON alerts(version_id);

-- `figwatch status` counts articles per source.
CREATE INDEX articles_source ON articles(source_id);

-- The ledger is looked up by value and by newest report, per (topic, measure, unit): indexed,
-- so a measure reported at thousands of values costs no more than one reported at three.
CREATE INDEX ledger_value ON ledger(topic, measure, unit, value);
CREATE INDEX ledger_newest ON ledger(topic, measure, unit, first_seen_at);

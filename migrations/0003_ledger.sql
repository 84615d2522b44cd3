-- The figure ledger: one row per value a (topic, measure) was reported at, across outlets, so
-- that the same figure from a second outlet adds a source instead of a second alert.
CREATE TABLE ledger (
    id            INTEGER PRIMARY KEY,
    topic         TEXT NOT NULL,
    measure       TEXT NOT NULL,
    unit          TEXT NOT NULL DEFAULT '',   -- '' for counts, 'percent', 'acres', …
    value         TEXT NOT NULL,              -- the value as JSON: 4000, {"lo":…,"hi":…}, {"vague":…}
    qualifier     TEXT NOT NULL,
    claimant      TEXT,
    quote         TEXT NOT NULL,              -- the sentence of its first report
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    alert_id      TEXT                        -- the alert its first report raised, if any
);
CREATE INDEX ledger_key ON ledger(topic, measure, unit, last_seen_at);

-- Every article that reported a ledger value, the first version that did.
CREATE TABLE ledger_sources (
    ledger_id  INTEGER NOT NULL REFERENCES ledger(id),
    article_id INTEGER NOT NULL REFERENCES articles(id),
    version_id INTEGER NOT NULL REFERENCES versions(id),
    url        TEXT NOT NULL,
    site       TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (ledger_id, article_id)
);

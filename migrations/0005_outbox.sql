-- The outbox. An alert row is written in the transaction of the version (or poll) that raised
-- it; delivery to each configured sink is tracked here, so an alert decided but not yet
-- delivered survives a crash, a restart or a receiver that is down.

-- One row per configured sink: `cursor` is the highest alerts.id already queued for it. A sink
-- seen for the first time starts at the newest alert, so adding a sink does not replay history.
CREATE TABLE sinks (
    sink     TEXT PRIMARY KEY,
    cursor   INTEGER NOT NULL,
    added_at TEXT NOT NULL
);

-- One row per (sink, alert) that passed the sink's filters. `lease_until` is set while a
-- process is delivering it, so two processes do not deliver the same alert at once.
CREATE TABLE deliveries (
    sink            TEXT NOT NULL REFERENCES sinks(sink) ON DELETE CASCADE,
    alert           INTEGER NOT NULL REFERENCES alerts(id),
    queued_at       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_error      TEXT,
    delivered_at    TEXT,
    PRIMARY KEY (sink, alert)
) WITHOUT ROWID;

CREATE INDEX deliveries_pending ON deliveries(sink, next_attempt_at) WHERE delivered_at IS NULL;

-- Several workers sharing one store: as migrations/0007_workers.sql for SQLite.
-- Each `figwatch run` says it is alive, so `figwatch status` lists idle workers too.
CREATE TABLE workers (
    name       TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);
-- Politeness across workers: when the next request to a host may start, and who holds its
-- request slots (until when: a worker that dies gives its slots back when they run out).
ALTER TABLE hosts ADD COLUMN next_start_at TEXT;
CREATE TABLE host_slots (
    host   TEXT NOT NULL,
    slot   BIGINT NOT NULL,
    holder TEXT,
    until  TEXT,
    PRIMARY KEY (host, slot)
);

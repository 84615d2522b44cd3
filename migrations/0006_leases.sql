-- A source being polled is leased to one process (`figwatch run`, `figwatch --poll`), so two
-- of them never poll it at the same moment. The lease runs out by itself if its holder dies.
ALTER TABLE sources ADD COLUMN lease_owner TEXT;
ALTER TABLE sources ADD COLUMN lease_until TEXT;

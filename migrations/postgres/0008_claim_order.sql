-- Workers claim due sources soonest first, never-polled ones (no next check) before all:
-- `ORDER BY next_check_at NULLS FIRST, id LIMIT n FOR UPDATE SKIP LOCKED`. With an index in
-- that order the claim reads the first few rows of it instead of sorting the whole table at
-- every claim (10,000 sources: milliseconds each, hundreds of claims a round).
CREATE INDEX sources_claim ON sources (next_check_at NULLS FIRST, id);

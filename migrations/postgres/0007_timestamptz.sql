-- Times as PostgreSQL's own type. Until now they were the store's RFC 3339 text (as in
-- SQLite), which sorted and compared as text but let a malformed time in unnoticed and kept
-- the planner from any arithmetic. Every time column becomes `timestamptz`; a host never paused
-- (the empty text) has no pause (NULL). What figwatch reads back is written out in the same
-- RFC 3339 form (milliseconds, UTC) as before, so nothing above the store changes.
ALTER TABLE hosts ALTER COLUMN paused_until DROP NOT NULL;

ALTER TABLE alerts
    ALTER COLUMN ts TYPE timestamptz USING CAST(NULLIF(ts, '') AS timestamptz);

ALTER TABLE articles
    ALTER COLUMN first_seen_at TYPE timestamptz USING CAST(NULLIF(first_seen_at, '') AS timestamptz),
    ALTER COLUMN last_checked_at TYPE timestamptz USING CAST(NULLIF(last_checked_at, '') AS timestamptz),
    ALTER COLUMN last_error_at TYPE timestamptz USING CAST(NULLIF(last_error_at, '') AS timestamptz),
    ALTER COLUMN lease_until TYPE timestamptz USING CAST(NULLIF(lease_until, '') AS timestamptz),
    ALTER COLUMN next_check_at TYPE timestamptz USING CAST(NULLIF(next_check_at, '') AS timestamptz),
    ALTER COLUMN retired_at TYPE timestamptz USING CAST(NULLIF(retired_at, '') AS timestamptz),
    ALTER COLUMN age_from TYPE timestamptz USING CAST(NULLIF(age_from, '') AS timestamptz);

ALTER TABLE deliveries
    ALTER COLUMN delivered_at TYPE timestamptz USING CAST(NULLIF(delivered_at, '') AS timestamptz),
    ALTER COLUMN lease_until TYPE timestamptz USING CAST(NULLIF(lease_until, '') AS timestamptz),
    ALTER COLUMN next_attempt_at TYPE timestamptz USING CAST(NULLIF(next_attempt_at, '') AS timestamptz),
    ALTER COLUMN queued_at TYPE timestamptz USING CAST(NULLIF(queued_at, '') AS timestamptz);

ALTER TABLE host_slots
    ALTER COLUMN until TYPE timestamptz USING CAST(NULLIF(until, '') AS timestamptz);

ALTER TABLE hosts
    ALTER COLUMN next_start_at TYPE timestamptz USING CAST(NULLIF(next_start_at, '') AS timestamptz),
    ALTER COLUMN paused_until TYPE timestamptz USING CAST(NULLIF(paused_until, '') AS timestamptz);

ALTER TABLE ledger
    ALTER COLUMN first_seen_at TYPE timestamptz USING CAST(NULLIF(first_seen_at, '') AS timestamptz),
    ALTER COLUMN last_seen_at TYPE timestamptz USING CAST(NULLIF(last_seen_at, '') AS timestamptz);

ALTER TABLE ledger_sources
    ALTER COLUMN seen_at TYPE timestamptz USING CAST(NULLIF(seen_at, '') AS timestamptz);

ALTER TABLE pages
    ALTER COLUMN fetched_at TYPE timestamptz USING CAST(NULLIF(fetched_at, '') AS timestamptz);

ALTER TABLE sinks
    ALTER COLUMN added_at TYPE timestamptz USING CAST(NULLIF(added_at, '') AS timestamptz);

ALTER TABLE site_paragraphs
    ALTER COLUMN seen_at TYPE timestamptz USING CAST(NULLIF(seen_at, '') AS timestamptz);

ALTER TABLE sources
    ALTER COLUMN added_at TYPE timestamptz USING CAST(NULLIF(added_at, '') AS timestamptz),
    ALTER COLUMN articles_due_at TYPE timestamptz USING CAST(NULLIF(articles_due_at, '') AS timestamptz),
    ALTER COLUMN failing_since TYPE timestamptz USING CAST(NULLIF(failing_since, '') AS timestamptz),
    ALTER COLUMN last_change_at TYPE timestamptz USING CAST(NULLIF(last_change_at, '') AS timestamptz),
    ALTER COLUMN last_ok_at TYPE timestamptz USING CAST(NULLIF(last_ok_at, '') AS timestamptz),
    ALTER COLUMN last_polled_at TYPE timestamptz USING CAST(NULLIF(last_polled_at, '') AS timestamptz),
    ALTER COLUMN lease_until TYPE timestamptz USING CAST(NULLIF(lease_until, '') AS timestamptz),
    ALTER COLUMN next_check_at TYPE timestamptz USING CAST(NULLIF(next_check_at, '') AS timestamptz);

ALTER TABLE versions
    ALTER COLUMN fetched_at TYPE timestamptz USING CAST(NULLIF(fetched_at, '') AS timestamptz);

ALTER TABLE workers
    ALTER COLUMN seen_at TYPE timestamptz USING CAST(NULLIF(seen_at, '') AS timestamptz),
    ALTER COLUMN started_at TYPE timestamptz USING CAST(NULLIF(started_at, '') AS timestamptz);


-- The host's turn, as in 0003, on times.
DROP FUNCTION figwatch_reserve_host(TEXT, TEXT, BIGINT, BIGINT, TEXT, TEXT);
CREATE FUNCTION figwatch_reserve_host(
    p_host TEXT, p_holder TEXT, p_slots BIGINT, p_delay_ms BIGINT, p_now TIMESTAMPTZ,
    p_hold_until TIMESTAMPTZ)
RETURNS TABLE (turn TEXT, turn_slot BIGINT, turn_at TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
DECLARE
    v_paused TIMESTAMPTZ;
    v_next   TIMESTAMPTZ;
    v_slot   BIGINT;
    v_start  TIMESTAMPTZ;
BEGIN
    INSERT INTO hosts (host) VALUES (p_host) ON CONFLICT (host) DO NOTHING;
    -- The host's row stays locked until the statement's commit: reservations take turns.
    SELECT h.paused_until, h.next_start_at INTO v_paused, v_next
      FROM hosts h WHERE h.host = p_host FOR UPDATE;
    IF v_paused > p_now THEN
        RETURN QUERY SELECT 'paused'::TEXT, NULL::BIGINT, v_paused;
        RETURN;
    END IF;
    SELECT s INTO v_slot FROM generate_series(0::BIGINT, greatest(p_slots, 1) - 1) AS s
     WHERE NOT EXISTS (SELECT 1 FROM host_slots hs
                        WHERE hs.host = p_host AND hs.slot = s
                          AND hs.holder IS NOT NULL AND hs.until > p_now)
     ORDER BY s LIMIT 1;
    IF v_slot IS NULL THEN
        RETURN QUERY SELECT 'busy'::TEXT, NULL::BIGINT, NULL::TIMESTAMPTZ;
        RETURN;
    END IF;
    INSERT INTO host_slots AS hs (host, slot, holder, until)
    VALUES (p_host, v_slot, p_holder, p_hold_until)
    ON CONFLICT (host, slot) DO UPDATE SET holder = excluded.holder, until = excluded.until;
    v_start := CASE WHEN v_next > p_now THEN v_next ELSE p_now END;
    UPDATE hosts SET next_start_at = v_start + p_delay_ms * INTERVAL '1 millisecond'
     WHERE host = p_host;
    RETURN QUERY SELECT 'go'::TEXT, v_slot, v_start;
END
$$;

-- A host's turn in one round trip. Every request of workers sharing PostgreSQL asks for one, and
-- as a transaction of five statements it cost seven round trips while holding the host's row.
-- Same rules as Store::reserve_host on SQLite: a paused host answers its pause; a host whose
-- every slot is held answers busy; otherwise the lowest free slot is taken until p_hold_until,
-- and the start time is the later of now and the host's next start, which moves p_delay_ms on.
-- Timestamps are the store's text form (RFC 3339, milliseconds, UTC), which sorts as text.
CREATE FUNCTION figwatch_reserve_host(
    p_host TEXT, p_holder TEXT, p_slots BIGINT, p_delay_ms BIGINT, p_now TEXT, p_hold_until TEXT)
RETURNS TABLE (turn TEXT, turn_slot BIGINT, turn_at TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_paused TEXT;
    v_next   TEXT;
    v_slot   BIGINT;
    v_start  TEXT;
BEGIN
    INSERT INTO hosts (host, paused_until) VALUES (p_host, '') ON CONFLICT (host) DO NOTHING;
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
        RETURN QUERY SELECT 'busy'::TEXT, NULL::BIGINT, NULL::TEXT;
        RETURN;
    END IF;
    INSERT INTO host_slots AS hs (host, slot, holder, until)
    VALUES (p_host, v_slot, p_holder, p_hold_until)
    ON CONFLICT (host, slot) DO UPDATE SET holder = excluded.holder, until = excluded.until;
    v_start := CASE WHEN v_next > p_now THEN v_next ELSE p_now END;
    UPDATE hosts SET next_start_at = to_char(
        (CAST(v_start AS TIMESTAMPTZ) + p_delay_ms * INTERVAL '1 millisecond') AT TIME ZONE 'UTC',
        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
     WHERE host = p_host;
    RETURN QUERY SELECT 'go'::TEXT, v_slot, v_start;
END
$$;

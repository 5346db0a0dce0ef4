-- A tick batch inserts some ticks and removes others in one statement, so both of the
-- ticks' statement triggers ran the kept figures' chain of writes, each with its own
-- update of the same enrolments' rows: at 100,000 enrolments the two runs were two
-- thirds of the tick statement's time (pg_stat_statements over a bench run, 1.64 runs
-- a batch). The tick statement (`db::ticks::change_logged_many`) now keeps the figures
-- of both in one pass of its own, and sets `attest.ticks_kept` to 'INSERT DELETE' for
-- the transaction; each trigger that finds its operation there takes it out and leaves
-- the figures to the statement. The setting is transaction-local and each trigger takes
-- its word out, so a later write in the same transaction is kept by the triggers as
-- before, as is every other writer of ticks.
--
-- The function of migration 0049, with that check first.
CREATE OR REPLACE FUNCTION ticks_touch_enrolments() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sign constant integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
    one record;
    state_before text;
    state_after text;
    achieved integer := 0;
    assessed integer := 0;
    changed_rows bigint;
BEGIN
    -- The tick statement keeps the figures of its own inserts and removals in one pass
    -- and asks each of its two statement triggers, once, to leave them.
    IF position(TG_OP IN COALESCE(current_setting('attest.ticks_kept', true), '')) > 0 THEN
        PERFORM set_config('attest.ticks_kept',
                           replace(current_setting('attest.ticks_kept', true), TG_OP, ''), true);
        RETURN NULL;
    END IF;
    -- Statement triggers fire for statements that changed no row: a write that only adds
    -- ticks fires the removal trigger too (a tick's statement can do either).
    changed_rows := (SELECT count(*) FROM changed);
    IF changed_rows = 0 THEN
        RETURN NULL;
    END IF;
    -- The path for one tick works in SQL statements only (their plans are kept): each
    -- PL/pgSQL expression is prepared again in every transaction, and a tick is one.
    IF changed_rows = 1 THEN
        SELECT enrolment_id, criterion_id,
               CASE WHEN layer = 'learner' THEN sign ELSE 0 END AS learner,
               CASE WHEN layer = 'trainee_assessor' THEN sign ELSE 0 END AS trainee,
               CASE WHEN layer = 'assessor' THEN sign ELSE 0 END AS assessor
        INTO one FROM changed;
        INSERT INTO criterion_marks AS m (enrolment_id, criterion_id, learner, trainee, assessor)
        VALUES (one.enrolment_id, one.criterion_id, one.learner, one.trainee, one.assessor)
        ON CONFLICT (enrolment_id, criterion_id) DO UPDATE
        SET learner = m.learner + excluded.learner, trainee = m.trainee + excluded.trainee,
            assessor = m.assessor + excluded.assessor
        RETURNING criterion_state(m.learner - one.learner, m.trainee - one.trainee, m.assessor - one.assessor),
                  criterion_state(m.learner, m.trainee, m.assessor)
        INTO state_before, state_after;
        IF (state_before = 'confirmed') <> (state_after = 'confirmed') THEN
            INSERT INTO enrolment_units AS eu (enrolment_id, unit_id, confirmed)
            SELECT one.enrolment_id, c.unit_id, CASE WHEN state_after = 'confirmed' THEN 1 ELSE -1 END
            FROM criteria c WHERE c.id = one.criterion_id
            ON CONFLICT (enrolment_id, unit_id) DO UPDATE SET confirmed = eu.confirmed + excluded.confirmed
            RETURNING (SELECT (eu.confirmed = u.criteria_count)::integer
                              - (eu.confirmed - CASE WHEN state_after = 'confirmed' THEN 1 ELSE -1 END
                                 = u.criteria_count)::integer
                       FROM units u WHERE u.id = eu.unit_id),
                      (eu.confirmed > 0)::integer
                      - (eu.confirmed - CASE WHEN state_after = 'confirmed' THEN 1 ELSE -1 END > 0)::integer
            INTO achieved, assessed;
        END IF;
        -- A confirmation that moved asks for the automatic audit (SPEC §4); a mark
        -- already there keeps its time.
        WITH updated AS (
            UPDATE enrolments e
            SET last_activity_at = clock_timestamp(),
                confirmed_criteria = e.confirmed_criteria
                    + (state_after = 'confirmed')::integer - (state_before = 'confirmed')::integer,
                awaiting_countersignature = e.awaiting_countersignature
                    + (state_after = 'countersign')::integer - (state_before = 'countersign')::integer,
                claims_to_review = e.claims_to_review
                    + (state_after = 'claimed')::integer - (state_before = 'claimed')::integer,
                units_achieved = e.units_achieved + achieved,
                units_assessed = e.units_assessed + assessed
            WHERE e.id = one.enrolment_id
            RETURNING e.id, e.centre_id)
        INSERT INTO audit_marks (enrolment_id, due_at)
        SELECT u.id, clock_timestamp() FROM updated u JOIN centres c ON c.id = u.centre_id
        WHERE (state_before = 'confirmed') <> (state_after = 'confirmed') AND c.auto_audit
        ON CONFLICT (enrolment_id) DO NOTHING;
        RETURN NULL;
    END IF;

    -- Keys in order, so that two statements lock the rows they share in the same order.
    WITH deltas AS (
        SELECT enrolment_id, criterion_id,
               sign * count(*) FILTER (WHERE layer = 'learner') AS learner,
               sign * count(*) FILTER (WHERE layer = 'trainee_assessor') AS trainee,
               sign * count(*) FILTER (WHERE layer = 'assessor') AS assessor
        FROM changed GROUP BY enrolment_id, criterion_id),
    marks AS (
        INSERT INTO criterion_marks AS m (enrolment_id, criterion_id, learner, trainee, assessor)
        SELECT enrolment_id, criterion_id, learner, trainee, assessor FROM deltas
        ORDER BY enrolment_id, criterion_id
        ON CONFLICT (enrolment_id, criterion_id) DO UPDATE
        SET learner = m.learner + excluded.learner, trainee = m.trainee + excluded.trainee,
            assessor = m.assessor + excluded.assessor
        RETURNING m.enrolment_id, m.criterion_id, m.learner, m.trainee, m.assessor),
    states AS (
        SELECT n.enrolment_id, n.criterion_id,
               criterion_state(n.learner - d.learner, n.trainee - d.trainee, n.assessor - d.assessor) AS was,
               criterion_state(n.learner, n.trainee, n.assessor) AS now_
        FROM marks n JOIN deltas d USING (enrolment_id, criterion_id)),
    unit_moves AS (
        SELECT s.enrolment_id, c.unit_id,
               sum(CASE WHEN s.now_ = 'confirmed' THEN 1 ELSE -1 END)::integer AS delta
        FROM states s JOIN criteria c ON c.id = s.criterion_id
        WHERE (s.was = 'confirmed') <> (s.now_ = 'confirmed')
        GROUP BY s.enrolment_id, c.unit_id),
    units_now AS (
        INSERT INTO enrolment_units AS eu (enrolment_id, unit_id, confirmed)
        SELECT enrolment_id, unit_id, delta FROM unit_moves ORDER BY enrolment_id, unit_id
        ON CONFLICT (enrolment_id, unit_id) DO UPDATE SET confirmed = eu.confirmed + excluded.confirmed
        RETURNING eu.enrolment_id, eu.unit_id, eu.confirmed),
    unit_deltas AS (
        SELECT n.enrolment_id,
               sum((n.confirmed = u.criteria_count)::integer
                   - (n.confirmed - m.delta = u.criteria_count)::integer) AS achieved,
               sum((n.confirmed > 0)::integer - (n.confirmed - m.delta > 0)::integer) AS assessed
        FROM units_now n
        JOIN unit_moves m USING (enrolment_id, unit_id)
        JOIN units u ON u.id = n.unit_id
        GROUP BY n.enrolment_id),
    per_enrolment AS (
        SELECT enrolment_id,
               sum((now_ = 'confirmed')::integer - (was = 'confirmed')::integer) AS confirmed,
               sum((now_ = 'countersign')::integer - (was = 'countersign')::integer) AS countersign,
               sum((now_ = 'claimed')::integer - (was = 'claimed')::integer) AS claimed,
               bool_or((now_ = 'confirmed') <> (was = 'confirmed')) AS confirmation_moved
        FROM states GROUP BY enrolment_id),
    updated AS (
        UPDATE enrolments e
        SET last_activity_at = clock_timestamp(),
            confirmed_criteria = e.confirmed_criteria + p.confirmed,
            awaiting_countersignature = e.awaiting_countersignature + p.countersign,
            claims_to_review = e.claims_to_review + p.claimed,
            units_achieved = e.units_achieved + COALESCE(ud.achieved, 0),
            units_assessed = e.units_assessed + COALESCE(ud.assessed, 0)
        FROM per_enrolment p
        LEFT JOIN unit_deltas ud USING (enrolment_id)
        WHERE e.id = p.enrolment_id
        RETURNING e.id, e.centre_id, p.confirmation_moved)
    INSERT INTO audit_marks (enrolment_id, due_at)
    SELECT u.id, clock_timestamp() FROM updated u JOIN centres c ON c.id = u.centre_id
    WHERE u.confirmation_moved AND c.auto_audit
    ORDER BY u.id
    ON CONFLICT (enrolment_id) DO NOTHING;
    RETURN NULL;
END;
$$;

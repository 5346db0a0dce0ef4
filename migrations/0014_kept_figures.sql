-- The figures every list of enrolments shows (SPEC §3), kept on the enrolment by the
-- database in the transaction of the change that moves them, so that a list reads one
-- row per enrolment and never counts ticks, and no code path can forget them.
--
-- Per criterion of an enrolment, its state is the first that holds of (the domain's
-- `progress::Counts`, defined once there):
--   confirmed                  an assessor tick on any evidence item;
--   awaiting countersignature  a trainee assessor tick on any item, and not confirmed;
--   claimed                    a learner tick on any item, and neither of the above;
--   not started.
-- The enrolment keeps how many criteria are in each of the first three states, how many
-- units are achieved (every criterion confirmed) and assessed (one at least), open IQA
-- actions, units sampled by an IQA, and its latest audit.

-- Totals of a version, which never changes once imported.
ALTER TABLE qualification_versions
    ADD COLUMN criteria_count integer NOT NULL DEFAULT 0 CHECK (criteria_count >= 0),
    ADD COLUMN unit_count integer NOT NULL DEFAULT 0 CHECK (unit_count >= 0);
ALTER TABLE units
    ADD COLUMN criteria_count integer NOT NULL DEFAULT 0 CHECK (criteria_count >= 0);

UPDATE units u SET criteria_count = (SELECT count(*) FROM criteria c WHERE c.unit_id = u.id);
UPDATE qualification_versions v
   SET criteria_count = (SELECT count(*) FROM criteria c WHERE c.version_id = v.id),
       unit_count = (SELECT count(*) FROM units u WHERE u.version_id = v.id);

CREATE FUNCTION units_count_into_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE qualification_versions v SET unit_count = v.unit_count + n.count
    FROM (SELECT version_id, count(*) AS count FROM added GROUP BY version_id) n
    WHERE v.id = n.version_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER units_counted AFTER INSERT ON units
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION units_count_into_versions();

CREATE FUNCTION criteria_count_into_units() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE units u SET criteria_count = u.criteria_count + n.count
    FROM (SELECT unit_id, count(*) AS count FROM added GROUP BY unit_id) n
    WHERE u.id = n.unit_id;
    UPDATE qualification_versions v SET criteria_count = v.criteria_count + n.count
    FROM (SELECT version_id, count(*) AS count FROM added GROUP BY version_id) n
    WHERE v.id = n.version_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER criteria_counted AFTER INSERT ON criteria
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION criteria_count_into_units();

-- A version's structure is never changed or removed once imported: the counts above
-- (and every enrolment's kept figures) rely on it.
CREATE TRIGGER units_never_moved BEFORE UPDATE OF id, version_id OR DELETE ON units
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER criteria_never_moved BEFORE UPDATE OF id, unit_id, version_id OR DELETE ON criteria
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

ALTER TABLE enrolments
    ADD COLUMN confirmed_criteria integer NOT NULL DEFAULT 0,
    ADD COLUMN awaiting_countersignature integer NOT NULL DEFAULT 0,
    ADD COLUMN claims_to_review integer NOT NULL DEFAULT 0,
    ADD COLUMN units_achieved integer NOT NULL DEFAULT 0,
    ADD COLUMN units_assessed integer NOT NULL DEFAULT 0,
    ADD COLUMN open_iqa_actions integer NOT NULL DEFAULT 0,
    ADD COLUMN units_sampled integer NOT NULL DEFAULT 0,
    ADD COLUMN latest_audit_id uuid,
    ADD COLUMN latest_audit_at timestamptz,
    ADD COLUMN latest_outcome text CONSTRAINT enrolments_latest_outcome_check CHECK (latest_outcome IN (
        'no_majors_achieved', 'assigned_major_achieved', 'other_majors_achieved', 'all_majors_achieved')),
    ADD CONSTRAINT enrolments_kept_figures_not_negative CHECK (
        confirmed_criteria >= 0 AND awaiting_countersignature >= 0 AND claims_to_review >= 0
        AND units_achieved >= 0 AND units_assessed >= 0 AND open_iqa_actions >= 0 AND units_sampled >= 0),
    ADD CONSTRAINT enrolments_latest_audit_whole CHECK (
        (latest_audit_id IS NULL) = (latest_audit_at IS NULL) AND (latest_audit_id IS NULL) = (latest_outcome IS NULL));

-- Confirmed criteria per unit of an enrolment: what tells a unit achieved or assessed.
-- (No CHECK (confirmed >= 0): the trigger's upsert proposes a row with the change
-- itself, which is negative for an untick, and PostgreSQL checks the proposed row
-- before it finds the row it updates. A criterion is unconfirmed only after it was
-- confirmed, so the row then always exists.)
CREATE TABLE enrolment_units (
    enrolment_id  uuid NOT NULL,
    unit_id       uuid NOT NULL,
    confirmed     integer NOT NULL,
    PRIMARY KEY (enrolment_id, unit_id)
);

-- The state of one criterion from how many evidence items tick it in each layer.
CREATE FUNCTION criterion_state(learner bigint, trainee bigint, assessor bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN assessor > 0 THEN 'confirmed'
                WHEN trainee > 0 THEN 'countersign'
                WHEN learner > 0 THEN 'claimed'
                ELSE 'none' END
$$;

-- Ticks are added and removed, never changed: a change of a tick's criterion or
-- enrolment would move figures the statement-level triggers below do not see.
DROP TRIGGER ticks_touch_on_update ON ticks;
CREATE TRIGGER ticks_never_changed BEFORE UPDATE ON ticks
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Replaces migration 0010's function: the same last activity and audit mark, and now
-- the kept figures, for every enrolment whose ticks a statement added or removed.
--
-- The enrolments are locked first, in id order as everything that locks several does;
-- each statement after that sees every tick committed before (READ COMMITTED takes a
-- snapshot per statement), and none can commit on these enrolments until this
-- transaction ends. So the state before this statement is the state now less what it
-- added, or plus what it removed. That holds when one statement does not both add and
-- remove ticks of the same criterion of an enrolment (both triggers would see the
-- other's change as already made), which is refused below rather than miscounted.
CREATE OR REPLACE FUNCTION ticks_touch_enrolments() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sign constant integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
    stamp constant text := txid_current()::text || '@' || statement_timestamp()::text;
    touched text[];
    other text;
BEGIN
    PERFORM 1 FROM enrolments WHERE id IN (SELECT enrolment_id FROM changed) ORDER BY id FOR UPDATE;

    SELECT array_agg(DISTINCT enrolment_id::text || criterion_id::text) INTO touched FROM changed;
    other := current_setting('attest.ticks_statement', true);
    IF other IS NOT NULL AND split_part(other, '|', 1) = stamp AND split_part(other, '|', 2) <> TG_OP
       AND string_to_array(split_part(other, '|', 3), ',') && touched THEN
        RAISE EXCEPTION 'one statement may not both add and remove ticks of the same criterion'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ticks_one_direction_per_statement';
    END IF;
    PERFORM set_config('attest.ticks_statement', stamp || '|' || TG_OP || '|' || array_to_string(touched, ','), true);

    WITH keys AS (
        SELECT enrolment_id, criterion_id,
               count(*) FILTER (WHERE layer = 'learner') AS learner,
               count(*) FILTER (WHERE layer = 'trainee_assessor') AS trainee,
               count(*) FILTER (WHERE layer = 'assessor') AS assessor
        FROM changed GROUP BY enrolment_id, criterion_id),
    states AS (
        SELECT k.enrolment_id, k.criterion_id,
               criterion_state(n.learner - sign * k.learner, n.trainee - sign * k.trainee,
                               n.assessor - sign * k.assessor) AS before,
               criterion_state(n.learner, n.trainee, n.assessor) AS after
        FROM keys k,
        LATERAL (SELECT count(*) FILTER (WHERE t.layer = 'learner') AS learner,
                        count(*) FILTER (WHERE t.layer = 'trainee_assessor') AS trainee,
                        count(*) FILTER (WHERE t.layer = 'assessor') AS assessor
                 FROM ticks t
                 WHERE t.enrolment_id = k.enrolment_id
                   AND t.layer IN ('learner', 'trainee_assessor', 'assessor')
                   AND t.criterion_id = k.criterion_id) n),
    unit_moves AS (
        SELECT s.enrolment_id, c.unit_id,
               sum(CASE WHEN s.after = 'confirmed' THEN 1 ELSE -1 END)::integer AS delta
        FROM states s JOIN criteria c ON c.id = s.criterion_id
        WHERE (s.before = 'confirmed') <> (s.after = 'confirmed')
        GROUP BY s.enrolment_id, c.unit_id),
    units_now AS (
        INSERT INTO enrolment_units AS eu (enrolment_id, unit_id, confirmed)
        SELECT enrolment_id, unit_id, delta FROM unit_moves
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
    criterion_deltas AS (
        SELECT enrolment_id,
               sum((after = 'confirmed')::integer - (before = 'confirmed')::integer) AS confirmed,
               sum((after = 'countersign')::integer - (before = 'countersign')::integer) AS countersign,
               sum((after = 'claimed')::integer - (before = 'claimed')::integer) AS claimed
        FROM states GROUP BY enrolment_id)
    UPDATE enrolments e
    SET last_activity_at = clock_timestamp(),
        -- An assessor tick added or removed asks for the automatic audit (SPEC §4).
        audit_due_at = CASE WHEN d.assessor AND c.auto_audit
                            THEN COALESCE(e.audit_due_at, clock_timestamp())
                            ELSE e.audit_due_at END,
        confirmed_criteria = e.confirmed_criteria + d.confirmed,
        awaiting_countersignature = e.awaiting_countersignature + d.countersign,
        claims_to_review = e.claims_to_review + d.claimed,
        units_achieved = e.units_achieved + COALESCE(ud.achieved, 0),
        units_assessed = e.units_assessed + COALESCE(ud.assessed, 0)
    FROM (SELECT cd.*, a.assessor
          FROM criterion_deltas cd
          JOIN (SELECT enrolment_id, bool_or(layer = 'assessor') AS assessor
                FROM changed GROUP BY enrolment_id) a USING (enrolment_id)) d
    LEFT JOIN unit_deltas ud USING (enrolment_id),
    centres c
    WHERE e.id = d.enrolment_id AND c.id = e.centre_id;
    RETURN NULL;
END;
$$;

-- IQA decisions: open actions (action required, not closed) and units sampled (units
-- with at least one decision on the unit itself). Decisions are never deleted.
CREATE FUNCTION iqa_decisions_keep_figures() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM enrolments WHERE id IN (SELECT enrolment_id FROM changed) ORDER BY id FOR UPDATE;
    IF TG_OP = 'INSERT' THEN
        UPDATE enrolments e
        SET open_iqa_actions = e.open_iqa_actions + d.opened,
            units_sampled = e.units_sampled + d.sampled
        FROM (SELECT enrolment_id,
                     count(*) FILTER (WHERE decision = 'action_required' AND closed_at IS NULL) AS opened,
                     count(DISTINCT unit_id) FILTER (WHERE first_of_unit) AS sampled
              FROM (SELECT ch.*,
                           -- No decision of an earlier statement sampled this unit.
                           NOT EXISTS (SELECT 1 FROM iqa_decisions o
                                       WHERE o.unit_id = ch.unit_id AND o.enrolment_id = ch.enrolment_id
                                         AND o.id NOT IN (SELECT id FROM changed)) AS first_of_unit
                    FROM changed ch) n
              GROUP BY enrolment_id) d
        WHERE e.id = d.enrolment_id AND (d.opened <> 0 OR d.sampled <> 0);
    ELSE
        UPDATE enrolments e
        SET open_iqa_actions = e.open_iqa_actions + d.opened
        FROM (SELECT n.enrolment_id,
                     sum((n.decision = 'action_required' AND n.closed_at IS NULL)::integer
                         - (o.decision = 'action_required' AND o.closed_at IS NULL)::integer) AS opened
              FROM changed n JOIN before o USING (id) GROUP BY n.enrolment_id) d
        WHERE e.id = d.enrolment_id AND d.opened <> 0;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER iqa_decisions_kept_on_insert AFTER INSERT ON iqa_decisions
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION iqa_decisions_keep_figures();
CREATE TRIGGER iqa_decisions_kept_on_update AFTER UPDATE ON iqa_decisions
    REFERENCING OLD TABLE AS before NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION iqa_decisions_keep_figures();
-- What a decision sampled and on which enrolment never changes.
CREATE FUNCTION iqa_decisions_refuse_retarget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.enrolment_id, OLD.unit_id, OLD.evidence_id, OLD.decision)
       IS DISTINCT FROM (NEW.enrolment_id, NEW.unit_id, NEW.evidence_id, NEW.decision) THEN
        RAISE EXCEPTION 'an IQA decision keeps its enrolment, what it sampled and its verdict'
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'iqa_decisions_fixed';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER iqa_decisions_fixed BEFORE UPDATE ON iqa_decisions
    FOR EACH ROW EXECUTE FUNCTION iqa_decisions_refuse_retarget();
CREATE TRIGGER iqa_decisions_never_deleted BEFORE DELETE ON iqa_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- The latest audit: the newest by time (then id, a v7 uuid) of those recorded.
CREATE FUNCTION audits_keep_latest() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrolments e
    SET latest_audit_id = n.id, latest_audit_at = n.at, latest_outcome = n.outcome
    FROM (SELECT DISTINCT ON (enrolment_id) enrolment_id, id, at, outcome
          FROM added ORDER BY enrolment_id, at DESC, id DESC) n
    WHERE e.id = n.enrolment_id
      AND (e.latest_audit_at IS NULL OR (n.at, n.id) > (e.latest_audit_at, e.latest_audit_id));
    RETURN NULL;
END;
$$;
CREATE TRIGGER audits_kept_latest AFTER INSERT ON audits
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION audits_keep_latest();
CREATE TRIGGER audits_append_only BEFORE UPDATE OR DELETE ON audits
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Every figure from scratch, for the enrolments given: what the triggers keep, counted
-- the slow way. The migration fills the figures with it; tests compare the kept figures
-- with it (and with the domain's own count); a bulk load that bypasses the triggers
-- (the benchmark centre) calls it once at the end.
CREATE FUNCTION enrolment_figures_recount(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM enrolments WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
    DELETE FROM enrolment_units WHERE enrolment_id = ANY(ids);
    INSERT INTO enrolment_units (enrolment_id, unit_id, confirmed)
    SELECT t.enrolment_id, c.unit_id, count(DISTINCT t.criterion_id)
    FROM ticks t JOIN criteria c ON c.id = t.criterion_id
    WHERE t.enrolment_id = ANY(ids) AND t.layer = 'assessor'
    GROUP BY t.enrolment_id, c.unit_id;
    UPDATE enrolments e
    SET confirmed_criteria = COALESCE(s.confirmed, 0),
        awaiting_countersignature = COALESCE(s.countersign, 0),
        claims_to_review = COALESCE(s.claimed, 0),
        units_achieved = (SELECT count(*) FROM enrolment_units eu JOIN units u ON u.id = eu.unit_id
                          WHERE eu.enrolment_id = e.id AND eu.confirmed = u.criteria_count),
        units_assessed = (SELECT count(*) FROM enrolment_units eu
                          WHERE eu.enrolment_id = e.id AND eu.confirmed > 0),
        open_iqa_actions = (SELECT count(*) FROM iqa_decisions d WHERE d.enrolment_id = e.id
                            AND d.decision = 'action_required' AND d.closed_at IS NULL),
        units_sampled = (SELECT count(DISTINCT d.unit_id) FROM iqa_decisions d WHERE d.enrolment_id = e.id),
        latest_audit_id = a.id, latest_audit_at = a.at, latest_outcome = a.outcome
    FROM enrolments x
    LEFT JOIN (SELECT enrolment_id,
                      count(*) FILTER (WHERE state = 'confirmed') AS confirmed,
                      count(*) FILTER (WHERE state = 'countersign') AS countersign,
                      count(*) FILTER (WHERE state = 'claimed') AS claimed
               FROM (SELECT enrolment_id,
                            criterion_state(count(*) FILTER (WHERE layer = 'learner'),
                                            count(*) FILTER (WHERE layer = 'trainee_assessor'),
                                            count(*) FILTER (WHERE layer = 'assessor')) AS state
                     FROM ticks WHERE enrolment_id = ANY(ids)
                     GROUP BY enrolment_id, criterion_id) per_criterion
               GROUP BY enrolment_id) s ON s.enrolment_id = x.id
    LEFT JOIN LATERAL (SELECT id, at, outcome FROM audits WHERE enrolment_id = x.id
                       ORDER BY at DESC, id DESC LIMIT 1) a ON true
    WHERE e.id = x.id AND x.id = ANY(ids);
END;
$$;

SELECT enrolment_figures_recount(ARRAY(SELECT id FROM enrolments));

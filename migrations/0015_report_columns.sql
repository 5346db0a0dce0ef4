-- What the enrolment reports (SPEC §3) sort and filter by, on the enrolment row itself,
-- so that a report reads one table and never joins to count.
--
-- * `criteria_total` and `unit_total`: the version's, copied when the learner is
--   enrolled (an enrolment never changes version, and a version never changes).
-- * `progress`: whole percent of criteria confirmed, rounded down (100 means done), kept
--   by PostgreSQL from the kept count (migration 0014).
ALTER TABLE enrolments
    ADD COLUMN criteria_total integer NOT NULL DEFAULT 0,
    ADD COLUMN unit_total integer NOT NULL DEFAULT 0;

UPDATE enrolments e SET criteria_total = v.criteria_count, unit_total = v.unit_count
FROM qualification_versions v WHERE v.id = e.version_id;

ALTER TABLE enrolments
    ADD COLUMN progress integer NOT NULL
        GENERATED ALWAYS AS (confirmed_criteria * 100 / GREATEST(criteria_total, 1)) STORED;

CREATE FUNCTION enrolments_copy_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT criteria_count, unit_count INTO NEW.criteria_total, NEW.unit_total
    FROM qualification_versions WHERE id = NEW.version_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER enrolments_totals BEFORE INSERT ON enrolments
    FOR EACH ROW EXECUTE FUNCTION enrolments_copy_totals();
CREATE FUNCTION enrolments_refuse_version_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an enrolment keeps the qualification version it was enrolled on'
        USING ERRCODE = 'restrict_violation', CONSTRAINT = 'enrolments_version_fixed';
END;
$$;
CREATE TRIGGER enrolments_version_fixed BEFORE UPDATE OF version_id ON enrolments
    FOR EACH ROW WHEN (OLD.version_id IS DISTINCT FROM NEW.version_id)
    EXECUTE FUNCTION enrolments_refuse_version_change();

-- What the enrolment reports (SPEC §3) sort and filter by, on the enrolment row itself,
-- so that a report reads one table and never joins to count.
--
-- * `criteria_total` and `unit_total`: the version's, copied when the learner is
--   enrolled (an enrolment never changes version, and a version never changes).
-- * `progress`: whole percent of criteria confirmed, rounded down (100 means done), kept
--   by PostgreSQL from the kept count (migration 0014).
-- * `learner_sort` and `learner_search`: the learner's name, and name and email, in
--   lower case: what a report sorts and searches by without reading every learner. Kept
--   when the learner is renamed (rare: no tick touches them, so the index below costs
--   ticks nothing).
ALTER TABLE enrolments
    ADD COLUMN criteria_total integer NOT NULL DEFAULT 0,
    ADD COLUMN unit_total integer NOT NULL DEFAULT 0,
    ADD COLUMN learner_sort text NOT NULL DEFAULT '',
    ADD COLUMN learner_search text NOT NULL DEFAULT '';

UPDATE enrolments e SET criteria_total = v.criteria_count, unit_total = v.unit_count
FROM qualification_versions v WHERE v.id = e.version_id;
UPDATE enrolments e SET learner_sort = lower(u.display_name),
       learner_search = lower(u.display_name) || ' ' || lower(u.email)
FROM users u WHERE u.id = e.learner_id;

-- The report's default order (by learner) reads only the rows of its page.
CREATE INDEX enrolments_report_learner_idx ON enrolments (centre_id, learner_sort, id);
-- The staff a report's filters offer, without reading the centre's learners.
CREATE INDEX users_staff_idx ON users (centre_id) WHERE kind = 'staff';

CREATE FUNCTION users_keep_learner_names() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrolments SET learner_sort = lower(NEW.display_name),
           learner_search = lower(NEW.display_name) || ' ' || lower(NEW.email)
    WHERE learner_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_learner_names AFTER UPDATE OF display_name, email ON users
    FOR EACH ROW WHEN (NEW.kind = 'learner' AND (OLD.display_name, OLD.email) IS DISTINCT FROM (NEW.display_name, NEW.email))
    EXECUTE FUNCTION users_keep_learner_names();

ALTER TABLE enrolments
    ADD COLUMN progress integer NOT NULL
        GENERATED ALWAYS AS (confirmed_criteria * 100 / GREATEST(criteria_total, 1)) STORED;

CREATE FUNCTION enrolments_copy_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT criteria_count, unit_count INTO NEW.criteria_total, NEW.unit_total
    FROM qualification_versions WHERE id = NEW.version_id;
    SELECT lower(display_name), lower(display_name) || ' ' || lower(email)
    INTO NEW.learner_sort, NEW.learner_search
    FROM users WHERE id = NEW.learner_id;
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

-- Two things every change to a portfolio moves, kept by the database itself so that
-- no code path can forget them:
--
-- * `revision`, a number that moves whenever anything a portfolio page shows about an
--   enrolment changes: its own row (status, major, assignments), its evidence and
--   files, its ticks, or the name of someone of its centre. Rendered pages are kept in
--   memory under it (src/web/page_cache.rs).
-- * `audit_due_at`, set when the enrolment's assessor ticks change and its centre
--   audits automatically (SPEC §4). The automatic auditor in every server
--   (`db::bulk_audit::audit_due`, run by src/jobs) audits marked enrolments within
--   about a second, a burst of ticks once, and clears the mark in the audit's
--   transaction. The mark commits with the change, so it survives a crash.

ALTER TABLE enrolments ADD COLUMN revision bigint NOT NULL DEFAULT 0;

-- Every tick moves its enrolment's last activity. With that column indexed, each tick
-- rewrote an entry in every index of the enrolment row; unindexed, the update stays on
-- its page (a HOT update) and touches no index. A centre's enrolments are few enough to
-- sort by last activity when listed.
DROP INDEX enrolments_centre_idx;
CREATE INDEX enrolments_centre_idx ON enrolments (centre_id);
ALTER TABLE enrolments ADD COLUMN audit_due_at timestamptz;
CREATE INDEX enrolments_audit_due_idx ON enrolments (audit_due_at) WHERE audit_due_at IS NOT NULL;

CREATE FUNCTION enrolments_next_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END;
$$;

CREATE TRIGGER enrolments_revision BEFORE UPDATE ON enrolments
    FOR EACH ROW EXECUTE FUNCTION enrolments_next_revision();

-- Statement-level, over the rows a statement changed: accepting 300 ticks at once
-- updates the enrolment once, not 300 times. The update is the statement's only one of
-- the enrolment row, which matters: a second update of a row in one transaction makes
-- PostgreSQL check every foreign key of the row again.
CREATE FUNCTION ticks_touch_enrolments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrolments e
    SET last_activity_at = clock_timestamp(),
        audit_due_at = CASE WHEN d.assessor AND c.auto_audit
                            THEN COALESCE(e.audit_due_at, clock_timestamp())
                            ELSE e.audit_due_at END
    FROM (SELECT enrolment_id, bool_or(layer = 'assessor') AS assessor
          FROM changed GROUP BY enrolment_id) d,
         centres c
    WHERE e.id = d.enrolment_id AND c.id = e.centre_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ticks_touch_on_insert AFTER INSERT ON ticks
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION ticks_touch_enrolments();
CREATE TRIGGER ticks_touch_on_delete AFTER DELETE ON ticks
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION ticks_touch_enrolments();
CREATE TRIGGER ticks_touch_on_update AFTER UPDATE ON ticks
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION ticks_touch_enrolments();

CREATE FUNCTION evidence_touch_enrolments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrolments SET last_activity_at = clock_timestamp()
    WHERE id IN (SELECT DISTINCT enrolment_id FROM changed);
    RETURN NULL;
END;
$$;

CREATE TRIGGER evidence_touch_on_insert AFTER INSERT ON evidence
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_touch_enrolments();
CREATE TRIGGER evidence_touch_on_delete AFTER DELETE ON evidence
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_touch_enrolments();
CREATE TRIGGER evidence_touch_on_update AFTER UPDATE ON evidence
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_touch_enrolments();

CREATE FUNCTION evidence_files_touch_enrolments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrolments SET last_activity_at = clock_timestamp()
    WHERE id IN (SELECT e.enrolment_id FROM evidence e
                 WHERE e.id IN (SELECT evidence_id FROM changed));
    RETURN NULL;
END;
$$;

CREATE TRIGGER evidence_files_touch_on_insert AFTER INSERT ON evidence_files
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_files_touch_enrolments();
CREATE TRIGGER evidence_files_touch_on_delete AFTER DELETE ON evidence_files
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_files_touch_enrolments();
CREATE TRIGGER evidence_files_touch_on_update AFTER UPDATE ON evidence_files
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_files_touch_enrolments();

-- Pages name the people who ticked and added evidence.
CREATE FUNCTION users_touch_enrolments_on_rename() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrolments SET revision = revision + 1 WHERE centre_id = NEW.centre_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_touch_on_rename AFTER UPDATE OF display_name ON users
    FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION users_touch_enrolments_on_rename();

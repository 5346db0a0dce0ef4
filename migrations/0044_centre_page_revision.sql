-- A centre-wide change that portfolio pages show (a person renamed: pages name who
-- ticked; suggestions turned on or off) moved the revision of every enrolment of the
-- centre: at 100,000 enrolments that rewrote 100,000 rows (12 s, each row locked
-- against ticks). Instead the centre keeps one number that such a change moves, and a
-- kept page is served only while both its enrolment's revision and its centre's are
-- unchanged.
ALTER TABLE centres ADD COLUMN page_revision bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION users_touch_enrolments_on_rename() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE centres SET page_revision = page_revision + 1 WHERE id = NEW.centre_id;
    RETURN NULL;
END;
$$;

-- The people list as a report and the centre's log (issue 12): at 10,000 people a page
-- reads its own rows from an index in each order the list offers, and the centre's
-- own entries are found without passing over the enrolments' (ticks make most of the
-- log).

-- Each account's roles as ranks in `domain::people::Role`'s order (learner 1, trainee
-- assessor 2, assessor 3, IQA 4, admin 5), ascending: what the list sorts "Roles" by
-- (learners first, then staff by their roles; tests/it/people_report.rs holds it to
-- Role's order). Kept by the trigger below whenever a role is granted or taken away.
ALTER TABLE users ADD COLUMN role_ranks smallint[] NOT NULL DEFAULT '{}';

-- Also what the list's filter by role compares with (db::people_list).
CREATE FUNCTION role_rank(role text) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE role WHEN 'learner' THEN 1 WHEN 'trainee_assessor' THEN 2 WHEN 'assessor' THEN 3
                     WHEN 'iqa' THEN 4 WHEN 'admin' THEN 5 ELSE 9 END::smallint
$$;

UPDATE users u SET role_ranks = ARRAY(
    SELECT role_rank(r.role) FROM user_roles r WHERE r.user_id = u.id ORDER BY 1);

-- Only on grants and removals: a kind change cascades to user_roles as an UPDATE of
-- `kind`, which leaves the roles (and their ranks) as they were.
CREATE FUNCTION user_roles_keep_ranks() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    person uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
BEGIN
    UPDATE users SET role_ranks = ARRAY(
        SELECT role_rank(r.role) FROM user_roles r WHERE r.user_id = person ORDER BY 1)
    WHERE id = person;
    RETURN NULL;
END;
$$;
CREATE TRIGGER user_roles_ranks AFTER INSERT OR DELETE ON user_roles
    FOR EACH ROW EXECUTE FUNCTION user_roles_keep_ranks();

-- The list's orders, each with the name (and the id) breaking ties, so that a page
-- reads its rows in order from the index: name, roles, account status (active first),
-- added. Email is served by users_centre_email_key, unique within the centre.
CREATE INDEX users_people_name_idx ON users (centre_id, lower(display_name), id);
CREATE INDEX users_people_roles_idx ON users (centre_id, role_ranks, lower(display_name), id);
CREATE INDEX users_people_status_idx ON users (centre_id, (NOT active), lower(display_name), id);
CREATE INDEX users_people_added_idx ON users (centre_id, created_at, id);
-- The search finds its few among 10,000 by trigrams, as the enrolment report's does
-- (migration 0016).
CREATE INDEX users_people_search_trgm ON users
    USING gin ((lower(display_name) || ' ' || lower(email)) gin_trgm_ops);

-- The centre's log: its own entries (no enrolment), newest first, in keyset pages
-- (db::activity::Selection), without reading past the enrolments' entries. Ticks write
-- entries with an enrolment, which this partial index never holds, so they cost it
-- nothing.
CREATE INDEX activity_log_centre_only_idx ON activity_log (centre_id, id) WHERE enrolment_id IS NULL;

-- The people list's total (admin → people), kept by the writes that change it instead
-- of counted on each view: how many accounts a centre has, and how many hold each
-- role, active and deactivated apart. Counting them cost 15 ms a view at 100,000
-- learners, and 45–90 ms filtered by role, where every row had to be read. Views with a
-- search still count the (few) accounts that match.
--
-- Accounts are never deleted (0012: erasure pseudonymises in place), so the counts move
-- on an account added, a role granted or taken away, and an account (de)activated.
CREATE TABLE centre_people_counts (
    centre_id uuid NOT NULL REFERENCES centres (id),
    -- A role, or '' for every account of the centre whatever its roles.
    role      text NOT NULL,
    active    boolean NOT NULL,
    people    bigint NOT NULL CONSTRAINT centre_people_counts_not_negative CHECK (people >= 0),
    PRIMARY KEY (centre_id, role, active)
);

-- What the counts are, from scratch: the migration's start, the bench fixture's bulk
-- load (whose triggers are off) and the tests' comparison.
CREATE FUNCTION centre_people_recount(centre uuid) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM centre_people_counts WHERE centre_id = centre;
    INSERT INTO centre_people_counts (centre_id, role, active, people)
    SELECT u.centre_id, '', u.active, count(*) FROM users u
     WHERE u.centre_id = centre GROUP BY u.centre_id, u.active
    UNION ALL
    SELECT u.centre_id, r.role, u.active, count(*) FROM user_roles r JOIN users u ON u.id = r.user_id
     WHERE u.centre_id = centre GROUP BY u.centre_id, r.role, u.active;
$$;

SELECT centre_people_recount(id) FROM centres;

-- Adds each (centre, role, active) delta. Rows that exist are locked in key order (so
-- that two statements lock the rows they share in the same order) and updated; only new
-- keys are inserted, since PostgreSQL checks an insert's row against the CHECK above
-- before it looks for a conflict, and a decrement is negative.
CREATE FUNCTION centre_people_counts_add(deltas jsonb) RETURNS void
LANGUAGE sql AS $$
    SELECT 1 FROM centre_people_counts c
      JOIN jsonb_to_recordset(deltas) AS d(centre_id uuid, role text, active boolean, people bigint)
        ON d.centre_id = c.centre_id AND d.role = c.role AND d.active = c.active
     ORDER BY c.centre_id, c.role, c.active
       FOR UPDATE OF c;
    UPDATE centre_people_counts c SET people = c.people + d.people
      FROM (SELECT d.centre_id, d.role, d.active, sum(d.people) AS people
              FROM jsonb_to_recordset(deltas) AS d(centre_id uuid, role text, active boolean, people bigint)
             GROUP BY d.centre_id, d.role, d.active) d
     WHERE d.centre_id = c.centre_id AND d.role = c.role AND d.active = c.active;
    INSERT INTO centre_people_counts AS c (centre_id, role, active, people)
    SELECT d.centre_id, d.role, d.active, sum(d.people)
      FROM jsonb_to_recordset(deltas) AS d(centre_id uuid, role text, active boolean, people bigint)
     WHERE NOT EXISTS (SELECT 1 FROM centre_people_counts k
                        WHERE k.centre_id = d.centre_id AND k.role = d.role AND k.active = d.active)
     GROUP BY d.centre_id, d.role, d.active
     ORDER BY d.centre_id, d.role, d.active
    ON CONFLICT (centre_id, role, active) DO UPDATE SET people = c.people + excluded.people;
$$;

CREATE FUNCTION users_count_people() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM centre_people_counts_add(COALESCE(jsonb_agg(jsonb_build_object(
        'centre_id', a.centre_id, 'role', '', 'active', a.active, 'people', 1)), '[]'))
      FROM added a;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_counted AFTER INSERT ON users
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION users_count_people();

-- An account (de)activated moves out of one standing into the other, as an account and
-- in each of its roles. A row trigger, so that only such updates pay for it (sign-ins
-- and the rest update accounts far more often).
CREATE FUNCTION users_count_standing() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM centre_people_counts_add(jsonb_agg(jsonb_build_object(
        'centre_id', NEW.centre_id, 'role', x.role, 'active', s.active, 'people', s.people)))
      FROM (SELECT '' AS role UNION ALL SELECT r.role FROM user_roles r WHERE r.user_id = NEW.id) x
     CROSS JOIN (VALUES (OLD.active, -1), (NEW.active, 1)) AS s(active, people);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_standing_counted AFTER UPDATE OF active ON users
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION users_count_standing();

CREATE FUNCTION user_roles_count_people() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM centre_people_counts_add(COALESCE(jsonb_agg(jsonb_build_object(
            'centre_id', u.centre_id, 'role', a.role, 'active', u.active, 'people', 1)), '[]'))
          FROM added a JOIN users u ON u.id = a.user_id;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM centre_people_counts_add(COALESCE(jsonb_agg(jsonb_build_object(
            'centre_id', u.centre_id, 'role', r.role, 'active', u.active, 'people', -1)), '[]'))
          FROM removed r JOIN users u ON u.id = r.user_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER user_roles_counted AFTER INSERT ON user_roles
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION user_roles_count_people();
CREATE TRIGGER user_roles_uncounted AFTER DELETE ON user_roles
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION user_roles_count_people();
CREATE TRIGGER user_roles_recounted AFTER UPDATE ON user_roles
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION user_roles_count_people();

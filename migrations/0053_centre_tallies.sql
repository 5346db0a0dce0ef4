-- Each centre's enrolments tallied by everything its summaries and dashboards count, so
-- that the admin home, the IQA home and both dashboards read their figures instead of
-- counting every enrolment on every view: at 100,000 enrolments the admin home counted
-- 100,000 rows (47 ms) and each dashboard three times over (157-201 ms).
--
-- A tally is the number of enrolments (and their open IQA actions) with one combination
-- of: IQA, assessor, status, band of confirmed progress (tenths, 100 % its own),
-- whether they have claims to review, trainee ticks awaiting countersignature, and open
-- IQA actions. A centre of 100,000 has a few thousand combinations.
--
-- It replaces the status counts of migration 0051, which it holds too (a status's
-- total is the sum of its tallies), and is kept the same way: appended changes, never
-- updated in place, so that writers never wait on one another's counters or lock them
-- in different orders (two tick batches in flight, a bulk audit beside the automatic
-- ones). Housekeeping folds the changes into one row a combination.
DROP TRIGGER enrolments_status_counted ON enrolments;
DROP TRIGGER enrolments_status_moved ON enrolments;
DROP FUNCTION centre_status_counts_add();
DROP FUNCTION centre_status_counts_move();
DROP FUNCTION centre_status_counts_fold();
DROP FUNCTION centre_status_recount(uuid);
DROP TABLE centre_status_counts;

CREATE TABLE centre_tallies (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    centre_id     uuid NOT NULL,
    iqa_id        uuid,
    assessor_id   uuid NOT NULL,
    status        text NOT NULL,
    band          smallint NOT NULL,
    with_claims   boolean NOT NULL,
    awaiting      boolean NOT NULL,
    with_actions  boolean NOT NULL,
    enrolments    bigint NOT NULL,
    open_actions  bigint NOT NULL
);

-- A centre's tallies, or one IQA's of them.
CREATE INDEX centre_tallies_idx ON centre_tallies (centre_id, iqa_id);

-- The band of a confirmed progress: 0 for 0-9 %, ... 9 for 90-99 %, 10 for 100 %
-- (`domain::report::Band::deciles`).
CREATE FUNCTION progress_band(progress integer) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT LEAST(progress / 10, 10)::smallint $$;

-- A centre's tallies from its enrolments, for loaders that write enrolments with
-- triggers off (the bench fixture), and to begin with.
CREATE FUNCTION centre_tallies_recount(centre uuid) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM centre_tallies WHERE centre_id = centre;
    INSERT INTO centre_tallies (centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting,
                                with_actions, enrolments, open_actions)
        SELECT centre_id, iqa_id, assessor_id, status, progress_band(progress), claims_to_review > 0,
               awaiting_countersignature > 0, open_iqa_actions > 0, count(*), sum(open_iqa_actions)
          FROM enrolments WHERE centre_id = centre
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
$$;

SELECT centre_tallies_recount(id) FROM centres;

CREATE FUNCTION centre_tallies_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO centre_tallies (centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting,
                                with_actions, enrolments, open_actions)
        SELECT centre_id, iqa_id, assessor_id, status, progress_band(progress), claims_to_review > 0,
               awaiting_countersignature > 0, open_iqa_actions > 0, count(*), sum(open_iqa_actions)
          FROM added
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    RETURN NULL;
END;
$$;

CREATE TRIGGER enrolments_tallied AFTER INSERT ON enrolments
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION centre_tallies_add();

-- The enrolment leaves its old combination and joins its new one.
CREATE FUNCTION centre_tallies_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO centre_tallies (centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting,
                                with_actions, enrolments, open_actions)
        VALUES (OLD.centre_id, OLD.iqa_id, OLD.assessor_id, OLD.status, progress_band(OLD.progress),
                OLD.claims_to_review > 0, OLD.awaiting_countersignature > 0, OLD.open_iqa_actions > 0,
                -1, -OLD.open_iqa_actions),
               (NEW.centre_id, NEW.iqa_id, NEW.assessor_id, NEW.status, progress_band(NEW.progress),
                NEW.claims_to_review > 0, NEW.awaiting_countersignature > 0, NEW.open_iqa_actions > 0,
                1, NEW.open_iqa_actions);
    RETURN NULL;
END;
$$;

-- Fires only when something tallied moves: most ticks move a count within its band and
-- flags (the condition compares a few integers and does nothing else), and the writes
-- that name none of these columns never fire it.
CREATE TRIGGER enrolments_tally_moved
    AFTER UPDATE OF iqa_id, assessor_id, status, confirmed_criteria, criteria_total,
                    claims_to_review, awaiting_countersignature, open_iqa_actions ON enrolments
    FOR EACH ROW WHEN (
        OLD.iqa_id IS DISTINCT FROM NEW.iqa_id
        OR OLD.assessor_id <> NEW.assessor_id
        OR OLD.status <> NEW.status
        OR LEAST(OLD.progress / 10, 10) <> LEAST(NEW.progress / 10, 10)
        OR (OLD.claims_to_review > 0) <> (NEW.claims_to_review > 0)
        OR (OLD.awaiting_countersignature > 0) <> (NEW.awaiting_countersignature > 0)
        OR OLD.open_iqa_actions <> NEW.open_iqa_actions)
    EXECUTE FUNCTION centre_tallies_move();

-- The changes folded into one row a combination. Only the rows this statement sees are
-- folded: a change committed meanwhile stays as it is and is counted beside them; a
-- second fold at once waits for the first and then finds its rows gone.
CREATE FUNCTION centre_tallies_fold() RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM centre_tallies RETURNING *),
         kept AS (INSERT INTO centre_tallies (centre_id, iqa_id, assessor_id, status, band, with_claims,
                                              awaiting, with_actions, enrolments, open_actions)
                  SELECT centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting,
                         with_actions, sum(enrolments), sum(open_actions)
                    FROM gone
                   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
                  HAVING sum(enrolments) <> 0 OR sum(open_actions) <> 0
                   ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
                  RETURNING 1)
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM kept);
$$;


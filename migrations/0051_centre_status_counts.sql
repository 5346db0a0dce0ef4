-- How many enrolments of each centre are in each status, so that the admin report
-- filtered by a status over a whole centre reads its total instead of counting it: the
-- status that holds most learners (Not Yet Achieved) was 95,002 of 100,000, counted
-- from the status index on every view, 21-52 ms (issue 16, goal 30).
--
-- Kept as appended changes, never updated in place: a status change adds -1 for the old
-- status and +1 for the new, so transactions that move statuses in the same centre at
-- once (a bulk audit beside the automatic ones) never wait on one another's counters or
-- lock them in different orders. Housekeeping folds the changes into one row a status
-- (`centre_status_counts_fold`), so a total sums a handful of rows.
CREATE TABLE centre_status_counts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    centre_id   uuid NOT NULL,
    status      text NOT NULL,
    enrolments  bigint NOT NULL
);

CREATE INDEX centre_status_counts_idx ON centre_status_counts (centre_id, status) INCLUDE (enrolments);

INSERT INTO centre_status_counts (centre_id, status, enrolments)
    SELECT centre_id, status, count(*) FROM enrolments GROUP BY centre_id, status;

CREATE FUNCTION centre_status_counts_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO centre_status_counts (centre_id, status, enrolments)
        SELECT centre_id, status, count(*) FROM added GROUP BY centre_id, status;
    RETURN NULL;
END;
$$;

CREATE TRIGGER enrolments_status_counted AFTER INSERT ON enrolments
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION centre_status_counts_add();

-- A row trigger that fires only when the status moves: no tick's update of the
-- enrolment names the status, so the ticks never fire it.
CREATE FUNCTION centre_status_counts_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO centre_status_counts (centre_id, status, enrolments)
        VALUES (OLD.centre_id, OLD.status, -1), (NEW.centre_id, NEW.status, 1);
    RETURN NULL;
END;
$$;

CREATE TRIGGER enrolments_status_moved AFTER UPDATE OF status ON enrolments
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION centre_status_counts_move();

-- Each centre's changes folded into one row a status. Only the rows this statement sees
-- are folded: a change committed meanwhile stays as it is and is counted beside them;
-- a second fold at once waits for the first and then finds its rows gone.
CREATE FUNCTION centre_status_counts_fold() RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM centre_status_counts
                  RETURNING centre_id, status, enrolments),
         kept AS (INSERT INTO centre_status_counts (centre_id, status, enrolments)
                  SELECT centre_id, status, sum(enrolments) FROM gone
                   GROUP BY centre_id, status HAVING sum(enrolments) <> 0
                   ORDER BY centre_id, status
                  RETURNING 1)
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM kept);
$$;

-- A centre's counts from its enrolments, for loaders that write enrolments with triggers
-- off (the bench fixture).
CREATE FUNCTION centre_status_recount(centre uuid) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM centre_status_counts WHERE centre_id = centre;
    INSERT INTO centre_status_counts (centre_id, status, enrolments)
        SELECT centre_id, status, count(*) FROM enrolments WHERE centre_id = centre
         GROUP BY centre_id, status;
$$;

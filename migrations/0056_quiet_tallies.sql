-- The quiet enrolments counted as they are copied, so that the admin home, the IQA
-- home and both dashboards no longer count the quiet copy (0050) on every view: at
-- 100,000 enrolments each read its 17,138 rows whole (4-5 ms of each view; the IQA's
-- read them all to keep a fifth).
--
-- A tally is how many of the copy's rows have one combination of centre, IQA and
-- assessor, kept as the centre's tallies are (0053): appended changes, never updated in
-- place, folded by housekeeping. The copy reaches a day past the report's line (its
-- `through`), so a reader takes the tallies, less the copy's rows of that last day (read
-- from the index below), plus those gone quiet since `through` when housekeeping is
-- behind: a day's worth of rows at most, never every quiet one.
CREATE TABLE quiet_tallies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    centre_id   uuid NOT NULL,
    iqa_id      uuid,
    assessor_id uuid NOT NULL,
    quiet       bigint NOT NULL
);

CREATE INDEX quiet_tallies_idx ON quiet_tallies (centre_id, iqa_id);

-- The copy's newest rows, those not yet quiet by the report's line. It leads with the
-- centre, as the index it replaces did.
CREATE INDEX quiet_enrolments_activity_idx ON quiet_enrolments (centre_id, last_activity_at);
DROP INDEX quiet_enrolments_centre_idx;

-- A centre's quiet tallies from its copy, for loaders that write with triggers off (the
-- bench fixture), and to begin with.
CREATE FUNCTION quiet_tallies_recount(centre uuid) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM quiet_tallies WHERE centre_id = centre;
    INSERT INTO quiet_tallies (centre_id, iqa_id, assessor_id, quiet)
        SELECT centre_id, iqa_id, assessor_id, count(*)
          FROM quiet_enrolments WHERE centre_id = centre
         GROUP BY 1, 2, 3;
$$;

SELECT quiet_tallies_recount(id) FROM centres;

-- One statement's rows added to the copy, taken from it, or moved within it, as one
-- appended change a combination that moved (a rewrite that keeps the centre, IQA and
-- assessor appends nothing).
CREATE FUNCTION quiet_tallies_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quiet_tallies (centre_id, iqa_id, assessor_id, quiet)
        SELECT centre_id, iqa_id, assessor_id, count(*) FROM added GROUP BY 1, 2, 3;
    RETURN NULL;
END;
$$;

CREATE FUNCTION quiet_tallies_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quiet_tallies (centre_id, iqa_id, assessor_id, quiet)
        SELECT centre_id, iqa_id, assessor_id, -count(*) FROM removed GROUP BY 1, 2, 3;
    RETURN NULL;
END;
$$;

CREATE FUNCTION quiet_tallies_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quiet_tallies (centre_id, iqa_id, assessor_id, quiet)
        SELECT centre_id, iqa_id, assessor_id, sum(n)
          FROM (SELECT centre_id, iqa_id, assessor_id, -1 AS n FROM moved_from
                UNION ALL
                SELECT centre_id, iqa_id, assessor_id, 1 FROM moved_to) m
         GROUP BY 1, 2, 3
        HAVING sum(n) <> 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER quiet_enrolments_tallied AFTER INSERT ON quiet_enrolments
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION quiet_tallies_added();

CREATE TRIGGER quiet_enrolments_untallied AFTER DELETE ON quiet_enrolments
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION quiet_tallies_removed();

CREATE TRIGGER quiet_enrolments_tally_moved AFTER UPDATE ON quiet_enrolments
    REFERENCING OLD TABLE AS moved_from NEW TABLE AS moved_to FOR EACH STATEMENT
    EXECUTE FUNCTION quiet_tallies_moved();

-- As `centre_tallies_fold`: only the rows this statement sees are folded.
CREATE FUNCTION quiet_tallies_fold() RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM quiet_tallies RETURNING *),
         kept AS (INSERT INTO quiet_tallies (centre_id, iqa_id, assessor_id, quiet)
                  SELECT centre_id, iqa_id, assessor_id, sum(quiet)
                    FROM gone
                   GROUP BY 1, 2, 3
                  HAVING sum(quiet) <> 0
                   ORDER BY 1, 2, 3
                  RETURNING 1)
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM kept);
$$;

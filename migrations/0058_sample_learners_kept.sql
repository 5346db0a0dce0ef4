-- The IQA's coverage counts each assessor's learners in the sample, a learner on two of
-- the assessor's enrolments once (SPEC §7). It was counted on every IQA home and
-- dashboard from the coverage index (0054): at 100,000 enrolments, the 20,000 entries
-- of one IQA's sample (7 ms of each view). It is kept now.
--
-- `sample_learners` holds how many of an assessor's enrolments in an IQA's sample each
-- learner is on (a row only while there is one: one moved to none is removed at once),
-- moved in place: its rows are a learner's, written only when an enrolment is made or
-- changes learner, assessor or IQA, never by a tick. A row's coming or going is a
-- learner more or less for the assessor, appended to `sample_learner_counts` and folded
-- by housekeeping as the tallies are (0053), so that no two writers wait on one counter.
CREATE TABLE sample_learners (
    iqa_id      uuid NOT NULL,
    assessor_id uuid NOT NULL,
    learner_id  uuid NOT NULL,
    centre_id   uuid NOT NULL,
    enrolments  integer NOT NULL CHECK (enrolments >= 0),
    PRIMARY KEY (iqa_id, assessor_id, learner_id)
);

CREATE TABLE sample_learner_counts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    centre_id   uuid NOT NULL,
    iqa_id      uuid NOT NULL,
    assessor_id uuid NOT NULL,
    learners    bigint NOT NULL
);

CREATE INDEX sample_learner_counts_idx ON sample_learner_counts (centre_id, iqa_id);

-- A centre's from its enrolments, for loaders that write with triggers off (the bench
-- fixture), and to begin with.
CREATE FUNCTION sample_learners_recount(centre uuid) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM sample_learners WHERE centre_id = centre;
    DELETE FROM sample_learner_counts WHERE centre_id = centre;
    INSERT INTO sample_learners (iqa_id, assessor_id, learner_id, centre_id, enrolments)
        SELECT iqa_id, assessor_id, learner_id, centre, count(*)
          FROM enrolments WHERE centre_id = centre AND iqa_id IS NOT NULL
         GROUP BY 1, 2, 3;
    INSERT INTO sample_learner_counts (centre_id, iqa_id, assessor_id, learners)
        SELECT centre, iqa_id, assessor_id, count(*)
          FROM sample_learners WHERE centre_id = centre
         GROUP BY 1, 2, 3;
$$;

SELECT sample_learners_recount(id) FROM centres;

-- `n` more (or fewer) enrolments of each (IQA, assessor, learner) in `moved`, taken in
-- key order (as every writer takes these rows), each moved where it stands (a row locked
-- and read as it is now, so two writers of one learner count after one another); a row
-- come or gone is a learner more or less for the assessor.
CREATE FUNCTION sample_learners_add(moved jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    now_on integer;
BEGIN
    FOR r IN
        SELECT x.iqa_id, x.assessor_id, x.learner_id, x.centre_id, sum(x.n)::int AS n
          FROM jsonb_to_recordset(moved)
               AS x(iqa_id uuid, assessor_id uuid, learner_id uuid, centre_id uuid, n int)
         WHERE x.iqa_id IS NOT NULL
         GROUP BY 1, 2, 3, 4
        HAVING sum(x.n) <> 0
         ORDER BY 1, 2, 3
    LOOP
        IF r.n > 0 THEN
            INSERT INTO sample_learners AS s (iqa_id, assessor_id, learner_id, centre_id, enrolments)
                 VALUES (r.iqa_id, r.assessor_id, r.learner_id, r.centre_id, r.n)
            ON CONFLICT (iqa_id, assessor_id, learner_id)
            DO UPDATE SET enrolments = s.enrolments + excluded.enrolments
            RETURNING s.enrolments INTO now_on;
        ELSE
            -- Not an upsert: the row an insert proposes is checked before its conflict.
            UPDATE sample_learners SET enrolments = enrolments + r.n
             WHERE iqa_id = r.iqa_id AND assessor_id = r.assessor_id AND learner_id = r.learner_id
            RETURNING enrolments INTO STRICT now_on;
        END IF;
        IF now_on = 0 THEN
            DELETE FROM sample_learners
             WHERE iqa_id = r.iqa_id AND assessor_id = r.assessor_id AND learner_id = r.learner_id;
            INSERT INTO sample_learner_counts (centre_id, iqa_id, assessor_id, learners)
                 VALUES (r.centre_id, r.iqa_id, r.assessor_id, -1);
        ELSIF now_on = r.n THEN
            INSERT INTO sample_learner_counts (centre_id, iqa_id, assessor_id, learners)
                 VALUES (r.centre_id, r.iqa_id, r.assessor_id, 1);
        END IF;
    END LOOP;
END;
$$;

CREATE FUNCTION sample_learners_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sample_learners_add(
        (SELECT jsonb_agg(jsonb_build_object('iqa_id', iqa_id, 'assessor_id', assessor_id,
                                             'learner_id', learner_id, 'centre_id', centre_id,
                                             'n', 1))
           FROM added WHERE iqa_id IS NOT NULL));
    RETURN NULL;
END;
$$;

CREATE FUNCTION sample_learners_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sample_learners_add(jsonb_build_array(
        jsonb_build_object('iqa_id', OLD.iqa_id, 'assessor_id', OLD.assessor_id,
                           'learner_id', OLD.learner_id, 'centre_id', OLD.centre_id, 'n', -1),
        jsonb_build_object('iqa_id', NEW.iqa_id, 'assessor_id', NEW.assessor_id,
                           'learner_id', NEW.learner_id, 'centre_id', NEW.centre_id, 'n', 1)));
    RETURN NULL;
END;
$$;

CREATE TRIGGER enrolments_sample_learners_added AFTER INSERT ON enrolments
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION sample_learners_added();

CREATE TRIGGER enrolments_sample_learners_moved
    AFTER UPDATE OF iqa_id, assessor_id, learner_id ON enrolments
    FOR EACH ROW WHEN (
        OLD.iqa_id IS DISTINCT FROM NEW.iqa_id
        OR OLD.assessor_id <> NEW.assessor_id
        OR OLD.learner_id <> NEW.learner_id)
    EXECUTE FUNCTION sample_learners_moved();

-- As `centre_tallies_fold`: only the rows this statement sees are folded.
CREATE FUNCTION sample_learner_counts_fold() RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM sample_learner_counts RETURNING *),
         kept AS (INSERT INTO sample_learner_counts (centre_id, iqa_id, assessor_id, learners)
                  SELECT centre_id, iqa_id, assessor_id, sum(learners)
                    FROM gone
                   GROUP BY 1, 2, 3
                  HAVING sum(learners) <> 0
                   ORDER BY 1, 2, 3
                  RETURNING 1)
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM kept);
$$;

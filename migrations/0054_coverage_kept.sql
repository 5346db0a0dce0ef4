-- The IQA's sampling coverage by assessor (SPEC §7: learners, units assessed, units
-- sampled, open actions) read from kept figures: at 100,000 enrolments it summed the
-- 20,000 of an IQA's sample on every IQA home and dashboard (25 ms of each).
--
-- The units are summed in the centre's tallies (0053), which now also move when a
-- unit's first confirmation comes or its last goes, or a unit is sampled. The learners
-- (one learner may be on two enrolments with one assessor) are counted from an index of
-- the enrolments by IQA, assessor and learner, read alone: none of its columns moves
-- with a tick, so a tick's update of the enrolment stays HOT.
ALTER TABLE centre_tallies
    ADD COLUMN units_assessed bigint NOT NULL DEFAULT 0,
    ADD COLUMN units_sampled bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION centre_tallies_recount(centre uuid) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM centre_tallies WHERE centre_id = centre;
    INSERT INTO centre_tallies (centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting,
                                with_actions, enrolments, open_actions, units_assessed, units_sampled)
        SELECT centre_id, iqa_id, assessor_id, status, progress_band(progress), claims_to_review > 0,
               awaiting_countersignature > 0, open_iqa_actions > 0, count(*), sum(open_iqa_actions),
               sum(units_assessed), sum(units_sampled)
          FROM enrolments WHERE centre_id = centre
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
$$;

CREATE OR REPLACE FUNCTION centre_tallies_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO centre_tallies (centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting,
                                with_actions, enrolments, open_actions, units_assessed, units_sampled)
        SELECT centre_id, iqa_id, assessor_id, status, progress_band(progress), claims_to_review > 0,
               awaiting_countersignature > 0, open_iqa_actions > 0, count(*), sum(open_iqa_actions),
               sum(units_assessed), sum(units_sampled)
          FROM added
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION centre_tallies_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO centre_tallies (centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting,
                                with_actions, enrolments, open_actions, units_assessed, units_sampled)
        VALUES (OLD.centre_id, OLD.iqa_id, OLD.assessor_id, OLD.status, progress_band(OLD.progress),
                OLD.claims_to_review > 0, OLD.awaiting_countersignature > 0, OLD.open_iqa_actions > 0,
                -1, -OLD.open_iqa_actions, -OLD.units_assessed, -OLD.units_sampled),
               (NEW.centre_id, NEW.iqa_id, NEW.assessor_id, NEW.status, progress_band(NEW.progress),
                NEW.claims_to_review > 0, NEW.awaiting_countersignature > 0, NEW.open_iqa_actions > 0,
                1, NEW.open_iqa_actions, NEW.units_assessed, NEW.units_sampled);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION centre_tallies_fold() RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM centre_tallies RETURNING *),
         kept AS (INSERT INTO centre_tallies (centre_id, iqa_id, assessor_id, status, band, with_claims,
                                              awaiting, with_actions, enrolments, open_actions,
                                              units_assessed, units_sampled)
                  SELECT centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting,
                         with_actions, sum(enrolments), sum(open_actions), sum(units_assessed),
                         sum(units_sampled)
                    FROM gone
                   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
                  HAVING sum(enrolments) <> 0 OR sum(open_actions) <> 0
                         OR sum(units_assessed) <> 0 OR sum(units_sampled) <> 0
                   ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
                  RETURNING 1)
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM kept);
$$;

DROP TRIGGER enrolments_tally_moved ON enrolments;
CREATE TRIGGER enrolments_tally_moved
    AFTER UPDATE OF iqa_id, assessor_id, status, confirmed_criteria, criteria_total,
                    claims_to_review, awaiting_countersignature, open_iqa_actions,
                    units_assessed, units_sampled ON enrolments
    FOR EACH ROW WHEN (
        OLD.iqa_id IS DISTINCT FROM NEW.iqa_id
        OR OLD.assessor_id <> NEW.assessor_id
        OR OLD.status <> NEW.status
        OR LEAST(OLD.progress / 10, 10) <> LEAST(NEW.progress / 10, 10)
        OR (OLD.claims_to_review > 0) <> (NEW.claims_to_review > 0)
        OR (OLD.awaiting_countersignature > 0) <> (NEW.awaiting_countersignature > 0)
        OR OLD.open_iqa_actions <> NEW.open_iqa_actions
        OR OLD.units_assessed <> NEW.units_assessed
        OR OLD.units_sampled <> NEW.units_sampled)
    EXECUTE FUNCTION centre_tallies_move();

SELECT centre_tallies_recount(id) FROM centres;

-- The centre is included so that the count reads the index alone. It stands beside the
-- IQA's own index rather than widening it: that one holds a handful of IQAs and stays
-- small (deduplicated), and reads of an IQA's enrolments keep choosing it (widened, it
-- lost to a scan of every enrolment: the IQA home's fingerprint, 12 -> 31 ms).
CREATE INDEX enrolments_coverage_idx ON enrolments (iqa_id, assessor_id, learner_id)
    INCLUDE (centre_id) WHERE iqa_id IS NOT NULL;

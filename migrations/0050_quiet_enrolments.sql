-- The admin report's "no activity for 30 days" over a whole centre. Quiet learners are
-- spread over the whole enrolments table, so counting and ordering them read nearly
-- every page of it: at 100,000 enrolments, 14,282 quiet ones over 5,252 of 5,531 pages,
-- 26-32 ms a page (issue 16). Quietness is kept here instead, as a copy of what the
-- report filters and sorts by, one row per quiet enrolment: nothing writes to a quiet
-- enrolment (a write is activity, and takes its row out), so the table stays small,
-- dense and still.
--
-- The table holds every enrolment whose last activity is before `quiet_through.through`.
-- The workers' hourly housekeeping keeps `through` a day ahead of the report's line, at
-- 29 days ago (`db::quiet`), so the report takes the quiet ones from here alone, by
-- their exact last activity; only when housekeeping has fallen behind the line does it
-- read those gone quiet since from enrolments' activity index (whose unit is the day:
-- the day of the line read there was 2,856 rows of 100,000, 7 ms).
CREATE TABLE quiet_enrolments (
    id                        uuid PRIMARY KEY REFERENCES enrolments (id),
    centre_id                 uuid NOT NULL,
    learner_sort              text NOT NULL,
    learner_search            text NOT NULL,
    version_id                uuid NOT NULL,
    major_id                  uuid NOT NULL,
    assessor_id               uuid NOT NULL,
    trainee_assessor_id       uuid,
    iqa_id                    uuid,
    status                    text NOT NULL,
    latest_outcome            text,
    outcome_rank              smallint,
    progress                  integer NOT NULL,
    units_achieved            integer NOT NULL,
    claims_to_review          integer NOT NULL,
    awaiting_countersignature integer NOT NULL,
    open_iqa_actions          integer NOT NULL,
    last_activity_at          timestamptz NOT NULL,
    last_activity_on          date
);

CREATE INDEX quiet_enrolments_centre_idx ON quiet_enrolments (centre_id);

CREATE TABLE quiet_through (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    through timestamptz NOT NULL
);

INSERT INTO quiet_through (through) VALUES (now() - interval '29 days');

-- The rows of `ids` as their enrolments are: in the table when quiet before `through`,
-- out of it otherwise. For the migration's start and for loaders that write enrolments
-- with triggers off (the bench fixture).
CREATE FUNCTION quiet_enrolments_fill(ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM quiet_enrolments q
     WHERE q.id = ANY(ids)
       AND NOT EXISTS (SELECT 1 FROM enrolments e
                        WHERE e.id = q.id
                          AND e.last_activity_at < (SELECT through FROM quiet_through));
    INSERT INTO quiet_enrolments AS q
           (id, centre_id, learner_sort, learner_search, version_id, major_id, assessor_id,
            trainee_assessor_id, iqa_id, status, latest_outcome, outcome_rank, progress,
            units_achieved, claims_to_review, awaiting_countersignature, open_iqa_actions,
            last_activity_at, last_activity_on)
    SELECT e.id, e.centre_id, e.learner_sort, e.learner_search, e.version_id, e.major_id,
           e.assessor_id, e.trainee_assessor_id, e.iqa_id, e.status, e.latest_outcome,
           e.outcome_rank, e.progress, e.units_achieved, e.claims_to_review,
           e.awaiting_countersignature, e.open_iqa_actions, e.last_activity_at,
           e.last_activity_on
      FROM enrolments e
     WHERE e.id = ANY(ids) AND e.last_activity_at < (SELECT through FROM quiet_through)
     ORDER BY e.id
    ON CONFLICT (id) DO UPDATE
       SET centre_id = excluded.centre_id, learner_sort = excluded.learner_sort,
           learner_search = excluded.learner_search, version_id = excluded.version_id,
           major_id = excluded.major_id, assessor_id = excluded.assessor_id,
           trainee_assessor_id = excluded.trainee_assessor_id, iqa_id = excluded.iqa_id,
           status = excluded.status, latest_outcome = excluded.latest_outcome,
           outcome_rank = excluded.outcome_rank, progress = excluded.progress,
           units_achieved = excluded.units_achieved,
           claims_to_review = excluded.claims_to_review,
           awaiting_countersignature = excluded.awaiting_countersignature,
           open_iqa_actions = excluded.open_iqa_actions,
           last_activity_at = excluded.last_activity_at,
           last_activity_on = excluded.last_activity_on;
$$;

SELECT quiet_enrolments_fill(ARRAY(
    SELECT id FROM enrolments WHERE last_activity_at < (SELECT through FROM quiet_through)));

-- A quiet enrolment written to (an audit, a reassignment, a new name) has its copy
-- follow; given activity, it leaves. Row triggers that fire only for an enrolment before
-- the line (at most 29 days ago) before or after the write: a tick on a learner at work
-- (nearly every one) compares two times and touches nothing here.
CREATE FUNCTION enrolments_quiet_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM quiet_enrolments_fill(ARRAY[NEW.id]);
    RETURN NULL;
END;
$$;

CREATE TRIGGER enrolments_quiet_added AFTER INSERT ON enrolments
    FOR EACH ROW WHEN (NEW.last_activity_at < now() - interval '29 days')
    EXECUTE FUNCTION enrolments_quiet_kept();

CREATE TRIGGER enrolments_quiet_moved AFTER UPDATE ON enrolments
    FOR EACH ROW
    WHEN (OLD.last_activity_at < now() - interval '29 days'
          OR NEW.last_activity_at < now() - interval '29 days')
    EXECUTE FUNCTION enrolments_quiet_kept();

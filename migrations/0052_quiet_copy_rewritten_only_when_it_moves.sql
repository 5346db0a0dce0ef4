-- A write to a quiet enrolment that moves none of the copied columns (an audit that
-- keeps the outcome: its time and id are not copied) rewrote the copy's row all the
-- same: a new row version and its WAL for nothing, and a copy twice its size after a
-- few bulk audits of the bench centre (977 pages for 17,138 rows, against 490). The
-- copy's row is now rewritten only when a copied column moves.
CREATE OR REPLACE FUNCTION quiet_enrolments_fill(ids uuid[]) RETURNS void
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
           last_activity_on = excluded.last_activity_on
     WHERE q IS DISTINCT FROM excluded;
$$;

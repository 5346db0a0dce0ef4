-- Issue 14, point 4: progress reviews of an apprenticeship, signed by the learner, the
-- employer and the assessor with the signatures of issue 13. A review's content lives in
-- the versions of its signed item (the review's id is its item's), so a signed review is
-- locked and a change is a new version that needs signing again.

-- A signed item is an evidence item's, or a progress review's (which has no evidence).
ALTER TABLE signed_items
    ALTER COLUMN evidence_id DROP NOT NULL,
    DROP CONSTRAINT signed_items_kind_check,
    ADD CONSTRAINT signed_items_kind_check
        CHECK (kind IN ('witness_testimony', 'learner_declaration', 'observation_record', 'progress_review')),
    ADD CONSTRAINT signed_items_evidence_unless_review
        CHECK ((kind = 'progress_review') = (evidence_id IS NULL));

CREATE TABLE progress_reviews (
    id               uuid PRIMARY KEY REFERENCES signed_items (id),
    enrolment_id     uuid NOT NULL REFERENCES apprenticeships (enrolment_id),
    held_on          date NOT NULL,
    recorded_by      uuid NOT NULL REFERENCES users (id),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    -- Set by the signature that completes the current version; cleared by a new version.
    fully_signed_at  timestamptz
);
CREATE INDEX progress_reviews_enrolment_idx ON progress_reviews (enrolment_id, held_on DESC);
CREATE INDEX progress_reviews_unsigned_idx ON progress_reviews (enrolment_id, held_on)
    WHERE fully_signed_at IS NULL;

-- The review schedule, kept with the apprenticeship by the write paths of reviews, plans
-- and the centre's interval (never worked out on view): when the next review is due, the
-- last one held, and the oldest review held but not yet signed by all three.
ALTER TABLE apprenticeships
    ADD COLUMN last_review_on date,
    ADD COLUMN next_review_due date,
    ADD COLUMN oldest_unsigned_review_on date;
UPDATE apprenticeships a SET next_review_due = a.start_on + c.review_weeks * 7
  FROM centres c WHERE c.id = a.centre_id;
ALTER TABLE apprenticeships ALTER COLUMN next_review_due SET NOT NULL;
CREATE INDEX apprenticeships_centre_review_due_idx ON apprenticeships (centre_id, next_review_due);
CREATE INDEX apprenticeships_centre_unsigned_idx ON apprenticeships (centre_id, oldest_unsigned_review_on)
    WHERE oldest_unsigned_review_on IS NOT NULL;

-- The admin report ordered by claims to review or by ticks awaiting countersignature
-- over a whole centre, or filtered to the enrolments with any. Those figures move with
-- most learner and trainee ticks, so an index on them in enrolments would end the
-- heap-only updates every tick relies on (0033). They are copied here instead, one
-- narrow row per enrolment, indexed in each order the report reads: a tick that moves
-- them pays for this table's indexes alone, and one that does not pays nothing. At
-- 100,000 enrolments those views sorted or counted every row: 33-65 ms a page.
CREATE TABLE enrolment_queues (
    enrolment_id              uuid PRIMARY KEY REFERENCES enrolments (id),
    centre_id                 uuid NOT NULL,
    claims_to_review          integer NOT NULL,
    awaiting_countersignature integer NOT NULL,
    learner_sort              text NOT NULL
) WITH (fillfactor = 80);

-- The report's order (db::report::push_order): the figure, then the learner's name
-- (always ascending), then the id the figure's way.
CREATE INDEX enrolment_queues_claims_desc_idx
    ON enrolment_queues (centre_id, claims_to_review DESC, learner_sort, enrolment_id DESC);
CREATE INDEX enrolment_queues_claims_asc_idx
    ON enrolment_queues (centre_id, claims_to_review, learner_sort, enrolment_id);
CREATE INDEX enrolment_queues_countersign_desc_idx
    ON enrolment_queues (centre_id, awaiting_countersignature DESC, learner_sort, enrolment_id DESC);
CREATE INDEX enrolment_queues_countersign_asc_idx
    ON enrolment_queues (centre_id, awaiting_countersignature, learner_sort, enrolment_id);

-- Each enrolment's row as its kept figures are: the migration's start, and loaders that
-- write enrolments with triggers off (the bench fixture).
CREATE FUNCTION enrolment_queues_fill(ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO enrolment_queues AS q
           (enrolment_id, centre_id, claims_to_review, awaiting_countersignature, learner_sort)
    SELECT e.id, e.centre_id, e.claims_to_review, e.awaiting_countersignature, e.learner_sort
      FROM enrolments e WHERE e.id = ANY(ids) ORDER BY e.id
    ON CONFLICT (enrolment_id) DO UPDATE
       SET centre_id = excluded.centre_id, claims_to_review = excluded.claims_to_review,
           awaiting_countersignature = excluded.awaiting_countersignature,
           learner_sort = excluded.learner_sort;
$$;

SELECT enrolment_queues_fill(ARRAY(SELECT id FROM enrolments));

CREATE FUNCTION enrolments_queue_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enrolment_queues
           (enrolment_id, centre_id, claims_to_review, awaiting_countersignature, learner_sort)
    SELECT a.id, a.centre_id, a.claims_to_review, a.awaiting_countersignature, a.learner_sort
      FROM added a ORDER BY a.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER enrolments_queued AFTER INSERT ON enrolments
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION enrolments_queue_added();

-- A row trigger that fires only when a copied column moves, so that the ticks that move
-- none of them (most assessor ticks) touch nothing here.
CREATE FUNCTION enrolments_queue_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrolment_queues
       SET centre_id = NEW.centre_id, claims_to_review = NEW.claims_to_review,
           awaiting_countersignature = NEW.awaiting_countersignature,
           learner_sort = NEW.learner_sort
     WHERE enrolment_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER enrolments_queue_moved
    AFTER UPDATE OF centre_id, claims_to_review, awaiting_countersignature, learner_sort ON enrolments
    FOR EACH ROW
    WHEN (OLD.claims_to_review IS DISTINCT FROM NEW.claims_to_review
          OR OLD.awaiting_countersignature IS DISTINCT FROM NEW.awaiting_countersignature
          OR OLD.learner_sort IS DISTINCT FROM NEW.learner_sort
          OR OLD.centre_id IS DISTINCT FROM NEW.centre_id)
    EXECUTE FUNCTION enrolments_queue_moved();

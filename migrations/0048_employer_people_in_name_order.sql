-- An employer's person's learners (their home's ten, `/employer/learners` fifty a page)
-- were every followed enrolment joined and sorted by the learner's name to show a page:
-- at the 100,000-enrolment bench centre, a person following 4,897 learners read the
-- whole enrolments table for it (a parallel scan, 74 ms). The name's sort key is now
-- kept on the link, as `enrolment_queues` keeps it (migration 0039), so a page is read
-- in order from an index and only its rows are joined.
ALTER TABLE enrolment_employer_people ADD COLUMN learner_sort text;
UPDATE enrolment_employer_people f SET learner_sort = e.learner_sort
FROM enrolments e WHERE e.id = f.enrolment_id;
ALTER TABLE enrolment_employer_people ALTER COLUMN learner_sort SET NOT NULL;

DROP INDEX enrolment_employer_people_user_idx;
CREATE INDEX enrolment_employer_people_sorted_idx
    ON enrolment_employer_people (user_id, learner_sort, enrolment_id);

-- A new link takes the enrolment's key, whatever the writer sent.
CREATE FUNCTION employer_people_take_sort() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT learner_sort INTO NEW.learner_sort FROM enrolments WHERE id = NEW.enrolment_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER enrolment_employer_people_sorted
    BEFORE INSERT OR UPDATE ON enrolment_employer_people
    FOR EACH ROW EXECUTE FUNCTION employer_people_take_sort();

-- A learner renamed (migration 0015 moves `enrolments.learner_sort`) moves on every link.
CREATE FUNCTION enrolments_sort_to_employer_people() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrolment_employer_people SET learner_sort = NEW.learner_sort
    WHERE enrolment_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER enrolments_employer_people_sort
    AFTER UPDATE OF learner_sort ON enrolments
    FOR EACH ROW WHEN (OLD.learner_sort IS DISTINCT FROM NEW.learner_sort)
    EXECUTE FUNCTION enrolments_sort_to_employer_people();

-- The report ordered by qualification, major, assessor or status over a whole centre
-- reads its page group by group from an index, each group in the learner's name order
-- (db::report::push_grouped_page_ids), instead of sorting every enrolment of the centre.
-- None of these columns is one a tick moves, so ticks still update enrolments in place
-- (HOT). The first three replace single-column indexes led by the same column, which
-- keep serving the foreign-key lookups they were made for.
DROP INDEX enrolments_version_idx;
CREATE INDEX enrolments_version_idx ON enrolments (version_id, learner_sort, id);
DROP INDEX enrolments_major_idx;
CREATE INDEX enrolments_major_idx ON enrolments (major_id, learner_sort, id);
DROP INDEX enrolments_assessor_idx;
CREATE INDEX enrolments_assessor_idx ON enrolments (assessor_id, learner_sort, id);
CREATE INDEX enrolments_status_idx ON enrolments (centre_id, status, learner_sort, id);

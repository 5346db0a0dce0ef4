-- The centre's quiet enrolments in the report's orders by name and by outcome, kept: the
-- homes' "with no activity for 30 days" opens the report by name, and each view read and
-- sorted every row of the quiet copy (17,138 at 100,000 enrolments, 13 ms) for a page
-- of 50. Its total is the quiet tallies' (0056), so the page now reads its rows alone.
--
-- By name one index serves both directions (the name, then the id, the same way). By
-- outcome, one a direction, as the report orders them (`db::report::push_order`): the
-- outcome as asked, then the name ascending, then the id as asked. The copy is written
-- only as enrolments go quiet or wake, so its indexes cost no tick anything.
--
-- Each holds the last activity too, which tells the copy's rows already quiet by the
-- report's line from its last day's, so a page is read from the index alone (the copy
-- is still, so nearly all visible): planned for any page size, with the activity to
-- read from the table, PostgreSQL took the whole copy and sorted it instead.
CREATE INDEX quiet_enrolments_learner_idx ON quiet_enrolments (centre_id, learner_sort, id)
    INCLUDE (last_activity_at, last_activity_on);
CREATE INDEX quiet_enrolments_outcome_asc_idx
    ON quiet_enrolments (centre_id, outcome_rank, learner_sort, id)
    INCLUDE (last_activity_at, last_activity_on);
CREATE INDEX quiet_enrolments_outcome_desc_idx
    ON quiet_enrolments (centre_id, outcome_rank DESC, learner_sort, id DESC)
    INCLUDE (last_activity_at, last_activity_on);

-- Every tick writes an activity entry, and every entry an entry in each of the log's
-- indexes. The one on the actor served the foreign key to users (dropped in 0012; users
-- are never deleted) and no query: the log is read per enrolment and per centre. An
-- index for "everything this person did" can come back with the report that needs it.
DROP INDEX activity_log_actor_idx;

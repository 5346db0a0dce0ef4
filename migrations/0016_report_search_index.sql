-- A report's search ("patel", "@college.ac.uk") looks for its text anywhere in the
-- learner's name and email. Without an index that reads every enrolment of the centre;
-- a trigram index finds the few that match. `learner_search` changes only when a learner
-- is renamed, never on a tick, so ticks stay HOT updates that touch no index.
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: a database owner
-- may create it without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX enrolments_learner_search_trgm ON enrolments USING gin (learner_search gin_trgm_ops);

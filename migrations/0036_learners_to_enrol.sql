-- The enrol form offers the learners added most recently (and a search for any other)
-- instead of every learner of the centre: at 100,000 learners a list of all of them is a
-- page of megabytes. This index reads the newest first without sorting the centre.
CREATE INDEX users_centre_learners_newest_idx ON users (centre_id, created_at DESC, id)
    WHERE kind = 'learner' AND active;

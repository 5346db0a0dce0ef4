-- Records that only grow: finished jobs (one per evidence reading, credential…) and
-- sign-in attempts. Each worker prunes them hourly, in bounded rounds, by these
-- indexes (`db::housekeeping`). A mail job is its message's delivery record (the
-- message names it; admins see its state), so it is kept as the message is.
CREATE INDEX jobs_finished_idx ON jobs (finished_at)
    WHERE state IN ('succeeded', 'failed') AND kind <> 'send mail';
CREATE INDEX login_attempts_at_idx ON login_attempts (at);

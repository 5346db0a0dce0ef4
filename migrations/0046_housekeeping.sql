-- Records that only grow: finished jobs (one per evidence reading, email, credential…)
-- and sign-in attempts. Each worker prunes them hourly, in bounded rounds, by these
-- indexes (`db::housekeeping`).
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE state IN ('succeeded', 'failed');
CREATE INDEX login_attempts_at_idx ON login_attempts (at);

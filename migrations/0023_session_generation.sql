-- Ending every session of one account at once (deactivation, a changed password, an
-- admin's "end sessions"): each session carries the account's generation from sign-in,
-- and one that carries an older generation no longer stands. Sessions from before this
-- column carry none, read as 0, and stand until the first bump.
ALTER TABLE users ADD COLUMN session_generation integer NOT NULL DEFAULT 0;

-- Forgotten passwords and changing one's own (issue 12).
--
-- A reset link is emailed as its own kind of message (its letter says why it came),
-- and a newer link replaces it as it replaces a set-password link.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('password_link', 'password_reset', 'credential'));

-- Asking for a reset link is limited per email and per address before anything else is
-- done (the rule is `domain::password_reset`): one counter per email (trimmed and
-- lower-cased, as typed: most asked-for emails may have no account) and one per
-- address, each counting the requests of a window of an hour that opened at
-- `window_start`. Updated under the row's lock, so requests arriving together are
-- counted one after another. Counters whose window has closed are deleted hourly.
CREATE TABLE password_reset_throttles (
    scope         text NOT NULL CONSTRAINT password_reset_throttles_scope CHECK (scope IN ('email', 'address')),
    key           text NOT NULL,
    window_start  timestamptz NOT NULL DEFAULT now(),
    requests      integer NOT NULL DEFAULT 1 CONSTRAINT password_reset_throttles_requests CHECK (requests >= 1),
    PRIMARY KEY (scope, key)
);
CREATE INDEX password_reset_throttles_window_idx ON password_reset_throttles (window_start);

-- Every account with an email, in any centre: what sign-in and a reset request look
-- up (the unique index leads with the centre, so it cannot answer this alone).
CREATE INDEX users_email_idx ON users (lower(email));

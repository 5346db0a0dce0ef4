-- One person's account as their admin sees it (issue 12): when it was deactivated and
-- by whom, and when the person last signed in.
--
-- `deactivated_at` and `deactivated_by` describe the account's current deactivation
-- and are cleared when it is reactivated (the activity log keeps every deactivation
-- and reactivation). An account deactivated before this migration has neither: when
-- and by whom is not known.
ALTER TABLE users
    ADD COLUMN deactivated_at timestamptz,
    ADD COLUMN deactivated_by uuid CONSTRAINT users_deactivated_by_fkey REFERENCES users (id),
    ADD COLUMN last_signed_in_at timestamptz,
    ADD CONSTRAINT users_deactivation_only_when_inactive
        CHECK (NOT active OR (deactivated_at IS NULL AND deactivated_by IS NULL));

-- The last sign-in, where the record of attempts tells it for certain: attempts are
-- kept by the email typed, so only for an email that one account alone has.
UPDATE users u SET last_signed_in_at = a.at
  FROM (SELECT email, max(at) AS at FROM login_attempts WHERE succeeded GROUP BY email) a
 WHERE a.email = lower(u.email)
   AND NOT EXISTS (SELECT 1 FROM users o WHERE lower(o.email) = lower(u.email) AND o.id <> u.id);

-- The retention list (admin → retention) walks issued, live credentials by date of
-- issue. Archived portfolios stay in the register for good, so after a few years most
-- of that walk would be rows the list then throws away: the credential says itself
-- that its portfolio is archived, and the index leaves those out.
ALTER TABLE credentials ADD COLUMN portfolio_archived boolean NOT NULL DEFAULT false;

UPDATE credentials c SET portfolio_archived = true
  FROM enrolments e
 WHERE e.id = c.enrolment_id AND e.archived_at IS NOT NULL;

DROP INDEX credentials_issued_live_idx;

CREATE INDEX credentials_awaiting_archive_idx ON credentials (centre_id, issued_at, enrolment_id)
    WHERE issued_at IS NOT NULL AND cancelled_at IS NULL AND NOT portfolio_archived;

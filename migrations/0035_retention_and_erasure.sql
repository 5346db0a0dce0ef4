-- Retention and erasure (issue 16 point 5, SPEC §12). A centre keeps portfolios for a
-- set number of years after certification (3 by default); past that, an admin archives
-- them: their files leave storage, and the record, audits, signatures and the credential
-- register stay. A learner's personal data can be erased on request: the account is
-- pseudonymised in place, so every record that names it stays whole.
ALTER TABLE centres
    ADD COLUMN retention_years smallint NOT NULL DEFAULT 3
        CONSTRAINT centres_retention_years_range CHECK (retention_years BETWEEN 1 AND 50);

ALTER TABLE enrolments
    ADD COLUMN archived_at timestamptz,
    ADD COLUMN archived_by uuid REFERENCES users (id);

-- The file's bytes are gone (archived or erased); the row says what was there.
ALTER TABLE evidence_files ADD COLUMN removed_at timestamptz;

ALTER TABLE users ADD COLUMN erased_at timestamptz;

-- The register's documents of an erased learner bear their name: the bytes leave
-- storage, the register keeps each one's SHA-256 (what was issued stays provable).
ALTER TABLE credentials ADD COLUMN documents_removed_at timestamptz;

-- Portfolios past retention: issued, live credentials of the centre by date of issue.
CREATE INDEX credentials_issued_live_idx ON credentials (centre_id, issued_at, enrolment_id)
    WHERE issued_at IS NOT NULL AND cancelled_at IS NULL;

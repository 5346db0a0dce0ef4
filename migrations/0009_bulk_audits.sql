-- Bulk audits (SPEC §4: admins audit many enrolments at once). The run is done in the
-- background, so its progress lives here for the page that shows it.

CREATE TABLE bulk_audits (
    id                uuid PRIMARY KEY,
    centre_id         uuid NOT NULL REFERENCES centres (id),
    actor_id          uuid REFERENCES users (id),
    -- What was chosen: a whole qualification, or (NULL) a chosen set of enrolments.
    qualification_id  uuid REFERENCES qualifications (id),
    total             integer NOT NULL CHECK (total >= 0),
    done              integer NOT NULL DEFAULT 0,
    started_at        timestamptz NOT NULL DEFAULT now(),
    -- Moves with every progress report: a run that stops moving for long was cut off
    -- (its server stopped) and is shown as such.
    progressed_at     timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    error             text,
    CONSTRAINT bulk_audits_done_within_total CHECK (done BETWEEN 0 AND total),
    CONSTRAINT bulk_audits_error_when_finished CHECK (error IS NULL OR finished_at IS NOT NULL)
);
CREATE INDEX bulk_audits_centre_idx ON bulk_audits (centre_id, started_at DESC);

-- What each audit of a finished run did, for its summary.
CREATE TABLE bulk_audit_items (
    bulk_audit_id  uuid NOT NULL REFERENCES bulk_audits (id),
    enrolment_id   uuid NOT NULL REFERENCES enrolments (id),
    audit_id       uuid NOT NULL REFERENCES audits (id),
    status_before  text NOT NULL,
    status_after   text NOT NULL,
    PRIMARY KEY (bulk_audit_id, enrolment_id)
);

-- A stored audit report is several kilobytes of JSON, so it is compressed; lz4 (where
-- the server has it) compresses it many times faster than the default, which matters
-- when a bulk audit writes ten thousand of them at once.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE audits ALTER COLUMN report SET COMPRESSION lz4;
    END IF;
END;
$$;

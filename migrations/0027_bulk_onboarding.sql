-- Bulk onboarding from a file (issue 12, point 3).

-- An enrolment's programme dates, as a centre's records (MIS) hold them; optional.
ALTER TABLE enrolments
    ADD COLUMN start_date date,
    ADD COLUMN planned_end_date date,
    ADD CONSTRAINT enrolments_dates_in_order CHECK (planned_end_date > start_date);

-- Every file uploaded for import, kept whole: the preview is planned from it, the
-- import plans it again inside its transaction, and an auditor can see exactly what
-- was brought in and by whom.
CREATE TABLE imports (
    id           uuid PRIMARY KEY,
    centre_id    uuid NOT NULL REFERENCES centres (id),
    uploaded_by  uuid NOT NULL REFERENCES users (id),
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    file_name    text NOT NULL,
    content      bytea NOT NULL,
    row_count    integer NOT NULL CONSTRAINT imports_rows_positive CHECK (row_count > 0),
    imported_at  timestamptz,
    imported_by  uuid REFERENCES users (id),
    -- The figures of what the import did (domain::onboarding::Counts).
    counts       jsonb,
    CONSTRAINT imports_imported_whole CHECK (
        (imported_at IS NULL) = (imported_by IS NULL) AND (imported_at IS NULL) = (counts IS NULL))
);
CREATE INDEX imports_centre_idx ON imports (centre_id, uploaded_at DESC, id);

-- The people an import added, whose set-password emails its page follows.
CREATE TABLE import_invitations (
    import_id  uuid NOT NULL REFERENCES imports (id),
    user_id    uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (import_id, user_id)
);

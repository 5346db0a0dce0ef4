-- Employers (issue 13, point 1): the organisations a centre's learners work for. An
-- enrolment may name its learner's employer, of the same centre.

CREATE TABLE employers (
    id             uuid PRIMARY KEY,
    centre_id      uuid NOT NULL REFERENCES centres (id),
    name           text NOT NULL CONSTRAINT employers_name_present CHECK (btrim(name) <> ''),
    contact_name   text NOT NULL DEFAULT '',
    contact_email  text NOT NULL DEFAULT '',
    contact_phone  text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT employers_id_centre_key UNIQUE (id, centre_id)
);
-- One employer of a name per centre; the list reads its pages in this order.
CREATE UNIQUE INDEX employers_centre_name_key ON employers (centre_id, lower(name));

ALTER TABLE enrolments
    ADD COLUMN employer_id uuid,
    ADD CONSTRAINT enrolments_employer_fkey FOREIGN KEY (employer_id, centre_id)
        REFERENCES employers (id, centre_id);
CREATE INDEX enrolments_employer_idx ON enrolments (employer_id) WHERE employer_id IS NOT NULL;

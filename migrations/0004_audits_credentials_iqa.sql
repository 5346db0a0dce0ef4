-- Audits (SPEC §4), credentials (§6) and IQA sampling decisions (§7).

CREATE TABLE audits (
    id            uuid PRIMARY KEY,
    enrolment_id  uuid NOT NULL REFERENCES enrolments (id),
    version_id    uuid NOT NULL,
    -- NULL for an automatic audit.
    actor_id      uuid REFERENCES users (id),
    at            timestamptz NOT NULL DEFAULT now(),
    outcome       text NOT NULL CONSTRAINT audits_outcome_check CHECK (outcome IN (
        'no_majors_achieved', 'assigned_major_achieved', 'other_majors_achieved', 'all_majors_achieved')),
    -- The assigned major at the time of the audit.
    major_id      uuid NOT NULL,
    confirmed_criteria integer NOT NULL CHECK (confirmed_criteria >= 0),
    -- The domain AuditReport as JSON.
    report        jsonb NOT NULL,
    CONSTRAINT audits_major_fkey FOREIGN KEY (major_id, version_id) REFERENCES majors (id, version_id)
);
CREATE INDEX audits_enrolment_idx ON audits (enrolment_id, at DESC, id);

CREATE TABLE audit_majors (
    audit_id         uuid NOT NULL REFERENCES audits (id),
    major_id         uuid NOT NULL REFERENCES majors (id),
    achieved         boolean NOT NULL,
    -- The rule set that holds, or for an unmet major the nearest one.
    rule_set_id      uuid REFERENCES rule_sets (id),
    counted_unit_ids uuid[] NOT NULL DEFAULT '{}',
    counted_credits  integer NOT NULL CHECK (counted_credits >= 0),
    unmet            jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (audit_id, major_id),
    CONSTRAINT audit_majors_achieved_means_nothing_unmet CHECK (NOT achieved OR unmet = '[]'::jsonb)
);

CREATE TABLE credentials (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Typed by people checking a credential; generated unguessable by the application.
    number               text NOT NULL CONSTRAINT credentials_number_format CHECK (number ~ '^[A-Z0-9-]{8,64}$'),
    enrolment_id         uuid NOT NULL REFERENCES enrolments (id),
    centre_id            uuid NOT NULL REFERENCES centres (id),
    -- Snapshot at request time: a credential must not change when a name or a
    -- qualification record is later edited.
    learner_name         text NOT NULL,
    qualification_code   text NOT NULL,
    qualification_title  text NOT NULL,
    qualification_level  smallint NOT NULL,
    major_code           text NOT NULL,
    major_title          text NOT NULL,
    -- [{code, title, level, credits}] of the units achieved.
    units                jsonb NOT NULL DEFAULT '[]',
    centre_name          text NOT NULL,
    requested_at         timestamptz NOT NULL DEFAULT now(),
    requested_by         uuid REFERENCES users (id),
    generated_at         timestamptz,
    generation_error     text,
    pdf_storage_key      text,
    issued_at            timestamptz,
    issued_by            uuid REFERENCES users (id),
    cancelled_at         timestamptz,
    cancelled_by         uuid REFERENCES users (id),
    cancel_reason        text,
    CONSTRAINT credentials_number_key UNIQUE (number),
    -- A register: a cancellation always says why; a live credential has no reason.
    CONSTRAINT credentials_cancel_reason CHECK (
        (cancelled_at IS NULL AND cancelled_by IS NULL AND cancel_reason IS NULL)
        OR (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL AND btrim(cancel_reason) <> '')),
    CONSTRAINT credentials_issued_after_generation CHECK (issued_at IS NULL OR generated_at IS NOT NULL)
);
-- SPEC §6: at most one credential that is not cancelled per enrolment.
CREATE UNIQUE INDEX credentials_one_live_per_enrolment ON credentials (enrolment_id) WHERE cancelled_at IS NULL;
CREATE INDEX credentials_enrolment_idx ON credentials (enrolment_id);
CREATE INDEX credentials_centre_idx ON credentials (centre_id);

-- Credentials are never deleted, only cancelled.
CREATE FUNCTION refuse_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', CONSTRAINT = TG_TABLE_NAME || '_never_deleted';
END;
$$;
CREATE TRIGGER credentials_never_deleted BEFORE DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE TABLE credential_emails (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    credential_id  uuid NOT NULL REFERENCES credentials (id),
    to_address     text NOT NULL,
    requested_by   uuid REFERENCES users (id),
    requested_at   timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz,
    error          text,
    CONSTRAINT credential_emails_sent_or_failed CHECK (sent_at IS NULL OR error IS NULL)
);
CREATE INDEX credential_emails_credential_idx ON credential_emails (credential_id, requested_at);

-- A sampling decision on one unit of an enrolment, or on one evidence item (never both).
CREATE TABLE iqa_decisions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrolment_id  uuid NOT NULL,
    version_id    uuid NOT NULL,
    unit_id       uuid,
    evidence_id   uuid,
    iqa_id        uuid NOT NULL REFERENCES users (id),
    decision      text NOT NULL CONSTRAINT iqa_decisions_decision_check CHECK (decision IN ('agreed', 'action_required')),
    feedback      text NOT NULL DEFAULT '',
    decided_at    timestamptz NOT NULL DEFAULT now(),
    addressed_at  timestamptz,
    addressed_by  uuid REFERENCES users (id),
    closed_at     timestamptz,
    closed_by     uuid REFERENCES users (id),
    CONSTRAINT iqa_decisions_enrolment_fkey FOREIGN KEY (enrolment_id, version_id)
        REFERENCES enrolments (id, version_id) ON UPDATE CASCADE,
    CONSTRAINT iqa_decisions_unit_fkey FOREIGN KEY (unit_id, version_id) REFERENCES units (id, version_id),
    CONSTRAINT iqa_decisions_evidence_fkey FOREIGN KEY (evidence_id, enrolment_id, version_id)
        REFERENCES evidence (id, enrolment_id, version_id) ON UPDATE CASCADE,
    CONSTRAINT iqa_decisions_unit_xor_evidence CHECK ((unit_id IS NULL) <> (evidence_id IS NULL)),
    CONSTRAINT iqa_decisions_feedback_for_action CHECK (decision <> 'action_required' OR btrim(feedback) <> ''),
    -- Only an action can be addressed, and only an addressed action can be closed.
    CONSTRAINT iqa_decisions_addressed_is_action CHECK (addressed_at IS NULL OR decision = 'action_required'),
    CONSTRAINT iqa_decisions_closed_after_addressed CHECK (closed_at IS NULL OR addressed_at IS NOT NULL)
);
CREATE INDEX iqa_decisions_enrolment_idx ON iqa_decisions (enrolment_id, decided_at);
CREATE INDEX iqa_decisions_open_idx ON iqa_decisions (enrolment_id)
    WHERE decision = 'action_required' AND closed_at IS NULL;
CREATE INDEX iqa_decisions_iqa_idx ON iqa_decisions (iqa_id);
CREATE INDEX iqa_decisions_unit_idx ON iqa_decisions (unit_id) WHERE unit_id IS NOT NULL;
CREATE INDEX iqa_decisions_evidence_idx ON iqa_decisions (evidence_id) WHERE evidence_id IS NOT NULL;

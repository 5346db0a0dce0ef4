-- Enrolments, their status history, evidence and ticks (SPEC §2, §5).

CREATE TABLE enrolments (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    centre_id            uuid NOT NULL REFERENCES centres (id),
    learner_id           uuid NOT NULL,
    -- Constant columns that let composite foreign keys require a learner account for
    -- the learner and staff accounts for everyone else, all of the enrolment's centre.
    learner_kind         text NOT NULL DEFAULT 'learner' CHECK (learner_kind = 'learner'),
    staff_kind           text NOT NULL DEFAULT 'staff' CHECK (staff_kind = 'staff'),
    version_id           uuid NOT NULL,
    major_id             uuid NOT NULL,
    assessor_id          uuid NOT NULL,
    trainee_assessor_id  uuid,
    iqa_id               uuid,
    status               text NOT NULL DEFAULT 'not_yet_achieved',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    last_activity_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT enrolments_status_check CHECK (status IN (
        'not_yet_achieved', 'ready_to_be_requested', 'generating_credential', 'awaiting_issue',
        'credential_issued', 'credential_failed_to_generate', 'withdrawn')),
    CONSTRAINT enrolments_learner_fkey FOREIGN KEY (learner_id, centre_id, learner_kind)
        REFERENCES users (id, centre_id, kind),
    CONSTRAINT enrolments_assessor_fkey FOREIGN KEY (assessor_id, centre_id, staff_kind)
        REFERENCES users (id, centre_id, kind),
    CONSTRAINT enrolments_trainee_assessor_fkey FOREIGN KEY (trainee_assessor_id, centre_id, staff_kind)
        REFERENCES users (id, centre_id, kind),
    CONSTRAINT enrolments_iqa_fkey FOREIGN KEY (iqa_id, centre_id, staff_kind)
        REFERENCES users (id, centre_id, kind),
    CONSTRAINT enrolments_version_fkey FOREIGN KEY (version_id, centre_id)
        REFERENCES qualification_versions (id, centre_id),
    -- The assigned major must be a major of the enrolment's own version.
    CONSTRAINT enrolments_major_fkey FOREIGN KEY (major_id, version_id) REFERENCES majors (id, version_id),
    -- SPEC §7: an IQA never samples their own assessment decisions. (A NULL makes the
    -- comparison NULL, which a CHECK accepts: absent people are never the same person.)
    CONSTRAINT enrolments_iqa_not_assessor CHECK (iqa_id <> assessor_id AND iqa_id <> trainee_assessor_id),
    CONSTRAINT enrolments_trainee_not_assessor CHECK (trainee_assessor_id <> assessor_id),
    CONSTRAINT enrolments_id_version_key UNIQUE (id, version_id)
);
CREATE INDEX enrolments_centre_idx ON enrolments (centre_id, last_activity_at DESC);
CREATE INDEX enrolments_learner_idx ON enrolments (learner_id);
CREATE INDEX enrolments_assessor_idx ON enrolments (assessor_id);
CREATE INDEX enrolments_trainee_assessor_idx ON enrolments (trainee_assessor_id) WHERE trainee_assessor_id IS NOT NULL;
CREATE INDEX enrolments_iqa_idx ON enrolments (iqa_id) WHERE iqa_id IS NOT NULL;
CREATE INDEX enrolments_version_idx ON enrolments (version_id);
CREATE INDEX enrolments_major_idx ON enrolments (major_id);

CREATE TABLE enrolment_status_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrolment_id  uuid NOT NULL REFERENCES enrolments (id),
    -- NULL only for the status given on enrolment.
    from_status   text CONSTRAINT status_history_from_check CHECK (from_status IN (
        'not_yet_achieved', 'ready_to_be_requested', 'generating_credential', 'awaiting_issue',
        'credential_issued', 'credential_failed_to_generate', 'withdrawn')),
    to_status     text NOT NULL CONSTRAINT status_history_to_check CHECK (to_status IN (
        'not_yet_achieved', 'ready_to_be_requested', 'generating_credential', 'awaiting_issue',
        'credential_issued', 'credential_failed_to_generate', 'withdrawn')),
    -- NULL when the system acted (automatic audit, credential generation).
    actor_id      uuid REFERENCES users (id),
    at            timestamptz NOT NULL DEFAULT now(),
    reason        text,
    CONSTRAINT status_history_is_a_change CHECK (from_status IS DISTINCT FROM to_status)
);
CREATE INDEX status_history_enrolment_idx ON enrolment_status_history (enrolment_id, id);

CREATE TABLE evidence (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrolment_id  uuid NOT NULL,
    -- The enrolment's version, so that ticks can be tied to criteria of that version.
    version_id    uuid NOT NULL,
    title         text NOT NULL CONSTRAINT evidence_title_not_blank CHECK (btrim(title) <> ''),
    description   text NOT NULL DEFAULT '',
    kind          text NOT NULL CONSTRAINT evidence_kind_check CHECK (kind IN (
        'document', 'photo', 'video', 'observation', 'witness_testimony',
        'professional_discussion', 'product', 'other')),
    added_by      uuid NOT NULL REFERENCES users (id),
    added_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT evidence_enrolment_fkey FOREIGN KEY (enrolment_id, version_id)
        REFERENCES enrolments (id, version_id) ON UPDATE CASCADE,
    CONSTRAINT evidence_id_enrolment_version_key UNIQUE (id, enrolment_id, version_id)
);
CREATE INDEX evidence_enrolment_idx ON evidence (enrolment_id, added_at);

CREATE TABLE evidence_files (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    evidence_id   uuid NOT NULL REFERENCES evidence (id) ON DELETE CASCADE,
    file_name     text NOT NULL CONSTRAINT evidence_files_name_not_blank CHECK (btrim(file_name) <> ''),
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL CHECK (size_bytes >= 0),
    -- Where the bytes live in the file store; never derived from the user's file name.
    storage_key   text NOT NULL CONSTRAINT evidence_files_storage_key_key UNIQUE,
    sha256        text,
    uploaded_by   uuid NOT NULL REFERENCES users (id),
    uploaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evidence_files_evidence_idx ON evidence_files (evidence_id);

CREATE TABLE ticks (
    evidence_id   uuid NOT NULL,
    criterion_id  uuid NOT NULL,
    layer         text NOT NULL CONSTRAINT ticks_layer_check CHECK (layer IN ('learner', 'trainee_assessor', 'assessor')),
    -- Copied from the evidence through the foreign key below: lets progress queries
    -- read one enrolment's ticks without a join, and ties the criterion to its version.
    enrolment_id  uuid NOT NULL,
    version_id    uuid NOT NULL,
    ticked_by     uuid NOT NULL REFERENCES users (id),
    ticked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (evidence_id, criterion_id, layer),
    -- RESTRICT: evidence is never deleted while a tick refers to it (SPEC §2).
    CONSTRAINT ticks_evidence_fkey FOREIGN KEY (evidence_id, enrolment_id, version_id)
        REFERENCES evidence (id, enrolment_id, version_id) ON DELETE RESTRICT ON UPDATE CASCADE,
    -- The criterion must belong to the version of the evidence's enrolment.
    CONSTRAINT ticks_criterion_fkey FOREIGN KEY (criterion_id, version_id) REFERENCES criteria (id, version_id)
);
CREATE INDEX ticks_enrolment_layer_idx ON ticks (enrolment_id, layer, criterion_id);

-- SPEC §2: from Generating Credential on, assessor ticks cannot be removed. The status
-- is read FOR SHARE so that an untick and a credential request on the same enrolment
-- serialise: whichever locks the enrolment first wins, and the other sees its result.
CREATE FUNCTION ticks_refuse_locked_untick() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    current_status text;
BEGIN
    IF OLD.layer = 'assessor' THEN
        SELECT status INTO current_status FROM enrolments WHERE id = OLD.enrolment_id FOR SHARE;
        IF current_status NOT IN ('not_yet_achieved', 'ready_to_be_requested') THEN
            RAISE EXCEPTION 'assessor ticks cannot be removed while the enrolment is %', current_status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ticks_assessor_locked';
        END IF;
    END IF;
    RETURN OLD;
END;
$$;

CREATE TRIGGER ticks_assessor_locked BEFORE DELETE ON ticks
    FOR EACH ROW EXECUTE FUNCTION ticks_refuse_locked_untick();

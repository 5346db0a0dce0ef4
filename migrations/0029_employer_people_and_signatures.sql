-- Issue 13: the employer's people, what they are linked to, and signatures.

-- An employer's person (workplace mentor or line manager) has an account of its own
-- kind: it belongs to one employer and holds the employer role and no other (SPEC §8).
ALTER TABLE users
    DROP CONSTRAINT users_kind_check,
    ADD CONSTRAINT users_kind_check CHECK (kind IN ('learner', 'staff', 'employer')),
    ADD COLUMN employer_id uuid,
    ADD CONSTRAINT users_employer_fkey FOREIGN KEY (employer_id, centre_id)
        REFERENCES employers (id, centre_id),
    ADD CONSTRAINT users_employer_only_for_employer_people
        CHECK ((kind = 'employer') = (employer_id IS NOT NULL)),
    ADD CONSTRAINT users_id_employer_key UNIQUE (id, employer_id);
CREATE INDEX users_employer_idx ON users (employer_id, lower(display_name)) WHERE employer_id IS NOT NULL;

ALTER TABLE user_roles
    DROP CONSTRAINT user_roles_role_check,
    ADD CONSTRAINT user_roles_role_check
        CHECK (role IN ('learner', 'trainee_assessor', 'assessor', 'iqa', 'admin', 'employer')),
    ADD CONSTRAINT user_roles_employer_only_for_employer_people
        CHECK ((kind = 'employer') = (role = 'employer'));

-- The employer's people who follow an enrolment. Both foreign keys carry the
-- enrolment's employer, so a person of another employer can never be linked, and an
-- enrolment cannot move to another employer while its old employer's people follow it.
ALTER TABLE enrolments ADD CONSTRAINT enrolments_id_employer_key UNIQUE (id, employer_id);
CREATE TABLE enrolment_employer_people (
    enrolment_id  uuid NOT NULL,
    employer_id   uuid NOT NULL,
    user_id       uuid NOT NULL,
    linked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enrolment_id, user_id),
    CONSTRAINT enrolment_employer_people_enrolment_fkey FOREIGN KEY (enrolment_id, employer_id)
        REFERENCES enrolments (id, employer_id),
    CONSTRAINT enrolment_employer_people_user_fkey FOREIGN KEY (user_id, employer_id)
        REFERENCES users (id, employer_id)
);
-- An employer person's home lists their learners from here.
CREATE INDEX enrolment_employer_people_user_idx ON enrolment_employer_people (user_id, enrolment_id);

-- Something signed (SPEC §10): a learner's declaration on an evidence item, an
-- assessor's observation record, a witness's testimony. Its content lives in versions;
-- a version is never changed once written, so a change is a new version.
CREATE TABLE signed_items (
    id               uuid PRIMARY KEY,
    centre_id        uuid NOT NULL REFERENCES centres (id),
    enrolment_id     uuid NOT NULL REFERENCES enrolments (id),
    evidence_id      uuid NOT NULL REFERENCES evidence (id),
    kind             text NOT NULL CONSTRAINT signed_items_kind_check
                     CHECK (kind IN ('witness_testimony', 'learner_declaration', 'observation_record')),
    current_version  integer NOT NULL DEFAULT 1 CONSTRAINT signed_items_version_positive CHECK (current_version >= 1),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX signed_items_evidence_kind_key ON signed_items (evidence_id, kind);
CREATE INDEX signed_items_enrolment_idx ON signed_items (enrolment_id);

CREATE TABLE signed_item_versions (
    item_id   uuid NOT NULL REFERENCES signed_items (id),
    version   integer NOT NULL CONSTRAINT signed_item_versions_positive CHECK (version >= 1),
    content   jsonb NOT NULL,
    made_by   uuid REFERENCES users (id),
    made_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, version)
);
CREATE TRIGGER signed_item_versions_append_only BEFORE UPDATE OR DELETE ON signed_item_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE signatures (
    id              uuid PRIMARY KEY,
    item_id         uuid NOT NULL,
    version         integer NOT NULL,
    capacity        text NOT NULL CONSTRAINT signatures_capacity_check
                    CHECK (capacity IN ('learner', 'employer', 'witness', 'assessor', 'iqa')),
    -- Who: an account, or the address a one-time link was sent to (the witness who
    -- opened it proved they read that mailbox).
    signer_user_id  uuid REFERENCES users (id),
    signer_email    text,
    statement       text NOT NULL,
    typed_name      text NOT NULL CONSTRAINT signatures_typed_name_present CHECK (btrim(typed_name) <> ''),
    signed_at       timestamptz NOT NULL,
    digest          bytea NOT NULL CONSTRAINT signatures_digest_sha256 CHECK (length(digest) = 32),
    address         text,
    user_agent      text,
    CONSTRAINT signatures_one_signer CHECK ((signer_user_id IS NULL) <> (signer_email IS NULL)),
    CONSTRAINT signatures_version_fkey FOREIGN KEY (item_id, version)
        REFERENCES signed_item_versions (item_id, version),
    CONSTRAINT signatures_once_per_capacity UNIQUE (item_id, version, capacity)
);
CREATE TRIGGER signatures_append_only BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A request for a witness testimony (issue 13, point 3): to an employer's person, who
-- signs in, or to anyone by a one-time link (only its hash kept) valid for 14 days.
CREATE TABLE witness_requests (
    id               uuid PRIMARY KEY,
    centre_id        uuid NOT NULL REFERENCES centres (id),
    enrolment_id     uuid NOT NULL REFERENCES enrolments (id),
    asked_by         uuid NOT NULL REFERENCES users (id),
    asked_at         timestamptz NOT NULL DEFAULT now(),
    witness_name     text NOT NULL CONSTRAINT witness_requests_name_present CHECK (btrim(witness_name) <> ''),
    witness_email    text NOT NULL,
    witness_user_id  uuid REFERENCES users (id),
    -- The criteria of the enrolment's version the testimony concerns.
    criteria         uuid[] NOT NULL CONSTRAINT witness_requests_some_criteria CHECK (cardinality(criteria) > 0),
    occasion         text NOT NULL DEFAULT '',
    token_hash       bytea CONSTRAINT witness_requests_token_key UNIQUE,
    expires_at       timestamptz NOT NULL,
    revoked_at       timestamptz,
    -- The testimony: set when the witness signs, or from the start when the request
    -- asks the witness to sign a new version of their testimony.
    item_id          uuid REFERENCES signed_items (id),
    used_at          timestamptz,
    CONSTRAINT witness_requests_link_or_account CHECK ((token_hash IS NULL) = (witness_user_id IS NOT NULL)),
    CONSTRAINT witness_requests_used_with_item CHECK (used_at IS NULL OR item_id IS NOT NULL)
);
CREATE INDEX witness_requests_enrolment_idx ON witness_requests (enrolment_id, asked_at DESC);
CREATE INDEX witness_requests_witness_idx ON witness_requests (witness_user_id, asked_at DESC)
    WHERE witness_user_id IS NOT NULL;

-- The request's email: to someone who may have no account, so the outbox keeps the
-- name it writes to beside the address.
ALTER TABLE mail_outbox
    ALTER COLUMN user_id DROP NOT NULL,
    ADD COLUMN to_name text,
    ADD COLUMN witness_request_id uuid REFERENCES witness_requests (id),
    DROP CONSTRAINT mail_outbox_kind_check,
    ADD CONSTRAINT mail_outbox_kind_check
        CHECK (kind IN ('password_link', 'password_reset', 'credential', 'witness_request')),
    ADD CONSTRAINT mail_outbox_someone CHECK (user_id IS NOT NULL OR to_name IS NOT NULL),
    ADD CONSTRAINT mail_outbox_witness_request_has_its_id
        CHECK ((kind = 'witness_request') = (witness_request_id IS NOT NULL));

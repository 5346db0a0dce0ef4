-- Issue 14, point 4: an employer without an account signs a progress review through a
-- one-time link sent to their mailbox (only its SHA-256 kept), valid for 14 days. A new
-- link for the same review withdraws the earlier ones.
CREATE TABLE review_sign_links (
    id            uuid PRIMARY KEY,
    review_id     uuid NOT NULL REFERENCES progress_reviews (id),
    centre_id     uuid NOT NULL REFERENCES centres (id),
    enrolment_id  uuid NOT NULL REFERENCES enrolments (id),
    asked_by      uuid NOT NULL REFERENCES users (id),
    asked_at      timestamptz NOT NULL DEFAULT now(),
    signer_name   text NOT NULL CONSTRAINT review_sign_links_name_present CHECK (btrim(signer_name) <> ''),
    signer_email  text NOT NULL,
    token_hash    bytea NOT NULL CONSTRAINT review_sign_links_token_key UNIQUE,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX review_sign_links_review_idx ON review_sign_links (review_id, asked_at DESC);

ALTER TABLE mail_outbox
    ADD COLUMN review_link_id uuid REFERENCES review_sign_links (id),
    DROP CONSTRAINT mail_outbox_kind_check,
    ADD CONSTRAINT mail_outbox_kind_check
        CHECK (kind IN ('password_link', 'password_reset', 'credential', 'witness_request', 'review_signature')),
    ADD CONSTRAINT mail_outbox_review_link_has_its_id
        CHECK ((kind = 'review_signature') = (review_link_id IS NOT NULL));

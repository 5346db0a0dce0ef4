-- Email leaves through the job queue (issue 11, point 5): a request that sends mail
-- commits a message here with its job, and answers at once; the worker sends it,
-- retrying with a growing pause, and records every attempt.

CREATE TABLE mail_outbox (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id         uuid NOT NULL CONSTRAINT mail_outbox_job_key UNIQUE REFERENCES jobs (id),
    centre_id      uuid NOT NULL REFERENCES centres (id),
    kind           text NOT NULL
                   CONSTRAINT mail_outbox_kind_check CHECK (kind IN ('password_link', 'credential')),
    -- The person written to, and the address as it was when the message was queued.
    user_id        uuid NOT NULL REFERENCES users (id),
    to_address     text NOT NULL,
    credential_id  uuid REFERENCES credentials (id),
    enrolment_id   uuid REFERENCES enrolments (id),
    -- NULL when the system queued it on its own.
    requested_by   uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The link the message carries, built on --public-url when it was queued. A
    -- set-password link is a secret: it is erased once the message is sent, given up,
    -- or replaced by a newer link.
    link           text,
    CONSTRAINT mail_outbox_credential_has_its_ids
        CHECK ((kind = 'credential') = (credential_id IS NOT NULL AND enrolment_id IS NOT NULL))
);
CREATE INDEX mail_outbox_user_idx ON mail_outbox (user_id, created_at);
CREATE INDEX mail_outbox_credential_idx ON mail_outbox (credential_id, created_at)
    WHERE credential_id IS NOT NULL;

-- Every attempt at sending a message, whatever came of it: what admins are shown.
CREATE TABLE mail_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  uuid NOT NULL REFERENCES mail_outbox (id),
    -- The job's attempt number.
    attempt     integer NOT NULL CONSTRAINT mail_attempts_attempt_positive CHECK (attempt >= 1),
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    outcome     text NOT NULL
                CONSTRAINT mail_attempts_outcome_check CHECK (outcome IN ('sent', 'retrying', 'failed')),
    error       text,
    retry_at    timestamptz,
    CONSTRAINT mail_attempts_error_unless_sent CHECK ((outcome = 'sent') = (error IS NULL)),
    CONSTRAINT mail_attempts_retry_at_when_retrying CHECK ((outcome = 'retrying') = (retry_at IS NOT NULL)),
    CONSTRAINT mail_attempts_once_per_attempt UNIQUE (message_id, attempt)
);
CREATE TRIGGER mail_attempts_append_only BEFORE UPDATE OR DELETE ON mail_attempts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

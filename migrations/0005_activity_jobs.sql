-- The append-only activity log (SPEC §8) and durable background jobs (SPEC §6).

CREATE TABLE activity_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    centre_id     uuid NOT NULL REFERENCES centres (id),
    enrolment_id  uuid REFERENCES enrolments (id),
    -- NULL when the system acted.
    actor_id      uuid REFERENCES users (id),
    -- Wall-clock time, not the transaction's start: entries written late in a long
    -- transaction must not appear to precede what came before them.
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    action        text NOT NULL CONSTRAINT activity_log_action_not_blank CHECK (btrim(action) <> ''),
    detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX activity_log_enrolment_idx ON activity_log (enrolment_id, id) WHERE enrolment_id IS NOT NULL;
CREATE INDEX activity_log_centre_idx ON activity_log (centre_id, id);
CREATE INDEX activity_log_actor_idx ON activity_log (actor_id, id) WHERE actor_id IS NOT NULL;

-- An external quality assurer relies on this record: it can be added to, never changed.
CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation', CONSTRAINT = TG_TABLE_NAME || '_append_only';
END;
$$;
CREATE TRIGGER activity_log_append_only BEFORE UPDATE OR DELETE ON activity_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER activity_log_no_truncate BEFORE TRUNCATE ON activity_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Claimed with FOR UPDATE SKIP LOCKED; a running job whose heartbeat is stale belonged
-- to a process that died and is queued again.
CREATE TABLE jobs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind             text NOT NULL CONSTRAINT jobs_kind_not_blank CHECK (btrim(kind) <> ''),
    payload          jsonb NOT NULL DEFAULT '{}',
    state            text NOT NULL DEFAULT 'queued'
                     CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    run_at           timestamptz NOT NULL DEFAULT now(),
    locked_by        text,
    heartbeat_at     timestamptz,
    last_error       text,
    -- Requesting the same thing twice (a double click, a retry) queues one job.
    idempotency_key  text CONSTRAINT jobs_idempotency_key_key UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CONSTRAINT jobs_running_is_locked CHECK (state <> 'running' OR (locked_by IS NOT NULL AND heartbeat_at IS NOT NULL)),
    CONSTRAINT jobs_finished_when_done CHECK ((state IN ('succeeded', 'failed')) = (finished_at IS NOT NULL))
);
CREATE INDEX jobs_queued_idx ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_running_idx ON jobs (heartbeat_at) WHERE state = 'running';

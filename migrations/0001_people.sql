-- Centres, people, roles, password tokens, login attempts, sessions (SPEC §8).

CREATE TABLE centres (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL CONSTRAINT centres_slug_format CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    name        text NOT NULL CONSTRAINT centres_name_not_blank CHECK (btrim(name) <> ''),
    -- SPEC §4: audit automatically when confirmed criteria or the major change.
    auto_audit  boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT centres_slug_key UNIQUE (slug)
);
CREATE UNIQUE INDEX centres_name_key ON centres (lower(name));

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    centre_id      uuid NOT NULL REFERENCES centres (id),
    email          text NOT NULL CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    display_name   text NOT NULL CONSTRAINT users_display_name_not_blank CHECK (btrim(display_name) <> ''),
    -- NULL until the person sets a password through a one-time token.
    password_hash  text,
    -- An account is either a learner's or a member of staff's, never both (SPEC §8).
    kind           text NOT NULL CONSTRAINT users_kind_check CHECK (kind IN ('learner', 'staff')),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- Targets of composite foreign keys that pin the kind and centre of a reference.
    CONSTRAINT users_id_kind_key UNIQUE (id, kind),
    CONSTRAINT users_id_centre_kind_key UNIQUE (id, centre_id, kind)
);
CREATE UNIQUE INDEX users_centre_email_key ON users (centre_id, lower(email));

CREATE TABLE user_roles (
    user_id  uuid NOT NULL,
    -- Copied from users.kind through the foreign key; a kind change cascades here and
    -- then fails the check below while the roles still disagree.
    kind     text NOT NULL,
    role     text NOT NULL CONSTRAINT user_roles_role_check
             CHECK (role IN ('learner', 'trainee_assessor', 'assessor', 'iqa', 'admin')),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role),
    CONSTRAINT user_roles_user_kind_fkey FOREIGN KEY (user_id, kind)
        REFERENCES users (id, kind) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT user_roles_learner_only_for_learners CHECK ((kind = 'learner') = (role = 'learner'))
);

-- One-time tokens to set (or reset) a password. Only a hash of the token is stored.
CREATE TABLE password_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text NOT NULL DEFAULT 'set' CONSTRAINT password_tokens_purpose_check CHECK (purpose IN ('set', 'reset')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CONSTRAINT password_tokens_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX password_tokens_user_idx ON password_tokens (user_id);

-- Rate limiting per account and per address (SPEC §8). The email is kept as typed,
-- lower-cased, because failed attempts often name accounts that do not exist.
CREATE TABLE login_attempts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    email      text NOT NULL,
    address    text,
    succeeded  boolean NOT NULL
);
CREATE INDEX login_attempts_email_at_idx ON login_attempts (email, at);
CREATE INDEX login_attempts_address_at_idx ON login_attempts (address, at);

-- The layout tower-sessions-sqlx-store's PostgresStore expects; its own migrate()
-- uses IF NOT EXISTS and so accepts this.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id           text PRIMARY KEY NOT NULL,
    data         bytea NOT NULL,
    expiry_date  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS session_expiry_date_idx ON tower_sessions.session (expiry_date);

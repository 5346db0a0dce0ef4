-- Centres' signing keys sealed, and rotated (issue 11 point 7).
--
-- Sealed: the Ed25519 seed is no longer kept in the clear. `private_key_sealed` holds
-- it sealed with XChaCha20-Poly1305 under a key-encryption key the database never sees
-- (src/credentials/sealing.rs): a 24-byte nonce, the 32-byte ciphertext and the
-- 16-byte tag. SQL cannot seal (it has no key), so the order is:
--   1. this migration makes `private_key` nullable, adds `private_key_sealed`, and
--      lets the append-only trigger allow exactly one change to a clear key: its seal
--      written and its clear seed emptied, in one UPDATE;
--   2. the server, at start, seals every clear key it finds and empties it
--      (db::centre_keys::seal_clear_keys), before it serves or signs anything;
--   3. a later migration, once every installation has started with this version, can
--      drop `private_key` (and with it that allowance).
-- From now on no key is written in the clear (centre_keys_sealed_on_insert).
--
-- Rotated: a centre has several keys, numbered from 1 (`key-1` is the key every
-- earlier credential names). The current one is the newest not retired, and there is
-- at most one of those; a retired key stays published, so what it signed still
-- verifies. A key is never deleted; the only changes are `retired_at`, set once, and
-- the one-time sealing above.
ALTER TABLE centre_keys
    ADD COLUMN key_number integer NOT NULL DEFAULT 1
        CONSTRAINT centre_keys_key_number_check CHECK (key_number >= 1),
    ADD COLUMN private_key_sealed bytea
        CONSTRAINT centre_keys_private_key_sealed_length CHECK (octet_length(private_key_sealed) = 72),
    ADD COLUMN retired_at timestamptz,
    ALTER COLUMN private_key DROP NOT NULL,
    ADD CONSTRAINT centre_keys_one_secret CHECK (num_nonnulls(private_key, private_key_sealed) = 1),
    ADD CONSTRAINT centre_keys_retired_after_made CHECK (retired_at >= created_at);
ALTER TABLE centre_keys ALTER COLUMN key_number DROP DEFAULT;

ALTER TABLE centre_keys DROP CONSTRAINT centre_keys_pkey;
ALTER TABLE centre_keys ADD CONSTRAINT centre_keys_pkey PRIMARY KEY (centre_id, key_number);
CREATE UNIQUE INDEX centre_keys_one_current ON centre_keys (centre_id) WHERE retired_at IS NULL;

DROP TRIGGER centre_keys_append_only ON centre_keys;
CREATE FUNCTION centre_keys_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.centre_id = OLD.centre_id
       AND NEW.key_number = OLD.key_number
       AND NEW.public_key = OLD.public_key
       AND NEW.created_at = OLD.created_at
       AND (
            -- Retired, once.
            (OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL
             AND NEW.private_key IS NOT DISTINCT FROM OLD.private_key
             AND NEW.private_key_sealed IS NOT DISTINCT FROM OLD.private_key_sealed)
            -- A key kept in the clear before this migration, sealed and emptied, once.
         OR (OLD.private_key IS NOT NULL AND NEW.private_key IS NULL
             AND OLD.private_key_sealed IS NULL AND NEW.private_key_sealed IS NOT NULL
             AND NEW.retired_at IS NOT DISTINCT FROM OLD.retired_at)
       ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'centre_keys is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation', CONSTRAINT = 'centre_keys_append_only';
END;
$$;
CREATE TRIGGER centre_keys_append_only BEFORE UPDATE OR DELETE ON centre_keys
    FOR EACH ROW EXECUTE FUNCTION centre_keys_guard();
CREATE TRIGGER centre_keys_no_truncate BEFORE TRUNCATE ON centre_keys
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

CREATE FUNCTION centre_keys_refuse_clear() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a signing key is stored sealed, never in the clear'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'centre_keys_sealed_on_insert';
END;
$$;
CREATE TRIGGER centre_keys_sealed_on_insert BEFORE INSERT ON centre_keys
    FOR EACH ROW WHEN (NEW.private_key IS NOT NULL) EXECUTE FUNCTION centre_keys_refuse_clear();

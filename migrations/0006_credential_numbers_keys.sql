-- Credential numbers in their one canonical form, and each centre's signing key (SPEC §6).

-- Twelve Crockford base32 symbols in groups of four, a dash, and Crockford's check
-- symbol, which may also be one of *~$=U (src/domain/credential_number.rs). Typed
-- numbers are parsed into this form before any look-up, so nothing else is stored.
ALTER TABLE credentials DROP CONSTRAINT credentials_number_format;
ALTER TABLE credentials ADD CONSTRAINT credentials_number_format CHECK (number ~
    '^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z*~$=U]$');

-- The Ed25519 key a centre signs its credentials with (RFC 8032: a 32-byte secret
-- seed and the 32-byte public key it gives), made the first time one is needed. The
-- secret is kept here in the clear, as the database already holds everything a
-- credential says; moving it to a key store is a later step.
CREATE TABLE centre_keys (
    centre_id    uuid PRIMARY KEY REFERENCES centres (id),
    public_key   bytea NOT NULL CONSTRAINT centre_keys_public_key_length CHECK (octet_length(public_key) = 32),
    private_key  bytea NOT NULL CONSTRAINT centre_keys_private_key_length CHECK (octet_length(private_key) = 32),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Credentials already handed out are checked against the published key: it must
-- never change or vanish (a new key would be published beside it).
CREATE TRIGGER centre_keys_append_only BEFORE UPDATE OR DELETE ON centre_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

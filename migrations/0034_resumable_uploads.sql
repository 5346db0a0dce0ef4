-- Resumable uploads (issue 15, point 4): a big file (a 500 MB video from a phone) is sent
-- in pieces over a poor network, and a dropped connection resumes where it stopped. Each
-- upload is one person's, for one enrolment; its bytes wait in the file store's
-- `resumable` folder, and how many have arrived is the length of that file (so nothing
-- here is written per piece). Once complete it is judged by its content and digested;
-- an evidence item then takes it, as it takes a file sent with its form.
CREATE TABLE uploads (
    id            uuid PRIMARY KEY,
    enrolment_id  uuid NOT NULL REFERENCES enrolments (id),
    owner_id      uuid NOT NULL REFERENCES users (id),
    file_name     text NOT NULL CONSTRAINT uploads_name_not_blank CHECK (btrim(file_name) <> ''),
    length        bigint NOT NULL CONSTRAINT uploads_length_check CHECK (length >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- An upload nobody finishes or uses is removed after this (with its bytes).
    expires_at    timestamptz NOT NULL,
    -- Set together once every byte is in: what it is by its content, and its digest.
    content_type  text,
    sha256        text,
    completed_at  timestamptz,
    -- The evidence item that took it; an upload is taken once.
    evidence_id   uuid REFERENCES evidence (id),
    CONSTRAINT uploads_completed_whole CHECK (
        (completed_at IS NULL) = (content_type IS NULL) AND (completed_at IS NULL) = (sha256 IS NULL)),
    CONSTRAINT uploads_taken_when_complete CHECK (evidence_id IS NULL OR completed_at IS NOT NULL)
);
CREATE INDEX uploads_owner_open_idx ON uploads (owner_id) WHERE evidence_id IS NULL;
CREATE INDEX uploads_expiry_idx ON uploads (expires_at) WHERE evidence_id IS NULL;

-- An evidence item made from a device's offline queue carries the key the device gave it,
-- so a form sent again after a dropped connection (the answer lost, not the item) finds
-- the item it already made instead of making a second.
ALTER TABLE evidence ADD COLUMN client_key uuid;
CREATE UNIQUE INDEX evidence_client_key_idx ON evidence (added_by, client_key)
    WHERE client_key IS NOT NULL;

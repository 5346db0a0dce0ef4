-- The credential register is immutable (issue 11, point 8). What a credential was
-- issued as is made once and kept: the PDF the worker generated (shown before issue),
-- the issued PDF and the signed credential (JSON) are files under the data folder,
-- named by the credential's id and their SHA-256, and the register keeps each one's
-- SHA-256 and size. Every download reads the kept bytes and checks them against it;
-- nothing is made again once kept.
ALTER TABLE credentials
    ADD COLUMN draft_pdf_sha256 text,
    ADD COLUMN draft_pdf_size   bigint,
    ADD COLUMN pdf_sha256       text,
    ADD COLUMN pdf_size         bigint,
    ADD COLUMN vc_sha256        text,
    ADD COLUMN vc_size          bigint,
    -- The credential's bit in its centre's W3C Bitstring Status List (revocation),
    -- given when it is requested, never reused.
    ADD COLUMN status_list_index integer;

ALTER TABLE credentials
    ADD CONSTRAINT credentials_draft_pdf_kept CHECK (
        (draft_pdf_sha256 IS NULL AND draft_pdf_size IS NULL)
        OR (draft_pdf_sha256 ~ '^[0-9a-f]{64}$' AND draft_pdf_size > 0 AND generated_at IS NOT NULL)),
    ADD CONSTRAINT credentials_pdf_kept CHECK (
        (pdf_sha256 IS NULL AND pdf_size IS NULL)
        OR (pdf_sha256 ~ '^[0-9a-f]{64}$' AND pdf_size > 0 AND issued_at IS NOT NULL)),
    ADD CONSTRAINT credentials_vc_kept CHECK (
        (vc_sha256 IS NULL AND vc_size IS NULL)
        OR (vc_sha256 ~ '^[0-9a-f]{64}$' AND vc_size > 0 AND issued_at IS NOT NULL)),
    -- The issued PDF and the signed credential are kept together.
    ADD CONSTRAINT credentials_issued_documents_together CHECK ((pdf_sha256 IS NULL) = (vc_sha256 IS NULL));

-- Each centre gives out status list indexes in order, from a counter on the centre
-- (its row lock makes two requests at once take two indexes).
ALTER TABLE centres ADD COLUMN next_status_list_index integer NOT NULL DEFAULT 0
    CONSTRAINT centres_next_status_list_index_check CHECK (next_status_list_index >= 0);

-- Credentials already in the register, in the order they were requested.
UPDATE credentials c SET status_list_index = n.ix
FROM (SELECT id, (row_number() OVER (PARTITION BY centre_id ORDER BY requested_at, id) - 1)::integer AS ix
      FROM credentials) n
WHERE c.id = n.id;
UPDATE centres SET next_status_list_index =
    (SELECT count(*) FROM credentials WHERE credentials.centre_id = centres.id);

CREATE FUNCTION credentials_take_status_list_index() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE centres SET next_status_list_index = next_status_list_index + 1
    WHERE id = NEW.centre_id
    RETURNING next_status_list_index - 1 INTO NEW.status_list_index;
    RETURN NEW;
END;
$$;
CREATE TRIGGER credentials_status_list_index BEFORE INSERT ON credentials
    FOR EACH ROW EXECUTE FUNCTION credentials_take_status_list_index();

ALTER TABLE credentials ALTER COLUMN status_list_index SET NOT NULL;
ALTER TABLE credentials ADD CONSTRAINT credentials_status_list_index_check CHECK (status_list_index >= 0);
ALTER TABLE credentials ADD CONSTRAINT credentials_status_list_index_key UNIQUE (centre_id, status_list_index);

-- What was kept is never replaced, and a credential keeps its bit.
CREATE FUNCTION credentials_documents_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.draft_pdf_sha256 IS NOT NULL AND (NEW.draft_pdf_sha256, NEW.draft_pdf_size) IS DISTINCT FROM (OLD.draft_pdf_sha256, OLD.draft_pdf_size))
       OR (OLD.pdf_sha256 IS NOT NULL AND (NEW.pdf_sha256, NEW.pdf_size) IS DISTINCT FROM (OLD.pdf_sha256, OLD.pdf_size))
       OR (OLD.vc_sha256 IS NOT NULL AND (NEW.vc_sha256, NEW.vc_size) IS DISTINCT FROM (OLD.vc_sha256, OLD.vc_size))
       OR NEW.status_list_index IS DISTINCT FROM OLD.status_list_index THEN
        RAISE EXCEPTION 'a credential''s kept documents and status list index never change'
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'credentials_documents_kept';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER credentials_documents_kept BEFORE UPDATE ON credentials
    FOR EACH ROW EXECUTE FUNCTION credentials_documents_kept();

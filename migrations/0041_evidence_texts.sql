-- The text of each evidence item (issue 17): its title, description and the text of its
-- files, read by a job (`jobs::evidence_text`) after each change it follows, never in a
-- request. Triggers ask for it, so no way of adding an item or a file can forget: an item
-- added, its title or description changed, a file added, or a file's bytes removed
-- (archive, erasure) moves `wanted` and queues a job for that number. The job writes the
-- text it read for a number only while that number is still the one wanted, so a slow
-- job never overwrites the text of a later change.
CREATE TABLE evidence_texts (
    evidence_id  uuid PRIMARY KEY REFERENCES evidence (id) ON DELETE CASCADE,
    wanted       integer NOT NULL DEFAULT 1,
    -- The `wanted` the text was read for; NULL until it is read.
    done         integer,
    text         text NOT NULL DEFAULT '',
    -- Per file: {"file", "name", "outcome": "text" | "no_text" | "unreadable", "why", "words"}.
    files        jsonb NOT NULL DEFAULT '[]',
    read_at      timestamptz
);

CREATE FUNCTION evidence_texts_queue(ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO jobs (kind, payload, idempotency_key)
    SELECT 'evidence text', jsonb_build_object('evidence', t.evidence_id, 'wanted', t.wanted),
           'evidence text ' || t.evidence_id || ' ' || t.wanted
      FROM evidence_texts t WHERE t.evidence_id = ANY(ids)
    ON CONFLICT (idempotency_key) DO NOTHING;
$$;

-- `forget`: the files' bytes are gone, so is the text read from them, at once (the job
-- then reads the title and description again).
CREATE FUNCTION evidence_texts_want(ids uuid[], forget boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE evidence_texts t
       SET wanted = t.wanted + 1,
           text = CASE WHEN forget THEN '' ELSE t.text END,
           files = CASE WHEN forget THEN '[]'::jsonb ELSE t.files END,
           done = CASE WHEN forget THEN NULL ELSE t.done END
     WHERE t.evidence_id = ANY(ids);
    PERFORM evidence_texts_queue(ids);
END;
$$;

CREATE FUNCTION evidence_texts_item_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evidence_texts (evidence_id) SELECT id FROM added;
    PERFORM evidence_texts_queue(ARRAY(SELECT id FROM added));
    RETURN NULL;
END;
$$;
CREATE TRIGGER evidence_texts_item_added AFTER INSERT ON evidence
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION evidence_texts_item_added();

CREATE FUNCTION evidence_texts_item_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evidence_texts_want(ARRAY[NEW.id], false);
    RETURN NULL;
END;
$$;
CREATE TRIGGER evidence_texts_item_changed AFTER UPDATE OF title, description ON evidence
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION evidence_texts_item_changed();

CREATE FUNCTION evidence_texts_file_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evidence_texts_want(ARRAY(SELECT DISTINCT evidence_id FROM added), false);
    RETURN NULL;
END;
$$;
CREATE TRIGGER evidence_texts_file_added AFTER INSERT ON evidence_files
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION evidence_texts_file_added();

CREATE FUNCTION evidence_texts_file_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evidence_texts_want(ARRAY(
        SELECT DISTINCT n.evidence_id FROM after_ n JOIN before_ o ON o.id = n.id
         WHERE o.removed_at IS NULL AND n.removed_at IS NOT NULL), true);
    RETURN NULL;
END;
$$;
-- (A transition table cannot go with a column list: every update of a file looks.)
CREATE TRIGGER evidence_texts_file_removed AFTER UPDATE ON evidence_files
    REFERENCING OLD TABLE AS before_ NEW TABLE AS after_
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_texts_file_removed();

-- Items that exist already: their rows, read by one walking job in chunks
-- (`jobs::evidence_text`), not a job each.
INSERT INTO evidence_texts (evidence_id) SELECT id FROM evidence;
INSERT INTO jobs (kind, payload, idempotency_key)
SELECT 'evidence texts backfill', '{}'::jsonb, 'evidence texts backfill start'
 WHERE EXISTS (SELECT 1 FROM evidence);

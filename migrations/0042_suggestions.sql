-- Suggestions (issue 17, point 2): the criteria an evidence item's text most likely meets,
-- ranked by the job that reads the text (`jobs::evidence_text`) and kept beside it, so the
-- evidence page reads them and never computes them. Suggestions are never ticks: nothing
-- counts them.
ALTER TABLE evidence_texts
    -- The text as a whole as the model reads it (384 little-endian f32), when the server
    -- has the model: what a confirmed item teaches its criteria.
    ADD COLUMN whole bytea,
    -- Best first: [{"criterion", "score", "confident", "because"}].
    ADD COLUMN suggestions jsonb NOT NULL DEFAULT '[]',
    -- How they were ranked; NULL until they are.
    ADD COLUMN suggested_by text CONSTRAINT evidence_texts_suggested_by_kind
        CHECK (suggested_by IN ('hybrid', 'lexical'));

-- Each criterion of a qualification version as the model reads it, made once (the import
-- queues it; a reading that finds none makes them): `criteria` vectors of 384 little-
-- endian f32, in the version's criterion order.
CREATE TABLE criterion_vectors (
    version_id uuid PRIMARY KEY REFERENCES qualification_versions (id),
    model      text NOT NULL,
    criteria   integer NOT NULL CHECK (criteria >= 0),
    vectors    bytea NOT NULL CHECK (length(vectors) = criteria * 384 * 4),
    made_at    timestamptz NOT NULL DEFAULT now()
);

-- A centre may turn suggestions off; they are on by default.
ALTER TABLE centres ADD COLUMN suggestions boolean NOT NULL DEFAULT true;

-- As 0041's, and what was suggested from a forgotten text (its quotes) goes with it.
CREATE OR REPLACE FUNCTION evidence_texts_want(ids uuid[], forget boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE evidence_texts t
       SET wanted = t.wanted + 1,
           text = CASE WHEN forget THEN '' ELSE t.text END,
           files = CASE WHEN forget THEN '[]'::jsonb ELSE t.files END,
           done = CASE WHEN forget THEN NULL ELSE t.done END,
           whole = CASE WHEN forget THEN NULL ELSE t.whole END,
           suggestions = CASE WHEN forget THEN '[]'::jsonb ELSE t.suggestions END,
           suggested_by = CASE WHEN forget THEN NULL ELSE t.suggested_by END
     WHERE t.evidence_id = ANY(ids);
    PERFORM evidence_texts_queue(ids);
END;
$$;

-- Items read before suggestions were: ranked by one walking job in chunks.
INSERT INTO jobs (kind, payload, idempotency_key)
SELECT 'evidence suggestions backfill', '{}'::jsonb, 'evidence suggestions backfill start'
 WHERE EXISTS (SELECT 1 FROM evidence_texts WHERE done IS NOT NULL);

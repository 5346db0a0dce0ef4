-- Items ranked by words alone (the server had no language model) are ranked again with
-- the model once a server that has it starts: it looks for them at start, and a walk
-- finds them, both by this index (empty once every item is ranked with the model).
CREATE INDEX evidence_texts_lexical_idx ON evidence_texts (evidence_id)
    WHERE suggested_by = 'lexical';

-- Suggestions learn from the centre's own decisions (issue 17, point 4): per centre and
-- qualification version, each criterion's example is the direction of the evidence its
-- assessors confirmed it on (the sum of those items' `whole` vectors, made unit length;
-- all zeros for a criterion confirmed on no item read by the model). Remade by a job at
-- most once a day (`jobs::suggestions`), from the centre's most recent items.
CREATE TABLE criterion_examples (
    centre_id  uuid NOT NULL REFERENCES centres (id),
    version_id uuid NOT NULL REFERENCES qualification_versions (id),
    model      text NOT NULL,
    criteria   integer NOT NULL CHECK (criteria >= 0),
    vectors    bytea NOT NULL CHECK (length(vectors) = criteria * 384 * 4),
    -- The confirmed items they were learnt from.
    items      integer NOT NULL CHECK (items >= 0),
    made_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (centre_id, version_id)
);

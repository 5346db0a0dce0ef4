-- Qualifications and their immutable versions (SPEC §1). The `definition` column is the
-- domain Qualification as JSON and is what the application reads; the tables below it
-- give criteria, units and majors the ids that ticks, enrolments and audits refer to,
-- and make reports queryable. Every child carries its version_id so that composite
-- foreign keys can refuse mixing items of two versions.

CREATE TABLE qualifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    centre_id   uuid NOT NULL REFERENCES centres (id),
    code        text NOT NULL CONSTRAINT qualifications_code_not_blank CHECK (btrim(code) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT qualifications_centre_code_key UNIQUE (centre_id, code),
    CONSTRAINT qualifications_id_centre_key UNIQUE (id, centre_id)
);

CREATE TABLE qualification_versions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    qualification_id  uuid NOT NULL,
    centre_id         uuid NOT NULL,
    version           integer NOT NULL CONSTRAINT qualification_versions_version_positive CHECK (version >= 1),
    title             text NOT NULL,
    level             smallint NOT NULL CHECK (level BETWEEN 0 AND 255),
    awarding_body     text NOT NULL,
    definition        jsonb NOT NULL,
    imported_at       timestamptz NOT NULL DEFAULT now(),
    imported_by       uuid REFERENCES users (id),
    CONSTRAINT qualification_versions_qualification_fkey FOREIGN KEY (qualification_id, centre_id)
        REFERENCES qualifications (id, centre_id),
    CONSTRAINT qualification_versions_version_key UNIQUE (qualification_id, version),
    CONSTRAINT qualification_versions_id_centre_key UNIQUE (id, centre_id)
);
CREATE INDEX qualification_versions_centre_idx ON qualification_versions (centre_id);

CREATE TABLE units (
    id          uuid PRIMARY KEY,
    version_id  uuid NOT NULL REFERENCES qualification_versions (id),
    -- Index in Qualification::units.
    ordinal     integer NOT NULL CHECK (ordinal >= 0),
    code        text NOT NULL,
    title       text NOT NULL,
    level       smallint NOT NULL CHECK (level BETWEEN 0 AND 255),
    credits     integer NOT NULL CHECK (credits >= 0),
    CONSTRAINT units_version_ordinal_key UNIQUE (version_id, ordinal),
    CONSTRAINT units_version_code_key UNIQUE (version_id, code),
    CONSTRAINT units_id_version_key UNIQUE (id, version_id)
);

CREATE TABLE outcomes (
    id          uuid PRIMARY KEY,
    unit_id     uuid NOT NULL REFERENCES units (id),
    ordinal     integer NOT NULL CHECK (ordinal >= 0),
    number      text NOT NULL,
    title       text NOT NULL,
    CONSTRAINT outcomes_unit_ordinal_key UNIQUE (unit_id, ordinal),
    CONSTRAINT outcomes_unit_number_key UNIQUE (unit_id, number),
    CONSTRAINT outcomes_id_unit_key UNIQUE (id, unit_id)
);

CREATE TABLE criteria (
    id          uuid PRIMARY KEY,
    version_id  uuid NOT NULL,
    unit_id     uuid NOT NULL,
    outcome_id  uuid NOT NULL,
    -- Position in unit → outcome → criterion order over the whole version: the index
    -- the audit's ConfirmedCriteria uses.
    ordinal     integer NOT NULL CHECK (ordinal >= 0),
    number      text NOT NULL,
    text        text NOT NULL,
    CONSTRAINT criteria_unit_fkey FOREIGN KEY (unit_id, version_id) REFERENCES units (id, version_id),
    CONSTRAINT criteria_outcome_fkey FOREIGN KEY (outcome_id, unit_id) REFERENCES outcomes (id, unit_id),
    CONSTRAINT criteria_version_ordinal_key UNIQUE (version_id, ordinal),
    -- Criterion numbers identify a criterion within its unit ("1.2").
    CONSTRAINT criteria_unit_number_key UNIQUE (unit_id, number),
    CONSTRAINT criteria_id_version_key UNIQUE (id, version_id)
);
CREATE INDEX criteria_outcome_idx ON criteria (outcome_id);

CREATE TABLE majors (
    id          uuid PRIMARY KEY,
    version_id  uuid NOT NULL REFERENCES qualification_versions (id),
    ordinal     integer NOT NULL CHECK (ordinal >= 0),
    code        text NOT NULL,
    title       text NOT NULL,
    implicit    boolean NOT NULL DEFAULT false,
    CONSTRAINT majors_version_ordinal_key UNIQUE (version_id, ordinal),
    CONSTRAINT majors_version_code_key UNIQUE (version_id, code),
    CONSTRAINT majors_id_version_key UNIQUE (id, version_id)
);

CREATE TABLE rule_sets (
    id           uuid PRIMARY KEY,
    major_id     uuid NOT NULL,
    version_id   uuid NOT NULL,
    ordinal      integer NOT NULL CHECK (ordinal >= 0),
    title        text NOT NULL,
    min_credits  integer CHECK (min_credits >= 0),
    CONSTRAINT rule_sets_major_fkey FOREIGN KEY (major_id, version_id) REFERENCES majors (id, version_id),
    CONSTRAINT rule_sets_major_ordinal_key UNIQUE (major_id, ordinal),
    CONSTRAINT rule_sets_id_version_key UNIQUE (id, version_id)
);

CREATE TABLE rule_set_level_credits (
    rule_set_id  uuid NOT NULL REFERENCES rule_sets (id),
    ordinal      integer NOT NULL CHECK (ordinal >= 0),
    level        smallint NOT NULL CHECK (level BETWEEN 0 AND 255),
    credits      integer NOT NULL CHECK (credits >= 0),
    PRIMARY KEY (rule_set_id, ordinal)
);

-- Sets of units of which at most one may count.
CREATE TABLE barred_sets (
    id           uuid PRIMARY KEY,
    rule_set_id  uuid NOT NULL,
    version_id   uuid NOT NULL,
    ordinal      integer NOT NULL CHECK (ordinal >= 0),
    CONSTRAINT barred_sets_rule_set_fkey FOREIGN KEY (rule_set_id, version_id) REFERENCES rule_sets (id, version_id),
    CONSTRAINT barred_sets_rule_set_ordinal_key UNIQUE (rule_set_id, ordinal),
    CONSTRAINT barred_sets_id_version_key UNIQUE (id, version_id)
);

CREATE TABLE barred_set_units (
    barred_set_id  uuid NOT NULL,
    unit_id        uuid NOT NULL,
    version_id     uuid NOT NULL,
    PRIMARY KEY (barred_set_id, unit_id),
    CONSTRAINT barred_set_units_set_fkey FOREIGN KEY (barred_set_id, version_id) REFERENCES barred_sets (id, version_id),
    CONSTRAINT barred_set_units_unit_fkey FOREIGN KEY (unit_id, version_id) REFERENCES units (id, version_id)
);
CREATE INDEX barred_set_units_unit_idx ON barred_set_units (unit_id);

-- "groups" is close to SQL's GROUP; rule_groups reads unambiguously.
CREATE TABLE rule_groups (
    id           uuid PRIMARY KEY,
    rule_set_id  uuid NOT NULL,
    version_id   uuid NOT NULL,
    ordinal      integer NOT NULL CHECK (ordinal >= 0),
    title        text NOT NULL,
    all_units    boolean NOT NULL DEFAULT false,
    min_units    integer CHECK (min_units >= 0),
    min_credits  integer CHECK (min_credits >= 0),
    max_credits  integer CHECK (max_credits >= 0),
    CONSTRAINT rule_groups_rule_set_fkey FOREIGN KEY (rule_set_id, version_id) REFERENCES rule_sets (id, version_id),
    CONSTRAINT rule_groups_has_a_rule CHECK (all_units OR min_units IS NOT NULL OR min_credits IS NOT NULL OR max_credits IS NOT NULL),
    CONSTRAINT rule_groups_rule_set_ordinal_key UNIQUE (rule_set_id, ordinal),
    CONSTRAINT rule_groups_id_rule_set_key UNIQUE (id, rule_set_id, version_id)
);

CREATE TABLE rule_group_units (
    group_id     uuid NOT NULL,
    rule_set_id  uuid NOT NULL,
    unit_id      uuid NOT NULL,
    version_id   uuid NOT NULL,
    -- Position of the unit in the group as the file listed it.
    ordinal      integer NOT NULL CHECK (ordinal >= 0),
    PRIMARY KEY (group_id, unit_id),
    CONSTRAINT rule_group_units_group_fkey FOREIGN KEY (group_id, rule_set_id, version_id)
        REFERENCES rule_groups (id, rule_set_id, version_id),
    CONSTRAINT rule_group_units_unit_fkey FOREIGN KEY (unit_id, version_id) REFERENCES units (id, version_id),
    -- SPEC §1: a unit belongs to at most one group within a rule set.
    CONSTRAINT rule_group_units_one_group_per_rule_set UNIQUE (rule_set_id, unit_id)
);
CREATE INDEX rule_group_units_unit_idx ON rule_group_units (unit_id);

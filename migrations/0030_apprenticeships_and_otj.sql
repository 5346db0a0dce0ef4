-- Issue 14: apprenticeships, their breaks in learning and their off-the-job (OTJ) log.

-- The centre's rules for apprenticeships (SPEC §11): how the default plan is worked out
-- (a percentage of the contracted hours, or minutes a week), the margin past which a
-- learner behind on OTJ is flagged, the weeks between progress reviews, and the kinds
-- of OTJ activity its learners log.
ALTER TABLE centres
    ADD COLUMN otj_rule text NOT NULL DEFAULT 'percent'
        CONSTRAINT centres_otj_rule_check CHECK (otj_rule IN ('percent', 'weekly')),
    ADD COLUMN otj_rule_value integer NOT NULL DEFAULT 20
        CONSTRAINT centres_otj_rule_value_check CHECK (otj_rule_value > 0),
    ADD COLUMN otj_margin_percent smallint NOT NULL DEFAULT 10
        CONSTRAINT centres_otj_margin_check CHECK (otj_margin_percent BETWEEN 0 AND 100),
    ADD COLUMN review_weeks smallint NOT NULL DEFAULT 12
        CONSTRAINT centres_review_weeks_check CHECK (review_weeks BETWEEN 1 AND 12),
    ADD COLUMN otj_activity_types text[] NOT NULL DEFAULT ARRAY[
        'Teaching of theory', 'Practical training', 'Shadowing', 'Mentoring',
        'Industry visits', 'Writing assignments', 'Online learning',
        'Simulation exercises', 'Attending competitions']
        CONSTRAINT centres_otj_activity_types_some CHECK (cardinality(otj_activity_types) > 0);

-- An enrolment that is an apprenticeship. Its figures are kept, never recounted on view:
-- the approved and pending minutes by the trigger on its entries, `behind_from` (the
-- first day it is behind with the hours approved, by the centre's margin) by the one
-- write path of entries, plans, breaks and the margin, and `adjusted_end_on` (the
-- planned end pushed out by every break) by the write path of breaks.
CREATE TABLE apprenticeships (
    enrolment_id      uuid PRIMARY KEY REFERENCES enrolments (id),
    centre_id         uuid NOT NULL REFERENCES centres (id),
    start_on          date NOT NULL,
    planned_end_on    date NOT NULL,
    adjusted_end_on   date NOT NULL,
    weekly_minutes    integer NOT NULL CONSTRAINT apprenticeships_weekly_positive CHECK (weekly_minutes > 0),
    default_minutes   integer NOT NULL CONSTRAINT apprenticeships_default_not_negative CHECK (default_minutes >= 0),
    planned_minutes   integer NOT NULL CONSTRAINT apprenticeships_planned_not_negative CHECK (planned_minutes >= 0),
    override_reason   text,
    approved_minutes  bigint NOT NULL DEFAULT 0,
    pending_minutes   bigint NOT NULL DEFAULT 0,
    pending_entries   integer NOT NULL DEFAULT 0,
    behind_from       date,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT apprenticeships_dates CHECK (planned_end_on > start_on AND adjusted_end_on >= planned_end_on),
    CONSTRAINT apprenticeships_override_has_reason
        CHECK (planned_minutes = default_minutes OR btrim(coalesce(override_reason, '')) <> '')
);
CREATE INDEX apprenticeships_centre_behind_idx ON apprenticeships (centre_id, behind_from)
    WHERE behind_from IS NOT NULL;
CREATE INDEX apprenticeships_centre_idx ON apprenticeships (centre_id);

-- A break in learning pauses the clock from `from_on` to `to_on`, both days included.
-- Breaks of one apprenticeship do not overlap (checked by the write path, which holds
-- the apprenticeship's row).
CREATE TABLE learning_breaks (
    id           uuid PRIMARY KEY,
    enrolment_id uuid NOT NULL REFERENCES apprenticeships (enrolment_id),
    from_on      date NOT NULL,
    to_on        date NOT NULL,
    reason       text NOT NULL CONSTRAINT learning_breaks_reason_present CHECK (btrim(reason) <> ''),
    recorded_by  uuid NOT NULL REFERENCES users (id),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT learning_breaks_dates CHECK (to_on >= from_on)
);
CREATE INDEX learning_breaks_enrolment_idx ON learning_breaks (enrolment_id, from_on);

-- The OTJ log. Only approved minutes count; an approved entry edited goes back to
-- pending (the write path sets it so), and every change is in the activity log.
CREATE TABLE otj_entries (
    id             uuid PRIMARY KEY,
    enrolment_id   uuid NOT NULL REFERENCES apprenticeships (enrolment_id),
    day            date NOT NULL,
    minutes        integer NOT NULL CONSTRAINT otj_entries_minutes_in_a_day CHECK (minutes > 0 AND minutes <= 1440),
    activity       text NOT NULL CONSTRAINT otj_entries_activity_present CHECK (btrim(activity) <> ''),
    what           text NOT NULL CONSTRAINT otj_entries_what_present CHECK (btrim(what) <> ''),
    evidence_ids   uuid[] NOT NULL DEFAULT '{}',
    criteria       uuid[] NOT NULL DEFAULT '{}',
    state          text NOT NULL DEFAULT 'pending'
                   CONSTRAINT otj_entries_state_check CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by     uuid REFERENCES users (id),
    decided_at     timestamptz,
    reject_reason  text,
    logged_by      uuid NOT NULL REFERENCES users (id),
    logged_at      timestamptz NOT NULL DEFAULT now(),
    changed_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT otj_entries_decided
        CHECK ((state = 'pending') = (decided_at IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)),
    CONSTRAINT otj_entries_rejected_has_reason
        CHECK ((state = 'rejected') = (btrim(coalesce(reject_reason, '')) <> ''))
);
CREATE INDEX otj_entries_enrolment_idx ON otj_entries (enrolment_id, day DESC, logged_at DESC, id DESC);

-- The apprenticeship's minutes, moved by every change of an entry in the same
-- statement, so no code path can forget them.
CREATE FUNCTION otj_entries_keep_minutes() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE apprenticeships SET
            approved_minutes = approved_minutes - CASE WHEN OLD.state = 'approved' THEN OLD.minutes ELSE 0 END,
            pending_minutes = pending_minutes - CASE WHEN OLD.state = 'pending' THEN OLD.minutes ELSE 0 END,
            pending_entries = pending_entries - CASE WHEN OLD.state = 'pending' THEN 1 ELSE 0 END
        WHERE enrolment_id = OLD.enrolment_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE apprenticeships SET
            approved_minutes = approved_minutes + CASE WHEN NEW.state = 'approved' THEN NEW.minutes ELSE 0 END,
            pending_minutes = pending_minutes + CASE WHEN NEW.state = 'pending' THEN NEW.minutes ELSE 0 END,
            pending_entries = pending_entries + CASE WHEN NEW.state = 'pending' THEN 1 ELSE 0 END
        WHERE enrolment_id = NEW.enrolment_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER otj_entries_keep_minutes AFTER INSERT OR UPDATE OR DELETE ON otj_entries
    FOR EACH ROW EXECUTE FUNCTION otj_entries_keep_minutes();

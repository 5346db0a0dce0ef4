//! Ticks: evidence × criterion × layer (SPEC §2). Only assessor-layer ticks confirm a
//! criterion; the others are claims and provisional ticks.
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DbError, DbResult};
use crate::domain::ticks::{self as domain_ticks, Layer, Tick};
use crate::domain::Status;

/// One person's tick or untick, as `change_logged` applies it.
#[derive(Debug, Clone)]
pub struct TickChange {
    pub enrolment_id: Uuid,
    pub evidence_id: Uuid,
    pub criterion_id: Uuid,
    pub layer: Layer,
    pub by: Uuid,
    /// True to tick, false to untick.
    pub adding: bool,
    /// The status the change was judged allowed in (`domain::ticks::may_tick`).
    pub judged_in: Status,
    /// The activity entry's detail.
    pub detail: serde_json::Value,
    /// True when the change's in-place answer is wanted (`Written::answer`).
    pub answer: bool,
    /// When the request was not checked against the database before the change: what
    /// a remembered read said, for the change's own statement to confirm first.
    pub vouch: Option<Vouch>,
}

/// What a remembered portfolio read (`web::portfolio::remembered`) said about the
/// session, the account and the enrolment a change is judged on. The statement applies
/// the change only while all of it still holds, so a change made on it is checked as
/// one made after a fresh read would be, in the same statement instead of a round trip
/// before it: the session live (not signed out on any server, not expired), the
/// account active at the session's generation with the same roles, the enrolment with
/// the same people, version and centre (its status is the change's `judged_in`), and
/// its centre at the page revision read (a rename moves it). What else moves on an
/// enrolment (others' ticks, evidence, its audits) leaves the read standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vouch {
    /// The session store's id text.
    pub session_id: String,
    /// The session generation the session signed in at.
    pub generation: i32,
    /// The account's role keys, sorted bytewise and joined by commas (`roles_key`).
    pub roles: String,
    /// The enrolment's centre, version and people (`assigned_key`).
    pub assigned: String,
    /// Its centre's page revision.
    pub centre_revision: i64,
}

/// An enrolment's centre, version, learner, assessor, trainee assessor and IQA, as a
/// `Vouch` carries them: what the statement's `concat_ws` makes of the same columns.
pub fn assigned_key(e: &super::enrolments::Enrolment) -> String {
    let or_none = |id: Option<Uuid>| id.map_or_else(|| "-".to_owned(), |id| id.to_string());
    format!(
        "{},{},{},{},{},{}",
        e.centre_id,
        e.version_id,
        e.learner_id,
        e.assessor_id,
        or_none(e.trainee_assessor_id),
        or_none(e.iqa_id)
    )
}

/// Role keys as a `Vouch` carries them.
pub fn roles_key(roles: &[crate::domain::people::Role]) -> String {
    let mut keys: Vec<&str> = roles.iter().map(|r| r.key()).collect();
    keys.sort_unstable();
    keys.join(",")
}

/// What `change_logged` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Applied; false when there was nothing to change (already ticked, or no tick).
    Done { changed: bool },
    /// The enrolment is no longer in the status the change was judged in: nothing was
    /// changed, and the caller judges again.
    StatusMoved,
    /// The evidence item is not the enrolment's.
    NoSuchItem,
    /// The change's `Vouch` no longer holds: nothing was changed, and the caller reads
    /// afresh and judges again.
    Unvouched,
}

/// What writing a change did, and its in-place answer when it asked for one and was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub outcome: ChangeOutcome,
    pub answer: Option<TickAnswer>,
    /// For a vouched change, when its session ends (to move its end on, as a read would).
    pub session_ends: Option<OffsetDateTime>,
}

/// The evidence item as an in-place tick answers it, just after the change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickAnswer {
    /// The accept-all counts over the item's other criteria (`Elsewhere`): the changed
    /// criterion's share is the caller's to add, from `row`.
    pub elsewhere: Elsewhere,
    /// The changed criterion's ticks on the item (one per layer at most). Who ticked is
    /// named by the caller (`web::name_cache`): looking up up to three names here cost
    /// the statement as much as the rest of its answer.
    pub row: Vec<Tick>,
}

/// Of an item's criteria other than the changed one, how many have a learner's claim
/// without a tick in the changer's layer, and how many a trainee's tick without an
/// assessor's: what "Accept all learner ticks" and "Accept all trainee assessor ticks"
/// would take (`domain::ticks::accept_all_learner_ticks`, `accept_all_trainee_ticks`),
/// whether or not the changer may use them. Counted in the change's statement: sending
/// every tick of the item to be counted here cost an in-place tick a tenth of its CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Elsewhere {
    pub learner: usize,
    pub trainee: usize,
}

/// What a change did to its own tick.
enum Made {
    Nothing,
    Added { at: OffsetDateTime },
    Removed,
}

impl TickAnswer {
    /// The item as it is once `change` made `made`, from how it was before.
    fn after(mut self, change: &TickChange, made: Made) -> TickAnswer {
        let (criterion, layer) = (change.criterion_id, change.layer);
        match made {
            Made::Nothing => {}
            Made::Added { at } => {
                self.row.push(Tick {
                    criterion,
                    layer,
                    by: change.by,
                    at,
                });
            }
            Made::Removed => {
                self.row.retain(|t| t.layer != layer);
            }
        }
        self
    }
}

/// A tick or untick with its activity entry, in one statement that commits on its own
/// (one round trip: SPEC §2's busiest action). The enrolment row is locked for it, and
/// it applies only while the enrolment is still in the status it was judged in. The
/// statement moves the enrolment's kept figures and last activity and, when a
/// criterion's confirmation moved, marks it for its automatic audit
/// (`auto_audit::audit_due` runs them): see `change_logged_many`.
pub async fn change_logged(db: impl PgExecutor<'_>, c: &TickChange) -> DbResult<Written> {
    let mut written = change_logged_many(db, std::slice::from_ref(c)).await?;
    written
        .pop()
        .ok_or_else(|| DbError::Corrupt("no answer for a tick change".into()))
}

/// What a tick change found and did (see `outcome`), and what its in-place answer needs
/// (null unless asked for): the counts and arrays of `TickAnswer`, as the statement's
/// snapshot saw them before the change, and the changed tick's time.
struct ChangeAnswer {
    vouched: bool,
    session_ends: Option<OffsetDateTime>,
    found: bool,
    item: bool,
    changed: bool,
    changed_at: Option<OffsetDateTime>,
    learner_elsewhere: Option<i64>,
    trainee_elsewhere: Option<i64>,
    row_layers: Option<Vec<String>>,
    row_by: Option<Vec<Uuid>>,
    row_at: Option<Vec<OffsetDateTime>>,
}

/// `change_logged` for many changes, each to a different tick, in one statement (so one
/// commit for all): what `db::tick_writer` sends when ticks arrive together.
/// The answers are in the changes' order. An error fails them all; the caller then
/// applies them one by one, so one bad change cannot fail the others.
///
/// A change that asks for it (`answer`) gets its in-place answer from the same
/// statement, which saves a read per tick (a third of an in-place tick's cost). The
/// statement's reads see the ticks as they were before it, so the answer is that view
/// with the change's own effect applied (`TickAnswer::after`): as if the change were
/// the first of its batch, which is a real order since changes to different ticks commute.
///
/// The kept figures of the ticks it adds and removes (criterion marks, units, the
/// enrolment's counts) move in the statement's own chain of writes, once for both;
/// it then asks the ticks' two statement triggers to leave them (`attest.ticks_kept`,
/// migration 0059), which otherwise run the same chain (migration 0049's function)
/// once each, as they still do for every other writer of ticks. The two chains must
/// agree: `kept_figures`' property test holds both to a recount. One run instead of
/// two made the statement about a fifth cheaper at 100,000 enrolments.
pub async fn change_logged_many(
    db: impl PgExecutor<'_>,
    changes: &[TickChange],
) -> DbResult<Vec<Written>> {
    let mut enrolment = Vec::with_capacity(changes.len());
    let (mut judged, mut evidence, mut criterion, mut layer, mut by, mut adding, mut detail) = (
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
    );
    let mut answer = Vec::with_capacity(changes.len());
    let (mut session, mut generation, mut roles, mut assigned, mut centre_revision) = (
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
        Vec::with_capacity(changes.len()),
    );
    for c in changes {
        let v = c.vouch.as_ref();
        session.push(v.map(|v| v.session_id.as_str()));
        generation.push(v.map(|v| v.generation));
        roles.push(v.map(|v| v.roles.as_str()));
        assigned.push(v.map(|v| v.assigned.as_str()));
        centre_revision.push(v.map(|v| v.centre_revision));
        enrolment.push(c.enrolment_id);
        judged.push(c.judged_in.key());
        evidence.push(c.evidence_id);
        criterion.push(c.criterion_id);
        layer.push(c.layer.key());
        by.push(c.by);
        adding.push(c.adding);
        detail.push(c.detail.clone());
        answer.push(c.answer);
    }
    // Enrolments are locked in id order, as every statement that locks several does.
    let rows = sqlx::query_as!(
        ChangeAnswer,
        "WITH req AS (SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], \
                                           $6::uuid[], $7::bool[], $8::jsonb[], $9::bool[], \
                                           $10::text[], $11::int4[], $12::text[], $13::text[], $14::int8[]) \
                      WITH ORDINALITY \
                      AS r(enrolment_id, judged_in, evidence_id, criterion_id, layer, by_id, adding, detail, \
                           answer, session_id, generation, roles, assigned, centre_revision, n)), \
         e AS (SELECT en.id, en.centre_id, en.status, \
                      concat_ws(',', en.centre_id, en.version_id, en.learner_id, en.assessor_id, \
                                COALESCE(en.trainee_assessor_id::text, '-'), \
                                COALESCE(en.iqa_id::text, '-')) AS assigned \
               FROM enrolments en \
               WHERE en.id IN (SELECT enrolment_id FROM req) ORDER BY en.id FOR UPDATE), \
         vouched AS (SELECT r.n, s.expiry_date FROM req r \
                     JOIN e ON e.id = r.enrolment_id AND e.assigned = r.assigned \
                     JOIN centres c ON c.id = e.centre_id AND c.page_revision = r.centre_revision \
                     JOIN tower_sessions.session s ON s.id = r.session_id AND s.expiry_date > now() \
                     JOIN users u ON u.id = r.by_id AND u.active AND u.session_generation = r.generation \
                     WHERE array_to_string(ARRAY(SELECT ur.role FROM user_roles ur WHERE ur.user_id = u.id \
                                                 ORDER BY ur.role COLLATE \"C\"), ',') = r.roles), \
         ok AS (SELECT r.*, ev.version_id, e.centre_id FROM req r \
                JOIN e ON e.id = r.enrolment_id AND e.status = r.judged_in \
                JOIN evidence ev ON ev.id = r.evidence_id AND ev.enrolment_id = r.enrolment_id \
                WHERE r.session_id IS NULL OR EXISTS (SELECT 1 FROM vouched v WHERE v.n = r.n)), \
         ins AS (INSERT INTO ticks (evidence_id, criterion_id, layer, enrolment_id, version_id, ticked_by) \
                 SELECT evidence_id, criterion_id, layer, enrolment_id, version_id, by_id FROM ok WHERE adding \
                 ON CONFLICT (evidence_id, criterion_id, layer) DO NOTHING \
                 RETURNING ticks.evidence_id, ticks.criterion_id, ticks.layer, ticks.ticked_at, ticks.enrolment_id), \
         del AS (DELETE FROM ticks t USING ok \
                 WHERE NOT ok.adding AND t.evidence_id = ok.evidence_id AND t.criterion_id = ok.criterion_id \
                   AND t.layer = ok.layer \
                 RETURNING t.evidence_id, t.criterion_id, t.layer, t.ticked_at, t.enrolment_id), \
         changed AS (SELECT ok.*, c.ticked_at FROM ok JOIN (SELECT * FROM ins UNION ALL SELECT * FROM del) c \
                     USING (evidence_id, criterion_id, layer)), \
         logged AS (INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
                    SELECT centre_id, enrolment_id, by_id, CASE WHEN adding THEN 'tick' ELSE 'untick' END, detail \
                    FROM changed ORDER BY n), \
         deltas AS (SELECT m.enrolment_id, m.criterion_id, \
                           COALESCE(sum(m.sign) FILTER (WHERE m.layer = 'learner'), 0) AS learner, \
                           COALESCE(sum(m.sign) FILTER (WHERE m.layer = 'trainee_assessor'), 0) AS trainee, \
                           COALESCE(sum(m.sign) FILTER (WHERE m.layer = 'assessor'), 0) AS assessor \
                    FROM (SELECT enrolment_id, criterion_id, layer, 1 AS sign FROM ins \
                          UNION ALL SELECT enrolment_id, criterion_id, layer, -1 FROM del) m \
                    GROUP BY m.enrolment_id, m.criterion_id), \
         marks AS (INSERT INTO criterion_marks AS m (enrolment_id, criterion_id, learner, trainee, assessor) \
                   SELECT enrolment_id, criterion_id, learner, trainee, assessor FROM deltas \
                   ORDER BY enrolment_id, criterion_id \
                   ON CONFLICT (enrolment_id, criterion_id) DO UPDATE \
                   SET learner = m.learner + excluded.learner, trainee = m.trainee + excluded.trainee, \
                       assessor = m.assessor + excluded.assessor \
                   RETURNING m.enrolment_id, m.criterion_id, m.learner, m.trainee, m.assessor), \
         states AS (SELECT n.enrolment_id, n.criterion_id, \
                           criterion_state(n.learner - d.learner, n.trainee - d.trainee, n.assessor - d.assessor) AS was, \
                           criterion_state(n.learner, n.trainee, n.assessor) AS now_ \
                    FROM marks n JOIN deltas d USING (enrolment_id, criterion_id)), \
         unit_moves AS (SELECT s.enrolment_id, c.unit_id, \
                               sum(CASE WHEN s.now_ = 'confirmed' THEN 1 ELSE -1 END)::integer AS delta \
                        FROM states s JOIN criteria c ON c.id = s.criterion_id \
                        WHERE (s.was = 'confirmed') <> (s.now_ = 'confirmed') \
                        GROUP BY s.enrolment_id, c.unit_id), \
         units_now AS (INSERT INTO enrolment_units AS eu (enrolment_id, unit_id, confirmed) \
                       SELECT enrolment_id, unit_id, delta FROM unit_moves ORDER BY enrolment_id, unit_id \
                       ON CONFLICT (enrolment_id, unit_id) DO UPDATE SET confirmed = eu.confirmed + excluded.confirmed \
                       RETURNING eu.enrolment_id, eu.unit_id, eu.confirmed), \
         unit_deltas AS (SELECT n.enrolment_id, \
                                sum((n.confirmed = u.criteria_count)::integer \
                                    - (n.confirmed - m.delta = u.criteria_count)::integer) AS achieved, \
                                sum((n.confirmed > 0)::integer - (n.confirmed - m.delta > 0)::integer) AS assessed \
                         FROM units_now n JOIN unit_moves m USING (enrolment_id, unit_id) \
                         JOIN units u ON u.id = n.unit_id \
                         GROUP BY n.enrolment_id), \
         per_enrolment AS (SELECT enrolment_id, \
                                  sum((now_ = 'confirmed')::integer - (was = 'confirmed')::integer) AS confirmed, \
                                  sum((now_ = 'countersign')::integer - (was = 'countersign')::integer) AS countersign, \
                                  sum((now_ = 'claimed')::integer - (was = 'claimed')::integer) AS claimed, \
                                  bool_or((now_ = 'confirmed') <> (was = 'confirmed')) AS confirmation_moved \
                           FROM states GROUP BY enrolment_id), \
         updated AS (UPDATE enrolments e \
                     SET last_activity_at = clock_timestamp(), \
                         confirmed_criteria = e.confirmed_criteria + p.confirmed, \
                         awaiting_countersignature = e.awaiting_countersignature + p.countersign, \
                         claims_to_review = e.claims_to_review + p.claimed, \
                         units_achieved = e.units_achieved + COALESCE(ud.achieved, 0), \
                         units_assessed = e.units_assessed + COALESCE(ud.assessed, 0) \
                     FROM per_enrolment p LEFT JOIN unit_deltas ud USING (enrolment_id) \
                     WHERE e.id = p.enrolment_id \
                     RETURNING e.id, e.centre_id, p.confirmation_moved), \
         marked AS (INSERT INTO audit_marks (enrolment_id, due_at) \
                    SELECT u.id, clock_timestamp() FROM updated u JOIN centres c ON c.id = u.centre_id \
                    WHERE u.confirmation_moved AND c.auto_audit \
                    ORDER BY u.id \
                    ON CONFLICT (enrolment_id) DO NOTHING), \
         kept AS (SELECT set_config('attest.ticks_kept', 'INSERT DELETE', true) AS said) \
         SELECT r.session_id IS NULL OR EXISTS (SELECT 1 FROM vouched v WHERE v.n = r.n) AS \"vouched!\", \
                (SELECT v.expiry_date FROM vouched v WHERE v.n = r.n) AS \"session_ends?\", \
                EXISTS (SELECT 1 FROM e WHERE e.id = r.enrolment_id AND e.status = r.judged_in) AS \"found!\", \
                EXISTS (SELECT 1 FROM ok WHERE ok.n = r.n) AS \"item!\", \
                EXISTS (SELECT 1 FROM changed c WHERE c.n = r.n) AS \"changed!\", \
                (SELECT c.ticked_at FROM changed c WHERE c.n = r.n) AS \"changed_at?\", \
                p.learner AS \"learner_elsewhere?\", p.trainee AS \"trainee_elsewhere?\", \
                q.layers AS \"row_layers?\", q.by AS \"row_by?\", q.at AS \"row_at?\" \
         FROM req r CROSS JOIN kept \
         LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE g.learner AND NOT g.mine) AS learner, \
                                   count(*) FILTER (WHERE g.trainee AND NOT g.assessor) AS trainee \
                            FROM (SELECT bool_or(t.layer = 'learner') AS learner, \
                                         bool_or(t.layer = 'trainee_assessor') AS trainee, \
                                         bool_or(t.layer = 'assessor') AS assessor, \
                                         bool_or(t.layer = r.layer) AS mine \
                                  FROM ticks t \
                                  WHERE r.answer AND t.evidence_id = r.evidence_id \
                                    AND t.criterion_id <> r.criterion_id \
                                  GROUP BY t.criterion_id) g) p ON true \
         LEFT JOIN LATERAL (SELECT array_agg(t.layer) AS layers, array_agg(t.ticked_by) AS by, \
                                   array_agg(t.ticked_at) AS at \
                            FROM ticks t \
                            WHERE r.answer AND t.evidence_id = r.evidence_id AND t.criterion_id = r.criterion_id) q \
                ON true \
         ORDER BY r.n",
        &enrolment[..],
        &judged as &[&str],
        &evidence[..],
        &criterion[..],
        &layer as &[&str],
        &by[..],
        &adding[..],
        &detail[..],
        &answer[..],
        &session as &[Option<&str>],
        &generation as &[Option<i32>],
        &roles as &[Option<&str>],
        &assigned as &[Option<&str>],
        &centre_revision as &[Option<i64>],
    )
    .fetch_all(db)
    .await?;
    if rows.len() != changes.len() {
        return Err(DbError::Corrupt(format!(
            "{} answers for {} tick changes",
            rows.len(),
            changes.len()
        )));
    }
    rows.into_iter()
        .zip(changes)
        .map(|(row, change)| written(row, change))
        .collect()
}

/// What one change's row of `change_logged_many` says.
fn written(row: ChangeAnswer, change: &TickChange) -> DbResult<Written> {
    let outcome = if row.vouched {
        outcome(row.found, row.item, row.changed)
    } else {
        ChangeOutcome::Unvouched
    };
    let session_ends = row.session_ends;
    if !change.answer || !matches!(outcome, ChangeOutcome::Done { .. }) {
        return Ok(Written {
            outcome,
            answer: None,
            session_ends,
        });
    }
    let layer_of = |key: String| {
        Layer::from_key(&key).ok_or_else(|| DbError::Corrupt(format!("tick layer {key:?}")))
    };
    let count = |n: Option<i64>| usize::try_from(n.unwrap_or_default()).unwrap_or_default();
    let elsewhere = Elsewhere {
        learner: count(row.learner_elsewhere),
        trainee: count(row.trainee_elsewhere),
    };
    let (row_layers, row_by, row_at) = (
        row.row_layers.unwrap_or_default(),
        row.row_by.unwrap_or_default(),
        row.row_at.unwrap_or_default(),
    );
    if [row_by.len(), row_at.len()] != [row_layers.len(); 2] {
        return Err(DbError::Corrupt("tick arrays differ in length".into()));
    }
    let on_row = row_layers
        .into_iter()
        .zip(row_by.into_iter().zip(row_at))
        .map(|(layer, (by, at))| {
            Ok(Tick {
                criterion: change.criterion_id,
                layer: layer_of(layer)?,
                by,
                at,
            })
        })
        .collect::<DbResult<_>>()?;
    let before = TickAnswer {
        elsewhere,
        row: on_row,
    };
    let made = match (row.changed, change.adding, row.changed_at) {
        (false, _, _) => Made::Nothing,
        (true, false, _) => Made::Removed,
        (true, true, Some(at)) => Made::Added { at },
        (true, true, None) => return Err(DbError::Corrupt("a new tick without its time".into())),
    };
    Ok(Written {
        outcome,
        answer: Some(before.after(change, made)),
        session_ends,
    })
}

fn outcome(found: bool, item: bool, changed: bool) -> ChangeOutcome {
    match (found, item) {
        (false, _) => ChangeOutcome::StatusMoved,
        (true, false) => ChangeOutcome::NoSuchItem,
        (true, true) => ChangeOutcome::Done { changed },
    }
}

/// Tick many criteria in one layer on one item, in one statement (accept-all). Returns
/// how many were added; those already ticked are left as they are.
pub async fn tick_many(
    db: impl PgExecutor<'_>,
    evidence_id: Uuid,
    criterion_ids: &[Uuid],
    layer: Layer,
    by: Uuid,
) -> DbResult<u64> {
    let r = sqlx::query!(
        "INSERT INTO ticks (evidence_id, criterion_id, layer, enrolment_id, version_id, ticked_by) \
         SELECT e.id, c, $3, e.enrolment_id, e.version_id, $4 \
         FROM evidence e, UNNEST($2::uuid[]) AS c WHERE e.id = $1 \
         ON CONFLICT (evidence_id, criterion_id, layer) DO NOTHING",
        evidence_id,
        criterion_ids,
        layer.key(),
        by,
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

/// "Accept all": copy the learner's (or the trainee's) ticks on one item into the
/// accepter's layer.
#[derive(Debug, Clone)]
pub struct AcceptAll {
    pub enrolment_id: Uuid,
    pub evidence_id: Uuid,
    pub from: Layer,
    pub into: Layer,
    pub by: Uuid,
}

/// The criteria accept-all would tick now, as the domain decides (for its confirmation
/// and for the change itself).
pub async fn acceptable(
    db: impl PgExecutor<'_>,
    evidence_id: Uuid,
    from: Layer,
    into: Layer,
) -> DbResult<Vec<Uuid>> {
    let on_item = list_for_evidence(db, evidence_id).await?;
    Ok(match from {
        Layer::TraineeAssessor => domain_ticks::accept_all_trainee_ticks(&on_item, into),
        _ => domain_ticks::accept_all_learner_ticks(&on_item, into),
    }?)
}

/// The accept-all use case, in one transaction: the enrolment locked (changes to one
/// enrolment take turns, and its status is the current one), judged, the ticks added and
/// the activity entry written together. Returns how many were added; a second run (or
/// two assessors at once) adds nothing twice.
pub async fn accept_all(pool: &PgPool, a: &AcceptAll) -> DbResult<u64> {
    let mut tx = pool.begin().await?;
    let enrolment = super::enrolments::lock(&mut tx, a.enrolment_id).await?;
    domain_ticks::may_tick(enrolment.status)?;
    let criteria = acceptable(&mut *tx, a.evidence_id, a.from, a.into).await?;
    let added = tick_many(&mut *tx, a.evidence_id, &criteria, a.into, a.by).await?;
    if added > 0 {
        let detail = serde_json::json!({ "evidence": a.evidence_id, "from": a.from.key(), "layer": a.into.key(), "added": added });
        super::activity::record(
            &mut *tx,
            enrolment.centre_id,
            Some(a.enrolment_id),
            Some(a.by),
            "accept all",
            detail,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// Every tick on one evidence item, by criterion ordinal then layer.
pub async fn list_for_evidence(db: impl PgExecutor<'_>, evidence_id: Uuid) -> DbResult<Vec<Tick>> {
    let rows = sqlx::query_as!(
        TickRow,
        "SELECT t.criterion_id, t.layer, t.ticked_by, t.ticked_at FROM ticks t \
         JOIN criteria c ON c.id = t.criterion_id WHERE t.evidence_id = $1 ORDER BY c.ordinal, array_position(ARRAY['learner', 'trainee_assessor', 'assessor'], t.layer)",
        evidence_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(to_tick).collect()
}

/// Every tick on one evidence item, in no order: for callers that place ticks by
/// criterion themselves (the evidence page), so the query reads only the primary key's
/// range, without joining criteria to sort.
pub(crate) async fn on_evidence(db: impl PgExecutor<'_>, evidence_id: Uuid) -> DbResult<Vec<Tick>> {
    let rows = sqlx::query_as!(
        TickRow,
        "SELECT criterion_id, layer, ticked_by, ticked_at FROM ticks WHERE evidence_id = $1",
        evidence_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(to_tick).collect()
}

/// Where each tick of an enrolment is: (evidence item, criterion, layer), in no order.
/// Who and when are left out: the progress page and the matrix only place ticks, by the
/// version's criterion index, so the query needs neither a join nor a sort (with them it
/// cost the database four times as much).
pub async fn placed_on_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<(Uuid, Uuid, Layer)>> {
    /// Where a tick is.
    struct PlacedTick {
        evidence_id: Uuid,
        criterion_id: Uuid,
        layer: String,
    }
    let rows = sqlx::query_as!(
        PlacedTick,
        "SELECT evidence_id, criterion_id, layer FROM ticks WHERE enrolment_id = $1",
        enrolment_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let layer = Layer::from_key(&r.layer)
                .ok_or_else(|| DbError::Corrupt(format!("tick layer {:?}", r.layer)))?;
            Ok((r.evidence_id, r.criterion_id, layer))
        })
        .collect()
}

/// A tick as stored.
struct TickRow {
    criterion_id: Uuid,
    layer: String,
    ticked_by: Uuid,
    ticked_at: OffsetDateTime,
}

fn to_tick(row: TickRow) -> DbResult<Tick> {
    Ok(Tick {
        criterion: row.criterion_id,
        layer: Layer::from_key(&row.layer)
            .ok_or_else(|| DbError::Corrupt(format!("tick layer {:?}", row.layer)))?,
        by: row.ticked_by,
        at: row.ticked_at,
    })
}

/// The enrolment's confirmed criteria (an assessor tick on any of its evidence), in no
/// order: read from the (enrolment, layer, criterion) index alone.
pub async fn confirmed_criteria(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT DISTINCT criterion_id FROM ticks WHERE enrolment_id = $1 AND layer = 'assessor'",
        enrolment_id,
    )
    .fetch_all(db)
    .await?)
}

/// The ordinals of the enrolment's confirmed criteria (an assessor tick on any of its
/// evidence), ascending, in one query.
pub async fn confirmed_ordinals(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<usize>> {
    let ords = sqlx::query_scalar!(
        "SELECT DISTINCT c.ordinal FROM ticks t JOIN criteria c ON c.id = t.criterion_id \
         WHERE t.enrolment_id = $1 AND t.layer = 'assessor' ORDER BY c.ordinal",
        enrolment_id,
    )
    .fetch_all(db)
    .await?;
    ords.into_iter()
        .map(|o| usize::try_from(o).map_err(|_| DbError::Corrupt(format!("ordinal {o}"))))
        .collect()
}

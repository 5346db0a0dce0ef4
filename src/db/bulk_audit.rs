//! Auditing many enrolments at once (SPEC §4: admins audit a cohort or a whole
//! qualification). The result is what `audits::audit_enrolment` on each enrolment would
//! give (the same audit rows, status moves and history), plus an "audit" entry in each
//! enrolment's activity log; but it is written a chunk of enrolments at a time, with a
//! handful of set-based statements per chunk instead of a handful per enrolment.
use std::collections::HashMap;
use std::sync::Arc;

use futures_util::stream::{FuturesUnordered, StreamExt};

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::enrolments::{self, Enrolment};
use super::qualifications::LoadedVersion;
use super::version_cache;
use super::{DbError, DbResult};
use crate::domain::audit::{AuditPlan, AuditReport};
use crate::domain::outcome::{ConfirmedCriteria, Outcome};
use crate::domain::status::{decide, Action, Decision, Status};

/// Enrolments per transaction: enough rows that each statement does real work, few
/// enough that a single audit waiting on one of the locked rows waits well under a second.
pub(crate) const CHUNK: usize = 500;

/// Chunks in flight at once.
const IN_FLIGHT: usize = 3;

/// What the bulk audit did to one enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkAudited {
    pub enrolment_id: Uuid,
    pub audit_id: Uuid,
    pub outcome: Outcome,
    pub before: Status,
    pub after: Status,
}

impl BulkAudited {
    pub fn changed_status(&self) -> bool {
        self.before != self.after
    }
}

/// Audit every enrolment in `enrolment_ids` (repeats are audited once), in id order,
/// `CHUNK` to a transaction, `IN_FLIGHT` transactions at a time. `progress(done, total)` is
/// called at the start and as chunks commit. An id that does not exist stops the run
/// with `NotFound`; chunks committed before stay.
pub async fn audit_many(
    pool: &PgPool,
    enrolment_ids: &[Uuid],
    actor: Option<Uuid>,
    progress: impl FnMut(usize, usize),
) -> DbResult<Vec<BulkAudited>> {
    audit_in_chunks(pool, enrolment_ids, actor, CHUNK, progress).await
}

/// `audit_many` with a chosen chunk size (tests use small ones to cross chunk edges).
pub async fn audit_in_chunks(
    pool: &PgPool,
    enrolment_ids: &[Uuid],
    actor: Option<Uuid>,
    chunk_size: usize,
    mut progress: impl FnMut(usize, usize),
) -> DbResult<Vec<BulkAudited>> {
    let mut ids = enrolment_ids.to_vec();
    // Chunks in id order, each locking its rows in id order: two chunks never wait on
    // each other, and a single audit (one row) cannot deadlock with them.
    ids.sort_unstable();
    ids.dedup();
    let total = ids.len();
    // Each version is loaded once for the whole run.
    let versions = load_versions(pool, &ids).await?;
    let mut done = Vec::with_capacity(total);
    progress(0, total);
    let mut chunks = ids.chunks(chunk_size.max(1));
    // A few chunks at a time, each in its own transaction on its own connection: while
    // one chunk's audits are worked out here, the database works on the others.
    let mut in_flight = FuturesUnordered::new();
    let versions = &versions;
    let mut processed = 0;
    let mut failed = None;
    loop {
        // After a failure no chunk starts, and those in flight finish (and stay).
        while failed.is_none() && in_flight.len() < IN_FLIGHT {
            let Some(chunk) = chunks.next() else { break };
            in_flight.push(async move {
                (chunk.len(), audit_chunk(pool, chunk, actor, versions).await)
            });
        }
        let Some((size, result)) = in_flight.next().await else {
            break;
        };
        match result {
            Ok(audited) => {
                // Withdrawn enrolments are passed over but count as done.
                done.extend(audited);
                processed += size;
                progress(processed, total);
            }
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    // In id order, as the chunks were cut.
    done.sort_unstable_by_key(|d| d.enrolment_id);
    Ok(done)
}

/// The versions of the enrolments, each loaded once for the whole run (from the
/// process's cache when it holds them).
async fn load_versions(pool: &PgPool, ids: &[Uuid]) -> DbResult<HashMap<Uuid, Arc<LoadedVersion>>> {
    let version_ids = sqlx::query_scalar!(
        "SELECT DISTINCT version_id FROM enrolments WHERE id = ANY($1)",
        ids,
    )
    .fetch_all(pool)
    .await?;
    let mut versions = HashMap::with_capacity(version_ids.len());
    for v in version_ids {
        versions.insert(v, version_cache::shared().load(pool, v).await?);
    }
    Ok(versions)
}

/// One enrolment's audit, worked out but not yet written.
pub(crate) struct Computed {
    pub(crate) audit_id: Uuid,
    pub(crate) report: AuditReport,
    pub(crate) confirmed: i32,
    pub(crate) decision: Decision,
}

async fn audit_chunk(
    pool: &PgPool,
    ids: &[Uuid],
    actor: Option<Uuid>,
    versions: &HashMap<Uuid, Arc<LoadedVersion>>,
) -> DbResult<Vec<BulkAudited>> {
    let mut tx = pool.begin().await?;
    // Locked for the whole chunk, so no tick or transition slips in between reading and
    // deciding (as in `audit_enrolment`).
    let locked = enrolments::lock_many(&mut tx, ids).await?;
    if locked.len() != ids.len() {
        return Err(DbError::NotFound);
    }
    let audited = audit_locked(&mut tx, locked, actor, versions, Kind::Bulk).await?;
    tx.commit().await?;
    Ok(audited)
}

/// Who asked for an audit of many, as the activity log says.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// An admin's bulk audit.
    Bulk,
    /// The automatic audit after confirmed criteria changed.
    Automatic,
    /// The first audit of enrolments an import made.
    Import,
}

impl Kind {
    pub(crate) fn detail(self) -> &'static str {
        match self {
            Kind::Bulk => r#"{"bulk": true}"#,
            Kind::Automatic => r#"{"automatic": true}"#,
            Kind::Import => r#"{"import": true}"#,
        }
    }
}

/// The first audit of enrolments just made in the caller's transaction (an import
/// enrols many in one), as `audits::enrol` gives each, written set-based.
pub(crate) async fn audit_new(
    tx: &mut PgConnection,
    ids: &[Uuid],
    actor: Option<Uuid>,
) -> DbResult<()> {
    let locked = enrolments::lock_many(&mut *tx, ids).await?;
    let mut versions = HashMap::new();
    for e in &locked {
        if let std::collections::hash_map::Entry::Vacant(slot) = versions.entry(e.version_id) {
            slot.insert(version_cache::shared().load(&mut *tx, e.version_id).await?);
        }
    }
    audit_locked(tx, locked, actor, &versions, Kind::Import).await?;
    Ok(())
}

/// Audits enrolments the caller has locked in its transaction `tx`, and applies the
/// status machine's decisions.
async fn audit_locked(
    tx: &mut PgConnection,
    mut locked: Vec<Enrolment>,
    actor: Option<Uuid>,
    versions: &HashMap<Uuid, Arc<LoadedVersion>>,
    kind: Kind,
) -> DbResult<Vec<BulkAudited>> {
    // Withdrawn allows no action, not even an audit (SPEC §5): those are passed over.
    locked.retain(|e| e.status != crate::domain::Status::Withdrawn);
    let ids: Vec<Uuid> = locked.iter().map(|e| e.id).collect();
    let ids = ids.as_slice();
    // A version missing from the run's set (an enrolment moved since it was read).
    let mut extra = HashMap::new();
    for e in &locked {
        if !versions.contains_key(&e.version_id) && !extra.contains_key(&e.version_id) {
            let v = version_cache::shared().load(&mut *tx, e.version_id).await?;
            extra.insert(e.version_id, v);
        }
    }
    let version_of = |id: &Uuid| {
        versions
            .get(id)
            .or_else(|| extra.get(id))
            .map(|v| &**v)
            .ok_or_else(|| DbError::Corrupt("an enrolment's version was not loaded".into()))
    };
    let confirmed = confirmed_criteria(&mut *tx, ids).await?;
    let computed = compute(&version_of, &locked, confirmed)?;
    write_audited(tx, &locked, computed, actor, kind).await
}

/// Every chunk enrolment's confirmed criteria (its assessor ticks' criteria), in one
/// query: one row per enrolment with its criteria as one array, read from the ticks
/// index alone. Ordinals are looked up here rather than joined in the database, which
/// for millions of ticks is the slower of the two.
async fn confirmed_criteria(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> DbResult<HashMap<Uuid, Vec<Uuid>>> {
    /// An enrolment's confirmed criteria.
    struct ConfirmedRow {
        id: Uuid,
        criteria: Vec<Uuid>,
    }
    // The ids given are never null.
    let rows = sqlx::query_as!(
        ConfirmedRow,
        "SELECT e.id AS \"id!\", ARRAY(SELECT t.criterion_id FROM ticks t \
                                      WHERE t.enrolment_id = e.id AND t.layer = 'assessor') AS \"criteria!\" \
         FROM UNNEST($1::uuid[]) AS e(id)",
        ids,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.criteria)).collect())
}

/// The audits and status decisions, from the pure domain: one plan per version.
pub(crate) fn compute<'v>(
    version_of: &impl Fn(&Uuid) -> DbResult<&'v LoadedVersion>,
    locked: &[Enrolment],
    mut confirmed: HashMap<Uuid, Vec<Uuid>>,
) -> DbResult<Vec<Computed>> {
    let mut plans: HashMap<Uuid, AuditPlan<'v>> = HashMap::new();
    locked
        .iter()
        .map(|e| {
            let version = version_of(&e.version_id)?;
            let q = &version.qualification;
            let plan = plans
                .entry(e.version_id)
                .or_insert_with(|| AuditPlan::new(q));
            let ordinals = confirmed
                .remove(&e.id)
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    version.criterion_ordinal(c).ok_or_else(|| {
                        DbError::Corrupt(format!("criterion {c} is not in the enrolment's version"))
                    })
                })
                .collect::<DbResult<Vec<usize>>>()?;
            let confirmed = ConfirmedCriteria::from_ordinals(q.criterion_count(), ordinals)
                .map_err(|e| DbError::Corrupt(e.to_string()))?;
            let major = version.major_index(e.major_id).ok_or_else(|| {
                DbError::Corrupt("the assigned major is not in the enrolment's version".into())
            })?;
            let report = plan.audit(major, &confirmed)?;
            let decision = decide(e.status, &Action::Audit(report.outcome))?;
            Ok(Computed {
                audit_id: Uuid::now_v7(),
                confirmed: i32::try_from(confirmed.count())
                    .map_err(|e| DbError::Corrupt(e.to_string()))?,
                report,
                decision,
            })
        })
        .collect()
}

/// One statement: the audits, status moves, history and activity entries of enrolments
/// the caller has locked, their automatic-audit marks removed (any audit is the one a
/// mark asks for). `computed` holds the audits of those not withdrawn, in order: a
/// withdrawn enrolment only loses its mark. Answers the audits written.
pub(crate) async fn write_audited(
    tx: &mut PgConnection,
    locked: &[Enrolment],
    computed: Vec<Computed>,
    actor: Option<Uuid>,
    kind: Kind,
) -> DbResult<Vec<BulkAudited>> {
    let mut w = Columns::with_capacity(locked.len());
    let mut computed = computed.into_iter();
    let mut audited = Vec::with_capacity(locked.len());
    for e in locked {
        w.id.push(e.id);
        w.centre.push(e.centre_id);
        w.version.push(e.version_id);
        w.major.push(e.major_id);
        w.status.push(e.status.key());
        if e.status == Status::Withdrawn {
            w.push_none();
            continue;
        }
        let c = computed
            .next()
            .ok_or_else(|| DbError::Corrupt("an audit was not worked out".into()))?;
        w.audit.push(Some(c.audit_id));
        w.outcome.push(Some(c.report.outcome.key()));
        w.label.push(Some(c.report.outcome.label()));
        w.confirmed.push(Some(c.confirmed));
        w.report.push(Some(to_json(&c.report)?));
        match c.decision {
            Decision::Move { to, .. } => {
                w.moves_to.push(Some(to.key()));
                w.reason
                    .push(enrolments::default_reason(&Action::Audit(c.report.outcome)));
            }
            Decision::Stay => {
                w.moves_to.push(None);
                w.reason.push(None);
            }
        }
        audited.push(BulkAudited {
            enrolment_id: e.id,
            audit_id: c.audit_id,
            outcome: c.report.outcome,
            before: e.status,
            after: c.decision.target(e.status),
        });
    }
    // Last activity stays: an audit is logged but is not activity (`activity::append`).
    // The audits' statement trigger keeps each enrolment's latest audit (migration 0014).
    sqlx::query!(
        "WITH a AS (SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], \
                                         $6::uuid[], $7::text[], $8::int4[], $9::text[], $10::text[], \
                                         $11::text[], $12::text[]) \
                    AS a(id, centre_id, version_id, major_id, status, audit_id, outcome, confirmed, \
                         report, label, moves_to, reason)), \
         cleared AS (DELETE FROM audit_marks m USING a WHERE m.enrolment_id = a.id), \
         audit AS (INSERT INTO audits (id, enrolment_id, version_id, actor_id, at, outcome, major_id, \
                                       confirmed_criteria, report) \
                   SELECT audit_id, id, version_id, $14, clock_timestamp(), outcome, major_id, confirmed, \
                          report::json \
                   FROM a WHERE audit_id IS NOT NULL), \
         moved AS (UPDATE enrolments e SET status = a.moves_to, updated_at = now() \
                   FROM a WHERE e.id = a.id AND a.moves_to IS NOT NULL), \
         history AS (INSERT INTO enrolment_status_history (enrolment_id, from_status, to_status, actor_id, \
                                                           reason, at) \
                     SELECT id, status, moves_to, $14, reason, clock_timestamp() \
                     FROM a WHERE moves_to IS NOT NULL) \
         INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         SELECT centre_id, id, $14, 'audit', \
                jsonb_build_object('outcome', label, 'audit', audit_id) || $13::text::jsonb \
         FROM a WHERE audit_id IS NOT NULL",
        &w.id[..],
        &w.centre[..],
        &w.version[..],
        &w.major[..],
        &w.status as &[&str],
        &w.audit as &[Option<Uuid>],
        &w.outcome as &[Option<&str>],
        &w.confirmed as &[Option<i32>],
        &w.report as &[Option<String>],
        &w.label as &[Option<&str>],
        &w.moves_to as &[Option<&str>],
        &w.reason as &[Option<String>],
        kind.detail(),
        actor,
    )
    .execute(&mut *tx)
    .await?;
    Ok(audited)
}

/// `write_audited`'s columns, one array each; no audit for a withdrawn enrolment.
struct Columns {
    id: Vec<Uuid>,
    centre: Vec<Uuid>,
    version: Vec<Uuid>,
    major: Vec<Uuid>,
    status: Vec<&'static str>,
    audit: Vec<Option<Uuid>>,
    outcome: Vec<Option<&'static str>>,
    label: Vec<Option<&'static str>>,
    confirmed: Vec<Option<i32>>,
    report: Vec<Option<String>>,
    moves_to: Vec<Option<&'static str>>,
    reason: Vec<Option<String>>,
}

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Columns {
            id: Vec::with_capacity(n),
            centre: Vec::with_capacity(n),
            version: Vec::with_capacity(n),
            major: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            audit: Vec::with_capacity(n),
            outcome: Vec::with_capacity(n),
            label: Vec::with_capacity(n),
            confirmed: Vec::with_capacity(n),
            report: Vec::with_capacity(n),
            moves_to: Vec::with_capacity(n),
            reason: Vec::with_capacity(n),
        }
    }

    fn push_none(&mut self) {
        self.audit.push(None);
        self.outcome.push(None);
        self.label.push(None);
        self.confirmed.push(None);
        self.report.push(None);
        self.moves_to.push(None);
        self.reason.push(None);
    }
}

fn to_json(value: &impl serde::Serialize) -> DbResult<String> {
    serde_json::to_string(value).map_err(|e| DbError::Corrupt(e.to_string()))
}

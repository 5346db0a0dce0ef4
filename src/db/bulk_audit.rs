//! Auditing many enrolments at once (SPEC §4: admins audit a cohort or a whole
//! qualification). The result is what `audits::audit_enrolment` on each enrolment would
//! give (the same audit rows, status moves and history), plus an "audit" entry in each
//! enrolment's activity log; but it is written a chunk of enrolments at a time, with a
//! handful of set-based statements per chunk instead of a handful per enrolment.
use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audits::major_rows;
use super::enrolments::{self, Enrolment};
use super::qualifications::{self, LoadedVersion};
use super::{DbError, DbResult};
use crate::domain::audit::{AuditPlan, AuditReport};
use crate::domain::outcome::{ConfirmedCriteria, Outcome};
use crate::domain::status::{decide, Action, Decision, Status};

/// Enrolments per transaction: enough rows that each statement does real work, few
/// enough that a single audit waiting on one of the locked rows waits well under a second.
pub const CHUNK: usize = 500;

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
/// `CHUNK` to a transaction, two transactions at a time. `progress(done, total)` is
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
    // Two chunks at a time, each in its own transaction on its own connection, so that
    // the database works on both at once (most of the time goes into its statements).
    let mut processed = 0;
    while let Some(first) = chunks.next() {
        let second = chunks.next();
        let (a, b) = tokio::join!(audit_chunk(pool, first, actor, &versions), async {
            match second {
                Some(ids) => Some(audit_chunk(pool, ids, actor, &versions).await),
                None => None,
            }
        });
        let mut failed = None;
        let sizes = [Some(first.len()), second.map(<[Uuid]>::len)];
        for (result, size) in std::iter::once(a).chain(b).zip(sizes.into_iter().flatten()) {
            match result {
                Ok(audited) => {
                    // Withdrawn enrolments are passed over but count as done.
                    processed += size;
                    done.extend(audited)
                }
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        progress(processed, total);
        if let Some(e) = failed {
            return Err(e);
        }
    }
    Ok(done)
}

/// A version as the bulk audit uses it: loaded, with each criterion's ordinal by id.
struct Version {
    loaded: LoadedVersion,
    ordinals: HashMap<Uuid, usize>,
}

impl Version {
    fn new(loaded: LoadedVersion) -> Version {
        let ordinals = loaded
            .criterion_ids
            .iter()
            .enumerate()
            .map(|(o, id)| (*id, o))
            .collect();
        Version { loaded, ordinals }
    }
}

async fn load_versions(pool: &PgPool, ids: &[Uuid]) -> DbResult<HashMap<Uuid, Version>> {
    let version_ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT DISTINCT version_id FROM enrolments WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(pool)
            .await?;
    let mut versions = HashMap::with_capacity(version_ids.len());
    for v in version_ids {
        versions.insert(
            v,
            Version::new(qualifications::load_version(pool, v).await?),
        );
    }
    Ok(versions)
}

/// One enrolment's audit, worked out but not yet written.
struct Computed {
    audit_id: Uuid,
    report: AuditReport,
    confirmed: i32,
    decision: Decision,
}

async fn audit_chunk(
    pool: &PgPool,
    ids: &[Uuid],
    actor: Option<Uuid>,
    versions: &HashMap<Uuid, Version>,
) -> DbResult<Vec<BulkAudited>> {
    let mut tx = pool.begin().await?;
    // The statements below carry megabytes of JSON: room to do it in memory.
    sqlx::query("SET LOCAL work_mem = '64MB'")
        .execute(&mut *tx)
        .await?;
    // Locked for the whole chunk, so no tick or transition slips in between reading and
    // deciding (as in `audit_enrolment`).
    let mut locked = enrolments::lock_many(&mut tx, ids).await?;
    if locked.len() != ids.len() {
        return Err(DbError::NotFound);
    }
    // Withdrawn allows no action, not even an audit (SPEC §5): those are passed over.
    locked.retain(|e| e.status != crate::domain::Status::Withdrawn);
    let ids: Vec<Uuid> = locked.iter().map(|e| e.id).collect();
    let ids = ids.as_slice();
    // A version missing from the run's set (an enrolment moved since it was read).
    let mut extra = HashMap::new();
    for e in &locked {
        if !versions.contains_key(&e.version_id) && !extra.contains_key(&e.version_id) {
            let v = qualifications::load_version(&mut *tx, e.version_id).await?;
            extra.insert(e.version_id, Version::new(v));
        }
    }
    let version_of = |id: &Uuid| {
        versions
            .get(id)
            .or_else(|| extra.get(id))
            .ok_or_else(|| DbError::Corrupt("an enrolment's version was not loaded".into()))
    };
    let confirmed = confirmed_criteria(&mut tx, ids).await?;
    let computed = compute(&version_of, &locked, confirmed)?;
    write_audits(&mut tx, &version_of, &locked, &computed, actor).await?;
    apply_decisions(&mut tx, &locked, &computed, actor).await?;
    tx.commit().await?;
    Ok(locked
        .iter()
        .zip(&computed)
        .map(|(e, c)| BulkAudited {
            enrolment_id: e.id,
            audit_id: c.audit_id,
            outcome: c.report.outcome,
            before: e.status,
            after: c.decision.target(e.status),
        })
        .collect())
}

/// Every chunk enrolment's confirmed criteria (its assessor ticks' criteria), in one
/// query: one row per enrolment with its criteria as one array, read from the ticks
/// index alone. Ordinals are looked up here rather than joined in the database, which
/// for millions of ticks is the slower of the two.
async fn confirmed_criteria(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> DbResult<HashMap<Uuid, Vec<Uuid>>> {
    let rows: Vec<(Uuid, Vec<Uuid>)> = sqlx::query_as(
        "SELECT e.id, ARRAY(SELECT t.criterion_id FROM ticks t \
                            WHERE t.enrolment_id = e.id AND t.layer = 'assessor') \
         FROM UNNEST($1::uuid[]) AS e(id)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The audits and status decisions, from the pure domain: one plan per version.
fn compute<'v>(
    version_of: &impl Fn(&Uuid) -> DbResult<&'v Version>,
    locked: &[Enrolment],
    mut confirmed: HashMap<Uuid, Vec<Uuid>>,
) -> DbResult<Vec<Computed>> {
    let mut plans: HashMap<Uuid, AuditPlan<'v>> = HashMap::new();
    locked
        .iter()
        .map(|e| {
            let version = version_of(&e.version_id)?;
            let q = &version.loaded.qualification;
            let plan = plans
                .entry(e.version_id)
                .or_insert_with(|| AuditPlan::new(q));
            let ordinals = confirmed
                .remove(&e.id)
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    version.ordinals.get(&c).copied().ok_or_else(|| {
                        DbError::Corrupt(format!("criterion {c} is not in the enrolment's version"))
                    })
                })
                .collect::<DbResult<Vec<usize>>>()?;
            let confirmed = ConfirmedCriteria::from_ordinals(q.criterion_count(), ordinals)
                .map_err(|e| DbError::Corrupt(e.to_string()))?;
            let major = version.loaded.major_index(e.major_id).ok_or_else(|| {
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

/// The audit rows and their per-major rows, in one statement. Each report's JSON is
/// parsed once, and each per-major row's unmet rules are taken from it; the counted
/// units of all rows travel as one flat array that each row takes its slice of.
async fn write_audits<'v>(
    conn: &mut PgConnection,
    version_of: &impl Fn(&Uuid) -> DbResult<&'v Version>,
    locked: &[Enrolment],
    computed: &[Computed],
    actor: Option<Uuid>,
) -> DbResult<()> {
    let n = locked.len();
    let mut a = AuditColumns::with_capacity(n);
    let mut m = MajorColumns::with_capacity(n * 6);
    for (e, c) in locked.iter().zip(computed) {
        a.id.push(c.audit_id);
        a.enrolment.push(e.id);
        a.version.push(e.version_id);
        a.major.push(e.major_id);
        a.outcome.push(c.report.outcome.key());
        a.confirmed.push(c.confirmed);
        a.report.push(to_json(&c.report)?);
        let version = &version_of(&e.version_id)?.loaded;
        for (ix, row) in major_rows(version, &c.report)?.into_iter().enumerate() {
            m.audit.push(c.audit_id);
            m.index.push(index(ix)?);
            m.major.push(row.major_id);
            m.achieved.push(row.achieved);
            m.rule_set.push(row.rule_set_id);
            // 1-based, inclusive: an empty list is a slice that ends before it starts.
            m.counted_from.push(index(m.counted.len() + 1)?);
            m.counted.extend_from_slice(&row.counted);
            m.counted_to.push(index(m.counted.len())?);
            m.credits.push(
                i32::try_from(row.counted_credits).map_err(|e| DbError::Corrupt(e.to_string()))?,
            );
        }
    }
    sqlx::query(
        "WITH a AS MATERIALIZED ( \
           SELECT a.id, a.enrolment_id, a.version_id, a.outcome, a.major_id, a.confirmed, a.report::jsonb AS report \
           FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::int4[], $7::text[]) \
                AS a(id, enrolment_id, version_id, outcome, major_id, confirmed, report)), \
         inserted AS ( \
           INSERT INTO audits (id, enrolment_id, version_id, actor_id, at, outcome, major_id, confirmed_criteria, report) \
           SELECT id, enrolment_id, version_id, $8, clock_timestamp(), outcome, major_id, confirmed, report FROM a) \
         INSERT INTO audit_majors (audit_id, major_id, achieved, rule_set_id, counted_unit_ids, counted_credits, unmet) \
         SELECT m.audit_id, m.major_id, m.achieved, m.rule_set_id, COALESCE(($15::uuid[])[m.c_from:m.c_to], '{}'), \
                m.credits, a.report -> 'majors' -> m.ix -> 'unmet' \
         FROM UNNEST($9::uuid[], $10::int4[], $11::uuid[], $12::bool[], $13::uuid[], $14::int4[], $16::int4[], $17::int4[]) \
              AS m(audit_id, ix, major_id, achieved, rule_set_id, credits, c_from, c_to) \
         JOIN a ON a.id = m.audit_id",
    )
    .bind(&a.id)
    .bind(&a.enrolment)
    .bind(&a.version)
    .bind(&a.outcome)
    .bind(&a.major)
    .bind(&a.confirmed)
    .bind(&a.report)
    .bind(actor)
    .bind(&m.audit)
    .bind(&m.index)
    .bind(&m.major)
    .bind(&m.achieved)
    .bind(&m.rule_set)
    .bind(&m.credits)
    .bind(&m.counted)
    .bind(&m.counted_from)
    .bind(&m.counted_to)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The audits' columns, one array each.
#[derive(Default)]
struct AuditColumns {
    id: Vec<Uuid>,
    enrolment: Vec<Uuid>,
    version: Vec<Uuid>,
    major: Vec<Uuid>,
    outcome: Vec<&'static str>,
    confirmed: Vec<i32>,
    report: Vec<String>,
}

impl AuditColumns {
    fn with_capacity(n: usize) -> Self {
        AuditColumns {
            id: Vec::with_capacity(n),
            enrolment: Vec::with_capacity(n),
            version: Vec::with_capacity(n),
            major: Vec::with_capacity(n),
            outcome: Vec::with_capacity(n),
            confirmed: Vec::with_capacity(n),
            report: Vec::with_capacity(n),
        }
    }
}

/// The per-major rows' columns; `counted` holds every row's counted units in turn.
#[derive(Default)]
struct MajorColumns {
    audit: Vec<Uuid>,
    index: Vec<i32>,
    major: Vec<Uuid>,
    achieved: Vec<bool>,
    rule_set: Vec<Option<Uuid>>,
    credits: Vec<i32>,
    counted: Vec<Uuid>,
    counted_from: Vec<i32>,
    counted_to: Vec<i32>,
}

impl MajorColumns {
    fn with_capacity(n: usize) -> Self {
        MajorColumns {
            audit: Vec::with_capacity(n),
            index: Vec::with_capacity(n),
            major: Vec::with_capacity(n),
            achieved: Vec::with_capacity(n),
            rule_set: Vec::with_capacity(n),
            credits: Vec::with_capacity(n),
            counted: Vec::with_capacity(n * 16),
            counted_from: Vec::with_capacity(n),
            counted_to: Vec::with_capacity(n),
        }
    }
}

fn index(i: usize) -> DbResult<i32> {
    i32::try_from(i).map_err(|_| DbError::Corrupt(format!("index {i}")))
}

/// The status machine's decisions and the activity log: every enrolment's new status
/// (where it moves) and last activity time in one UPDATE, a history row for each move in
/// one INSERT, and each enrolment's "audit" entry in the activity log in one more.
async fn apply_decisions(
    conn: &mut PgConnection,
    locked: &[Enrolment],
    computed: &[Computed],
    actor: Option<Uuid>,
) -> DbResult<()> {
    let n = locked.len();
    let (mut ids, mut centres, mut audit_ids, mut labels, mut moves_to) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut moved, mut from, mut to, mut reasons) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (e, c) in locked.iter().zip(computed) {
        ids.push(e.id);
        centres.push(e.centre_id);
        audit_ids.push(c.audit_id);
        labels.push(c.report.outcome.label());
        match c.decision {
            Decision::Move { from: f, to: t } => {
                moves_to.push(Some(t.key()));
                moved.push(e.id);
                from.push(f.key());
                to.push(t.key());
                reasons.push(enrolments::default_reason(&Action::Audit(c.report.outcome)));
            }
            Decision::Stay => moves_to.push(None),
        }
    }
    // The rows are locked by this transaction, so the statuses read are still theirs.
    // The last activity time moves with the log entry, as `activity::record` does.
    sqlx::query(
        "UPDATE enrolments e SET status = COALESCE(u.status, e.status), \
                updated_at = CASE WHEN u.status IS NULL THEN e.updated_at ELSE now() END, \
                last_activity_at = clock_timestamp() \
         FROM UNNEST($1::uuid[], $2::text[]) AS u(id, status) WHERE e.id = u.id",
    )
    .bind(&ids)
    .bind(&moves_to)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO enrolment_status_history (enrolment_id, from_status, to_status, actor_id, reason, at) \
         SELECT h.id, h.from_status, h.to_status, $4, h.reason, clock_timestamp() \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $5::text[]) AS h(id, from_status, to_status, reason)",
    )
    .bind(&moved)
    .bind(&from)
    .bind(&to)
    .bind(actor)
    .bind(&reasons)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         SELECT a.centre_id, a.id, $3, 'audit', \
                jsonb_build_object('outcome', a.label, 'audit', a.audit_id, 'bulk', true) \
         FROM UNNEST($1::uuid[], $2::uuid[], $4::uuid[], $5::text[]) AS a(id, centre_id, audit_id, label)",
    )
    .bind(&ids)
    .bind(&centres)
    .bind(actor)
    .bind(&audit_ids)
    .bind(&labels)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> DbResult<String> {
    serde_json::to_string(value).map_err(|e| DbError::Corrupt(e.to_string()))
}

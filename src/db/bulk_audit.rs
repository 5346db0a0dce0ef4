//! Auditing many enrolments at once (SPEC §4: admins audit a cohort or a whole
//! qualification). The result is what `audits::audit_enrolment` on each enrolment would
//! give (the same audit rows, status moves and history), plus an "audit" entry in each
//! enrolment's activity log; but it is written a chunk of enrolments at a time, with a
//! handful of set-based statements per chunk instead of a handful per enrolment.
use std::collections::hash_map::Entry;
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
pub const CHUNK: usize = 1000;

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
/// `CHUNK` to a transaction. `progress(done, total)` is called at the start and after
/// each chunk commits. An id that does not exist stops the run with `NotFound`; chunks
/// committed before stay.
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
    // Chunks in id order lock rows in the same order as `lock_many` within a chunk.
    ids.sort_unstable();
    ids.dedup();
    let total = ids.len();
    // Each version is loaded once for the whole run.
    let mut versions: HashMap<Uuid, LoadedVersion> = HashMap::new();
    let mut done = Vec::with_capacity(total);
    progress(0, total);
    for chunk in ids.chunks(chunk_size.max(1)) {
        let mut tx = pool.begin().await?;
        let audited = audit_chunk(&mut tx, chunk, actor, &mut versions).await?;
        tx.commit().await?;
        done.extend(audited);
        progress(done.len(), total);
    }
    Ok(done)
}

/// One enrolment's audit, worked out but not yet written.
struct Computed {
    audit_id: Uuid,
    report: AuditReport,
    confirmed: i32,
    decision: Decision,
}

async fn audit_chunk(
    conn: &mut PgConnection,
    ids: &[Uuid],
    actor: Option<Uuid>,
    versions: &mut HashMap<Uuid, LoadedVersion>,
) -> DbResult<Vec<BulkAudited>> {
    // Locked for the whole chunk, so no tick or transition slips in between reading and
    // deciding (as in `audit_enrolment`).
    let locked = enrolments::lock_many(conn, ids).await?;
    if locked.len() != ids.len() {
        return Err(DbError::NotFound);
    }
    for e in &locked {
        if let Entry::Vacant(slot) = versions.entry(e.version_id) {
            slot.insert(qualifications::load_version(&mut *conn, e.version_id).await?);
        }
    }
    let confirmed = confirmed_ordinals(conn, ids).await?;
    let computed = compute(versions, &locked, confirmed)?;
    write_audits(conn, versions, &locked, &computed, actor).await?;
    apply_decisions(conn, &locked, &computed, actor).await?;
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

/// Every chunk enrolment's confirmed criteria (assessor ticks) by ordinal, in one query:
/// one row per enrolment, its ordinals as one array.
async fn confirmed_ordinals(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> DbResult<HashMap<Uuid, Vec<i32>>> {
    let rows: Vec<(Uuid, Vec<i32>)> = sqlx::query_as(
        "SELECT t.enrolment_id, array_agg(c.ordinal) FROM ticks t JOIN criteria c ON c.id = t.criterion_id \
         WHERE t.enrolment_id = ANY($1) AND t.layer = 'assessor' GROUP BY t.enrolment_id",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The audits and status decisions, from the pure domain: one plan per version.
fn compute(
    versions: &HashMap<Uuid, LoadedVersion>,
    locked: &[Enrolment],
    mut confirmed: HashMap<Uuid, Vec<i32>>,
) -> DbResult<Vec<Computed>> {
    let mut plans: HashMap<Uuid, AuditPlan<'_>> = HashMap::new();
    locked
        .iter()
        .map(|e| {
            let version = versions
                .get(&e.version_id)
                .ok_or_else(|| DbError::Corrupt("an enrolment's version was not loaded".into()))?;
            let q = &version.qualification;
            let plan = plans
                .entry(e.version_id)
                .or_insert_with(|| AuditPlan::new(q));
            let ordinals = confirmed.remove(&e.id).unwrap_or_default();
            let ordinals = ordinals
                .into_iter()
                .map(|o| usize::try_from(o).map_err(|_| DbError::Corrupt(format!("ordinal {o}"))))
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

/// The audit rows and their per-major rows, each table in one statement.
async fn write_audits(
    conn: &mut PgConnection,
    versions: &HashMap<Uuid, LoadedVersion>,
    locked: &[Enrolment],
    computed: &[Computed],
    actor: Option<Uuid>,
) -> DbResult<()> {
    let n = locked.len();
    let (mut ids, mut enrolment_ids, mut version_ids, mut major_ids) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut outcomes, mut counts, mut reports) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut m_audit = Vec::new();
    let mut m_major = Vec::new();
    let mut m_achieved = Vec::new();
    let mut m_rule_set = Vec::new();
    let mut m_counted = Vec::new();
    let mut m_credits = Vec::new();
    let mut m_unmet = Vec::new();
    for (e, c) in locked.iter().zip(computed) {
        ids.push(c.audit_id);
        enrolment_ids.push(e.id);
        version_ids.push(e.version_id);
        major_ids.push(e.major_id);
        outcomes.push(c.report.outcome.key());
        counts.push(c.confirmed);
        reports.push(to_json(&c.report)?);
        let version = versions
            .get(&e.version_id)
            .ok_or_else(|| DbError::Corrupt("an enrolment's version was not loaded".into()))?;
        for row in major_rows(version, &c.report)? {
            m_audit.push(c.audit_id);
            m_major.push(row.major_id);
            m_achieved.push(row.achieved);
            m_rule_set.push(row.rule_set_id);
            m_counted.push(uuid_array_literal(&row.counted));
            m_credits.push(
                i32::try_from(row.counted_credits).map_err(|e| DbError::Corrupt(e.to_string()))?,
            );
            m_unmet.push(to_json(&row.unmet)?);
        }
    }
    sqlx::query(
        "INSERT INTO audits (id, enrolment_id, version_id, actor_id, at, outcome, major_id, confirmed_criteria, report) \
         SELECT a.id, a.enrolment_id, a.version_id, $4, clock_timestamp(), a.outcome, a.major_id, a.confirmed, a.report::jsonb \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $5::text[], $6::uuid[], $7::int4[], $8::text[]) \
              AS a(id, enrolment_id, version_id, outcome, major_id, confirmed, report)",
    )
    .bind(&ids)
    .bind(&enrolment_ids)
    .bind(&version_ids)
    .bind(actor)
    .bind(&outcomes)
    .bind(&major_ids)
    .bind(&counts)
    .bind(&reports)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO audit_majors (audit_id, major_id, achieved, rule_set_id, counted_unit_ids, counted_credits, unmet) \
         SELECT m.audit_id, m.major_id, m.achieved, m.rule_set_id, m.counted::uuid[], m.credits, m.unmet::jsonb \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bool[], $4::uuid[], $5::text[], $6::int4[], $7::text[]) \
              AS m(audit_id, major_id, achieved, rule_set_id, counted, credits, unmet)",
    )
    .bind(&m_audit)
    .bind(&m_major)
    .bind(&m_achieved)
    .bind(&m_rule_set)
    .bind(&m_counted)
    .bind(&m_credits)
    .bind(&m_unmet)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The status machine's decisions: new statuses in one UPDATE, a history row for each
/// move in one INSERT, and each enrolment's activity log entry in one more.
async fn apply_decisions(
    conn: &mut PgConnection,
    locked: &[Enrolment],
    computed: &[Computed],
    actor: Option<Uuid>,
) -> DbResult<()> {
    let mut moved = Vec::new();
    let mut from = Vec::new();
    let mut to = Vec::new();
    let mut reasons = Vec::new();
    for (e, c) in locked.iter().zip(computed) {
        if let Decision::Move { from: f, to: t } = c.decision {
            moved.push(e.id);
            from.push(f.key());
            to.push(t.key());
            reasons.push(enrolments::default_reason(&Action::Audit(c.report.outcome)));
        }
    }
    // The rows are locked by this transaction, so the statuses read are still theirs.
    sqlx::query(
        "UPDATE enrolments e SET status = u.status, updated_at = now() \
         FROM UNNEST($1::uuid[], $2::text[]) AS u(id, status) WHERE e.id = u.id",
    )
    .bind(&moved)
    .bind(&to)
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

    // As `activity::record` does for one entry: the entry, and the enrolment's last
    // activity time with it.
    let ids: Vec<Uuid> = locked.iter().map(|e| e.id).collect();
    let centres: Vec<Uuid> = locked.iter().map(|e| e.centre_id).collect();
    let audit_ids: Vec<Uuid> = computed.iter().map(|c| c.audit_id).collect();
    let labels: Vec<&str> = computed.iter().map(|c| c.report.outcome.label()).collect();
    sqlx::query(
        "WITH touched AS (UPDATE enrolments SET last_activity_at = clock_timestamp() WHERE id = ANY($1)) \
         INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
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

/// `{id,id}`: PostgreSQL's text form of a uuid[]. Rows have counted lists of different
/// lengths, which one rectangular array parameter cannot carry.
fn uuid_array_literal(ids: &[Uuid]) -> String {
    let mut s = String::with_capacity(2 + ids.len() * 37);
    s.push('{');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.hyphenated().to_string());
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_arrays_are_written_in_postgres_text_form() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        assert_eq!(uuid_array_literal(&[]), "{}");
        assert_eq!(
            uuid_array_literal(&[a, b]),
            "{00000000-0000-0000-0000-000000000001,00000000-0000-0000-0000-000000000002}"
        );
    }
}

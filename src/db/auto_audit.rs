//! SPEC §4's automatic audit: enrolments whose confirmed criteria changed are marked
//! (the ticks' statement triggers write a row of `audit_marks`, migration 0047), and
//! each mark is audited once its changes settle, as the bulk audit audits (`bulk_audit`),
//! a few enrolments a round, by every server's worker at once.
//!
//! A round holds its enrolments' rows from its read to its commit, so ticks on those
//! learners wait for it: it is kept to two statements. One locks the marked rows and
//! reads their confirmed criteria; the audits are worked out; one writes the audits,
//! status moves, history and activity entries and removes the marks. (It was seven,
//! and its waits were a large part of the tick's slowest hundredth on a busy centre.)
use std::collections::HashMap;
use std::sync::Arc;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::bulk_audit::{compute, write_audited, BulkAudited, Computed, Kind};
use super::enrolments::{Enrolment, Row};
use super::qualifications::LoadedVersion;
use super::version_cache::VersionCache;
use super::{DbError, DbResult};
use crate::domain::status::Status;

/// At most this many marked enrolments are audited in one round: their rows stay locked
/// for it, so ticks on them wait that long.
pub(crate) const DUE_ROUND: i64 = 2;

/// How long a marked enrolment rests before its audit: an assessor confirming an item
/// ticks several criteria within a second or two, and they are audited once, when the
/// portfolio has been still this long, not once per tick.
pub(crate) const DUE_SETTLE: std::time::Duration = std::time::Duration::from_millis(750);

/// A portfolio that never rests (an assessor ticking through a long item, several people
/// at work on one learner) is still audited this many settles after its mark, so its
/// status is never more than a few seconds behind its confirmed criteria.
pub(crate) const DUE_AT_MOST: u32 = 8;

/// One round: up to `DUE_ROUND` enrolments marked at least `settle` ago and still for
/// `settle` since (or marked `DUE_AT_MOST` settles ago), oldest mark first, audited and
/// their marks removed, in one transaction. Rows another transaction
/// holds are passed over (SKIP LOCKED), so any number of servers can run rounds at once
/// and each mark is audited once. `versions` are the versions already loaded.
pub async fn audit_due(
    pool: &PgPool,
    versions: &VersionCache,
    settle: std::time::Duration,
) -> DbResult<Vec<BulkAudited>> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query_as!(
        DueRow,
        "SELECT e.id, e.centre_id, e.learner_id, e.version_id, e.major_id, e.assessor_id, \
                e.trainee_assessor_id, e.iqa_id, e.status, e.created_at, e.updated_at, \
                e.last_activity_at, e.revision, \
                ARRAY(SELECT t.criterion_id FROM ticks t \
                      WHERE t.enrolment_id = e.id AND t.layer = 'assessor') AS \"criteria!\" \
         FROM audit_marks m JOIN enrolments e ON e.id = m.enrolment_id \
         WHERE m.due_at <= clock_timestamp() - make_interval(secs => $2) \
           AND (e.last_activity_at <= clock_timestamp() - make_interval(secs => $2) \
                OR m.due_at <= clock_timestamp() - make_interval(secs => $3)) \
         ORDER BY m.due_at LIMIT $1 FOR UPDATE OF e, m SKIP LOCKED",
        DUE_ROUND,
        settle.as_secs_f64(),
        (settle * DUE_AT_MOST).as_secs_f64(),
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let (locked, computed) = worked_out(pool, versions, rows).await?;
    let audited = write_audited(&mut tx, &locked, computed, None, Kind::Automatic).await?;
    tx.commit().await?;
    Ok(audited)
}

/// A marked enrolment's row and its confirmed criteria (its assessor ticks' criteria).
struct DueRow {
    id: Uuid,
    centre_id: Uuid,
    learner_id: Uuid,
    version_id: Uuid,
    major_id: Uuid,
    assessor_id: Uuid,
    trainee_assessor_id: Option<Uuid>,
    iqa_id: Option<Uuid>,
    status: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    last_activity_at: OffsetDateTime,
    revision: i64,
    criteria: Vec<Uuid>,
}

/// The enrolments read and the audits of those not withdrawn, in order (versions from
/// the cache).
async fn worked_out(
    pool: &PgPool,
    versions: &VersionCache,
    rows: Vec<DueRow>,
) -> DbResult<(Vec<Enrolment>, Vec<Computed>)> {
    let mut confirmed = HashMap::with_capacity(rows.len());
    let mut read = Vec::with_capacity(rows.len());
    for r in rows {
        confirmed.insert(r.id, r.criteria);
        read.push(Enrolment::try_from(Row {
            id: r.id,
            centre_id: r.centre_id,
            learner_id: r.learner_id,
            version_id: r.version_id,
            major_id: r.major_id,
            assessor_id: r.assessor_id,
            trainee_assessor_id: r.trainee_assessor_id,
            iqa_id: r.iqa_id,
            status: r.status,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_activity_at: r.last_activity_at,
            revision: r.revision,
        })?);
    }
    let mut loaded: HashMap<Uuid, Arc<LoadedVersion>> = HashMap::new();
    for e in &read {
        if let std::collections::hash_map::Entry::Vacant(slot) = loaded.entry(e.version_id) {
            slot.insert(versions.load(pool, e.version_id).await?);
        }
    }
    let version_of = |id: &Uuid| {
        loaded
            .get(id)
            .map(|v| &**v)
            .ok_or_else(|| DbError::Corrupt("an enrolment's version was not loaded".into()))
    };
    // Withdrawn allows no action, not even an audit (SPEC §5): only its mark goes.
    let audited: Vec<Enrolment> = read
        .iter()
        .filter(|e| e.status != Status::Withdrawn)
        .cloned()
        .collect();
    let computed = compute(&version_of, &audited, confirmed)?;
    Ok((read, computed))
}

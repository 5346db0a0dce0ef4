//! Recording audits (SPEC §4) and the status moves they cause (SPEC §5).
use sqlx::types::Json;
use sqlx::{Acquire, PgConnection, PgExecutor, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use super::enrolments::{self, Enrolment};
use super::{activity, ticks, version_cache, DbError, DbResult};
use crate::domain::audit::{audit, AuditReport};
use crate::domain::outcome::{ConfirmedCriteria, Outcome};
use crate::domain::status::{Action, Decision, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecorded {
    pub audit_id: Uuid,
    pub report: AuditReport,
    pub decision: Decision,
    /// The enrolment's status after the audit.
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub enrolment_id: Uuid,
    pub version_id: Uuid,
    /// None for an automatic audit.
    pub actor_id: Option<Uuid>,
    pub at: OffsetDateTime,
    pub outcome: Outcome,
    pub major_id: Uuid,
    pub confirmed_criteria: i32,
    pub report: AuditReport,
}

/// Audit an enrolment from its confirmed criteria, store the result, move its status
/// as the audit decides and write its activity entry, all in one transaction with the
/// enrolment locked (so a tick or a transition cannot slip in between reading and
/// deciding, and no audit stands without its entry).
pub async fn audit_enrolment<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    enrolment_id: Uuid,
    actor: Option<Uuid>,
) -> DbResult<AuditRecorded> {
    let mut tx = db.begin().await?;
    let enrolment = enrolments::lock(&mut tx, enrolment_id).await?;
    let recorded = audit_locked(&mut tx, &enrolment, actor).await?;
    tx.commit().await?;
    Ok(recorded)
}

/// `audit_enrolment` inside the caller's transaction, the enrolment locked by it.
pub(crate) async fn audit_locked(
    conn: &mut PgConnection,
    enrolment: &Enrolment,
    actor: Option<Uuid>,
) -> DbResult<AuditRecorded> {
    let (audit_id, report) = record_locked(&mut *conn, enrolment, actor).await?;
    let decision = enrolments::apply_locked(
        &mut *conn,
        enrolment,
        &Action::Audit(report.outcome),
        actor,
        None,
    )
    .await?;
    let status = decision.target(enrolment.status);
    // Logged, but not activity on the portfolio: last activity stays where it was.
    activity::append(
        &mut *conn,
        enrolment.centre_id,
        Some(enrolment.id),
        actor,
        "audit",
        serde_json::json!({ "audit": audit_id, "outcome": report.outcome.key(), "status": status.key() }),
    )
    .await?;
    Ok(AuditRecorded {
        audit_id,
        status,
        report,
        decision,
    })
}

/// Enrol a learner: the enrolment, its first status, its activity entry, its first
/// audit and the learner's employer (of the same centre: the foreign key refuses
/// another's), in one transaction.
pub(crate) async fn enrol(
    pool: &sqlx::PgPool,
    new: &enrolments::NewEnrolment,
    employer: Option<Uuid>,
    actor: Option<Uuid>,
    detail: serde_json::Value,
) -> DbResult<enrolments::Enrolment> {
    let mut tx = pool.begin().await?;
    let enrolment = enrol_in(&mut tx, new, actor, detail).await?;
    if let Some(employer) = employer {
        sqlx::query!(
            "UPDATE enrolments SET employer_id = $2 WHERE id = $1",
            enrolment.id,
            employer
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(enrolment)
}

/// The enrolment, its first status, activity entry and audit, inside the caller's
/// transaction.
pub(crate) async fn enrol_in(
    conn: &mut PgConnection,
    new: &enrolments::NewEnrolment,
    actor: Option<Uuid>,
    detail: serde_json::Value,
) -> DbResult<enrolments::Enrolment> {
    let enrolment = enrolments::create(&mut *conn, new, actor).await?;
    activity::record(
        &mut *conn,
        enrolment.centre_id,
        Some(enrolment.id),
        actor,
        "enrolled",
        detail,
    )
    .await?;
    let locked = enrolments::lock(&mut *conn, enrolment.id).await?;
    audit_locked(&mut *conn, &locked, actor).await?;
    enrolments::get(&mut *conn, enrolment.id).await
}

/// Switch the assigned major (of the same version) and re-audit under it, with its
/// activity entry in the same transaction. Refused, with nothing changed, outside Not
/// Yet Achieved and Ready to be Requested.
pub async fn switch_major<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    enrolment_id: Uuid,
    major_id: Uuid,
    actor: Option<Uuid>,
) -> DbResult<AuditRecorded> {
    let mut tx = db.begin().await?;
    let mut enrolment = enrolments::lock(&mut tx, enrolment_id).await?;
    let from = enrolment.major_id;
    enrolments::set_major(&mut *tx, enrolment_id, major_id).await?;
    enrolment.major_id = major_id;
    let (audit_id, report) = record_locked(&mut tx, &enrolment, actor).await?;
    let action = Action::SwitchMajor(report.outcome);
    // A refusal returns early and drops the transaction: the major stays as it was.
    let decision = enrolments::apply_locked(&mut tx, &enrolment, &action, actor, None).await?;
    let status = decision.target(enrolment.status);
    activity::record(
        &mut *tx,
        enrolment.centre_id,
        Some(enrolment_id),
        actor,
        "major switched",
        serde_json::json!({ "from": from, "to": major_id, "outcome": report.outcome.key(), "status": status.key() }),
    )
    .await?;
    tx.commit().await?;
    Ok(AuditRecorded {
        audit_id,
        status,
        report,
        decision,
    })
}

/// Run and store an audit of an enrolment the caller has locked (see
/// `enrolments::lock`) in its own transaction; changes no status. For flows such as
/// requesting a credential, which re-audit first and then apply their own action.
pub(crate) async fn record_locked(
    conn: &mut PgConnection,
    enrolment: &Enrolment,
    actor: Option<Uuid>,
) -> DbResult<(Uuid, AuditReport)> {
    let version = version_cache::shared()
        .load(&mut *conn, enrolment.version_id)
        .await?;
    let q = &version.qualification;
    let ordinals = ticks::confirmed_criteria(&mut *conn, enrolment.id)
        .await?
        .into_iter()
        .map(|c| {
            version
                .criterion_ordinal(c)
                .ok_or_else(|| DbError::Corrupt(format!("criterion {c} is not in the version")))
        })
        .collect::<DbResult<Vec<usize>>>()?;
    let confirmed = ConfirmedCriteria::from_ordinals(q.criterion_count(), ordinals)
        .map_err(|e| DbError::Corrupt(e.to_string()))?;
    let major = version.major_index(enrolment.major_id).ok_or_else(|| {
        DbError::Corrupt("the assigned major is not in the enrolment's version".into())
    })?;
    let report = audit(q, major, &confirmed)?;

    let audit_id = Uuid::now_v7();
    let confirmed_count =
        i32::try_from(confirmed.count()).map_err(|e| DbError::Corrupt(e.to_string()))?;
    // This audit is the automatic one a tick may have asked for: its mark goes.
    // The report goes as text, which the server casts to json.
    sqlx::query!(
        "WITH done AS (DELETE FROM audit_marks WHERE enrolment_id = $2) \
         INSERT INTO audits (id, enrolment_id, version_id, actor_id, at, outcome, major_id, confirmed_criteria, report) \
         VALUES ($1, $2, $3, $4, clock_timestamp(), $5, $6, $7, $8::text::json)",
        audit_id,
        enrolment.id,
        enrolment.version_id,
        actor,
        report.outcome.key(),
        enrolment.major_id,
        confirmed_count,
        serde_json::to_string(&report).map_err(|e| DbError::Corrupt(e.to_string()))?,
    )
    .execute(&mut *conn)
    .await?;

    Ok((audit_id, report))
}

struct Row {
    id: Uuid,
    enrolment_id: Uuid,
    version_id: Uuid,
    actor_id: Option<Uuid>,
    at: OffsetDateTime,
    outcome: String,
    major_id: Uuid,
    confirmed_criteria: i32,
    report: Json<AuditReport>,
}

impl TryFrom<Row> for AuditRecord {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<AuditRecord> {
        Ok(AuditRecord {
            outcome: Outcome::from_key(&r.outcome)
                .ok_or_else(|| DbError::Corrupt(format!("audit outcome {:?}", r.outcome)))?,
            id: r.id,
            enrolment_id: r.enrolment_id,
            version_id: r.version_id,
            actor_id: r.actor_id,
            at: r.at,
            major_id: r.major_id,
            confirmed_criteria: r.confirmed_criteria,
            report: r.report.0,
        })
    }
}

pub async fn get(db: impl PgExecutor<'_>, audit_id: Uuid) -> DbResult<AuditRecord> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, enrolment_id, version_id, actor_id, at, outcome, major_id, confirmed_criteria, \
         report AS \"report: Json<AuditReport>\" FROM audits WHERE id = $1",
        audit_id,
    )
    .fetch_one(db)
    .await?;
    row.try_into()
}

pub async fn latest_audit(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Option<AuditRecord>> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, enrolment_id, version_id, actor_id, at, outcome, major_id, confirmed_criteria, \
         report AS \"report: Json<AuditReport>\" FROM audits \
         WHERE enrolment_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
        enrolment_id,
    )
    .fetch_optional(db)
    .await?;
    row.map(AuditRecord::try_from).transpose()
}

/// Every audit of an enrolment, newest first.
pub async fn audit_history(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<AuditRecord>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, enrolment_id, version_id, actor_id, at, outcome, major_id, confirmed_criteria, \
         report AS \"report: Json<AuditReport>\" FROM audits \
         WHERE enrolment_id = $1 ORDER BY at DESC, id DESC",
        enrolment_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(AuditRecord::try_from).collect()
}

/// An audit as the audit history lists it: no report (the list shows none, and a
/// report is the row's bulk), and the actor's name read in the same statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditListed {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub outcome: Outcome,
    pub confirmed_criteria: i32,
}

struct ListedRow {
    id: Uuid,
    at: OffsetDateTime,
    actor_id: Option<Uuid>,
    actor_name: Option<String>,
    outcome: String,
    confirmed_criteria: i32,
}

/// Up to `size` audits of an enrolment, newest first, from just before audit `before`
/// (in the order of time, then id), and whether there are older ones still. The page
/// starts at its audit in the index on (enrolment, at): an old page costs what the
/// newest costs.
pub(crate) async fn audit_page(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    before: Option<Uuid>,
    size: usize,
) -> DbResult<(Vec<AuditListed>, bool)> {
    let limit = i64::try_from(size + 1).unwrap_or(i64::MAX);
    // `at <=` bounds the index scan; the rest of the row comparison only settles the
    // audits of that very moment. A cursor that is not this enrolment's audit finds none.
    let rows = match before {
        None => {
            sqlx::query_as!(
                ListedRow,
                "SELECT a.id, a.at, a.actor_id, u.display_name AS \"actor_name?\", \
                 a.outcome, a.confirmed_criteria FROM audits a LEFT JOIN users u ON u.id = a.actor_id \
                 WHERE a.enrolment_id = $1 ORDER BY a.at DESC, a.id DESC LIMIT $2",
                enrolment_id,
                limit,
            )
            .fetch_all(db)
            .await?
        }
        Some(id) => {
            sqlx::query_as!(
                ListedRow,
                "WITH c AS (SELECT at, id FROM audits WHERE id = $3 AND enrolment_id = $1) \
                 SELECT a.id, a.at, a.actor_id, u.display_name AS \"actor_name?\", \
                 a.outcome, a.confirmed_criteria FROM audits a LEFT JOIN users u ON u.id = a.actor_id \
                 WHERE a.enrolment_id = $1 AND a.at <= (SELECT at FROM c) \
                 AND (a.at, a.id) < (SELECT at, id FROM c) \
                 ORDER BY a.at DESC, a.id DESC LIMIT $2",
                enrolment_id,
                limit,
                id,
            )
            .fetch_all(db)
            .await?
        }
    };
    let (rows, more) = super::page_and_more(rows, size);
    let listed = rows
        .into_iter()
        .map(|r| {
            Ok(AuditListed {
                outcome: Outcome::from_key(&r.outcome)
                    .ok_or_else(|| DbError::Corrupt(format!("audit outcome {:?}", r.outcome)))?,
                id: r.id,
                at: r.at,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                confirmed_criteria: r.confirmed_criteria,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    Ok((listed, more))
}

//! A learner's own enrolments with their confirmed progress, for their home page: one
//! statement over the figures the database keeps on each enrolment (migration 0014),
//! never its ticks. (Staff see enrolments through the reports, `db::report`.)
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbResult;
use crate::domain::{Outcome, Status};

#[derive(Debug, Clone)]
pub struct CaseloadRow {
    pub enrolment_id: Uuid,
    pub learner: String,
    pub qualification_code: String,
    pub qualification_title: String,
    pub major_title: String,
    pub status: Status,
    pub criteria: i64,
    /// Criteria with an assessor-layer tick: the only progress there is (SPEC §2).
    pub confirmed: i64,
    pub units: i64,
    pub units_achieved: i64,
    /// Criteria the learner claimed that no assessor or trainee has ticked yet
    /// (`domain::figures`): the learner's "claimed", the assessor's "claims to review".
    pub claims_to_review: i64,
    /// Criteria a trainee ticked that no qualified assessor has confirmed yet.
    pub awaiting_countersignature: i64,
    pub open_iqa_actions: i64,
    pub latest_outcome: Option<Outcome>,
    pub last_activity_at: OffsetDateTime,
    /// No activity for 30 days.
    pub stale: bool,
}

impl CaseloadRow {
    /// Whole percent of criteria confirmed, rounded down so 100 means done.
    pub fn percent(&self) -> i64 {
        (self.confirmed * 100)
            .checked_div(self.criteria)
            .unwrap_or(0)
    }
}

struct Row {
    enrolment_id: Uuid,
    learner: String,
    qualification_code: String,
    qualification_title: String,
    major_title: String,
    status: String,
    criteria: i64,
    confirmed: i64,
    units: i64,
    units_achieved: i64,
    claims_to_review: i64,
    awaiting_countersignature: i64,
    open_iqa_actions: i64,
    latest_outcome: Option<String>,
    last_activity_at: OffsetDateTime,
    stale: bool,
}

/// The learner's enrolments, by qualification.
pub async fn mine(db: impl PgExecutor<'_>, learner_id: Uuid) -> DbResult<Vec<CaseloadRow>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT e.id AS enrolment_id, l.display_name AS learner, q.code AS qualification_code, \
                v.title AS qualification_title, m.title AS major_title, e.status, \
                v.criteria_count::int8 AS \"criteria!\", e.confirmed_criteria::int8 AS \"confirmed!\", \
                v.unit_count::int8 AS \"units!\", e.units_achieved::int8 AS \"units_achieved!\", \
                e.claims_to_review::int8 AS \"claims_to_review!\", \
                e.awaiting_countersignature::int8 AS \"awaiting_countersignature!\", \
                e.open_iqa_actions::int8 AS \"open_iqa_actions!\", e.latest_outcome, \
                e.last_activity_at, e.last_activity_at < now() - interval '30 days' AS \"stale!\" \
           FROM enrolments e \
           JOIN users l ON l.id = e.learner_id \
           JOIN qualification_versions v ON v.id = e.version_id \
           JOIN qualifications q ON q.id = v.qualification_id \
           JOIN majors m ON m.id = e.major_id \
          WHERE e.learner_id = $1 \
          ORDER BY q.code, e.created_at, e.id",
        learner_id,
    )
    .fetch_all(db)
    .await?;
    from_rows(rows)
}

/// A page of the enrolments an employer's person follows, by learner: `per_page + 1`
/// read, so the caller knows whether there is a next page. The page is read in order
/// from the links' index (migration 0048) and only its rows are joined.
pub async fn followed(
    db: impl PgExecutor<'_>,
    person: Uuid,
    page: i64,
    per_page: i64,
) -> DbResult<Vec<CaseloadRow>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT e.id AS enrolment_id, l.display_name AS learner, q.code AS qualification_code, \
                v.title AS qualification_title, m.title AS major_title, e.status, \
                v.criteria_count::int8 AS \"criteria!\", e.confirmed_criteria::int8 AS \"confirmed!\", \
                v.unit_count::int8 AS \"units!\", e.units_achieved::int8 AS \"units_achieved!\", \
                e.claims_to_review::int8 AS \"claims_to_review!\", \
                e.awaiting_countersignature::int8 AS \"awaiting_countersignature!\", \
                e.open_iqa_actions::int8 AS \"open_iqa_actions!\", e.latest_outcome, \
                e.last_activity_at, e.last_activity_at < now() - interval '30 days' AS \"stale!\" \
           FROM (SELECT f.enrolment_id, f.learner_sort FROM enrolment_employer_people f \
                  WHERE f.user_id = $1 ORDER BY f.learner_sort, f.enrolment_id \
                  LIMIT $2 OFFSET $3) p \
           JOIN enrolments e ON e.id = p.enrolment_id \
           JOIN users l ON l.id = e.learner_id \
           JOIN qualification_versions v ON v.id = e.version_id \
           JOIN qualifications q ON q.id = v.qualification_id \
           JOIN majors m ON m.id = e.major_id \
          ORDER BY p.learner_sort, p.enrolment_id",
        person,
        per_page + 1,
        page.saturating_mul(per_page)
    )
    .fetch_all(db)
    .await?;
    from_rows(rows)
}

fn from_rows(rows: Vec<Row>) -> DbResult<Vec<CaseloadRow>> {
    rows.into_iter()
        .map(|r| {
            let status = Status::from_key(&r.status)
                .ok_or_else(|| super::DbError::Corrupt(format!("unknown status {}", r.status)))?;
            Ok(CaseloadRow {
                enrolment_id: r.enrolment_id,
                learner: r.learner,
                qualification_code: r.qualification_code,
                qualification_title: r.qualification_title,
                major_title: r.major_title,
                status,
                criteria: r.criteria,
                confirmed: r.confirmed,
                units: r.units,
                units_achieved: r.units_achieved,
                claims_to_review: r.claims_to_review,
                awaiting_countersignature: r.awaiting_countersignature,
                open_iqa_actions: r.open_iqa_actions,
                latest_outcome: r.latest_outcome.as_deref().and_then(Outcome::from_key),
                last_activity_at: r.last_activity_at,
                stale: r.stale,
            })
        })
        .collect()
}

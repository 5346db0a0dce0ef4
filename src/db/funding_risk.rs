//! The funding-risk report (issue 14, point 5), built from
//! `domain::funding_risk::RiskQuery` with every value bound and every order chosen from a
//! closed list, as the other reports are (`db::report`, `db::people_list`). Each risk is a
//! date comparison on the apprenticeship's kept figures (`behind_from`,
//! `next_review_due`, `oldest_unsigned_review_on`) or a break's dates, never a recount.
//!
//! A page is three statements whatever the centre's size: the total and the page's ids
//! from one reading of the filtered apprenticeships, their details, and their breaks.
use std::collections::HashMap;

use sqlx::{PgExecutor, Postgres, QueryBuilder};
use time::{Date, Duration};
use uuid::Uuid;

use super::DbResult;
use crate::domain::funding_risk::{Risk, RiskColumn, RiskQuery};
use crate::domain::report::Direction;
use crate::domain::reviews::UNSIGNED_FLAG_DAYS;

/// One apprenticeship as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct RiskRow {
    pub enrolment_id: Uuid,
    pub learner: String,
    pub assessor: String,
    pub start_on: Date,
    pub planned_end_on: Date,
    pub adjusted_end_on: Date,
    pub planned_minutes: i32,
    pub approved_minutes: i64,
    pub behind_from: Option<Date>,
    pub next_review_due: Date,
    pub oldest_unsigned_review_on: Option<Date>,
    pub in_break: bool,
}

fn order_keys(column: RiskColumn) -> &'static [&'static str] {
    match column {
        RiskColumn::Learner => &["e.learner_sort", "e.id"],
        RiskColumn::Assessor => &["lower(a.display_name)", "e.learner_sort", "e.id"],
        RiskColumn::Approved => &["ap.approved_minutes", "e.learner_sort", "e.id"],
        RiskColumn::Behind => &["ap.behind_from", "e.learner_sort", "e.id"],
        RiskColumn::ReviewDue => &["ap.next_review_due", "e.learner_sort", "e.id"],
        RiskColumn::Unsigned => &["ap.oldest_unsigned_review_on", "e.learner_sort", "e.id"],
        RiskColumn::End => &["ap.adjusted_end_on", "e.learner_sort", "e.id"],
    }
}

fn direction(q: &RiskQuery) -> &'static str {
    match q.sort.direction {
        Direction::Ascending => " ASC",
        Direction::Descending => " DESC",
    }
}

// The assessor is joined LEFT (every enrolment has one) so that a count or a page that
// does not sort by them leaves the join out.
const FROM: &str = " FROM apprenticeships ap JOIN enrolments e ON e.id = ap.enrolment_id \
     LEFT JOIN users a ON a.id = e.assessor_id";

fn push_risk(b: &mut QueryBuilder<'_, Postgres>, risk: Risk, today: Date) {
    match risk {
        Risk::Behind => {
            b.push("ap.behind_from <= ").push_bind(today);
        }
        Risk::ReviewOverdue => {
            b.push("ap.next_review_due < ").push_bind(today);
        }
        Risk::ReviewUnsigned => {
            b.push("ap.oldest_unsigned_review_on < ")
                .push_bind(today - Duration::days(UNSIGNED_FLAG_DAYS));
        }
        Risk::InBreak => {
            b.push("EXISTS (SELECT 1 FROM learning_breaks lb WHERE lb.enrolment_id = ap.enrolment_id AND ")
                .push_bind(today)
                .push(" BETWEEN lb.from_on AND lb.to_on)");
        }
        Risk::All => {
            b.push("true");
        }
    }
}

fn push_where(b: &mut QueryBuilder<'_, Postgres>, centre: Uuid, q: &RiskQuery, today: Date) {
    // Both centre conditions: the one on the enrolment lets a page in learner order walk
    // the enrolments' (centre, learner) index and stop at the page's end.
    b.push(" WHERE ap.centre_id = ")
        .push_bind(centre)
        .push(" AND e.centre_id = ")
        .push_bind(centre);
    let f = &q.filters;
    match f.risk {
        Some(risk) => {
            b.push(" AND ");
            push_risk(b, risk, today);
        }
        None => {
            b.push(" AND (");
            for (n, risk) in [
                Risk::Behind,
                Risk::ReviewOverdue,
                Risk::ReviewUnsigned,
                Risk::InBreak,
            ]
            .into_iter()
            .enumerate()
            {
                if n > 0 {
                    b.push(" OR ");
                }
                push_risk(b, risk, today);
            }
            b.push(")");
        }
    }
    if let Some(text) = &f.search {
        b.push(" AND e.learner_search LIKE lower(")
            .push_bind(super::report::like_pattern(text))
            .push(")");
    }
    if let Some(a) = f.assessor {
        b.push(" AND e.assessor_id = ").push_bind(a);
    }
}

fn push_order(b: &mut QueryBuilder<'_, Postgres>, q: &RiskQuery) {
    b.push(" ORDER BY ");
    for (n, key) in order_keys(q.sort.column).iter().enumerate() {
        if n > 0 {
            b.push(", ");
        }
        b.push(*key).push(direction(q));
    }
}

pub(crate) struct RiskPage {
    pub rows: Vec<RiskRow>,
    /// Each row's breaks (from, to), for its to-date target.
    pub breaks: HashMap<Uuid, Vec<(Date, Date)>>,
    pub total: i64,
}

/// The page the query asks for.
pub(crate) async fn page<'c, E>(
    db: E,
    centre: Uuid,
    q: &RiskQuery,
    today: Date,
) -> DbResult<RiskPage>
where
    E: PgExecutor<'c> + Copy,
{
    // Built at run time: the conditions and the order follow the view.
    let mut b = QueryBuilder::new("WITH f AS NOT MATERIALIZED (SELECT ap.enrolment_id AS id");
    for (n, key) in order_keys(q.sort.column).iter().enumerate() {
        b.push(format_args!(", {key} AS k{n}"));
    }
    b.push(FROM);
    push_where(&mut b, centre, q, today);
    b.push(") SELECT (SELECT count(*) FROM f) AS total, ARRAY(SELECT id FROM f ORDER BY ");
    for n in 0..order_keys(q.sort.column).len() {
        if n > 0 {
            b.push(", ");
        }
        b.push(format_args!("k{n}")).push(direction(q));
    }
    b.push(" LIMIT ")
        .push_bind(i64::from(q.size))
        .push(" OFFSET ")
        .push_bind(i64::try_from(q.offset()).unwrap_or(i64::MAX))
        .push(") AS ids");
    #[derive(sqlx::FromRow)]
    struct PageIds {
        total: i64,
        ids: Vec<Uuid>,
    }
    let PageIds { total, ids } = b.build_query_as().fetch_one(db).await?;
    let rows = sqlx::query_as!(
        RiskRow,
        r#"SELECT ap.enrolment_id, l.display_name AS learner, a.display_name AS assessor,
                  ap.start_on, ap.planned_end_on, ap.adjusted_end_on, ap.planned_minutes,
                  ap.approved_minutes, ap.behind_from, ap.next_review_due,
                  ap.oldest_unsigned_review_on,
                  EXISTS (SELECT 1 FROM learning_breaks lb WHERE lb.enrolment_id = ap.enrolment_id
                            AND $2 BETWEEN lb.from_on AND lb.to_on) AS "in_break!"
             FROM unnest($1::uuid[]) WITH ORDINALITY AS p(id, n)
             JOIN apprenticeships ap ON ap.enrolment_id = p.id
             JOIN enrolments e ON e.id = ap.enrolment_id
             JOIN users l ON l.id = e.learner_id
             JOIN users a ON a.id = e.assessor_id
            ORDER BY p.n"#,
        &ids[..],
        today
    )
    .fetch_all(db)
    .await?;
    let mut breaks: HashMap<Uuid, Vec<(Date, Date)>> = HashMap::new();
    for r in sqlx::query!(
        "SELECT enrolment_id, from_on, to_on FROM learning_breaks WHERE enrolment_id = ANY($1)",
        &ids[..]
    )
    .fetch_all(db)
    .await?
    {
        breaks
            .entry(r.enrolment_id)
            .or_default()
            .push((r.from_on, r.to_on));
    }
    Ok(RiskPage {
        rows,
        breaks,
        total,
    })
}

/// The statement for every row of the report, in its order (for the CSV export).
pub(crate) fn all_rows_query(
    centre: Uuid,
    q: &RiskQuery,
    today: Date,
) -> QueryBuilder<'static, Postgres> {
    let mut b = QueryBuilder::new(
        "SELECT ap.enrolment_id, l.display_name AS learner, a.display_name AS assessor, \
                ap.start_on, ap.planned_end_on, ap.adjusted_end_on, ap.planned_minutes, \
                ap.approved_minutes, ap.behind_from, ap.next_review_due, \
                ap.oldest_unsigned_review_on, \
                EXISTS (SELECT 1 FROM learning_breaks lb WHERE lb.enrolment_id = ap.enrolment_id \
                          AND ",
    );
    b.push_bind(today)
        .push(" BETWEEN lb.from_on AND lb.to_on) AS in_break");
    b.push(FROM);
    b.push(" JOIN users l ON l.id = e.learner_id");
    push_where(&mut b, centre, q, today);
    push_order(&mut b, q);
    b
}

pub(crate) fn read_row(row: &sqlx::postgres::PgRow) -> DbResult<RiskRow> {
    use sqlx::FromRow;
    Ok(RiskRow::from_row(row)?)
}

/// How many of the centre's apprenticeships are at any risk today: the dashboard's count.
pub(crate) async fn count_at_risk(
    db: impl PgExecutor<'_>,
    centre: Uuid,
    today: Date,
) -> DbResult<i64> {
    let mut b = QueryBuilder::new("SELECT count(*)");
    b.push(FROM);
    push_where(&mut b, centre, &RiskQuery::default(), today);
    Ok(b.build_query_scalar().fetch_one(db).await?)
}

//! The figures of the homes' summaries and the dashboards: how many of a report's
//! enrolments are in each status and band of progress, need someone, or are quiet.
//!
//! A centre's and an IQA's sample's are read from the centre's tallies (migration 0053),
//! 262 rows for the bench's 100,000 enrolments, and their quiet ones from the quiet
//! tallies (migration 0056), so no view counts every enrolment, or every quiet one. A
//! caseload's few hundred are counted from its own index, which costs less than reading
//! the centre's tallies.
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::report::{push_gone_quiet_since, push_select, push_where, Scope, QUIET_BEFORE};
use super::{DbError, DbResult};
use crate::domain::report::{Band, Filters};
use crate::domain::status::Status;

/// A report's enrolments at a glance: how many, by status, and how many need someone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: i64,
    /// In `Status::ALL`'s order.
    pub by_status: Vec<(Status, i64)>,
    pub with_claims: i64,
    pub awaiting_countersignature: i64,
    pub with_open_actions: i64,
    pub stale: i64,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    total: i64,
    counts: Vec<i64>,
    with_claims: i64,
    awaiting_countersignature: i64,
    with_open_actions: i64,
    stale: i64,
}

/// Where the figures of `scope` come from, as `FROM … WHERE …` over rows `t` with the
/// columns of a tally: the centre's tallies (one IQA's of them for a sample), or a
/// caseload's enrolments, each a tally of one.
fn push_tallies(b: &mut QueryBuilder<'static, Postgres>, centre_id: Uuid, scope: Scope) {
    match scope {
        Scope::Caseload(_) => {
            b.push(
                " FROM (SELECT e.assessor_id, e.status, LEAST(e.progress / 10, 10) AS band, \
                        e.claims_to_review > 0 AS with_claims, \
                        e.awaiting_countersignature > 0 AS awaiting, \
                        e.open_iqa_actions > 0 AS with_actions, \
                        1 AS enrolments, e.open_iqa_actions AS open_actions \
                   FROM enrolments e",
            );
            push_where(b, centre_id, scope, &Filters::default());
            b.push(") t");
        }
        Scope::Sample(me) => {
            b.push(" FROM centre_tallies t WHERE t.centre_id = ")
                .push_bind(centre_id)
                .push(" AND t.iqa_id = ")
                .push_bind(me);
        }
        Scope::Centre => {
            b.push(" FROM centre_tallies t WHERE t.centre_id = ")
                .push_bind(centre_id);
        }
    }
}

/// The band of the tallies a progress filter is, when it is one of the dashboard's.
fn tallied_band(band: Band) -> Option<usize> {
    Band::deciles().into_iter().position(|d| d == band)
}

/// Pushes the report's total as the sum of the tallies (a subquery), when every filter of
/// `f` is one they count by and the scope is the centre or an IQA's sample; pushes
/// nothing and answers false otherwise.
pub(super) fn push_tallied_total(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    f: &Filters,
) -> bool {
    let band = f.progress.and_then(tallied_band);
    let tallied = Filters {
        status: f.status,
        assessor: f.assessor,
        iqa: f.iqa,
        has_claims: f.has_claims,
        awaiting_countersignature: f.awaiting_countersignature,
        has_open_actions: f.has_open_actions,
        progress: f.progress.filter(|_| band.is_some()),
        ..Filters::default()
    };
    if matches!(scope, Scope::Caseload(_)) || tallied != *f {
        return false;
    }
    b.push("(SELECT COALESCE(sum(t.enrolments), 0)::int8");
    push_tallies(b, centre_id, scope);
    if let Some(status) = f.status {
        b.push(" AND t.status = ").push_bind(status.key());
    }
    if let Some(id) = f.assessor {
        b.push(" AND t.assessor_id = ").push_bind(id);
    }
    if let Some(id) = f.iqa {
        b.push(" AND t.iqa_id = ").push_bind(id);
    }
    if let Some(band) = band {
        // A position among eleven.
        b.push(format_args!(" AND t.band = {band}"));
    }
    for (on, flag) in [
        (f.has_claims, " AND t.with_claims"),
        (f.awaiting_countersignature, " AND t.awaiting"),
        (f.has_open_actions, " AND t.with_actions"),
    ] {
        if on {
            b.push(flag);
        }
    }
    b.push(")");
    true
}

/// `SELECT column` of the report's quiet enrolments (those the "no activity for 30
/// days" filter keeps), as the report reads them.
fn push_quiet(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    column: &'static str,
) {
    let quiet = Filters {
        stale: true,
        ..Filters::default()
    };
    push_select(b, centre_id, scope, &quiet, &|b| {
        b.push(column);
    });
}

/// `SELECT assessor_id, n` rows whose `n` sum, by assessor, to the quiet enrolments of
/// the centre or an IQA's sample that `narrowing`'s assessor and IQA keep (migration
/// 0056): the quiet tallies, less the copy's rows not yet quiet by the report's line,
/// plus those gone quiet since the copy's line when housekeeping is behind. Both
/// corrections read a day's worth of rows at most, from the activity indexes.
fn push_quiet_parts(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    narrowing: &Filters,
) {
    b.push("SELECT t.assessor_id, t.quiet AS n FROM quiet_tallies t WHERE t.centre_id = ")
        .push_bind(centre_id);
    if let Scope::Sample(me) = scope {
        b.push(" AND t.iqa_id = ").push_bind(me);
    }
    if let Some(id) = narrowing.assessor {
        b.push(" AND t.assessor_id = ").push_bind(id);
    }
    if let Some(id) = narrowing.iqa {
        b.push(" AND t.iqa_id = ").push_bind(id);
    }
    b.push(" UNION ALL SELECT e.assessor_id, -1 FROM quiet_enrolments e");
    push_where(b, centre_id, scope, narrowing);
    b.push(" AND e.last_activity_at >= ").push(QUIET_BEFORE);
    b.push(" UNION ALL SELECT e.assessor_id, 1 FROM enrolments e");
    let quiet = Filters {
        stale: true,
        ..narrowing.clone()
    };
    push_where(b, centre_id, scope, &quiet);
    push_gone_quiet_since(b);
}

/// Pushes the count of the report's rows from the quiet tallies (a subquery), when `f`
/// is "no activity for 30 days", narrowed by assessor or IQA at most, over the centre or
/// an IQA's sample; pushes nothing and answers false otherwise.
pub(super) fn push_quiet_total(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    f: &Filters,
) -> bool {
    let narrowing = Filters {
        assessor: f.assessor,
        iqa: f.iqa,
        ..Filters::default()
    };
    let counted = Filters {
        stale: true,
        ..narrowing.clone()
    };
    if matches!(scope, Scope::Caseload(_)) || counted != *f {
        return false;
    }
    b.push("(SELECT COALESCE(sum(q.n), 0)::int8 FROM (");
    push_quiet_parts(b, centre_id, scope, &narrowing);
    b.push(") q)");
    true
}

/// `(SELECT …)`: how many of the report's enrolments are quiet. A caseload's few hundred
/// are counted from its own index.
fn push_stale(b: &mut QueryBuilder<'static, Postgres>, centre_id: Uuid, scope: Scope) {
    let quiet = Filters {
        stale: true,
        ..Filters::default()
    };
    if !push_quiet_total(b, centre_id, scope, &quiet) {
        b.push("(SELECT count(*) FROM (");
        push_quiet(b, centre_id, scope, "1");
        b.push(") q)");
    }
}

/// One statement over the report's tallies.
pub async fn summary(db: impl PgExecutor<'_>, centre_id: Uuid, scope: Scope) -> DbResult<Summary> {
    let mut b = QueryBuilder::new("SELECT COALESCE(sum(t.enrolments), 0)::int8 AS total, ARRAY[");
    for (n, s) in Status::ALL.iter().enumerate() {
        if n > 0 {
            b.push(", ");
        }
        // Keys of a closed enum, not input.
        b.push(format_args!(
            "COALESCE(sum(t.enrolments) FILTER (WHERE t.status = '{}'), 0)",
            s.key()
        ));
    }
    b.push(
        "]::int8[] AS counts, \
         COALESCE(sum(t.enrolments) FILTER (WHERE t.with_claims), 0)::int8 AS with_claims, \
         COALESCE(sum(t.enrolments) FILTER (WHERE t.awaiting), 0)::int8 AS awaiting_countersignature, \
         COALESCE(sum(t.enrolments) FILTER (WHERE t.with_actions), 0)::int8 AS with_open_actions, ",
    );
    push_stale(&mut b, centre_id, scope);
    b.push(" AS stale");
    push_tallies(&mut b, centre_id, scope);
    let r: SummaryRow = b.build_query_as().fetch_one(db).await?;
    if r.counts.len() != Status::ALL.len() {
        return Err(DbError::Corrupt("status counts of the wrong length".into()));
    }
    Ok(Summary {
        total: r.total,
        by_status: Status::ALL.into_iter().zip(r.counts).collect(),
        with_claims: r.with_claims,
        awaiting_countersignature: r.awaiting_countersignature,
        with_open_actions: r.with_open_actions,
        stale: r.stale,
    })
}

/// One assessor's enrolments in a report, for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ByAssessor {
    pub assessor_id: Uuid,
    pub assessor: String,
    pub enrolments: i64,
    pub stale: i64,
    pub with_open_actions: i64,
    pub open_actions: i64,
}

/// The report's enrolments per assessor, by name: every assessor with one at least.
pub async fn by_assessor(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    scope: Scope,
) -> DbResult<Vec<ByAssessor>> {
    let mut b = QueryBuilder::new(
        "SELECT t.assessor_id, min(a.display_name) AS assessor, \
                sum(t.enrolments)::int8 AS enrolments, \
                COALESCE(min(s.quiet), 0)::int8 AS stale, \
                COALESCE(sum(t.enrolments) FILTER (WHERE t.with_actions), 0)::int8 AS with_open_actions, \
                COALESCE(sum(t.open_actions), 0)::int8 AS open_actions \
         FROM (SELECT t.*",
    );
    push_tallies(&mut b, centre_id, scope);
    b.push(
        ") t LEFT JOIN users a ON a.id = t.assessor_id \
         LEFT JOIN (SELECT q.assessor_id, sum(q.n) AS quiet FROM (",
    );
    if matches!(scope, Scope::Caseload(_)) {
        push_quiet(&mut b, centre_id, scope, "e.assessor_id, 1 AS n");
    } else {
        push_quiet_parts(&mut b, centre_id, scope, &Filters::default());
    }
    b.push(
        ") q GROUP BY q.assessor_id) s ON s.assessor_id = t.assessor_id \
         GROUP BY t.assessor_id HAVING sum(t.enrolments) <> 0 \
         ORDER BY lower(min(a.display_name)), t.assessor_id",
    );
    Ok(b.build_query_as().fetch_all(db).await?)
}

/// How many of the report's enrolments are in each band of confirmed progress: 0–9 %
/// … 90–99 %, then 100 % (`domain::report::Band::deciles`).
pub async fn progress_bands(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    scope: Scope,
) -> DbResult<Vec<i64>> {
    let mut b = QueryBuilder::new("SELECT ARRAY[");
    for band in 0..=10 {
        if band > 0 {
            b.push(", ");
        }
        b.push(format_args!(
            "COALESCE(sum(t.enrolments) FILTER (WHERE t.band = {band}), 0)"
        ));
    }
    b.push("]::int8[]");
    push_tallies(&mut b, centre_id, scope);
    Ok(b.build_query_scalar().fetch_one(db).await?)
}

/// The credentials of `scope` requested or issued from `since`, as `c`. A credential is
/// of its enrolment's centre; whose enrolment it is is looked up once for each credential
/// of the window (a few thousand a year), never by reading the enrolments of an IQA's
/// sample (20,000 rows at 100,000 enrolments, 50-70 ms) to join them.
fn push_credentials(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    since: time::OffsetDateTime,
) {
    b.push(" FROM credentials c WHERE c.centre_id = ")
        .push_bind(centre_id)
        .push(" AND (c.requested_at >= ")
        .push_bind(since)
        .push(" OR c.issued_at >= ")
        .push_bind(since)
        .push(")");
    match scope {
        Scope::Centre => {}
        Scope::Sample(me) => {
            b.push(" AND (SELECT e.iqa_id FROM enrolments e WHERE e.id = c.enrolment_id) = ")
                .push_bind(me);
        }
        Scope::Caseload(me) => {
            b.push(" AND (SELECT e.assessor_id = ")
                .push_bind(me)
                .push(" OR e.trainee_assessor_id = ")
                .push_bind(me)
                .push(" FROM enrolments e WHERE e.id = c.enrolment_id)");
        }
    }
}

/// Credentials of the report's enrolments requested, and issued, in each month from
/// `since` (the first day of a month), as (month's first day, requested, issued).
pub async fn credentials_by_month(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    scope: Scope,
    since: time::Date,
) -> DbResult<Vec<(time::Date, i64, i64)>> {
    let since = since.midnight().assume_utc();
    let mut b = QueryBuilder::new(
        "SELECT m.month::date AS month, \
                count(*) FILTER (WHERE m.requested) AS requested, \
                count(*) FILTER (WHERE NOT m.requested) AS issued \
         FROM (SELECT c.requested_at, c.issued_at",
    );
    push_credentials(&mut b, centre_id, scope, since);
    // Each credential counts in its month of request and its month of issue, where
    // those are in the window.
    b.push(
        ") c CROSS JOIN LATERAL (VALUES \
             (date_trunc('month', c.requested_at AT TIME ZONE 'UTC'), true, c.requested_at >= ",
    )
    .push_bind(since)
    .push("), (date_trunc('month', c.issued_at AT TIME ZONE 'UTC'), false, c.issued_at >= ")
    .push_bind(since)
    .push(
        ")) m(month, requested, inside) \
         WHERE m.inside GROUP BY m.month ORDER BY m.month",
    );
    #[derive(sqlx::FromRow)]
    struct Month {
        month: time::Date,
        requested: i64,
        issued: i64,
    }
    let rows: Vec<Month> = b.build_query_as().fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|m| (m.month, m.requested, m.issued))
        .collect())
}

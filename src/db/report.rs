//! The enrolment reports (SPEC §3): one query shape for the assessor's caseload, the
//! IQA's sample and the admin's centre, built from `domain::report::ReportQuery` with
//! every value bound and every column and order chosen from a closed list.
//!
//! A page is read in two steps inside one statement: the ids of the page's rows, from a
//! query that joins only what its filters and order need (PostgreSQL drops the unused
//! left joins), then those rows' details; the count is its own statement over the same
//! filters. Every figure is one kept on the enrolment (migrations 0014, 0015): no page
//! counts a tick.
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{report_queue, report_tallies, DbError, DbResult};
use crate::domain::outcome::Outcome;
use crate::domain::people::Role;
use crate::domain::report::{Column, Direction, Filters, OutcomeFilter, ReportQuery};
use crate::domain::status::Status;

/// Whose enrolments a report holds, always within the viewer's centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Where this person is the assessor or the trainee assessor.
    Caseload(Uuid),
    /// Where this person is the IQA.
    Sample(Uuid),
    /// The whole centre (admins).
    Centre,
}

/// One enrolment as every report shows it.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub enrolment_id: Uuid,
    pub learner_id: Uuid,
    pub learner: String,
    pub learner_email: String,
    pub qualification_id: Uuid,
    pub qualification_code: String,
    pub qualification_title: String,
    pub version: i32,
    pub major_id: Uuid,
    pub major_code: String,
    pub major_title: String,
    pub status: Status,
    pub assessor_id: Uuid,
    pub assessor: String,
    pub assessor_email: String,
    pub trainee_id: Option<Uuid>,
    pub trainee: Option<String>,
    pub trainee_email: Option<String>,
    pub iqa_id: Option<Uuid>,
    pub iqa: Option<String>,
    pub iqa_email: Option<String>,
    pub start_date: Option<time::Date>,
    pub planned_end_date: Option<time::Date>,
    pub employer: Option<String>,
    pub criteria_total: i32,
    pub confirmed: i32,
    /// Whole percent confirmed, rounded down.
    pub progress: i32,
    pub unit_total: i32,
    pub units_achieved: i32,
    pub claims_to_review: i32,
    pub awaiting_countersignature: i32,
    pub open_iqa_actions: i32,
    pub latest_outcome: Option<Outcome>,
    pub latest_audit_at: Option<OffsetDateTime>,
    pub last_activity_at: OffsetDateTime,
    /// No activity for 30 days.
    pub stale: bool,
    /// An apprenticeship's flags (issue 14): behind on OTJ hours, a review overdue, a
    /// review unsigned 14 days after it was held.
    pub behind_otj: bool,
    pub review_overdue: bool,
    pub review_unsigned: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    enrolment_id: Uuid,
    learner_id: Uuid,
    learner: String,
    learner_email: String,
    qualification_id: Uuid,
    qualification_code: String,
    qualification_title: String,
    version: i32,
    major_id: Uuid,
    major_code: String,
    major_title: String,
    status: String,
    assessor_id: Uuid,
    assessor: String,
    assessor_email: String,
    trainee_id: Option<Uuid>,
    trainee: Option<String>,
    trainee_email: Option<String>,
    iqa_id: Option<Uuid>,
    iqa: Option<String>,
    iqa_email: Option<String>,
    start_date: Option<time::Date>,
    planned_end_date: Option<time::Date>,
    employer: Option<String>,
    criteria_total: i32,
    confirmed: i32,
    progress: i32,
    unit_total: i32,
    units_achieved: i32,
    claims_to_review: i32,
    awaiting_countersignature: i32,
    open_iqa_actions: i32,
    latest_outcome: Option<String>,
    latest_audit_at: Option<OffsetDateTime>,
    last_activity_at: OffsetDateTime,
    stale: bool,
    behind_otj: bool,
    review_overdue: bool,
    review_unsigned: bool,
}

impl TryFrom<Row> for ReportRow {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<ReportRow> {
        let status = Status::from_key(&r.status)
            .ok_or_else(|| DbError::Corrupt(format!("unknown status {}", r.status)))?;
        let latest_outcome = match r.latest_outcome {
            Some(key) => Some(
                Outcome::from_key(&key)
                    .ok_or_else(|| DbError::Corrupt(format!("audit outcome {key:?}")))?,
            ),
            None => None,
        };
        Ok(ReportRow {
            enrolment_id: r.enrolment_id,
            learner_id: r.learner_id,
            learner: r.learner,
            learner_email: r.learner_email,
            qualification_id: r.qualification_id,
            qualification_code: r.qualification_code,
            qualification_title: r.qualification_title,
            version: r.version,
            major_id: r.major_id,
            major_code: r.major_code,
            major_title: r.major_title,
            status,
            assessor_id: r.assessor_id,
            assessor: r.assessor,
            assessor_email: r.assessor_email,
            trainee_id: r.trainee_id,
            trainee: r.trainee,
            trainee_email: r.trainee_email,
            iqa_id: r.iqa_id,
            iqa: r.iqa,
            iqa_email: r.iqa_email,
            start_date: r.start_date,
            planned_end_date: r.planned_end_date,
            employer: r.employer,
            criteria_total: r.criteria_total,
            confirmed: r.confirmed,
            progress: r.progress,
            unit_total: r.unit_total,
            units_achieved: r.units_achieved,
            claims_to_review: r.claims_to_review,
            awaiting_countersignature: r.awaiting_countersignature,
            open_iqa_actions: r.open_iqa_actions,
            latest_outcome,
            latest_audit_at: r.latest_audit_at,
            last_activity_at: r.last_activity_at,
            stale: r.stale,
            behind_otj: r.behind_otj,
            review_overdue: r.review_overdue,
            review_unsigned: r.review_unsigned,
        })
    }
}

/// What every filter and order reads: the enrolment alone. The learner's name and email
/// are on it (migration 0015), and an order by the qualification, the major or the
/// assessor ranks the centre's few of them once per statement (`push_order_key`), so no
/// report joins 10,000 rows to sort them.
const FROM: &str = " FROM enrolments e";

/// The time before which an enrolment's last activity makes it quiet, and its day: each
/// computed once a statement (a subquery), not once a row, which at 14,000 quiet rows
/// was a third of the view's time (the session's time zone is consulted for every
/// `timestamptz - interval`).
pub(super) const QUIET_BEFORE: &str = "(SELECT now() - interval '30 days')";
const QUIET_BEFORE_DAY: &str = "(SELECT ((now() - interval '30 days') AT TIME ZONE 'UTC')::date)";

/// True when a report's rows are the quiet ones of the centre or of an IQA's sample, read
/// from the kept copy of them (migration 0050) instead of from every page of the
/// enrolments they are spread over. A caseload's few hundred are read from its own index.
fn reads_quiet_copy(scope: Scope, f: &Filters) -> bool {
    !matches!(scope, Scope::Caseload(_)) && f.stale
}

/// `SELECT columns` of the report's rows that `f` keeps, as `e`. The centre's quiet ones
/// are the kept copy's (which holds every column the filters and orders read), and when
/// housekeeping has fallen behind the report's line, those gone quiet since (from the
/// activity index; the condition on the line alone is checked once, before any row).
pub(super) fn push_select(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    f: &Filters,
    columns: &dyn Fn(&mut QueryBuilder<'static, Postgres>),
) {
    b.push("SELECT ");
    columns(b);
    if reads_quiet_copy(scope, f) {
        b.push(" FROM quiet_enrolments e");
        push_where(b, centre_id, scope, f);
        b.push(" UNION ALL SELECT ");
        columns(b);
        b.push(FROM);
        push_where(b, centre_id, scope, f);
        push_gone_quiet_since(b);
    } else {
        b.push(FROM);
        push_where(b, centre_id, scope, f);
    }
}

/// ` AND …`: the enrolment `e` went quiet after the copy's line, which housekeeping has
/// left behind the report's (the condition on the line alone is checked once, before any
/// row, so that a copy caught up reads no enrolment here).
pub(super) fn push_gone_quiet_since(b: &mut QueryBuilder<'static, Postgres>) {
    b.push(" AND (SELECT through FROM quiet_through) < ")
        .push(QUIET_BEFORE)
        .push(
            " AND e.last_activity_at >= (SELECT through FROM quiet_through) \
             AND e.last_activity_on >= (SELECT (through AT TIME ZONE 'UTC')::date FROM quiet_through)",
        );
}

/// What a row's details read.
const DETAIL_FROM: &str = " FROM enrolments e \
     LEFT JOIN qualification_versions v ON v.id = e.version_id \
     LEFT JOIN qualifications q ON q.id = v.qualification_id \
     LEFT JOIN majors m ON m.id = e.major_id \
     LEFT JOIN users a ON a.id = e.assessor_id";

const DETAILS: &str = "SELECT e.id AS enrolment_id, e.learner_id, l.display_name AS learner, \
     l.email AS learner_email, v.qualification_id, q.code AS qualification_code, \
     v.title AS qualification_title, v.version, e.major_id, m.code AS major_code, \
     m.title AS major_title, e.status, e.assessor_id, a.display_name AS assessor, \
     a.email AS assessor_email, e.trainee_assessor_id AS trainee_id, t.display_name AS trainee, \
     t.email AS trainee_email, e.iqa_id, i.display_name AS iqa, i.email AS iqa_email, \
     e.start_date, e.planned_end_date, w.name AS employer, e.criteria_total, e.confirmed_criteria AS confirmed, e.progress, \
     e.unit_total, e.units_achieved, e.claims_to_review, e.awaiting_countersignature, \
     e.open_iqa_actions, e.latest_outcome, e.latest_audit_at, e.last_activity_at, \
     e.last_activity_at < (SELECT now() - interval '30 days') AS stale, \
     coalesce(ap.behind_from <= (now() AT TIME ZONE 'UTC')::date, false) AS behind_otj, \
     coalesce(ap.next_review_due < (now() AT TIME ZONE 'UTC')::date, false) AS review_overdue, \
     coalesce(ap.oldest_unsigned_review_on < (now() AT TIME ZONE 'UTC')::date - 14, false) AS review_unsigned";

const DETAIL_JOINS: &str = " LEFT JOIN users l ON l.id = e.learner_id \
     LEFT JOIN users t ON t.id = e.trainee_assessor_id \
     LEFT JOIN users i ON i.id = e.iqa_id \
     LEFT JOIN employers w ON w.id = e.employer_id \
     LEFT JOIN apprenticeships ap ON ap.enrolment_id = e.id";

/// The centre's qualifications (versions), majors or staff in a column's order: the
/// ids, for an array, with the centre bound between the two parts.
fn ranking(column: Column) -> Option<(&'static str, &'static str)> {
    match column {
        Column::Qualification => Some((
            "SELECT v.id FROM qualification_versions v \
             JOIN qualifications q ON q.id = v.qualification_id WHERE q.centre_id = ",
            " ORDER BY q.code, v.version, v.id",
        )),
        Column::Major => Some((
            "SELECT m.id FROM majors m JOIN qualification_versions v ON v.id = m.version_id \
             JOIN qualifications q ON q.id = v.qualification_id WHERE q.centre_id = ",
            " ORDER BY lower(m.title), q.code, v.version, m.id",
        )),
        Column::Assessor => Some((
            "SELECT u.id FROM users u WHERE u.kind = 'staff' AND u.centre_id = ",
            " ORDER BY lower(u.display_name), u.id",
        )),
        _ => None,
    }
}

/// The statuses in the status machine's order, so that the list reads as a pipeline.
const STATUS_ORDER: &str = "ARRAY['not_yet_achieved', 'ready_to_be_requested', \
     'generating_credential', 'awaiting_issue', 'credential_issued', \
     'credential_failed_to_generate', 'withdrawn']";

/// The sort key of a column, as SQL over the enrolment `e`. A name from elsewhere is
/// ranked: the centre's qualifications, majors or staff in order, read once as an array
/// (an uncorrelated subquery, run once per statement), and each row's place in it.
fn push_order_key(b: &mut QueryBuilder<'_, Postgres>, column: Column, centre_id: Uuid) {
    if let Some((ids, by)) = ranking(column) {
        let of = match column {
            Column::Qualification => "e.version_id",
            Column::Major => "e.major_id",
            _ => "e.assessor_id",
        };
        b.push("array_position(ARRAY(")
            .push(ids)
            .push_bind(centre_id)
            .push(by)
            .push("), ")
            .push(of)
            .push(")");
        return;
    }
    match column {
        Column::Learner => {
            b.push("e.learner_sort");
        }
        Column::Qualification | Column::Major | Column::Assessor => {}
        Column::Status => {
            b.push("array_position(")
                .push(STATUS_ORDER)
                .push(", e.status)");
        }
        Column::Progress => {
            b.push("e.progress");
        }
        Column::Units => {
            b.push("e.units_achieved");
        }
        Column::Claims => {
            b.push("e.claims_to_review");
        }
        Column::Countersign => {
            b.push("e.awaiting_countersignature");
        }
        Column::Actions => {
            b.push("e.open_iqa_actions");
        }
        Column::Outcome => {
            // Never audited first, then from no major to every major (migration 0033).
            b.push("e.outcome_rank");
        }
        Column::Activity => {
            // The day, then the time within it (`refinement`): the order of the time,
            // with the day's index to read it from.
            b.push("e.last_activity_on");
        }
    }
}

/// The exact figure behind a column whose sort key is a coarser one kept indexed
/// (migration 0033), ordered second in the same direction.
fn refinement(column: Column) -> Option<&'static str> {
    match column {
        Column::Activity => Some("e.last_activity_at"),
        _ => None,
    }
}

fn push_order(b: &mut QueryBuilder<'_, Postgres>, q: &ReportQuery, centre_id: Uuid) {
    let dir = match q.sort.direction {
        Direction::Ascending => " ASC",
        Direction::Descending => " DESC",
    };
    b.push(" ORDER BY ");
    push_order_key(b, q.sort.column, centre_id);
    b.push(dir);
    if let Some(exact) = refinement(q.sort.column) {
        b.push(", ").push(exact).push(dir);
    }
    // Ties read alphabetically, then in a fixed order, so pages never overlap.
    if q.sort.column != Column::Learner {
        b.push(", e.learner_sort");
    }
    b.push(", e.id").push(dir);
}

/// `%`, `_` and `\` are taken as themselves in a search.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

pub(super) fn push_where(
    b: &mut QueryBuilder<'_, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    f: &Filters,
) {
    b.push(" WHERE e.centre_id = ").push_bind(centre_id);
    match scope {
        Scope::Caseload(me) => {
            b.push(" AND (e.assessor_id = ")
                .push_bind(me)
                .push(" OR e.trainee_assessor_id = ")
                .push_bind(me)
                .push(")");
        }
        Scope::Sample(me) => {
            b.push(" AND e.iqa_id = ").push_bind(me);
        }
        Scope::Centre => {}
    }
    if let Some(text) = &f.search {
        b.push(" AND e.learner_search LIKE lower(")
            .push_bind(like_pattern(text))
            .push(")");
    }
    if let Some(id) = f.qualification {
        b.push(" AND e.version_id IN (SELECT v.id FROM qualification_versions v WHERE v.qualification_id = ")
            .push_bind(id)
            .push(")");
    }
    let ids = [
        (" AND e.major_id = ", f.major),
        (" AND e.assessor_id = ", f.assessor),
        (" AND e.trainee_assessor_id = ", f.trainee),
        (" AND e.iqa_id = ", f.iqa),
    ];
    for (sql, value) in ids {
        if let Some(id) = value {
            b.push(sql).push_bind(id);
        }
    }
    if let Some(s) = f.status {
        b.push(" AND e.status = ").push_bind(s.key());
    }
    match f.outcome {
        Some(OutcomeFilter::Is(o)) => {
            b.push(" AND e.latest_outcome = ").push_bind(o.key());
        }
        Some(OutcomeFilter::NeverAudited) => {
            b.push(" AND e.latest_outcome IS NULL");
        }
        None => {}
    }
    if f.stale {
        // The day's bound adds nothing to the time's, but lets the few quiet rows be read
        // from the activity index (migration 0033) rather than every row of the centre.
        b.push(" AND e.last_activity_at < ")
            .push(QUIET_BEFORE)
            .push(" AND e.last_activity_on <= ")
            .push(QUIET_BEFORE_DAY);
    }
    if f.has_claims {
        b.push(" AND e.claims_to_review > 0");
    }
    if f.awaiting_countersignature {
        b.push(" AND e.awaiting_countersignature > 0");
    }
    if f.has_open_actions {
        b.push(" AND e.open_iqa_actions > 0");
    }
    // Apprenticeships' flags are kept as the first day they hold (or the day a review
    // is due), so each is a date comparison on the apprenticeship's row.
    let today = time::OffsetDateTime::now_utc().date();
    if f.behind_otj {
        b.push(" AND EXISTS (SELECT 1 FROM apprenticeships ap WHERE ap.enrolment_id = e.id AND ap.behind_from <= ")
            .push_bind(today)
            .push(")");
    }
    if f.review_overdue {
        b.push(" AND EXISTS (SELECT 1 FROM apprenticeships ap WHERE ap.enrolment_id = e.id AND ap.next_review_due < ")
            .push_bind(today)
            .push(")");
    }
    if f.review_unsigned {
        let flagged_before =
            today - time::Duration::days(crate::domain::reviews::UNSIGNED_FLAG_DAYS);
        b.push(" AND EXISTS (SELECT 1 FROM apprenticeships ap WHERE ap.enrolment_id = e.id AND ap.oldest_unsigned_review_on < ")
            .push_bind(flagged_before)
            .push(")");
    }
    if let Some(band) = f.progress {
        // Written into the statement (whole numbers, not text), so that its plan knows
        // how much of the centre the band holds: planned for any band, a statement took
        // 6,000 rows of 10,000 for 50 and sorted them from the progress index (6.5 ms
        // against 0.2 from the qualification's).
        b.push(format_args!(
            " AND e.progress BETWEEN {} AND {}",
            band.from, band.to
        ));
    }
    for (column, month) in [("requested_at", f.requested), ("issued_at", f.issued)] {
        if let Some(m) = month {
            b.push(" AND EXISTS (SELECT 1 FROM credentials c WHERE c.enrolment_id = e.id AND c.")
                .push(column)
                .push(" >= ")
                .push_bind(m.first_day().midnight().assume_utc())
                .push(" AND c.")
                .push(column)
                .push(" < ")
                .push_bind(m.end().midnight().assume_utc())
                .push(")");
        }
    }
}

/// One page of a report and how many rows the whole report has.
#[derive(Debug, Clone)]
pub struct ReportPage {
    pub rows: Vec<ReportRow>,
    pub total: i64,
}

/// The report's rows filtered once (`f`: each row's id and sort keys). Ordered by
/// learner, over the whole centre unfiltered, or an IQA's sample by actions, `f` is left
/// for PostgreSQL to fold into the page's query, which reads the top of the order's
/// index (migrations 0033, 0055) or, for the figures left unindexed, the top of one pass
/// over the rows. Otherwise every row the filters keep has to be read both to count and
/// to sort, and `f` is read once for both (3.0 ms against 7.8 at 10,000 enrolments for
/// the stale ones by outcome, before `push_quiet_page_ids` read them in a kept order).
fn push_filtered(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    q: &ReportQuery,
) {
    // A search's rows come from the name index, never in name order: folded into the
    // page's query they were read twice, to count and to sort (a search with 6,247 rows
    // of 100,000: 15 ms against 10 read once).
    let by_index = !reads_quiet_copy(scope, &q.filters)
        && q.filters.search.is_none()
        && (q.sort.column == Column::Learner
            || (scope == Scope::Centre && q.filters.is_empty())
            || sample_by_actions(scope, q));
    b.push("WITH f AS ");
    b.push(if by_index {
        "NOT MATERIALIZED"
    } else {
        "MATERIALIZED"
    });
    b.push(" (");
    let column = q.sort.column;
    push_select(b, centre_id, scope, &q.filters, &|b| {
        b.push("e.id, ");
        push_order_key(b, column, centre_id);
        b.push(" AS k, ");
        if let Some(exact) = refinement(column) {
            b.push(exact).push(" AS r, ");
        }
        b.push("e.learner_sort AS s");
    });
    b.push(") ");
}

/// The centre's quiet enrolments, unnarrowed, by name or by outcome: their total is the
/// quiet tallies' and their order is kept in the copy (migrations 0056, 0057), so a page
/// reads only its rows (`push_quiet_page_ids`).
fn quiet_in_kept_order(scope: Scope, q: &ReportQuery) -> bool {
    let quiet = Filters {
        stale: true,
        ..Filters::default()
    };
    scope == Scope::Centre
        && q.filters == quiet
        && matches!(q.sort.column, Column::Learner | Column::Outcome)
}

/// `ARRAY(…)` of the page's ids for `quiet_in_kept_order`: the top of the copy's order,
/// and of those gone quiet since the copy's line (none once housekeeping has caught up),
/// each cut at the page's end, then merged. One statement over both branches had
/// PostgreSQL read and sort the whole copy, as it cannot merge them in order.
fn push_quiet_page_ids(b: &mut QueryBuilder<'static, Postgres>, centre_id: Uuid, q: &ReportQuery) {
    let offset = i64::try_from(q.offset()).unwrap_or(i64::MAX);
    let size = i64::from(q.size);
    let column = q.sort.column;
    b.push("ARRAY(SELECT x.id FROM (");
    for (n, from) in [" FROM quiet_enrolments e", FROM].into_iter().enumerate() {
        if n > 0 {
            b.push(" UNION ALL ");
        }
        b.push("(SELECT e.id, ");
        push_order_key(b, column, centre_id);
        b.push(" AS k, ");
        if let Some(exact) = refinement(column) {
            b.push(exact).push(" AS r, ");
        }
        b.push("e.learner_sort AS s").push(from);
        push_where(b, centre_id, Scope::Centre, &q.filters);
        if n > 0 {
            push_gone_quiet_since(b);
        }
        push_order_by(b, q);
        b.push(" LIMIT ")
            .push_bind(offset.saturating_add(size))
            .push(")");
    }
    b.push(") x");
    push_order_by(b, q);
    b.push(" LIMIT ")
        .push_bind(size)
        .push(" OFFSET ")
        .push_bind(offset)
        .push(")");
}

/// An IQA's whole sample by open actions (the IQA home's list, the sample list sorted
/// so): its total is the tallies' and its order is kept (migration 0055), so the page
/// reads only the rows it shows.
fn sample_by_actions(scope: Scope, q: &ReportQuery) -> bool {
    matches!(scope, Scope::Sample(_)) && q.sort.column == Column::Actions && q.filters.is_empty()
}

/// ` ORDER BY …` of the query's order over rows of `f`'s columns (`id`, `k`, `r`, `s`).
fn push_order_by(b: &mut QueryBuilder<'static, Postgres>, q: &ReportQuery) {
    let dir = match q.sort.direction {
        Direction::Ascending => " ASC",
        Direction::Descending => " DESC",
    };
    b.push(" ORDER BY k").push(dir);
    if refinement(q.sort.column).is_some() {
        b.push(", r").push(dir);
    }
    if q.sort.column != Column::Learner {
        b.push(", s");
    }
    b.push(", id").push(dir);
}

/// `f`'s ids of the query's page, in order.
fn push_page_ids(b: &mut QueryBuilder<'static, Postgres>, q: &ReportQuery) {
    b.push("ARRAY(SELECT id FROM f");
    push_order_by(b, q);
    b.push(" LIMIT ")
        .push_bind(i64::from(q.size))
        .push(" OFFSET ")
        .push_bind(i64::try_from(q.offset()).unwrap_or(i64::MAX))
        .push(")");
}

/// The enrolment column whose index (migration 0022) an order reads its page from, when
/// it can: over the whole centre, by a column ticks never change. Caseloads and samples
/// are a few hundred rows, cheaper sorted than read through a centre-wide index.
fn grouped_by(column: Column, scope: Scope) -> Option<&'static str> {
    if scope != Scope::Centre {
        return None;
    }
    match column {
        Column::Qualification => Some("e.version_id"),
        Column::Major => Some("e.major_id"),
        Column::Assessor => Some("e.assessor_id"),
        Column::Status => Some("e.status"),
        _ => None,
    }
}

/// The page's ids, in the same order as `push_page_ids` gives, read group by group: the
/// column's values in its order, and in each the rows in name order from the index, cut
/// at the page's end. No statement sorts (or even reads) the centre's other rows.
fn push_grouped_page_ids(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    q: &ReportQuery,
    of: &'static str,
) {
    let dir = match q.sort.direction {
        Direction::Ascending => " ASC",
        Direction::Descending => " DESC",
    };
    let offset = i64::try_from(q.offset()).unwrap_or(i64::MAX);
    let size = i64::from(q.size);
    b.push("ARRAY(SELECT x.id FROM (SELECT r.g, r.n FROM unnest(");
    match ranking(q.sort.column) {
        Some((ids, by)) => {
            b.push("ARRAY(")
                .push(ids)
                .push_bind(centre_id)
                .push(by)
                .push(")");
        }
        None => {
            b.push(STATUS_ORDER);
        }
    }
    b.push(") WITH ORDINALITY AS r(g, n) ORDER BY r.n")
        .push(dir)
        .push(") r CROSS JOIN LATERAL (SELECT e.id, e.learner_sort")
        .push(FROM);
    push_where(b, centre_id, scope, &q.filters);
    b.push(" AND ")
        .push(of)
        .push(" = r.g ORDER BY e.learner_sort, e.id")
        .push(dir)
        .push(" LIMIT ")
        .push_bind(offset.saturating_add(size))
        .push(") x ORDER BY r.n")
        .push(dir)
        .push(", x.learner_sort, x.id")
        .push(dir)
        .push(" LIMIT ")
        .push_bind(size)
        .push(" OFFSET ")
        .push_bind(offset)
        .push(")");
}

/// The details of the rows `ids` holds, in its order.
fn push_details_of(b: &mut QueryBuilder<'static, Postgres>) {
    b.push(DETAILS);
    b.push(" FROM unnest(");
}

fn push_details_end(b: &mut QueryBuilder<'static, Postgres>) {
    b.push(") WITH ORDINALITY AS p(id, n) JOIN enrolments e ON e.id = p.id");
    b.push(
        " LEFT JOIN qualification_versions v ON v.id = e.version_id \
         LEFT JOIN qualifications q ON q.id = v.qualification_id \
         LEFT JOIN majors m ON m.id = e.major_id \
         LEFT JOIN users a ON a.id = e.assessor_id",
    );
    b.push(DETAIL_JOINS);
    b.push(" ORDER BY p.n");
}

/// How many rows the report has: the centre's kept count when nothing narrows it
/// (migration 0033); the centre's tallies when only what they count by does (migration
/// 0053: the dashboards' links, and claims or countersignature alone, which were counted
/// by scanning the queue's rows of every enrolment with the figure, most of a busy
/// centre's); the quiet tallies for the quiet ones (migration 0056); else counted by
/// `count`.
fn push_total(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    scope: Scope,
    q: &ReportQuery,
    count: impl FnOnce(&mut QueryBuilder<'static, Postgres>),
) {
    if scope == Scope::Centre && q.filters.is_empty() {
        b.push("COALESCE((SELECT c.enrolments FROM centre_enrolment_counts c WHERE c.centre_id = ")
            .push_bind(centre_id)
            .push("), 0)");
    } else if !report_tallies::push_tallied_total(b, centre_id, scope, &q.filters)
        && !report_tallies::push_quiet_total(b, centre_id, scope, &q.filters)
    {
        count(b);
    }
}

/// The rows of the query's page, in its order, in one statement.
pub async fn rows(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    scope: Scope,
    q: &ReportQuery,
) -> DbResult<Vec<ReportRow>> {
    let mut b = QueryBuilder::new("");
    match grouped_by(q.sort.column, scope) {
        Some(of) => {
            push_details_of(&mut b);
            push_grouped_page_ids(&mut b, centre_id, scope, q, of);
        }
        None if quiet_in_kept_order(scope, q) => {
            push_details_of(&mut b);
            push_quiet_page_ids(&mut b, centre_id, q);
        }
        None => {
            push_filtered(&mut b, centre_id, scope, q);
            push_details_of(&mut b);
            push_page_ids(&mut b, q);
        }
    }
    push_details_end(&mut b);
    let rows: Vec<Row> = b.build_query_as().fetch_all(db).await?;
    rows.into_iter().map(ReportRow::try_from).collect()
}

/// `(SELECT count(*) …)` of the report's rows that `f` keeps, each read.
fn push_count(b: &mut QueryBuilder<'static, Postgres>, centre_id: Uuid, scope: Scope, f: &Filters) {
    b.push("(SELECT count(*) FROM (");
    push_select(b, centre_id, scope, f, &|b| {
        b.push("1");
    });
    b.push(") c)");
}

/// A page of the report with its total, in two statements whatever the page: the total
/// and the page's ids from one reading of the filtered rows, then the page's details.
pub async fn page<'c, E>(
    db: E,
    centre_id: Uuid,
    scope: Scope,
    q: &ReportQuery,
) -> DbResult<ReportPage>
where
    E: PgExecutor<'c> + Copy,
{
    let mut b = QueryBuilder::new("");
    match (
        grouped_by(q.sort.column, scope),
        report_queue::ordered(scope, q),
    ) {
        (Some(of), _) => {
            b.push("SELECT ");
            push_total(&mut b, centre_id, scope, q, |b| {
                push_count(b, centre_id, scope, &q.filters);
            });
            b.push(" AS total, ");
            push_grouped_page_ids(&mut b, centre_id, scope, q, of);
        }
        (None, Some(column)) => {
            // Unfiltered or filtered by the queue's own flag (`ordered`): a kept count,
            // so `push_count` is never reached here.
            b.push("SELECT ");
            push_total(&mut b, centre_id, scope, q, |b| {
                push_count(b, centre_id, scope, &q.filters);
            });
            b.push(" AS total, ");
            report_queue::push_page_ids(&mut b, centre_id, q, column);
        }
        (None, None) if quiet_in_kept_order(scope, q) => {
            b.push("SELECT ");
            push_total(&mut b, centre_id, scope, q, |b| {
                push_count(b, centre_id, scope, &q.filters);
            });
            b.push(" AS total, ");
            push_quiet_page_ids(&mut b, centre_id, q);
        }
        (None, None) => {
            push_filtered(&mut b, centre_id, scope, q);
            b.push("SELECT ");
            push_total(&mut b, centre_id, scope, q, |b| {
                b.push("(SELECT count(*) FROM f)");
            });
            b.push(" AS total, ");
            push_page_ids(&mut b, q);
        }
    }
    b.push(" AS ids");
    #[derive(sqlx::FromRow)]
    struct PageIds {
        total: i64,
        ids: Vec<Uuid>,
    }
    let PageIds { total, ids } = b.build_query_as().fetch_one(db).await?;
    let mut b = QueryBuilder::new("");
    push_details_of(&mut b);
    b.push_bind(ids).push("::uuid[]");
    push_details_end(&mut b);
    let rows: Vec<Row> = b.build_query_as().fetch_all(db).await?;
    let rows = rows
        .into_iter()
        .map(ReportRow::try_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(ReportPage { rows, total })
}

/// The statement for every row of the report, in its order (for the CSV export): built
/// here so the export reads exactly what the page would.
pub fn all_rows_query(
    centre_id: Uuid,
    scope: Scope,
    q: &ReportQuery,
) -> QueryBuilder<'static, Postgres> {
    let mut b = QueryBuilder::new(DETAILS);
    b.push(DETAIL_FROM);
    b.push(DETAIL_JOINS);
    push_where(&mut b, centre_id, scope, &q.filters);
    push_order(&mut b, q, centre_id);
    b
}

/// Reads one row of `all_rows_query`.
pub fn read_row(row: &sqlx::postgres::PgRow) -> DbResult<ReportRow> {
    use sqlx::FromRow;
    Row::from_row(row)?.try_into()
}

/// A choice in a report's filter: an id and what to call it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Choice {
    pub id: Uuid,
    pub label: String,
}

/// What a report's filters offer: the centre's qualifications, majors and staff.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub qualifications: Vec<Choice>,
    pub majors: Vec<Choice>,
    pub assessors: Vec<Choice>,
    pub trainees: Vec<Choice>,
    pub iqas: Vec<Choice>,
}

/// The centre's qualifications, majors and staff with their roles, in one statement.
pub async fn choices(db: impl PgExecutor<'_>, centre_id: Uuid) -> DbResult<Choices> {
    struct Listed {
        kind: String,
        id: Uuid,
        label: String,
        roles: Vec<String>,
    }
    let listed = sqlx::query_as!(
        Listed,
        r#"SELECT kind AS "kind!", id AS "id!", label AS "label!", roles AS "roles!" FROM (
             SELECT 'qualification' AS kind, q.id,
                    q.code || ' ' || (SELECT v.title FROM qualification_versions v
                       WHERE v.qualification_id = q.id ORDER BY v.version DESC LIMIT 1) AS label,
                    '{}'::text[] AS roles, q.code AS o1, 0 AS o2
               FROM qualifications q WHERE q.centre_id = $1
             UNION ALL
             SELECT 'major', m.id, m.title || ' (' || q.code || ' v' || v.version || ', ' || m.code || ')',
                    '{}'::text[], q.code, -v.version * 1000 + m.ordinal
               FROM majors m JOIN qualification_versions v ON v.id = m.version_id
               JOIN qualifications q ON q.id = v.qualification_id WHERE q.centre_id = $1
             UNION ALL
             SELECT 'staff', u.id, u.display_name,
                    ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id), lower(u.display_name), 0
               FROM users u WHERE u.centre_id = $1 AND u.kind = 'staff'
           ) c ORDER BY kind, o1, o2, id"#,
        centre_id
    )
    .fetch_all(db)
    .await?;
    let mut out = Choices::default();
    for l in listed {
        let choice = || Choice {
            id: l.id,
            label: l.label.clone(),
        };
        match l.kind.as_str() {
            "qualification" => out.qualifications.push(choice()),
            "major" => out.majors.push(choice()),
            _ => {
                for (role, list) in [
                    (Role::Assessor, &mut out.assessors),
                    (Role::TraineeAssessor, &mut out.trainees),
                    (Role::Iqa, &mut out.iqas),
                ] {
                    if l.roles.iter().any(|r| r == role.key()) {
                        list.push(choice());
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn a_search_matches_wildcards_as_text() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(like_pattern("Zoë"), "%Zoë%");
    }
}

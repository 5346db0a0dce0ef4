//! The admin report's views that the kept queues (migration 0039) answer: over the whole
//! centre, ordered by claims to review or by ticks awaiting countersignature, or filtered
//! to the enrolments with any. Those figures move with most ticks and stay unindexed in
//! `enrolments`; ordered or counted from there, every row of the centre was read.
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::report::Scope;
use crate::domain::report::{Column, Direction, Filters, ReportQuery};

const CLAIMS: &str = "claims_to_review";
const COUNTERSIGN: &str = "awaiting_countersignature";

/// The queue's column when the view is the whole centre filtered by one figure's own
/// flag and nothing else (its total is the tallies', `report::push_total`).
pub(super) fn counted(scope: Scope, filters: &Filters) -> Option<&'static str> {
    if scope != Scope::Centre {
        return None;
    }
    let claims = Filters {
        has_claims: true,
        ..Filters::default()
    };
    let countersign = Filters {
        awaiting_countersignature: true,
        ..Filters::default()
    };
    if *filters == claims {
        Some(CLAIMS)
    } else if *filters == countersign {
        Some(COUNTERSIGN)
    } else {
        None
    }
}

/// The queue's column a view reads its page from: ordered by that figure over the whole
/// centre, unfiltered or filtered by the figure's own flag.
pub(super) fn ordered(scope: Scope, q: &ReportQuery) -> Option<&'static str> {
    if scope != Scope::Centre {
        return None;
    }
    let column = match q.sort.column {
        Column::Claims => CLAIMS,
        Column::Countersign => COUNTERSIGN,
        _ => return None,
    };
    (q.filters.is_empty() || counted(scope, &q.filters) == Some(column)).then_some(column)
}

/// The page's ids in the report's order (`report::push_order`: the figure, the learner's
/// name ascending, the id the figure's way), read from the order's index.
pub(super) fn push_page_ids(
    b: &mut QueryBuilder<'static, Postgres>,
    centre_id: Uuid,
    q: &ReportQuery,
    column: &str,
) {
    let dir = match q.sort.direction {
        Direction::Ascending => " ASC",
        Direction::Descending => " DESC",
    };
    b.push("ARRAY(SELECT enrolment_id FROM enrolment_queues WHERE centre_id = ")
        .push_bind(centre_id);
    if !q.filters.is_empty() {
        b.push(" AND ").push(column).push(" > 0");
    }
    b.push(" ORDER BY ")
        .push(column)
        .push(dir)
        .push(", learner_sort, enrolment_id")
        .push(dir)
        .push(" LIMIT ")
        .push_bind(i64::from(q.size))
        .push(" OFFSET ")
        .push_bind(i64::try_from(q.offset()).unwrap_or(i64::MAX))
        .push(")");
}

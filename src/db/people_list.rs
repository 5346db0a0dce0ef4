//! The people of a centre as a report (issue 12), built from
//! `domain::people_list::PeopleQuery` with every value bound and every order chosen from
//! a closed list, as the enrolment reports are (`db::report`).
//!
//! A page is two statements whatever the centre's size: the total and the page's ids
//! from one reading of the filtered accounts (each order read from its index, migration
//! 0026, so the ids of a page are the index entries of that page), then those accounts'
//! details.
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DbError, DbResult};
use crate::domain::people::{Role, UserKind};
use crate::domain::people_list::{PeopleColumn, PeopleFilters, PeopleQuery, Standing};
use crate::domain::report::Direction;

/// One person as the list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub kind: UserKind,
    /// In `Role`'s order.
    pub roles: Vec<Role>,
    pub active: bool,
    pub password_set: bool,
    pub added_at: OffsetDateTime,
    /// Failed sign-ins are counted against them (an admin may clear them).
    pub failing: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    id: Uuid,
    display_name: String,
    email: String,
    kind: String,
    roles: Vec<String>,
    active: bool,
    password_set: bool,
    added_at: OffsetDateTime,
    failing: bool,
}

impl TryFrom<PersonRow> for Person {
    type Error = DbError;
    fn try_from(r: PersonRow) -> DbResult<Person> {
        let kind = UserKind::from_key(&r.kind)
            .ok_or_else(|| DbError::Corrupt(format!("user kind {:?}", r.kind)))?;
        let mut roles = r
            .roles
            .iter()
            .map(|k| Role::from_key(k).ok_or_else(|| DbError::Corrupt(format!("role {k:?}"))))
            .collect::<DbResult<Vec<Role>>>()?;
        roles.sort();
        Ok(Person {
            id: r.id,
            display_name: r.display_name,
            email: r.email,
            kind,
            roles,
            active: r.active,
            password_set: r.password_set,
            added_at: r.added_at,
            failing: r.failing,
        })
    }
}

/// The sort keys of an order over the account `u`, first to last; each order's index
/// (migration 0026) holds them after the centre, so a page reads in index order.
fn order_keys(column: PeopleColumn) -> &'static [&'static str] {
    match column {
        PeopleColumn::Name => &["lower(u.display_name)", "u.id"],
        // Unique within a centre (users_centre_email_key): no tie to break.
        PeopleColumn::Email => &["lower(u.email)"],
        PeopleColumn::Roles => &["u.role_ranks", "lower(u.display_name)", "u.id"],
        PeopleColumn::Status => &["(NOT u.active)", "lower(u.display_name)", "u.id"],
        PeopleColumn::Added => &["u.created_at", "u.id"],
    }
}

fn direction(q: &PeopleQuery) -> &'static str {
    match q.sort.direction {
        Direction::Ascending => " ASC",
        Direction::Descending => " DESC",
    }
}

/// Every key in the query's direction: the other way round reverses the whole list
/// (and reads its index backwards).
fn push_order(b: &mut QueryBuilder<'_, Postgres>, q: &PeopleQuery) {
    b.push(" ORDER BY ");
    for (n, key) in order_keys(q.sort.column).iter().enumerate() {
        if n > 0 {
            b.push(", ");
        }
        b.push(*key).push(direction(q));
    }
}

fn push_where(b: &mut QueryBuilder<'_, Postgres>, centre_id: Uuid, f: &PeopleFilters) {
    b.push(" WHERE u.centre_id = ").push_bind(centre_id);
    if let Some(text) = &f.search {
        // The expression of users_people_search_trgm.
        b.push(" AND (lower(u.display_name) || ' ' || lower(u.email)) LIKE lower(")
            .push_bind(super::report::like_pattern(text))
            .push(")");
    }
    if let Some(role) = f.role {
        // The role as the account's kept ranks hold it (migration 0026), beside the kind
        // that role belongs to, written out (a closed list, never input) so that the plan
        // knows how few staff there are among the learners and reads the page from the
        // order's index either way.
        let kind = if role == Role::Learner {
            UserKind::Learner
        } else {
            UserKind::Staff
        };
        b.push(format_args!(" AND u.kind = '{}'", kind.key()))
            .push(" AND u.role_ranks @> ARRAY[role_rank(")
            .push_bind(role.key())
            .push(")]");
    }
    if let Some(standing) = f.standing {
        // The expression of users_people_status_idx, compared to a bound value so that
        // the (generic) plan reads that index for it.
        b.push(" AND (NOT u.active) = ")
            .push_bind(standing == Standing::Deactivated);
    }
}

/// How many people the list has: the centre's kept counts (migration 0038) unless a
/// search narrows it, when the (few) accounts that match are counted.
fn push_total(b: &mut QueryBuilder<'_, Postgres>, centre_id: Uuid, f: &PeopleFilters) {
    if f.search.is_some() {
        b.push("(SELECT count(*) FROM f)");
        return;
    }
    b.push(
        "(SELECT COALESCE(sum(c.people), 0)::int8 FROM centre_people_counts c WHERE c.centre_id = ",
    )
    .push_bind(centre_id)
    .push(" AND c.role = ")
    .push_bind(f.role.map_or("", |r| r.key()));
    if let Some(standing) = f.standing {
        b.push(" AND c.active = ")
            .push_bind(standing == Standing::Active);
    }
    b.push(")");
}

/// One page of the list and how many people the whole list has.
#[derive(Debug, Clone)]
pub(crate) struct PeoplePage {
    pub people: Vec<Person>,
    pub total: i64,
}

/// The page the query asks for, in two statements however many people the centre has.
pub(crate) async fn page<'c, E>(db: E, centre_id: Uuid, q: &PeopleQuery) -> DbResult<PeoplePage>
where
    E: PgExecutor<'c> + Copy,
{
    // Built at run time: the conditions and the order follow the view.
    let mut b = QueryBuilder::new("WITH f AS NOT MATERIALIZED (SELECT u.id");
    for (n, key) in order_keys(q.sort.column).iter().enumerate() {
        b.push(format_args!(", {key} AS k{n}"));
    }
    b.push(" FROM users u");
    push_where(&mut b, centre_id, &q.filters);
    b.push(") SELECT ");
    push_total(&mut b, centre_id, &q.filters);
    b.push(" AS total, ARRAY(SELECT id FROM f ORDER BY ");
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
        PersonRow,
        r#"SELECT u.id, u.display_name, u.email, u.kind, u.active,
                  u.password_hash IS NOT NULL AS "password_set!", u.created_at AS added_at,
                  ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id) AS "roles!",
                  EXISTS (SELECT 1 FROM login_throttles t
                           WHERE t.scope IN ('pair', 'account') AND t.email = lower(u.email)
                             AND t.failures > 0) AS "failing!"
             FROM unnest($1::uuid[]) WITH ORDINALITY AS p(id, n)
             JOIN users u ON u.id = p.id
            ORDER BY p.n"#,
        &ids[..]
    )
    .fetch_all(db)
    .await?;
    let people = rows
        .into_iter()
        .map(Person::try_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(PeoplePage { people, total })
}

/// The statement for every person of the list, in its order (for the CSV export): built
/// here so the export reads exactly what the pages would.
pub(crate) fn all_rows_query(centre_id: Uuid, q: &PeopleQuery) -> QueryBuilder<'static, Postgres> {
    let mut b = QueryBuilder::new(
        "SELECT u.id, u.display_name, u.email, u.kind, u.active, \
                u.password_hash IS NOT NULL AS password_set, u.created_at AS added_at, \
                ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id) AS roles, \
                false AS failing \
           FROM users u",
    );
    push_where(&mut b, centre_id, &q.filters);
    push_order(&mut b, q);
    b
}

/// Reads one row of `all_rows_query`.
pub(crate) fn read_row(row: &sqlx::postgres::PgRow) -> DbResult<Person> {
    use sqlx::FromRow;
    PersonRow::from_row(row)?.try_into()
}

//! The off-the-job log (issue 14, point 2): entries edited and decided, each one
//! transaction holding the apprenticeship's row (so the day's 24-hour check sees every
//! entry of that day), with its activity entry and the kept figures moved. Entries are
//! added, the same way but several at once, by `db::otj_writer`.
use std::collections::HashMap;

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::apprenticeships::{self, Apprenticeship};
use super::{activity, DbError, DbResult};
use crate::domain::apprenticeship::{self as otj_rules, Break, Entry, EntryState, Minutes, Plan};
use crate::domain::form::FieldError;
use crate::domain::otj::{entry_refusal, Decision, ValidEntry};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryRow {
    pub id: Uuid,
    pub enrolment_id: Uuid,
    pub day: Date,
    pub minutes: i32,
    pub activity: String,
    pub what: String,
    pub evidence_ids: Vec<Uuid>,
    pub criteria: Vec<Uuid>,
    pub state: String,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub reject_reason: Option<String>,
    pub logged_by: Uuid,
    pub logged_by_name: String,
    pub logged_at: OffsetDateTime,
    pub changed_at: OffsetDateTime,
}

impl EntryRow {
    pub fn state(&self) -> EntryState {
        EntryState::from_key(&self.state).unwrap_or(EntryState::Pending)
    }

    pub fn valid(&self) -> ValidEntry {
        ValidEntry {
            day: self.day,
            minutes: Minutes::from(self.minutes),
            activity: self.activity.clone(),
            what: self.what.clone(),
            evidence: self.evidence_ids.clone(),
            criteria: self.criteria.clone(),
        }
    }
}

/// Where a page of the log starts: after this entry (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct After {
    pub day: Date,
    pub logged_at: OffsetDateTime,
    pub id: Uuid,
}

/// A page of the log, newest day first, and whether older entries follow.
pub(crate) async fn page(
    db: impl PgExecutor<'_>,
    enrolment: Uuid,
    after: Option<After>,
    size: i64,
) -> DbResult<(Vec<EntryRow>, bool)> {
    let (day, at, id) = match after {
        Some(a) => (Some(a.day), Some(a.logged_at), Some(a.id)),
        None => (None, None, None),
    };
    let rows = sqlx::query_as!(
        EntryRow,
        "SELECT o.id, o.enrolment_id, o.day, o.minutes, o.activity, o.what, o.evidence_ids, \
                o.criteria, o.state, d.display_name AS \"decided_by_name?\", o.decided_at, \
                o.reject_reason, o.logged_by, l.display_name AS logged_by_name, o.logged_at, \
                o.changed_at \
           FROM otj_entries o \
           JOIN users l ON l.id = o.logged_by \
           LEFT JOIN users d ON d.id = o.decided_by \
          WHERE o.enrolment_id = $1 \
            AND ($2::date IS NULL OR (o.day, o.logged_at, o.id) < ($2, $3, $4)) \
          ORDER BY o.day DESC, o.logged_at DESC, o.id DESC LIMIT $5",
        enrolment,
        day,
        at,
        id,
        size + 1
    )
    .fetch_all(db)
    .await?;
    Ok(super::page_and_more(rows, size as usize))
}

pub(crate) async fn get(db: impl PgExecutor<'_>, enrolment: Uuid, id: Uuid) -> DbResult<EntryRow> {
    sqlx::query_as!(
        EntryRow,
        "SELECT o.id, o.enrolment_id, o.day, o.minutes, o.activity, o.what, o.evidence_ids, \
                o.criteria, o.state, d.display_name AS \"decided_by_name?\", o.decided_at, \
                o.reject_reason, o.logged_by, l.display_name AS logged_by_name, o.logged_at, \
                o.changed_at \
           FROM otj_entries o \
           JOIN users l ON l.id = o.logged_by \
           LEFT JOIN users d ON d.id = o.decided_by \
          WHERE o.id = $1 AND o.enrolment_id = $2",
        id,
        enrolment
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)
}

/// The approved minutes of each day: the chart's actual line.
pub(crate) async fn approved_by_day(
    db: impl PgExecutor<'_>,
    enrolment: Uuid,
) -> DbResult<Vec<Entry>> {
    let rows = sqlx::query!(
        "SELECT day, sum(minutes)::bigint AS \"minutes!\" FROM otj_entries \
          WHERE enrolment_id = $1 AND state = 'approved' GROUP BY day ORDER BY day",
        enrolment
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            day: r.day,
            minutes: r.minutes,
            state: EntryState::Approved,
        })
        .collect())
}

/// The titles of the enrolment's evidence among `ids` (an entry's links, shown).
pub(crate) async fn evidence_titles(
    db: impl PgExecutor<'_>,
    enrolment: Uuid,
    ids: &[Uuid],
) -> DbResult<HashMap<Uuid, String>> {
    Ok(sqlx::query!(
        "SELECT id, title FROM evidence WHERE enrolment_id = $1 AND id = ANY($2)",
        enrolment,
        ids
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.title))
    .collect())
}

/// The enrolment's newest evidence, to link an entry to: (id, title).
pub(crate) async fn recent_evidence(
    db: impl PgExecutor<'_>,
    enrolment: Uuid,
    limit: i64,
) -> DbResult<Vec<(Uuid, String)>> {
    Ok(sqlx::query!(
        "SELECT id, title FROM evidence WHERE enrolment_id = $1 ORDER BY added_at DESC LIMIT $2",
        enrolment,
        limit
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.title))
    .collect())
}

/// The apprenticeship's breaks and the day's other entries (not rejected), for the
/// entry's checks, in one statement.
async fn breaks_and_day(
    conn: &mut PgConnection,
    a: &Apprenticeship,
    day: Date,
    except: Option<Uuid>,
) -> DbResult<(Plan, Vec<Entry>)> {
    let r = sqlx::query!(
        "SELECT ARRAY(SELECT from_on FROM learning_breaks WHERE enrolment_id = $1 ORDER BY from_on) AS \"froms!\", \
                ARRAY(SELECT to_on FROM learning_breaks WHERE enrolment_id = $1 ORDER BY from_on) AS \"tos!\", \
                ARRAY(SELECT minutes FROM otj_entries WHERE enrolment_id = $1 AND day = $2 \
                         AND state <> 'rejected' AND id IS DISTINCT FROM $3) AS \"minutes!\"",
        a.enrolment_id,
        day,
        except
    )
    .fetch_one(&mut *conn)
    .await?;
    let plan = Plan {
        start: a.start_on,
        planned_end: a.planned_end_on,
        planned: Minutes::from(a.planned_minutes),
        breaks: breaks_of(r.froms, r.tos),
    };
    let entries = r
        .minutes
        .into_iter()
        .map(|m| Entry {
            day,
            minutes: Minutes::from(m),
            state: EntryState::Pending,
        })
        .collect();
    Ok((plan, entries))
}

/// Breaks read as two arrays (their first days, their last days).
pub(super) fn breaks_of(froms: Vec<Date>, tos: Vec<Date>) -> Vec<Break> {
    froms
        .into_iter()
        .zip(tos)
        .map(|(from, to)| Break { from, to })
        .collect()
}

/// Why a change to the log was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogRefusal {
    /// Against a field of the form.
    Field(FieldError),
    /// The entry is no longer awaiting a decision.
    AlreadyDecided(EntryState),
}

async fn check(
    conn: &mut PgConnection,
    a: &Apprenticeship,
    entry: &ValidEntry,
    today: Date,
    except: Option<Uuid>,
) -> DbResult<Result<(), LogRefusal>> {
    let (plan, day) = breaks_and_day(conn, a, entry.day, except).await?;
    Ok(
        otj_rules::check_entry(&plan, today, entry.day, entry.minutes, &day)
            .map_err(|r| LogRefusal::Field(entry_refusal(r))),
    )
}

pub(super) fn detail(entry: &ValidEntry) -> serde_json::Value {
    serde_json::json!({
        "day": entry.day.to_string(), "minutes": entry.minutes, "activity": entry.activity,
        "what": entry.what, "evidence": entry.evidence, "criteria": entry.criteria,
    })
}

/// Changes an entry; an approved (or rejected) entry goes back to pending, for the
/// assessor to decide again.
pub(crate) async fn edit(
    pool: &PgPool,
    enrolment: Uuid,
    id: Uuid,
    actor: Uuid,
    entry: &ValidEntry,
    today: Date,
) -> DbResult<Result<(), LogRefusal>> {
    let mut tx = pool.begin().await?;
    let a = apprenticeships::lock(&mut tx, enrolment)
        .await?
        .ok_or(DbError::NotFound)?;
    let before = get(&mut *tx, enrolment, id).await?;
    if let Err(r) = check(&mut tx, &a, entry, today, Some(id)).await? {
        return Ok(Err(r));
    }
    sqlx::query!(
        "UPDATE otj_entries SET day = $2, minutes = $3, activity = $4, what = $5, \
                evidence_ids = $6, criteria = $7, state = 'pending', decided_by = NULL, \
                decided_at = NULL, reject_reason = NULL, changed_at = now() WHERE id = $1",
        id,
        entry.day,
        entry.minutes as i32,
        entry.activity,
        entry.what,
        &entry.evidence,
        &entry.criteria
    )
    .execute(&mut *tx)
    .await?;
    if before.state() == EntryState::Approved {
        apprenticeships::refresh(&mut tx, enrolment).await?;
    }
    let mut d = detail(entry);
    d["entry"] = serde_json::json!(id);
    d["was"] = detail(&before.valid());
    d["was_state"] = serde_json::json!(before.state);
    activity::record(
        &mut *tx,
        a.centre_id,
        Some(enrolment),
        Some(actor),
        "OTJ entry changed",
        d,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// The assessor approves or rejects a pending entry.
pub(crate) async fn decide(
    pool: &PgPool,
    enrolment: Uuid,
    id: Uuid,
    actor: Uuid,
    decision: &Decision,
) -> DbResult<Result<(), LogRefusal>> {
    let mut tx = pool.begin().await?;
    let a = apprenticeships::lock(&mut tx, enrolment)
        .await?
        .ok_or(DbError::NotFound)?;
    let entry = get(&mut *tx, enrolment, id).await?;
    if entry.state() != EntryState::Pending {
        return Ok(Err(LogRefusal::AlreadyDecided(entry.state())));
    }
    let (state, reason) = match decision {
        Decision::Approve => (EntryState::Approved, None),
        Decision::Reject(r) => (EntryState::Rejected, Some(r.as_str())),
    };
    sqlx::query!(
        "UPDATE otj_entries SET state = $2, decided_by = $3, decided_at = now(), \
                reject_reason = $4 WHERE id = $1",
        id,
        state.key(),
        actor,
        reason
    )
    .execute(&mut *tx)
    .await?;
    if state == EntryState::Approved {
        apprenticeships::refresh(&mut tx, enrolment).await?;
    }
    let action = match state {
        EntryState::Approved => "OTJ entry approved",
        _ => "OTJ entry rejected",
    };
    activity::record(
        &mut *tx,
        a.centre_id,
        Some(enrolment),
        Some(actor),
        action,
        serde_json::json!({
            "entry": id, "day": entry.day.to_string(), "minutes": entry.minutes,
            "reason": reason,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Withdraws an entry logged by mistake (not an approved one: its hours count, so it is
/// changed, and decided again, instead). The activity entry keeps what it was.
pub(crate) async fn withdraw(
    pool: &PgPool,
    enrolment: Uuid,
    id: Uuid,
    actor: Uuid,
) -> DbResult<Result<(), LogRefusal>> {
    let mut tx = pool.begin().await?;
    let a = apprenticeships::lock(&mut tx, enrolment)
        .await?
        .ok_or(DbError::NotFound)?;
    let entry = get(&mut *tx, enrolment, id).await?;
    if entry.state() == EntryState::Approved {
        return Ok(Err(LogRefusal::AlreadyDecided(EntryState::Approved)));
    }
    sqlx::query!("DELETE FROM otj_entries WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    let mut d = detail(&entry.valid());
    d["entry"] = serde_json::json!(id);
    d["was_state"] = serde_json::json!(entry.state);
    activity::record(
        &mut *tx,
        a.centre_id,
        Some(enrolment),
        Some(actor),
        "OTJ entry withdrawn",
        d,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

//! Apprenticeships (issue 14, point 1): the centre's rules, an enrolment's plan and its
//! breaks in learning. Each use case is one transaction with its activity entry, and
//! keeps the apprenticeship's `behind_from` and `adjusted_end_on` as it goes.
use std::collections::HashMap;

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{activity, DbError, DbResult};
use crate::domain::apprenticeship::{self, Break, Minutes, OtjRule, Plan};
use crate::domain::form::FieldError;
use crate::domain::otj::{self, BreakForm, Settings, ValidPlan};
use crate::domain::reviews;

struct SettingsRow {
    otj_rule: String,
    otj_rule_value: i32,
    otj_margin_percent: i16,
    review_weeks: i16,
    otj_activity_types: Vec<String>,
}

impl SettingsRow {
    fn settings(self) -> Settings {
        Settings {
            rule: match self.otj_rule.as_str() {
                "weekly" => OtjRule::MinutesPerWeek(Minutes::from(self.otj_rule_value)),
                _ => OtjRule::PercentOfContracted(self.otj_rule_value.clamp(1, 100) as u8),
            },
            margin_percent: self.otj_margin_percent.clamp(0, 100) as u8,
            review_weeks: self.review_weeks.clamp(1, 12) as u8,
            activity_types: self.otj_activity_types,
        }
    }
}

/// The centre's rules for apprenticeships.
pub(crate) async fn settings(db: impl PgExecutor<'_>, centre: Uuid) -> DbResult<Settings> {
    Ok(sqlx::query_as!(
        SettingsRow,
        "SELECT otj_rule, otj_rule_value, otj_margin_percent, review_weeks, otj_activity_types \
           FROM centres WHERE id = $1",
        centre
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)?
    .settings())
}

/// New rules for the centre, with its activity entry; a new margin moves every one of
/// its apprenticeships' `behind_from` in the same transaction.
pub(crate) async fn change_settings(
    pool: &PgPool,
    centre: Uuid,
    actor: Uuid,
    new: &Settings,
) -> DbResult<()> {
    let mut tx = pool.begin().await?;
    let old = sqlx::query_as!(
        SettingsRow,
        "SELECT otj_rule, otj_rule_value, otj_margin_percent, review_weeks, otj_activity_types \
           FROM centres WHERE id = $1 FOR UPDATE",
        centre
    )
    .fetch_one(&mut *tx)
    .await?
    .settings();
    let (rule, value) = match new.rule {
        OtjRule::PercentOfContracted(p) => ("percent", i32::from(p)),
        OtjRule::MinutesPerWeek(m) => ("weekly", m as i32),
    };
    sqlx::query!(
        "UPDATE centres SET otj_rule = $2, otj_rule_value = $3, otj_margin_percent = $4, \
                review_weeks = $5, otj_activity_types = $6 WHERE id = $1",
        centre,
        rule,
        value,
        i16::from(new.margin_percent),
        i16::from(new.review_weeks),
        &new.activity_types
    )
    .execute(&mut *tx)
    .await?;
    if old.margin_percent != new.margin_percent || old.review_weeks != new.review_weeks {
        refresh_centre(&mut tx, centre, new.margin_percent, new.review_weeks).await?;
    }
    activity::record(
        &mut *tx,
        centre,
        None,
        Some(actor),
        "apprenticeship settings changed",
        serde_json::json!({
            "rule": rule, "value": value, "margin_percent": new.margin_percent,
            "review_weeks": new.review_weeks, "activity_types": new.activity_types,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An enrolment's apprenticeship, with its kept figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Apprenticeship {
    pub enrolment_id: Uuid,
    pub centre_id: Uuid,
    pub start_on: Date,
    pub planned_end_on: Date,
    pub adjusted_end_on: Date,
    pub weekly_minutes: i32,
    pub default_minutes: i32,
    pub planned_minutes: i32,
    pub override_reason: Option<String>,
    pub approved_minutes: i64,
    pub pending_minutes: i64,
    pub pending_entries: i32,
    pub behind_from: Option<Date>,
    pub last_review_on: Option<Date>,
    pub next_review_due: Date,
    pub oldest_unsigned_review_on: Option<Date>,
}

impl Apprenticeship {
    pub fn plan(&self, breaks: &[BreakRow]) -> Plan {
        Plan {
            start: self.start_on,
            planned_end: self.planned_end_on,
            planned: Minutes::from(self.planned_minutes),
            breaks: breaks
                .iter()
                .map(|b| Break {
                    from: b.from_on,
                    to: b.to_on,
                })
                .collect(),
        }
    }

    pub fn behind_on(&self, today: Date) -> bool {
        self.behind_from.is_some_and(|from| today >= from)
    }

    /// The next review's due date passed with none held since.
    pub fn review_overdue(&self, today: Date) -> bool {
        today > self.next_review_due
    }

    /// A review held more than 14 days ago is still not signed by all three.
    pub fn review_unsigned(&self, today: Date) -> bool {
        self.oldest_unsigned_review_on
            .is_some_and(|on| (today - on).whole_days() > reviews::UNSIGNED_FLAG_DAYS)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BreakRow {
    pub id: Uuid,
    pub from_on: Date,
    pub to_on: Date,
    pub reason: String,
    pub recorded_by_name: String,
    pub recorded_at: OffsetDateTime,
}

pub(crate) async fn get(
    db: impl PgExecutor<'_>,
    enrolment: Uuid,
) -> DbResult<Option<Apprenticeship>> {
    Ok(sqlx::query_as!(
        Apprenticeship,
        "SELECT enrolment_id, centre_id, start_on, planned_end_on, adjusted_end_on, \
                weekly_minutes, default_minutes, planned_minutes, override_reason, \
                approved_minutes, pending_minutes, pending_entries, behind_from, \
                last_review_on, next_review_due, oldest_unsigned_review_on \
           FROM apprenticeships WHERE enrolment_id = $1",
        enrolment
    )
    .fetch_optional(db)
    .await?)
}

/// The apprenticeship, its row held to the end of the transaction: the one lock every
/// write of its plan, breaks and entries takes first, so their checks see a settled log.
pub(crate) async fn lock(
    conn: &mut PgConnection,
    enrolment: Uuid,
) -> DbResult<Option<Apprenticeship>> {
    Ok(sqlx::query_as!(
        Apprenticeship,
        "SELECT enrolment_id, centre_id, start_on, planned_end_on, adjusted_end_on, \
                weekly_minutes, default_minutes, planned_minutes, override_reason, \
                approved_minutes, pending_minutes, pending_entries, behind_from, \
                last_review_on, next_review_due, oldest_unsigned_review_on \
           FROM apprenticeships WHERE enrolment_id = $1 FOR UPDATE",
        enrolment
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Its breaks in learning, first first.
pub(crate) async fn breaks(db: impl PgExecutor<'_>, enrolment: Uuid) -> DbResult<Vec<BreakRow>> {
    Ok(sqlx::query_as!(
        BreakRow,
        "SELECT b.id, b.from_on, b.to_on, b.reason, u.display_name AS recorded_by_name, \
                b.recorded_at \
           FROM learning_breaks b JOIN users u ON u.id = b.recorded_by \
          WHERE b.enrolment_id = $1 ORDER BY b.from_on",
        enrolment
    )
    .fetch_all(db)
    .await?)
}

/// The review schedule's kept figures from the reviews held: (last held, next due,
/// oldest held and not fully signed).
async fn schedule(
    conn: &mut PgConnection,
    a: &Apprenticeship,
    weeks: u8,
) -> DbResult<(Option<Date>, Date, Option<Date>)> {
    let held: Vec<reviews::Held> = sqlx::query!(
        "SELECT held_on, fully_signed_at IS NOT NULL AS \"signed!\" FROM progress_reviews \
          WHERE enrolment_id = $1",
        a.enrolment_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| reviews::Held {
        on: r.held_on,
        fully_signed: r.signed,
    })
    .collect();
    let next = reviews::schedule(a.start_on, weeks, &held, a.start_on).next_due;
    let last = held.iter().map(|h| h.on).max();
    let unsigned = held.iter().filter(|h| !h.fully_signed).map(|h| h.on).min();
    Ok((last, next, unsigned))
}

/// Works out the apprenticeship's kept figures again from its plan, breaks, approved
/// minutes (after the entry trigger has moved them) and reviews: `behind_from`,
/// `adjusted_end_on` and the review schedule.
pub(crate) async fn refresh(conn: &mut PgConnection, enrolment: Uuid) -> DbResult<()> {
    let a = get(&mut *conn, enrolment).await?.ok_or(DbError::NotFound)?;
    let plan = a.plan(&breaks(&mut *conn, enrolment).await?);
    let rules = settings(&mut *conn, a.centre_id).await?;
    let from = apprenticeship::behind_from(&plan, a.approved_minutes, rules.margin_percent);
    let (last, next, unsigned) = schedule(conn, &a, rules.review_weeks).await?;
    sqlx::query!(
        "UPDATE apprenticeships SET behind_from = $2, adjusted_end_on = $3, last_review_on = $4, \
                next_review_due = $5, oldest_unsigned_review_on = $6 WHERE enrolment_id = $1",
        enrolment,
        from,
        plan.adjusted_end(),
        last,
        next,
        unsigned
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every apprenticeship of the centre worked out again under its current rules, in one
/// transaction (the benchmark's loader, after writing rows in bulk).
pub async fn recompute_centre(pool: &PgPool, centre: Uuid) -> DbResult<()> {
    let mut tx = pool.begin().await?;
    let rules = settings(&mut *tx, centre).await?;
    refresh_centre(&mut tx, centre, rules.margin_percent, rules.review_weeks).await?;
    tx.commit().await?;
    Ok(())
}

/// Every apprenticeship of the centre again, after its margin or review interval changed.
async fn refresh_centre(
    conn: &mut PgConnection,
    centre: Uuid,
    margin: u8,
    weeks: u8,
) -> DbResult<()> {
    let all = sqlx::query_as!(
        Apprenticeship,
        "SELECT enrolment_id, centre_id, start_on, planned_end_on, adjusted_end_on, \
                weekly_minutes, default_minutes, planned_minutes, override_reason, \
                approved_minutes, pending_minutes, pending_entries, behind_from, \
                last_review_on, next_review_due, oldest_unsigned_review_on \
           FROM apprenticeships WHERE centre_id = $1",
        centre
    )
    .fetch_all(&mut *conn)
    .await?;
    // Every break of the centre's apprenticeships in one statement, not one per learner.
    let mut breaks: HashMap<Uuid, Vec<Break>> = HashMap::new();
    for b in sqlx::query!(
        "SELECT b.enrolment_id, b.from_on, b.to_on FROM learning_breaks b \
           JOIN apprenticeships a ON a.enrolment_id = b.enrolment_id WHERE a.centre_id = $1",
        centre
    )
    .fetch_all(&mut *conn)
    .await?
    {
        breaks.entry(b.enrolment_id).or_default().push(Break {
            from: b.from_on,
            to: b.to_on,
        });
    }
    let mut ids = Vec::with_capacity(all.len());
    let mut froms = Vec::with_capacity(all.len());
    let mut dues = Vec::with_capacity(all.len());
    for a in &all {
        let plan = Plan {
            start: a.start_on,
            planned_end: a.planned_end_on,
            planned: Minutes::from(a.planned_minutes),
            breaks: breaks.remove(&a.enrolment_id).unwrap_or_default(),
        };
        ids.push(a.enrolment_id);
        froms.push(apprenticeship::behind_from(
            &plan,
            a.approved_minutes,
            margin,
        ));
        let held: Vec<reviews::Held> = a
            .last_review_on
            .map(|on| reviews::Held {
                on,
                fully_signed: true,
            })
            .into_iter()
            .collect();
        dues.push(reviews::schedule(a.start_on, weeks, &held, a.start_on).next_due);
    }
    sqlx::query!(
        "UPDATE apprenticeships a SET behind_from = n.behind_from, next_review_due = n.due \
           FROM unnest($1::uuid[], $2::date[], $3::date[]) AS n (enrolment_id, behind_from, due) \
          WHERE a.enrolment_id = n.enrolment_id",
        &ids,
        &froms as &[Option<Date>],
        &dues
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets (or changes) the enrolment's apprenticeship plan, with its activity entry.
pub(crate) async fn set_plan(
    pool: &PgPool,
    centre: Uuid,
    enrolment: Uuid,
    actor: Uuid,
    plan: &ValidPlan,
) -> DbResult<()> {
    let mut tx = pool.begin().await?;
    let before = lock(&mut tx, enrolment).await?;
    sqlx::query!(
        "INSERT INTO apprenticeships (enrolment_id, centre_id, start_on, planned_end_on, \
                adjusted_end_on, weekly_minutes, default_minutes, planned_minutes, override_reason, \
                next_review_due) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $3) \
         ON CONFLICT (enrolment_id) DO UPDATE SET start_on = $3, planned_end_on = $4, \
                weekly_minutes = $5, default_minutes = $6, planned_minutes = $7, override_reason = $8",
        enrolment,
        centre,
        plan.start,
        plan.planned_end,
        plan.weekly_minutes as i32,
        plan.default_minutes as i32,
        plan.planned_minutes as i32,
        plan.override_reason
    )
    .execute(&mut *tx)
    .await?;
    refresh(&mut tx, enrolment).await?;
    let detail = serde_json::json!({
        "start": plan.start.to_string(), "planned_end": plan.planned_end.to_string(),
        "weekly_minutes": plan.weekly_minutes, "default_minutes": plan.default_minutes,
        "planned_minutes": plan.planned_minutes, "override_reason": plan.override_reason,
        "before": before.map(|b| serde_json::json!({
            "start": b.start_on.to_string(), "planned_end": b.planned_end_on.to_string(),
            "weekly_minutes": b.weekly_minutes, "planned_minutes": b.planned_minutes,
        })),
    });
    activity::record(
        &mut *tx,
        centre,
        Some(enrolment),
        Some(actor),
        "apprenticeship planned",
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records a break in learning, checked against the plan and its other breaks under
/// the apprenticeship's lock.
pub(crate) async fn add_break(
    pool: &PgPool,
    enrolment: Uuid,
    actor: Uuid,
    form: &BreakForm,
) -> DbResult<Result<Uuid, Vec<FieldError>>> {
    let mut tx = pool.begin().await?;
    let a = lock(&mut tx, enrolment).await?.ok_or(DbError::NotFound)?;
    let plan = a.plan(&breaks(&mut *tx, enrolment).await?);
    let valid = match otj::validate_break(form, &plan) {
        Ok(v) => v,
        Err(errors) => return Ok(Err(errors)),
    };
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO learning_breaks (id, enrolment_id, from_on, to_on, reason, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        enrolment,
        valid.dates.from,
        valid.dates.to,
        valid.reason,
        actor
    )
    .execute(&mut *tx)
    .await?;
    refresh(&mut tx, enrolment).await?;
    activity::record(
        &mut *tx,
        a.centre_id,
        Some(enrolment),
        Some(actor),
        "break in learning recorded",
        serde_json::json!({
            "break": id, "from": valid.dates.from.to_string(), "to": valid.dates.to.to_string(),
            "reason": valid.reason,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Removes a break recorded in error; the log keeps what it was.
pub(crate) async fn remove_break(
    pool: &PgPool,
    enrolment: Uuid,
    actor: Uuid,
    id: Uuid,
) -> DbResult<()> {
    let mut tx = pool.begin().await?;
    let a = lock(&mut tx, enrolment).await?.ok_or(DbError::NotFound)?;
    let removed = sqlx::query!(
        "DELETE FROM learning_breaks WHERE id = $1 AND enrolment_id = $2 RETURNING from_on, to_on, reason",
        id,
        enrolment
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DbError::NotFound)?;
    refresh(&mut tx, enrolment).await?;
    activity::record(
        &mut *tx,
        a.centre_id,
        Some(enrolment),
        Some(actor),
        "break in learning removed",
        serde_json::json!({
            "break": id, "from": removed.from_on.to_string(), "to": removed.to_on.to_string(),
            "reason": removed.reason,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

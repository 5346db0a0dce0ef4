//! OTJ entries arriving together are logged together (`db::batch_writer`): one short
//! transaction holds the batch's apprenticeships (in id order, as every statement that
//! locks several does), reads each one's breaks and the day's other entries after the
//! lock, checks each entry with the domain rules, and writes the accepted ones with their
//! activity entries in one statement, the kept minutes moved by the entries' trigger.
//! Entries to one apprenticeship need no slot of their own: batches in flight take its
//! row lock in turn, and within a batch each entry is checked against those before it.
use std::collections::HashMap;

use sqlx::{Connection, PgConnection};
use time::Date;
use uuid::Uuid;

use super::batch_writer::{BatchWriter, Batched};
use super::otj::{breaks_of, detail};
use super::{DbError, DbResult};
use crate::domain::apprenticeship::{self as rules, Entry, EntryState, Minutes, Plan};
use crate::domain::form::FieldError;
use crate::domain::otj::{entry_refusal, ValidEntry};

/// The handle requests log entries through.
pub type OtjWriter = BatchWriter<NewEntry>;

/// An entry to log on an enrolment's apprenticeship, checked on `today`.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The id it is logged with.
    pub id: Uuid,
    pub enrolment_id: Uuid,
    pub actor: Uuid,
    pub entry: ValidEntry,
    pub today: Date,
}

/// What became of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logged {
    /// Logged (pending), with this id.
    Entry(Uuid),
    /// Refused by a rule of its day, against the form's field.
    Refused(FieldError),
    /// The enrolment is not an apprenticeship.
    NoApprenticeship,
}

impl Batched for NewEntry {
    /// The entry itself: entries to one apprenticeship are ordered by its row lock
    /// between batches and by their place within one.
    type Slot = Uuid;
    /// The enrolment: each entry moves its apprenticeship's kept hours (a row lock).
    type Group = Uuid;
    type Outcome = Logged;
    const WHAT: &'static str = "OTJ entry";

    fn slot(&self) -> Uuid {
        self.id
    }

    fn group(&self) -> Uuid {
        self.enrolment_id
    }

    async fn write_one(connection: &mut PgConnection, change: &Self) -> DbResult<Logged> {
        let mut one = log_many(connection, std::slice::from_ref(change)).await?;
        one.pop()
            .ok_or_else(|| DbError::Corrupt("no answer for an OTJ entry".into()))
    }

    async fn write_many(connection: &mut PgConnection, changes: &[Self]) -> DbResult<Vec<Logged>> {
        log_many(connection, changes).await
    }
}

struct Held {
    centre_id: Uuid,
    start_on: Date,
    planned_end_on: Date,
    planned_minutes: i32,
}

async fn log_many(connection: &mut PgConnection, changes: &[NewEntry]) -> DbResult<Vec<Logged>> {
    let mut tx = connection.begin().await?;
    let enrolments: Vec<Uuid> = changes.iter().map(|c| c.enrolment_id).collect();
    let days: Vec<Date> = changes.iter().map(|c| c.entry.day).collect();
    let held: HashMap<Uuid, Held> = sqlx::query!(
        "SELECT enrolment_id, centre_id, start_on, planned_end_on, planned_minutes \
           FROM apprenticeships WHERE enrolment_id = ANY($1) ORDER BY enrolment_id FOR UPDATE",
        &enrolments
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|a| {
        let held = Held {
            centre_id: a.centre_id,
            start_on: a.start_on,
            planned_end_on: a.planned_end_on,
            planned_minutes: a.planned_minutes,
        };
        (a.enrolment_id, held)
    })
    .collect();
    // Read after the lock, so a break or an entry committed while it was awaited counts;
    // one row per change, in their order.
    let read = sqlx::query!(
        "SELECT ARRAY(SELECT from_on FROM learning_breaks b WHERE b.enrolment_id = c.enrolment_id \
                       ORDER BY from_on) AS \"froms!\", \
                ARRAY(SELECT to_on FROM learning_breaks b WHERE b.enrolment_id = c.enrolment_id \
                       ORDER BY from_on) AS \"tos!\", \
                ARRAY(SELECT minutes FROM otj_entries o WHERE o.enrolment_id = c.enrolment_id \
                       AND o.day = c.day AND o.state <> 'rejected') AS \"minutes!\" \
           FROM UNNEST($1::uuid[], $2::date[]) WITH ORDINALITY AS c(enrolment_id, day, n) \
          ORDER BY c.n",
        &enrolments,
        &days
    )
    .fetch_all(&mut *tx)
    .await?;
    if read.len() != changes.len() {
        return Err(DbError::Corrupt("OTJ entries read out of step".into()));
    }
    // What this batch logs before each entry, on its apprenticeship and day.
    let mut earlier: HashMap<(Uuid, Date), Vec<Minutes>> = HashMap::new();
    let mut answers = Vec::with_capacity(changes.len());
    let mut rows = Vec::new();
    for (n, (c, r)) in changes.iter().zip(read).enumerate() {
        let Some(h) = held.get(&c.enrolment_id) else {
            answers.push(Logged::NoApprenticeship);
            continue;
        };
        let e = &c.entry;
        let plan = Plan {
            start: h.start_on,
            planned_end: h.planned_end_on,
            planned: Minutes::from(h.planned_minutes),
            breaks: breaks_of(r.froms, r.tos),
        };
        let before = earlier.entry((c.enrolment_id, e.day)).or_default();
        let same_day: Vec<Entry> = r
            .minutes
            .into_iter()
            .map(Minutes::from)
            .chain(before.iter().copied())
            .map(|minutes| Entry {
                day: e.day,
                minutes,
                state: EntryState::Pending,
            })
            .collect();
        if let Err(r) = rules::check_entry(&plan, c.today, e.day, e.minutes, &same_day) {
            answers.push(Logged::Refused(entry_refusal(r)));
            continue;
        }
        before.push(e.minutes);
        let mut d = detail(e);
        d["entry"] = serde_json::json!(c.id);
        rows.push(serde_json::json!({
            "n": n, "id": c.id, "enrolment_id": c.enrolment_id, "centre_id": h.centre_id,
            "day": e.day.to_string(), "minutes": e.minutes, "activity": e.activity,
            "what": e.what, "evidence_ids": e.evidence, "criteria": e.criteria,
            "logged_by": c.actor, "detail": d,
        }));
        answers.push(Logged::Entry(c.id));
    }
    if !rows.is_empty() {
        // Enrolments are locked in id order, as every statement that locks several does.
        sqlx::query!(
            "WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(n int, id uuid, \
                            enrolment_id uuid, centre_id uuid, day date, minutes int, activity text, \
                            what text, evidence_ids uuid[], criteria uuid[], logged_by uuid, detail jsonb)), \
                  entries AS (INSERT INTO otj_entries (id, enrolment_id, day, minutes, activity, what, \
                                     evidence_ids, criteria, logged_by) \
                              SELECT id, enrolment_id, day, minutes, activity, what, evidence_ids, \
                                     criteria, logged_by FROM r ORDER BY n), \
                  touched AS (UPDATE enrolments SET last_activity_at = clock_timestamp() \
                               WHERE id IN (SELECT id FROM enrolments \
                                             WHERE id IN (SELECT enrolment_id FROM r) \
                                             ORDER BY id FOR UPDATE)) \
             INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
             SELECT centre_id, enrolment_id, logged_by, 'OTJ entry logged', detail FROM r ORDER BY n",
            serde_json::Value::Array(rows)
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(answers)
}

//! Reassigning a caseload (issue 12): the enrolments where one person holds a place
//! (assessor, trainee assessor, IQA) go to someone else in one transaction, with an
//! activity entry per enrolment and one for the centre. The rules are
//! `domain::reassign`'s; what moves with the enrolments (pending countersignatures, open
//! IQA actions) is said there.
//!
//! The confirmation step and the move itself read and decide through the same function
//! (`decide`), so the page shows exactly what confirming does; the move holds the rows it
//! read locked until it commits, so nothing it checked can change under it.
use std::collections::BTreeSet;

use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::users::{User, UserKind};
use super::{DbError, DbResult};
use crate::domain::reassign::{
    digest, may_take, plan, Assignment, Chosen, Conflict, Move, Place, ReassignRefusal, Taker,
    TakerRefusal,
};

/// How many enrolments a person holds in each place, at the admin's centre.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Holdings {
    pub assessor: i64,
    pub trainee: i64,
    pub iqa: i64,
}

impl Holdings {
    pub(crate) fn of(&self, place: Place) -> i64 {
        match place {
            Place::Assessor => self.assessor,
            Place::TraineeAssessor => self.trainee,
            Place::Iqa => self.iqa,
        }
    }
}

/// One statement over the person's own enrolments (each place is indexed).
pub(crate) async fn holdings(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    person: Uuid,
) -> DbResult<Holdings> {
    Ok(sqlx::query_as!(
        Holdings,
        "SELECT count(*) FILTER (WHERE assessor_id = $2) AS \"assessor!\", \
                count(*) FILTER (WHERE trainee_assessor_id = $2) AS \"trainee!\", \
                count(*) FILTER (WHERE iqa_id = $2) AS \"iqa!\" \
           FROM enrolments \
          WHERE centre_id = $1 AND (assessor_id = $2 OR trainee_assessor_id = $2 OR iqa_id = $2)",
        centre_id,
        person,
    )
    .fetch_one(db)
    .await?)
}

/// Someone who may be offered to take enrolments over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
}

/// The centre's active staff holding `place`'s role, but `except`, by name: whom the
/// enrolments may go to.
pub(crate) async fn takers(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    place: Place,
    except: Uuid,
) -> DbResult<Vec<Choice>> {
    Ok(sqlx::query_as!(
        Choice,
        "SELECT u.id, u.display_name, u.email FROM users u \
          WHERE u.centre_id = $1 AND u.kind = 'staff' AND u.active AND u.id <> $3 \
            AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $2) \
          ORDER BY lower(u.display_name), u.id",
        centre_id,
        place.role().key(),
        except,
    )
    .fetch_all(db)
    .await?)
}

/// The member of staff of the admin's centre whose enrolments move; anyone else (a
/// learner, another centre's person, an id that is no one's) is `NotFound`.
pub(crate) async fn leaving(db: impl PgExecutor<'_>, admin: &User, person: Uuid) -> DbResult<User> {
    let user = super::users::get(db, person).await?;
    if user.centre_id == admin.centre_id && user.kind == UserKind::Staff {
        Ok(user)
    } else {
        Err(DbError::NotFound)
    }
}

/// An enrolment as a move names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub enrolment_id: Uuid,
    pub learner: String,
    pub qualification: String,
}

impl Named {
    /// "Lena Quillfeather, TINY/A".
    pub(crate) fn name(&self) -> String {
        format!("{}, {}", self.learner, self.qualification)
    }
}

/// What confirming a move would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proposal {
    pub place: Place,
    pub from: User,
    pub to: User,
    pub moving: Vec<Named>,
    /// Those that cannot move, and why: while any is listed, nothing moves.
    pub refused: Vec<(Named, Conflict)>,
    /// How the confirming form chooses the same enrolments.
    pub chosen: Chosen,
    /// Of the enrolments that move (the figures kept on each, migration 0014).
    pub open_iqa_actions: i64,
    pub awaiting_countersignature: i64,
}

/// A move done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Moved {
    pub count: usize,
    pub place: Place,
    pub to: Uuid,
}

struct Found {
    id: Uuid,
    assessor_id: Uuid,
    trainee_assessor_id: Option<Uuid>,
    iqa_id: Option<Uuid>,
    learner: String,
    qualification: String,
    open_iqa_actions: i32,
    awaiting_countersignature: i32,
}

/// The enrolments `chosen` names, locked until the transaction ends, in id order (the
/// order every multi-row lock of enrolments takes). "All" is every enrolment where the
/// person holds the place now; a chosen id that is not an enrolment of the centre is
/// `NotFound`.
async fn lock_chosen(
    conn: &mut PgConnection,
    centre_id: Uuid,
    place: Place,
    from: Uuid,
    chosen: Option<&Chosen>,
) -> DbResult<Vec<Found>> {
    let ids = match chosen {
        Some(Chosen::These(ids)) => ids,
        None | Some(Chosen::All { .. }) => {
            return Ok(sqlx::query_as!(
                Found,
                "SELECT e.id, e.assessor_id, e.trainee_assessor_id, e.iqa_id, \
                        l.display_name AS learner, q.code AS qualification, \
                        e.open_iqa_actions, e.awaiting_countersignature \
                   FROM enrolments e \
                   JOIN users l ON l.id = e.learner_id \
                   JOIN qualification_versions v ON v.id = e.version_id \
                   JOIN qualifications q ON q.id = v.qualification_id \
                  WHERE e.centre_id = $1 \
                    AND (($2 = 'assessor' AND e.assessor_id = $3) \
                      OR ($2 = 'trainee' AND e.trainee_assessor_id = $3) \
                      OR ($2 = 'iqa' AND e.iqa_id = $3)) \
                  ORDER BY e.id FOR UPDATE OF e",
                centre_id,
                place.key(),
                from,
            )
            .fetch_all(conn)
            .await?)
        }
    };
    let found = sqlx::query_as!(
        Found,
        "SELECT e.id, e.assessor_id, e.trainee_assessor_id, e.iqa_id, \
                l.display_name AS learner, q.code AS qualification, \
                e.open_iqa_actions, e.awaiting_countersignature \
           FROM enrolments e \
           JOIN users l ON l.id = e.learner_id \
           JOIN qualification_versions v ON v.id = e.version_id \
           JOIN qualifications q ON q.id = v.qualification_id \
          WHERE e.centre_id = $1 AND e.id = ANY($2::uuid[]) \
          ORDER BY e.id FOR UPDATE OF e",
        centre_id,
        ids,
    )
    .fetch_all(conn)
    .await?;
    if found.len() == ids.len() {
        Ok(found)
    } else {
        Err(DbError::NotFound)
    }
}

/// The person who would take the enrolments, with their row and roles held (shared)
/// until the transaction ends: a deactivation or a role taken away waits for the move,
/// or the move sees it. None when the id is no one's.
async fn lock_taker(conn: &mut PgConnection, to: Uuid) -> DbResult<Option<User>> {
    let locked = sqlx::query_scalar!("SELECT id FROM users WHERE id = $1 FOR SHARE", to)
        .fetch_optional(&mut *conn)
        .await?;
    if locked.is_none() {
        return Ok(None);
    }
    sqlx::query_scalar!(
        "SELECT role FROM user_roles WHERE user_id = $1 FOR SHARE",
        to
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(super::users::get(&mut *conn, to).await?))
}

/// Enrolments among `ids` on which `person` made assessor or trainee ticks: those an
/// IQA who is that person would sample their own decisions on (SPEC §7).
async fn ticked_by(
    conn: &mut PgConnection,
    ids: &[Uuid],
    person: Uuid,
) -> DbResult<BTreeSet<Uuid>> {
    let found = sqlx::query_scalar!(
        "SELECT DISTINCT enrolment_id FROM ticks \
          WHERE enrolment_id = ANY($1::uuid[]) AND ticked_by = $2 \
            AND layer IN ('assessor', 'trainee_assessor')",
        ids,
        person,
    )
    .fetch_all(conn)
    .await?;
    Ok(found.into_iter().collect())
}

/// Reads what a move would do, inside the caller's transaction, with everything it
/// read locked. Err(refusal) when the taker cannot take anything.
async fn decide(
    conn: &mut PgConnection,
    admin: &User,
    from: Uuid,
    m: &Move,
) -> DbResult<Result<Proposal, TakerRefusal>> {
    let from = leaving(&mut *conn, admin, from).await?;
    let Some(to) = lock_taker(conn, m.to).await? else {
        return Ok(Err(TakerRefusal::NotOfCentre));
    };
    let taker = Taker {
        id: to.id,
        same_centre: to.centre_id == admin.centre_id,
        staff: to.kind == UserKind::Staff,
        active: to.active,
        roles: to.roles.clone(),
    };
    if let Err(refusal) = may_take(m.place, from.id, &taker) {
        return Ok(Err(refusal));
    }
    let found = lock_chosen(conn, admin.centre_id, m.place, from.id, m.chosen.as_ref()).await?;
    let ids: Vec<Uuid> = found.iter().map(|f| f.id).collect();
    let ticked = if m.place == Place::Iqa {
        ticked_by(conn, &ids, to.id).await?
    } else {
        BTreeSet::new()
    };
    let assignments: Vec<Assignment> = found
        .iter()
        .map(|f| Assignment {
            enrolment: f.id,
            assessor: f.assessor_id,
            trainee: f.trainee_assessor_id,
            iqa: f.iqa_id,
        })
        .collect();
    let decided = plan(m.place, from.id, to.id, &assignments, &ticked);
    let named = |f: &Found| Named {
        enrolment_id: f.id,
        learner: f.learner.clone(),
        qualification: f.qualification.clone(),
    };
    let moving: Vec<&Found> = found
        .iter()
        .filter(|f| decided.moving.contains(&f.id))
        .collect();
    let refused = decided
        .refused
        .iter()
        .filter_map(|(id, c)| found.iter().find(|f| f.id == *id).map(|f| (named(f), *c)))
        .collect();
    let chosen = match &m.chosen {
        Some(Chosen::These(these)) => Chosen::These(these.clone()),
        None | Some(Chosen::All { .. }) => Chosen::All {
            digest: digest(&ids),
        },
    };
    Ok(Ok(Proposal {
        place: m.place,
        open_iqa_actions: moving.iter().map(|f| i64::from(f.open_iqa_actions)).sum(),
        awaiting_countersignature: moving
            .iter()
            .map(|f| i64::from(f.awaiting_countersignature))
            .sum(),
        moving: moving.into_iter().map(named).collect(),
        refused,
        chosen,
        from,
        to,
    }))
}

/// The confirmation step: what confirming would do, and what it would refuse. Changes
/// nothing (its transaction is rolled back, which lets its locks go at once).
pub(crate) async fn propose(
    pool: &PgPool,
    admin: &User,
    from: Uuid,
    m: &Move,
) -> DbResult<Result<Proposal, TakerRefusal>> {
    let mut tx = pool.begin().await?;
    let decided = decide(&mut tx, admin, from, m).await?;
    tx.rollback().await?;
    Ok(decided)
}

/// Moves the enrolments to `m.to`, all of them or none: the place on each, an activity
/// entry on each (who moved it, from whom, to whom, in which place) and one for the
/// centre (the count), in one transaction. Refused with the reason, naming the
/// enrolments, when any cannot move, when the taker cannot take them, or when "all" no
/// longer means what was confirmed. The enrolments' revisions move with the update
/// (migration 0010), so their kept pages and their people's home pages are drawn anew.
///
/// The entries leave the enrolments' last activity where it was: a change of people is
/// no work on the portfolio, and the new assessor needs to see which learners have been
/// stuck (30 days without activity).
pub(crate) async fn confirm(pool: &PgPool, admin: &User, from: Uuid, m: &Move) -> DbResult<Moved> {
    let mut tx = pool.begin().await?;
    let p = decide(&mut tx, admin, from, m)
        .await?
        .map_err(ReassignRefusal::Taker)?;
    match (&m.chosen, &p.chosen) {
        (Some(Chosen::All { digest: confirmed }), Chosen::All { digest: now })
            if confirmed == now => {}
        (Some(Chosen::These(_)), _) => {}
        _ => return Err(ReassignRefusal::Changed.into()),
    }
    if !p.refused.is_empty() {
        return Err(ReassignRefusal::Conflicts {
            to: p.to.display_name.clone(),
            place: p.place,
            refused: p.refused.iter().map(|(n, c)| (n.name(), *c)).collect(),
        }
        .into());
    }
    let ids: Vec<Uuid> = p.moving.iter().map(|n| n.enrolment_id).collect();
    if ids.is_empty() {
        // Nobody's enrolments, still: nothing to move or to log.
        return Ok(Moved {
            count: 0,
            place: p.place,
            to: p.to.id,
        });
    }
    set_place(&mut tx, p.place, &ids, p.to.id).await?;
    let about = serde_json::json!({
        "role": p.place.key(),
        "from": p.from.id,
        "from_name": p.from.display_name,
        "to": p.to.id,
        "to_name": p.to.display_name,
    });
    let mut whole = about.clone();
    whole["count"] = ids.len().into();
    let entry = super::activity::append(
        &mut *tx,
        admin.centre_id,
        None,
        Some(admin.id),
        "caseload reassigned",
        whole,
    )
    .await?;
    let mut each = about;
    each["reassignment"] = entry.into();
    log_each(&mut tx, admin, &ids, each).await?;
    tx.commit().await?;
    Ok(Moved {
        count: ids.len(),
        place: p.place,
        to: p.to.id,
    })
}

async fn set_place(conn: &mut PgConnection, place: Place, ids: &[Uuid], to: Uuid) -> DbResult<()> {
    // One statement per place: a column is no parameter.
    let q = match place {
        Place::Assessor => sqlx::query!(
            "UPDATE enrolments SET assessor_id = $2, updated_at = now() WHERE id = ANY($1::uuid[])",
            ids,
            to,
        ),
        Place::TraineeAssessor => sqlx::query!(
            "UPDATE enrolments SET trainee_assessor_id = $2, updated_at = now() WHERE id = ANY($1::uuid[])",
            ids,
            to,
        ),
        Place::Iqa => sqlx::query!(
            "UPDATE enrolments SET iqa_id = $2, updated_at = now() WHERE id = ANY($1::uuid[])",
            ids,
            to,
        ),
    };
    q.execute(conn).await?;
    Ok(())
}

/// The enrolments' entries, "assignments changed" as for one enrolment's change of
/// people, in one statement however many move.
async fn log_each(
    conn: &mut PgConnection,
    admin: &User,
    ids: &[Uuid],
    detail: serde_json::Value,
) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         SELECT $1, e, $2, 'assignments changed', $3 FROM unnest($4::uuid[]) AS e ORDER BY e",
        admin.centre_id,
        admin.id,
        detail,
        ids,
    )
    .execute(conn)
    .await?;
    Ok(())
}

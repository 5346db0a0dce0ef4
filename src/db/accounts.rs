//! Use cases on one person's account, for the admins of their centre (issue 12): edit
//! the name, email and roles; deactivate; reactivate; end every session. Each locks the
//! acting admin's row and the person's, reads both again, asks `domain::accounts`, and
//! commits its change with its activity entry (a centre-level entry, naming the person
//! as `user`).
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::users::{self, Role, User};
use super::{activity, password_tokens, DbError, DbResult};
use crate::domain::accounts::{self, Account, Move, PersonEdit, ValidEdit};
use crate::domain::form::FieldError;
use crate::domain::mail::REVOKED;

/// The acting admin and the person, both read under a row lock held until the
/// transaction ends, so that admins acting at once on the same people act one after
/// the other. `NotFound` for a person of another centre, or when the actor is no
/// longer an active admin (their request would not have been let in a moment later).
async fn lock(conn: &mut PgConnection, admin: &User, person_id: Uuid) -> DbResult<(User, User)> {
    // In id order, so that two admins locking each other's rows cannot deadlock. Not
    // FOR UPDATE: that would make every tick the person writes (whose foreign key
    // takes a key-share lock on their row) wait for this transaction.
    let ids = [admin.id, person_id];
    sqlx::query_scalar!(
        "SELECT id FROM users WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE",
        &ids[..]
    )
    .fetch_all(&mut *conn)
    .await?;
    let actor = users::get(&mut *conn, admin.id).await?;
    let person = users::get(&mut *conn, person_id).await?;
    let acts = actor.active && actor.has_role(Role::Admin);
    if !acts || person.centre_id != actor.centre_id {
        return Err(DbError::NotFound);
    }
    Ok((actor, person))
}

/// The staff roles in which enrolments name the person.
async fn assigned_as(db: impl PgExecutor<'_>, person: Uuid) -> DbResult<Vec<Role>> {
    let row = sqlx::query!(
        "SELECT EXISTS (SELECT 1 FROM enrolments WHERE assessor_id = $1) AS \"assessor!\", \
                EXISTS (SELECT 1 FROM enrolments WHERE trainee_assessor_id = $1) AS \"trainee!\", \
                EXISTS (SELECT 1 FROM enrolments WHERE iqa_id = $1) AS \"iqa!\"",
        person
    )
    .fetch_one(db)
    .await?;
    Ok([
        (row.assessor, Role::Assessor),
        (row.trainee, Role::TraineeAssessor),
        (row.iqa, Role::Iqa),
    ]
    .into_iter()
    .filter_map(|(yes, role)| yes.then_some(role))
    .collect())
}

fn account<'a>(person: &'a User, assigned_as: &'a [Role]) -> Account<'a> {
    Account {
        id: person.id,
        kind: person.kind,
        active: person.active,
        roles: &person.roles,
        assigned_as,
    }
}

/// Makes every unused set-password link of the person unusable, and stops the emails
/// still waiting to carry one (a link that does not work is worth no email). Returns
/// how many links were revoked.
async fn revoke_links(conn: &mut PgConnection, person: Uuid) -> DbResult<u64> {
    let revoked = password_tokens::revoke_all(&mut *conn, person).await?;
    sqlx::query!(
        "UPDATE jobs SET state = 'failed', finished_at = now(), last_error = $2 \
         WHERE state = 'queued' AND id IN \
               (SELECT job_id FROM mail_outbox WHERE user_id = $1 AND kind = 'password_link')",
        person,
        REVOKED
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE mail_outbox m SET link = NULL FROM jobs j \
         WHERE j.id = m.job_id AND m.user_id = $1 AND m.kind = 'password_link' \
           AND j.state = 'failed' AND m.link IS NOT NULL",
        person
    )
    .execute(&mut *conn)
    .await?;
    Ok(revoked)
}

/// What came of an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edited {
    /// Stored and logged; false when the form changed nothing (nothing logged).
    Saved { changed: bool },
    /// Refused, each problem against its field; nothing changed.
    Refused(Vec<FieldError>),
}

const EMAIL_TAKEN: &str = "Someone at this centre already has this email address";

/// An admin changes a person's name, email and roles. A changed email revokes the
/// person's unused set-password links (they went to the old address; the admin may
/// send a new one). A rename shows at once on every page that names the person: pages
/// read names when drawn, and the kept portfolio pages of the centre and the reports'
/// learner order move with the rename (triggers `users_touch_on_rename` and
/// `users_learner_names`).
pub(crate) async fn edit(
    pool: &PgPool,
    admin: &User,
    person_id: Uuid,
    typed: &PersonEdit,
) -> DbResult<Edited> {
    let mut tx = pool.begin().await?;
    let (actor, person) = lock(&mut tx, admin, person_id).await?;
    let assigned = assigned_as(&mut *tx, person.id).await?;
    let edit = match accounts::validate_edit(actor.id, &account(&person, &assigned), typed) {
        Ok(edit) => edit,
        Err(errors) => return Ok(Edited::Refused(errors)),
    };
    let ValidEdit {
        display_name,
        email,
        roles,
    } = &edit;
    let renamed = *display_name != person.display_name;
    let new_email = *email != person.email;
    let new_roles = *roles != person.roles;
    if !(renamed || new_email || new_roles) {
        return Ok(Edited::Saved { changed: false });
    }
    if renamed || new_email {
        let stored = sqlx::query!(
            "UPDATE users SET display_name = $2, email = $3, updated_at = now() WHERE id = $1",
            person.id,
            display_name,
            email
        )
        .execute(&mut *tx)
        .await;
        match stored {
            Ok(_) => {}
            Err(e) => match DbError::from(e) {
                DbError::DuplicateEmail => {
                    return Ok(Edited::Refused(vec![FieldError::new("email", EMAIL_TAKEN)]))
                }
                other => return Err(other),
            },
        }
    }
    if new_roles {
        set_roles(&mut tx, &person, roles).await?;
    }
    let links_revoked = if new_email {
        revoke_links(&mut tx, person.id).await?
    } else {
        0
    };
    let keys = |roles: &[Role]| roles.iter().map(|r| r.key()).collect::<Vec<_>>();
    let mut changes = serde_json::Map::new();
    let mut change = |what: &str, from: serde_json::Value, to: serde_json::Value| {
        changes.insert(what.into(), serde_json::json!({ "from": from, "to": to }));
    };
    if renamed {
        change(
            "name",
            person.display_name.clone().into(),
            display_name.clone().into(),
        );
    }
    if new_email {
        change("email", person.email.clone().into(), email.clone().into());
    }
    if new_roles {
        change("roles", keys(&person.roles).into(), keys(roles).into());
    }
    activity::record(
        &mut *tx,
        actor.centre_id,
        None,
        Some(actor.id),
        "person changed",
        serde_json::json!({ "user": person.id, "changes": changes, "links_revoked": links_revoked }),
    )
    .await?;
    tx.commit().await?;
    Ok(Edited::Saved { changed: true })
}

/// The person's roles become `roles` (of their kind, checked by `validate_edit`).
pub(crate) async fn set_roles(
    conn: &mut PgConnection,
    person: &User,
    roles: &[Role],
) -> DbResult<()> {
    let keys: Vec<&str> = roles.iter().map(|r| r.key()).collect();
    sqlx::query!(
        "DELETE FROM user_roles WHERE user_id = $1 AND role <> ALL($2::text[])",
        person.id,
        &keys as &[&str]
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO user_roles (user_id, kind, role) SELECT $1, $2, r FROM UNNEST($3::text[]) AS r \
         ON CONFLICT (user_id, role) DO NOTHING",
        person.id,
        person.kind.key(),
        &keys as &[&str]
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An admin deactivates a person: in one transaction the account stops (who and when
/// are kept on it), every session of it ends on every server, its unused set-password
/// links stop working, and the log says so. Nothing the person did is touched: their
/// ticks, decisions and log entries keep naming them.
pub(crate) async fn deactivate(pool: &PgPool, admin: &User, person_id: Uuid) -> DbResult<()> {
    let mut tx = pool.begin().await?;
    let (actor, person) = lock(&mut tx, admin, person_id).await?;
    accounts::may(actor.id, &account(&person, &[]), Move::Deactivate)?;
    sqlx::query!(
        "UPDATE users SET active = false, deactivated_at = now(), deactivated_by = $2, \
                updated_at = now() WHERE id = $1",
        person.id,
        actor.id
    )
    .execute(&mut *tx)
    .await?;
    users::end_sessions(&mut *tx, person.id).await?;
    let links_revoked = revoke_links(&mut tx, person.id).await?;
    activity::record(
        &mut *tx,
        actor.centre_id,
        None,
        Some(actor.id),
        "person deactivated",
        serde_json::json!({ "user": person.id, "email": person.email, "links_revoked": links_revoked }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An admin reactivates a deactivated person: they may sign in again with the password
/// they had (or, if they never set one, from a new link the admin sends).
pub(crate) async fn reactivate(pool: &PgPool, admin: &User, person_id: Uuid) -> DbResult<()> {
    let mut tx = pool.begin().await?;
    let (actor, person) = lock(&mut tx, admin, person_id).await?;
    accounts::may(actor.id, &account(&person, &[]), Move::Reactivate)?;
    sqlx::query!(
        "UPDATE users SET active = true, deactivated_at = NULL, deactivated_by = NULL, \
                updated_at = now() WHERE id = $1",
        person.id
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        actor.centre_id,
        None,
        Some(actor.id),
        "person reactivated",
        serde_json::json!({ "user": person.id, "email": person.email }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An admin signs a person out everywhere at once (a lost phone, a shared computer);
/// they may sign in again. Returns the account's new session generation, for keeping
/// the admin's own browser signed in when the person is the admin.
pub(crate) async fn end_sessions(pool: &PgPool, admin: &User, person_id: Uuid) -> DbResult<i32> {
    let mut tx = pool.begin().await?;
    let (actor, person) = lock(&mut tx, admin, person_id).await?;
    accounts::may(actor.id, &account(&person, &[]), Move::EndSessions)?;
    let generation = users::end_sessions(&mut *tx, person.id).await?;
    activity::record(
        &mut *tx,
        actor.centre_id,
        None,
        Some(actor.id),
        "sessions ended",
        serde_json::json!({ "user": person.id, "email": person.email }),
    )
    .await?;
    tx.commit().await?;
    Ok(generation)
}

/// The person signed in just now (the admin's page shows when they last did).
pub(crate) async fn record_sign_in(db: impl PgExecutor<'_>, person: Uuid) -> DbResult<()> {
    sqlx::query!(
        "UPDATE users SET last_signed_in_at = now() WHERE id = $1",
        person
    )
    .execute(db)
    .await?;
    Ok(())
}

//! Use cases that invite a person to set their password (SPEC §8): adding them, and
//! sending a new link. Each commits its change, its activity entry and its email job
//! together; the email itself leaves from the queue, so no mail server can hold the
//! admin's request.
use sqlx::PgPool;
use uuid::Uuid;

use super::outbox::{self, MessageKind, NewMessage};
use super::users::{self, NewUser, User};
use super::{activity, password_tokens, DbResult};
use crate::domain::mail::may_send_password_link;
use crate::domain::people::ValidPerson;

/// A person with a fresh set-password link, its email queued.
#[derive(Debug, Clone)]
pub(crate) struct Invited {
    pub person: User,
    /// The link, for the admin to copy; never stored whole except in the outbox until
    /// the email is sent.
    pub link: String,
}

/// `{public_url}/set-password/{token}`: links in email are built on the configured
/// address, never on a request's Host header.
pub(crate) fn link(public_url: &str, token: &str) -> String {
    format!("{}/set-password/{token}", public_url.trim_end_matches('/'))
}

pub(crate) async fn queue_link(
    conn: &mut sqlx::PgConnection,
    admin: &User,
    person: &User,
    link: &str,
) -> DbResult<Uuid> {
    outbox::queue(
        conn,
        &NewMessage {
            centre_id: admin.centre_id,
            kind: MessageKind::PasswordLink,
            user_id: person.id,
            to_address: &person.email,
            credential: None,
            requested_by: Some(admin.id),
            link,
        },
    )
    .await
}

/// Adds `person` to the admin's centre with a set-password link, and queues the email
/// that carries it. `DbError::DuplicateEmail` when the centre has the address already.
pub(crate) async fn add_person(
    pool: &PgPool,
    admin: &User,
    person: &ValidPerson,
    public_url: &str,
) -> DbResult<Invited> {
    let mut tx = pool.begin().await?;
    let new = NewUser {
        centre_id: admin.centre_id,
        email: &person.email,
        display_name: &person.display_name,
        password_hash: None,
        kind: person.kind,
        roles: &person.roles,
        employer_id: person.employer,
    };
    let created = users::create(&mut *tx, &new).await?;
    let token = password_tokens::create(&mut *tx, created.id).await?;
    let link = link(public_url, &token);
    let message = queue_link(&mut tx, admin, &created, &link).await?;
    let roles: Vec<&str> = created.roles.iter().map(|r| r.key()).collect();
    activity::record(
        &mut *tx,
        admin.centre_id,
        None,
        Some(admin.id),
        "person added",
        serde_json::json!({
            "user": created.id, "email": created.email, "roles": roles, "message": message,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Invited {
        person: created,
        link,
    })
}

/// Sends a person of the admin's centre who has not yet set a password a new link:
/// their earlier links stop working, emails still waiting with them are dropped, and
/// the new email is queued. This is what un-strands an account whose first email never
/// arrived. `DbError::NotFound` for anyone outside the admin's centre.
pub(crate) async fn send_new_link(
    pool: &PgPool,
    admin: &User,
    person_id: Uuid,
    public_url: &str,
) -> DbResult<Invited> {
    let mut tx = pool.begin().await?;
    // Locked, so that two admins clicking at once make one link after the other.
    let locked: Option<Uuid> = sqlx::query_scalar!(
        "SELECT id FROM users WHERE id = $1 AND centre_id = $2 FOR UPDATE",
        person_id,
        admin.centre_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = locked else {
        return Err(super::DbError::NotFound);
    };
    let person = users::get(&mut *tx, id).await?;
    may_send_password_link(person.active, person.password_hash.is_some())?;
    password_tokens::revoke_all(&mut *tx, person.id).await?;
    outbox::replace_password_links(&mut tx, person.id).await?;
    let token = password_tokens::create(&mut *tx, person.id).await?;
    let link = link(public_url, &token);
    let message = queue_link(&mut tx, admin, &person, &link).await?;
    activity::record(
        &mut *tx,
        admin.centre_id,
        None,
        Some(admin.id),
        "password link resent",
        serde_json::json!({ "user": person.id, "to": person.email, "message": message }),
    )
    .await?;
    tx.commit().await?;
    Ok(Invited { person, link })
}

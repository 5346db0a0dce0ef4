//! One-time links to set a password. Only a SHA-256 of each token is stored, so the
//! table alone cannot be used to sign in.
use sha2::{Digest, Sha256};
use sqlx::{Acquire, PgExecutor, Postgres};
use uuid::Uuid;

use super::{activity, DbResult};
use crate::domain::password_reset::LINK_VALID_MINUTES;

/// How long a set-password link works.
pub(crate) const VALID_DAYS: i32 = 7;

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// 244 random bits from two v4 UUIDs.
fn new_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// Makes a new link for each of `users` at once (an import adds many people); returns
/// each one's token, in order.
pub(crate) async fn create_many(
    conn: &mut sqlx::PgConnection,
    users: &[Uuid],
) -> DbResult<Vec<String>> {
    let tokens: Vec<String> = users.iter().map(|_| new_token()).collect();
    let hashes: Vec<Vec<u8>> = tokens.iter().map(|t| digest(t)).collect();
    sqlx::query!(
        "INSERT INTO password_tokens (token_hash, user_id, purpose, expires_at) \
         SELECT h, u, 'set', now() + make_interval(days => $3) \
           FROM UNNEST($1::bytea[], $2::uuid[]) AS t(h, u)",
        &hashes,
        users,
        VALID_DAYS
    )
    .execute(&mut *conn)
    .await?;
    Ok(tokens)
}

/// Who a working link is for, and whether it is a reset (the person forgot their
/// password) or the first password of a new account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Holder {
    pub user_id: Uuid,
    pub reset: bool,
}

/// Makes a new link for `user_id` (earlier unused links keep working until they
/// expire); returns the token to put in the link.
pub async fn create(db: impl PgExecutor<'_>, user_id: Uuid) -> DbResult<String> {
    let token = new_token();
    sqlx::query!(
        "INSERT INTO password_tokens (token_hash, user_id, purpose, expires_at) \
         VALUES ($1, $2, 'set', now() + make_interval(days => $3))",
        digest(&token),
        user_id,
        VALID_DAYS
    )
    .execute(db)
    .await?;
    Ok(token)
}

/// Makes a link for `user_id` to choose a new password after forgetting theirs: it
/// works for `password_reset::LINK_VALID_MINUTES`. The caller revokes earlier links.
pub(crate) async fn create_reset(db: impl PgExecutor<'_>, user_id: Uuid) -> DbResult<String> {
    let token = new_token();
    sqlx::query!(
        "INSERT INTO password_tokens (token_hash, user_id, purpose, expires_at) \
         VALUES ($1, $2, 'reset', now() + make_interval(mins => $3))",
        digest(&token),
        user_id,
        LINK_VALID_MINUTES
    )
    .execute(db)
    .await?;
    Ok(token)
}

/// Makes every unused link of `user_id` unusable (marked used now): a new link
/// replaces them.
pub(crate) async fn revoke_all(db: impl PgExecutor<'_>, user_id: Uuid) -> DbResult<u64> {
    Ok(sqlx::query!(
        "UPDATE password_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
        user_id
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Who a token is for, if it is unused and unexpired.
pub(crate) async fn user_for(db: impl PgExecutor<'_>, token: &str) -> DbResult<Option<Holder>> {
    Ok(sqlx::query_as!(
        Holder,
        "SELECT user_id, purpose = 'reset' AS \"reset!\" FROM password_tokens \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()",
        digest(token)
    )
    .fetch_optional(db)
    .await?)
}

/// Uses the token, sets the password, ends the account's sessions and writes the
/// activity log in one transaction; the account and its new session generation, or
/// `None` when the token was already used, expired or unknown (two tabs submitting at
/// once: one wins).
pub async fn consume<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    token: &str,
    password_hash: &str,
) -> DbResult<Option<(Uuid, i32)>> {
    let mut tx = db.begin().await?;
    let used = sqlx::query_as!(
        Holder,
        "UPDATE password_tokens SET used_at = now() \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() \
         RETURNING user_id, purpose = 'reset' AS \"reset!\"",
        digest(token)
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(used) = used else {
        return Ok(None);
    };
    let account = sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = now(), \
                session_generation = session_generation + 1 \
          WHERE id = $1 RETURNING session_generation, centre_id",
        used.user_id,
        password_hash
    )
    .fetch_one(&mut *tx)
    .await?;
    let action = if used.reset {
        "password reset"
    } else {
        "password set"
    };
    activity::record(
        &mut *tx,
        account.centre_id,
        None,
        Some(used.user_id),
        action,
        serde_json::json!({ "user": used.user_id, "other_sessions_ended": true }),
    )
    .await?;
    tx.commit().await?;
    Ok(Some((used.user_id, account.session_generation)))
}

//! One-time links to set a password. Only a SHA-256 of each token is stored, so the
//! table alone cannot be used to sign in.
use sha2::{Digest, Sha256};
use sqlx::{Acquire, PgExecutor, Postgres};
use uuid::Uuid;

use super::DbResult;

/// How long a set-password link works.
pub(crate) const VALID_DAYS: i32 = 7;

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Makes a new link for `user_id` (earlier unused links keep working until they
/// expire); returns the token to put in the link. 244 random bits from two v4 UUIDs.
pub async fn create(db: impl PgExecutor<'_>, user_id: Uuid) -> DbResult<String> {
    let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
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

/// The user a token is for, if it is unused and unexpired.
pub(crate) async fn user_for(db: impl PgExecutor<'_>, token: &str) -> DbResult<Option<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT user_id FROM password_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()",
        digest(token)
    )
    .fetch_optional(db)
    .await?)
}

/// Uses the token, sets the password and ends the account's sessions in one
/// transaction; the account and its new session generation, or `None` when the token
/// was already used, expired or unknown (two tabs submitting at once: one wins).
pub async fn consume<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    token: &str,
    password_hash: &str,
) -> DbResult<Option<(Uuid, i32)>> {
    let mut tx = db.begin().await?;
    let user: Option<Uuid> = sqlx::query_scalar!(
        "UPDATE password_tokens SET used_at = now() \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id",
        digest(token)
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = user else {
        return Ok(None);
    };
    let generation = sqlx::query_scalar!(
        "UPDATE users SET password_hash = $2, updated_at = now(), \
                session_generation = session_generation + 1 \
          WHERE id = $1 RETURNING session_generation",
        id,
        password_hash
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some((id, generation)))
}

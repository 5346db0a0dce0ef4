//! Changing one's own password (SPEC §8; issue 12): the use case, once the current
//! password has been checked and the new one hashed.
use sqlx::PgPool;

use super::users::{self, User};
use super::{activity, password_tokens, DbResult};

/// Stores `password_hash` as `user`'s password, ends every session of the account
/// (the caller signs this browser in again with the generation returned), stops any
/// unused set-password or reset link, and writes the activity log, in one transaction.
pub(crate) async fn change(pool: &PgPool, user: &User, password_hash: &str) -> DbResult<i32> {
    let mut tx = pool.begin().await?;
    users::set_password_hash(&mut *tx, user.id, password_hash).await?;
    let generation = users::end_sessions(&mut *tx, user.id).await?;
    // A link emailed before the change would otherwise still set a password for an hour.
    let links = password_tokens::revoke_all(&mut *tx, user.id).await?;
    activity::record(
        &mut *tx,
        user.centre_id,
        None,
        Some(user.id),
        "password changed",
        serde_json::json!({
            "user": user.id, "other_sessions_ended": true, "unused_links_stopped": links,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(generation)
}

//! The session table belongs to tower-sessions' store; only the clean-up is ours.
use sqlx::PgExecutor;

use super::DbResult;

/// Removes expired sessions; returns how many.
pub async fn delete_expired(db: impl PgExecutor<'_>) -> DbResult<u64> {
    let r = sqlx::query("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

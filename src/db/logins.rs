//! Sign-in attempts, for rate limiting (SPEC §8).
use sqlx::PgExecutor;

use super::DbResult;

/// Recent failures for `email` (since its last successful sign-in) and from `address`,
/// over the last `minutes` minutes, in one statement.
pub async fn recent_failures(
    db: impl PgExecutor<'_>,
    email: &str,
    address: Option<&str>,
    minutes: i32,
) -> DbResult<(u32, u32)> {
    let (account, from_address): (i64, i64) = sqlx::query_as(
        "WITH recent AS (SELECT * FROM login_attempts WHERE at > now() - make_interval(mins => $3)), \
         last_ok AS (SELECT max(at) AS at FROM recent WHERE lower(email) = lower($1) AND succeeded) \
         SELECT \
           (SELECT count(*) FROM recent, last_ok WHERE lower(email) = lower($1) AND NOT succeeded \
              AND (last_ok.at IS NULL OR recent.at > last_ok.at)), \
           (SELECT count(*) FROM recent WHERE $2::text IS NOT NULL AND address = $2 AND NOT succeeded)",
    )
    .bind(email.trim())
    .bind(address)
    .bind(minutes)
    .fetch_one(db)
    .await?;
    Ok((account as u32, from_address as u32))
}

pub async fn record(
    db: impl PgExecutor<'_>,
    email: &str,
    address: Option<&str>,
    succeeded: bool,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO login_attempts (email, address, succeeded) VALUES (lower($1), $2, $3)",
    )
    .bind(email.trim())
    .bind(address)
    .bind(succeeded)
    .execute(db)
    .await?;
    Ok(())
}

//! The kept copy of the quiet enrolments (migration 0050), moved on by housekeeping:
//! each round adds the enrolments whose last activity is one more day behind, until the
//! copy reaches 29 days ago, a day ahead of the report's 30, so that the report reads the
//! quiet ones from the copy alone between hourly rounds.
use sqlx::PgPool;
use time::OffsetDateTime;

use super::DbResult;

/// A round moves the copy on by this much at most, so that no round locks more than a
/// day's worth of enrolments (after a long stop, rounds follow each other).
const ROUND_SPAN: time::Duration = time::Duration::days(1);

/// One round. True when the copy has caught up with 29 days ago.
pub async fn advance_round(pool: &PgPool) -> DbResult<bool> {
    let mut tx = pool.begin().await?;
    // One round at a time over all the workers.
    let span = sqlx::query!(
        r#"SELECT through AS "was!", now() - interval '29 days' AS "target!"
             FROM quiet_through FOR UPDATE"#
    )
    .fetch_one(&mut *tx)
    .await?;
    let upto: OffsetDateTime = span.target.min(span.was + ROUND_SPAN);
    if upto <= span.was {
        return Ok(true);
    }
    // The enrolments going quiet are locked first, in the order every writer locks
    // enrolments (by id): one given activity meanwhile is left out by the lock's recheck,
    // and one given activity after waits for this round, whose copy its trigger then
    // removes.
    let ids = sqlx::query_scalar!(
        r#"SELECT e.id AS "id!" FROM enrolments e
            WHERE e.id = ANY(ARRAY(
                    SELECT x.id FROM centres c CROSS JOIN LATERAL (
                        SELECT n.id FROM enrolments n
                         WHERE n.centre_id = c.id
                           AND n.last_activity_on BETWEEN ($1::timestamptz AT TIME ZONE 'UTC')::date
                                                      AND ($2::timestamptz AT TIME ZONE 'UTC')::date) x))
              AND e.last_activity_at >= $1 AND e.last_activity_at < $2
            ORDER BY e.id FOR SHARE"#,
        span.was,
        upto,
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!("UPDATE quiet_through SET through = $1", upto)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("SELECT quiet_enrolments_fill($1)", &ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(upto >= span.target)
}

//! Forgotten passwords (SPEC §8; issue 12). A request does the same two things whatever
//! email it names: it counts itself against the limits (`domain::password_reset`) and,
//! if they allow it, queues a job naming the email. No account is looked up while the
//! person waits, so the answer costs the same whether an account uses the email or
//! not, and says nothing about it. The job (`send_links`) then emails a link to each
//! active account with that email, in one transaction with its activity entries.
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::outbox::{self, MessageKind, NewMessage};
use super::{activity, invitations, jobs, password_tokens, DbResult};
use crate::domain::password_reset::{self as rule, Counted};

/// The job kind that emails the links; its payload is `{"email", "address",
/// "public_url"}`, emptied once the job is done.
pub(crate) const RESET_JOB: &str = "password reset";

/// A counter stops at this, so that a flood cannot overflow it.
const COUNT_CAP: i32 = 1_000_000;

struct CounterRow {
    scope: String,
    requests: i32,
}

/// Counts a request for `email` from `address` and, if the limits allow it, queues the
/// job that emails the links, built on `public_url`; whether it was admitted (for the
/// log: the person is told the same either way).
pub(crate) async fn request(
    pool: &PgPool,
    email: &str,
    address: Option<&str>,
    public_url: &str,
) -> DbResult<bool> {
    let email = email.trim();
    let mut scopes = vec!["email"];
    let mut keys = vec![email.to_lowercase()];
    if let Some(address) = address {
        scopes.push("address");
        keys.push(address.to_string());
    }
    let mut tx = pool.begin().await?;
    // One statement counts both: a counter whose hour has passed starts again at 1.
    // Rows are made and locked in (scope, key) order, so two requests sharing a counter
    // cannot deadlock.
    let rows = sqlx::query_as!(
        CounterRow,
        "INSERT INTO password_reset_throttles AS t (scope, key) \
         SELECT scope, key FROM unnest($1::text[], $2::text[]) AS k(scope, key) \
          ORDER BY scope, key \
         ON CONFLICT (scope, key) DO UPDATE SET \
           requests = CASE WHEN t.window_start > now() - make_interval(secs => $3) \
                           THEN LEAST(t.requests, $4) + 1 ELSE 1 END, \
           window_start = CASE WHEN t.window_start > now() - make_interval(secs => $3) \
                               THEN t.window_start ELSE now() END \
         RETURNING scope, requests",
        &scopes as &[&str],
        &keys[..],
        rule::WINDOW.as_seconds_f64(),
        COUNT_CAP
    )
    .fetch_all(&mut *tx)
    .await?;
    let count = |scope: &str| {
        rows.iter()
            .find(|r| r.scope == scope)
            .map(|r| u32::try_from(r.requests).unwrap_or(u32::MAX))
    };
    let admitted = rule::admit(Counted {
        email: count("email").unwrap_or(u32::MAX),
        address: address.map(|_| count("address").unwrap_or(u32::MAX)),
    });
    if admitted {
        jobs::enqueue(
            &mut tx,
            RESET_JOB,
            serde_json::json!({ "email": email, "address": address, "public_url": public_url }),
            &format!("reset:{}", Uuid::new_v4()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(admitted)
}

struct Account {
    id: Uuid,
    centre_id: Uuid,
    email: String,
}

/// The job's work, on the caller's transaction: for each active account with `email`
/// (an address can have an account in several centres), earlier unused links stop
/// working and their waiting emails are dropped, a new reset link is made, its email
/// queued, and the centre's activity log says so. Answers how many were emailed.
pub(crate) async fn send_links(
    conn: &mut PgConnection,
    email: &str,
    address: Option<&str>,
    public_url: &str,
) -> DbResult<usize> {
    // Locked, so that a link an admin sends meanwhile comes before or after, not between.
    let accounts = sqlx::query_as!(
        Account,
        "SELECT id, centre_id, email FROM users \
          WHERE lower(email) = lower($1) AND active ORDER BY id FOR UPDATE",
        email.trim()
    )
    .fetch_all(&mut *conn)
    .await?;
    for account in &accounts {
        password_tokens::revoke_all(&mut *conn, account.id).await?;
        outbox::replace_password_links(&mut *conn, account.id).await?;
        let token = password_tokens::create_reset(&mut *conn, account.id).await?;
        let link = invitations::link(public_url, &token);
        let message = outbox::queue(
            &mut *conn,
            &NewMessage {
                centre_id: account.centre_id,
                kind: MessageKind::PasswordReset,
                user_id: account.id,
                to_address: &account.email,
                credential: None,
                // Asked for by whoever typed the email: nobody the app knows.
                requested_by: None,
                link: &link,
            },
        )
        .await?;
        activity::record(
            &mut *conn,
            account.centre_id,
            None,
            None,
            "password reset requested",
            serde_json::json!({
                "user": account.id, "email": account.email, "from": address, "message": message,
            }),
        )
        .await?;
    }
    Ok(accounts.len())
}

/// Empties a finished reset job's payload: the queue does not keep what was typed
/// (often the address of nobody with an account).
pub(crate) async fn forget_request(conn: &mut PgConnection, job: Uuid) -> DbResult<()> {
    sqlx::query!(
        "UPDATE jobs SET payload = '{}'::jsonb WHERE id = $1 AND kind = $2",
        job,
        RESET_JOB
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the counters whose window has closed (they count as never made); returns
/// how many. However many emails were invented, the table holds at most an hour's.
pub async fn forget_stale(pool: &PgPool) -> DbResult<u64> {
    Ok(sqlx::query!(
        "DELETE FROM password_reset_throttles WHERE window_start <= now() - make_interval(secs => $1)",
        rule::WINDOW.as_seconds_f64()
    )
    .execute(pool)
    .await?
    .rows_affected())
}

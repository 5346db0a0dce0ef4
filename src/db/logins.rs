//! Sign-in attempts: the throttle's counters (SPEC §8; the rule is
//! `domain::signin`) and the record of checked attempts.
//!
//! An attempt's counters are read and written under their row locks, in one
//! transaction, so attempts arriving together are judged one after another: the
//! attempt is counted as a failure (`reserve`) before its password is checked, and
//! given back (`settle`) if the password was right or never checked.
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{activity, DbResult};
use crate::db::users::User;
use crate::domain::signin::{self, Scope, Tallies, Tally, Throttled, Verdict};

/// Who an attempt is for and from: the email as typed (trimmed and lower-cased), and
/// the network address, when it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    email: String,
    address: Option<String>,
}

impl Attempt {
    pub fn new(email: &str, address: Option<&str>) -> Attempt {
        Attempt {
            email: email.trim().to_lowercase(),
            address: address.map(str::to_string),
        }
    }

    /// The counters' keys (scope, email, address), in the order their rows are locked.
    fn keys(&self) -> Vec<(Scope, String, String)> {
        let address = self.address.clone().unwrap_or_default();
        let mut keys = vec![
            (Scope::Account, self.email.clone(), String::new()),
            (Scope::Pair, self.email.clone(), address.clone()),
        ];
        if self.address.is_some() {
            keys.push((Scope::Address, String::new(), address));
        }
        keys.sort_by(|a, b| (a.0.key(), &a.1, &a.2).cmp(&(b.0.key(), &b.1, &b.2)));
        keys
    }
}

struct TallyRow {
    scope: String,
    failures: i32,
    window_start: Option<OffsetDateTime>,
    last_failure_at: Option<OffsetDateTime>,
    succeeded_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
}

impl From<&TallyRow> for Tally {
    fn from(r: &TallyRow) -> Tally {
        Tally {
            failures: u32::try_from(r.failures).unwrap_or(0),
            window_start: r.window_start,
            last_failure_at: r.last_failure_at,
            succeeded_at: r.succeeded_at,
        }
    }
}

/// Counters looked at by one `forget_stale` pass, at most.
const FORGET_BATCH: i64 = 10_000;

/// Deletes counters that no longer count (`signin::forgotten`), up to `FORGET_BATCH` of
/// them per call, oldest first; returns how many. A counter changed meanwhile by an
/// attempt is left (the delete names the state that was judged).
pub async fn forget_stale(pool: &PgPool) -> DbResult<u64> {
    struct Stale {
        scope: String,
        email: String,
        address: String,
        failures: i32,
        window_start: Option<OffsetDateTime>,
        last_failure_at: Option<OffsetDateTime>,
        succeeded_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    }
    // Only a first narrowing: no counter touched in the last day can be forgotten.
    let rows = sqlx::query_as!(
        Stale,
        "SELECT scope, email, address, failures, window_start, last_failure_at, succeeded_at, \
                now() AS \"now!\" \
         FROM login_throttles \
         WHERE COALESCE(GREATEST(window_start, last_failure_at, succeeded_at), '-infinity') \
               < now() - interval '1 day' \
         ORDER BY COALESCE(GREATEST(window_start, last_failure_at, succeeded_at), '-infinity') \
         LIMIT $1",
        FORGET_BATCH
    )
    .fetch_all(pool)
    .await?;
    let gone: Vec<&Stale> = rows
        .iter()
        .filter(|r| {
            let tally = Tally {
                failures: u32::try_from(r.failures).unwrap_or(0),
                window_start: r.window_start,
                last_failure_at: r.last_failure_at,
                succeeded_at: r.succeeded_at,
            };
            signin::forgotten(&tally, r.now)
        })
        .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    let column = |f: fn(&Stale) -> Option<OffsetDateTime>| -> Vec<Option<OffsetDateTime>> {
        gone.iter().map(|r| f(r)).collect()
    };
    // One statement for the batch; each row only as it was judged.
    let r = sqlx::query!(
        "DELETE FROM login_throttles t USING \
           unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], \
                  $6::timestamptz[], $7::timestamptz[]) \
             AS g(scope, email, address, failures, window_start, last_failure_at, succeeded_at) \
         WHERE t.scope = g.scope AND t.email = g.email AND t.address = g.address \
           AND t.failures = g.failures AND t.window_start IS NOT DISTINCT FROM g.window_start \
           AND t.last_failure_at IS NOT DISTINCT FROM g.last_failure_at \
           AND t.succeeded_at IS NOT DISTINCT FROM g.succeeded_at",
        &gone.iter().map(|r| r.scope.clone()).collect::<Vec<_>>()[..],
        &gone.iter().map(|r| r.email.clone()).collect::<Vec<_>>()[..],
        &gone.iter().map(|r| r.address.clone()).collect::<Vec<_>>()[..],
        &gone.iter().map(|r| r.failures).collect::<Vec<_>>()[..],
        &column(|r| r.window_start) as &[Option<OffsetDateTime>],
        &column(|r| r.last_failure_at) as &[Option<OffsetDateTime>],
        &column(|r| r.succeeded_at) as &[Option<OffsetDateTime>]
    )
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// The attempt's counters, made if new and locked until the transaction ends, and the
/// database's time, in one statement. Rows are made and locked in `keys` order, so two
/// attempts sharing a counter (one address, one email) cannot deadlock.
async fn lock(db: &mut PgConnection, attempt: &Attempt) -> DbResult<(OffsetDateTime, Tallies)> {
    let keys = attempt.keys();
    let scopes: Vec<&str> = keys.iter().map(|k| k.0.key()).collect();
    let emails: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let addresses: Vec<&str> = keys.iter().map(|k| k.2.as_str()).collect();
    let rows = sqlx::query_as!(
        TallyRow,
        "INSERT INTO login_throttles (scope, email, address) \
         SELECT scope, email, address FROM unnest($1::text[], $2::text[], $3::text[]) \
           WITH ORDINALITY AS k(scope, email, address, n) ORDER BY n \
         ON CONFLICT (scope, email, address) DO UPDATE SET failures = login_throttles.failures \
         RETURNING scope, failures, window_start, last_failure_at, succeeded_at, now() AS \"now!\"",
        &scopes as &[&str],
        &emails as &[&str],
        &addresses as &[&str]
    )
    .fetch_all(&mut *db)
    .await?;
    let of = |scope: Scope| {
        rows.iter()
            .find(|r| r.scope == scope.key())
            .map(Tally::from)
    };
    let now = rows.first().map_or_else(OffsetDateTime::now_utc, |r| r.now);
    let tallies = Tallies {
        pair: of(Scope::Pair).unwrap_or_default(),
        account: of(Scope::Account).unwrap_or_default(),
        address: attempt
            .address
            .as_ref()
            .map(|_| of(Scope::Address).unwrap_or_default()),
    };
    Ok((now, tallies))
}

/// Writes the attempt's counters back (their rows are locked by `lock`).
async fn write(db: &mut PgConnection, attempt: &Attempt, tallies: &Tallies) -> DbResult<()> {
    let keys = attempt.keys();
    let of = |scope: Scope| match scope {
        Scope::Pair => tallies.pair,
        Scope::Account => tallies.account,
        Scope::Address => tallies.address.unwrap_or_default(),
    };
    let values: Vec<Tally> = keys.iter().map(|k| of(k.0)).collect();
    let scopes: Vec<&str> = keys.iter().map(|k| k.0.key()).collect();
    let emails: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let addresses: Vec<&str> = keys.iter().map(|k| k.2.as_str()).collect();
    let failures: Vec<i32> = values
        .iter()
        .map(|v| i32::try_from(v.failures).unwrap_or(i32::MAX))
        .collect();
    let column = |f: fn(&Tally) -> Option<OffsetDateTime>| -> Vec<Option<OffsetDateTime>> {
        values.iter().map(f).collect()
    };
    sqlx::query!(
        "UPDATE login_throttles t SET failures = v.failures, window_start = v.window_start, \
           last_failure_at = v.last_failure_at, succeeded_at = v.succeeded_at \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], \
                     $6::timestamptz[], $7::timestamptz[]) \
           AS v(scope, email, address, failures, window_start, last_failure_at, succeeded_at) \
         WHERE (t.scope, t.email, t.address) = (v.scope, v.email, v.address)",
        &scopes as &[&str],
        &emails as &[&str],
        &addresses as &[&str],
        &failures[..],
        &column(|v| v.window_start) as &[Option<OffsetDateTime>],
        &column(|v| v.last_failure_at) as &[Option<OffsetDateTime>],
        &column(|v| v.succeeded_at) as &[Option<OffsetDateTime>]
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Admits the attempt and counts it as a failure until it is settled, or says why it
/// must wait (and counts nothing).
pub(crate) async fn reserve(pool: &PgPool, attempt: &Attempt) -> DbResult<Result<(), Throttled>> {
    let mut tx = pool.begin().await?;
    let (now, tallies) = lock(&mut tx, attempt).await?;
    match signin::reserve(now, &tallies) {
        Ok(reserved) => {
            write(&mut tx, attempt, &reserved).await?;
            tx.commit().await?;
            Ok(Ok(()))
        }
        Err(throttled) => {
            tx.rollback().await?;
            Ok(Err(throttled))
        }
    }
}

/// What became of a reserved attempt: a checked one is recorded, a right or unchecked
/// one gives its failure back (a right one clears its pair), in one transaction.
pub async fn settle(pool: &PgPool, attempt: &Attempt, verdict: Verdict) -> DbResult<()> {
    if verdict == Verdict::Wrong {
        // The reserved failure stands as it is.
        return record(pool, attempt, false).await;
    }
    let mut tx = pool.begin().await?;
    let (now, tallies) = lock(&mut tx, attempt).await?;
    write(&mut tx, attempt, &signin::settle(now, &tallies, verdict)).await?;
    if verdict == Verdict::Right {
        record(&mut *tx, attempt, true).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A checked attempt, for the record.
async fn record(db: impl PgExecutor<'_>, attempt: &Attempt, succeeded: bool) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO login_attempts (email, address, succeeded) VALUES ($1, $2, $3)",
        &attempt.email,
        attempt.address.as_deref(),
        succeeded
    )
    .execute(db)
    .await?;
    Ok(())
}

/// An admin unlocks a person of their centre: every failure counted against the
/// person's email, from any address, is cleared (what an address did to other accounts
/// stands), and the activity log says who did it, in one transaction. `NotFound` for
/// anyone not of the admin's centre.
pub async fn unlock(pool: &PgPool, admin: &User, person_id: Uuid) -> DbResult<()> {
    let mut tx = pool.begin().await?;
    let email: String = sqlx::query_scalar!(
        "SELECT email FROM users WHERE id = $1 AND centre_id = $2",
        person_id,
        admin.centre_id
    )
    .fetch_one(&mut *tx)
    .await?;
    // Keyed as sign-in keys it: the email trimmed and lower-cased.
    let key = Attempt::new(&email, None).email;
    sqlx::query!(
        "UPDATE login_throttles SET failures = 0, last_failure_at = NULL, window_start = NULL \
          WHERE scope IN ('pair', 'account') AND email = $1",
        &key
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        admin.centre_id,
        None,
        Some(admin.id),
        "sign-in unlocked",
        serde_json::json!({ "user": person_id, "email": email }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

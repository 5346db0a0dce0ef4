//! The connections kept out of sqlx's pool (`db::leased`): used again only when their
//! statement finished, closed when it was abandoned or the connection broke.
use std::time::Duration;

use attest::db::leased::Leased;
use attest::db::DbResult;
use attest::testing::test_pool;
use futures_util::FutureExt;
use sqlx::{PgConnection, PgPool};

async fn backend(db: &mut PgConnection) -> DbResult<i32> {
    Ok(sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(db)
        .await?)
}

async fn read_backend(leased: &Leased) -> DbResult<i32> {
    leased.read(|db| Box::pin(backend(db))).await
}

/// Waits (bounded) until backend `pid` has gone from the server.
async fn gone(pool: &PgPool, pid: i32) -> bool {
    for _ in 0..200 {
        let there: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                .bind(pid)
                .fetch_one(pool)
                .await
                .expect("query");
        if !there {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

#[tokio::test]
async fn a_connection_given_back_is_used_again_and_one_abandoned_is_closed() {
    let pool = test_pool().await;
    let leased = Leased::new(pool.clone(), 1);

    let mut lease = leased.take().await.expect("take");
    let first = backend(&mut lease).await.expect("pid");
    lease.keep();
    assert_eq!(leased.idle(), 1);
    let mut lease = leased.take().await.expect("take");
    assert_eq!(backend(&mut lease).await.expect("pid"), first, "used again");

    // Dropped without `keep`, as when a request goes away mid-statement.
    drop(lease);
    assert_eq!(leased.idle(), 0);
    assert!(
        gone(&pool, first).await,
        "the abandoned connection was closed"
    );
    assert_ne!(read_backend(&leased).await.expect("pid"), first);
}

#[tokio::test]
async fn a_read_on_a_connection_the_database_closed_runs_again_on_a_new_one() {
    let pool = test_pool().await;
    let leased = Leased::new(pool.clone(), 1);
    let first = read_backend(&leased).await.expect("pid");
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(first)
        .execute(&pool)
        .await
        .expect("terminate");
    assert!(gone(&pool, first).await);

    let second = read_backend(&leased)
        .await
        .expect("served on a new connection");
    assert_ne!(second, first);
    assert_eq!(
        read_backend(&leased).await.expect("pid"),
        second,
        "and kept"
    );
}

#[tokio::test]
async fn a_statement_the_database_refused_leaves_the_connection_in_use() {
    let pool = test_pool().await;
    let leased = Leased::new(pool.clone(), 1);
    let first = read_backend(&leased).await.expect("pid");
    let refused = leased
        .read(|db| {
            Box::pin(async move {
                Ok(sqlx::query_scalar::<_, i32>("SELECT 1 / 0")
                    .fetch_one(db)
                    .await?)
            })
        })
        .await;
    assert!(refused.is_err());
    assert_eq!(read_backend(&leased).await.expect("pid"), first);
}

#[tokio::test]
async fn no_more_than_its_size_are_out_at_once() {
    let pool = test_pool().await;
    let leased = Leased::new(pool.clone(), 2);
    let one = leased.take().await.expect("take");
    let two = leased.take().await.expect("take");
    let mut third = Box::pin(leased.take());
    assert!((&mut third).now_or_never().is_none(), "the third waits");
    one.keep();
    let mut third = third.await.expect("taken once one came back");
    backend(&mut third).await.expect("usable");
    drop(two);
}

/// Issue 11, point 11: the server's connections stay within the one limit it is given:
/// its pool, filled, and every connection it keeps outside the pool, all taken, are no
/// more than that (today's pool took the whole limit, and the kept ones came on top).
#[tokio::test]
async fn a_server_opens_no_more_connections_than_its_limit() {
    let pool = test_pool().await;
    let total = 12;
    let options = (*pool.connect_options())
        .clone()
        .application_name("server-under-test");
    let server = attest::startup::pool_options_for(total)
        .connect_with(options)
        .await
        .expect("the server's pool");
    let kept = Leased::new(server.clone(), attest::web::kept_connections() as usize);
    let mut leases = Vec::new();
    for _ in 0..attest::web::kept_connections() {
        leases.push(kept.take().await.expect("a kept connection"));
    }
    let mut lent = Vec::new();
    while let Some(connection) = server.try_acquire() {
        lent.push(connection);
    }
    for _ in lent.len()..server.options().get_max_connections() as usize {
        lent.push(server.acquire().await.expect("up to the pool's limit"));
    }
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'server-under-test'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert!(
        open <= i64::from(total),
        "{open} connections open, limit {total}"
    );
    assert_eq!(
        open,
        i64::from(total),
        "the limit is used whole: pool and kept together"
    );
    drop(lent);
    drop(leases);
}

/// Issue 11, point 11: a kept connection lives a bounded time, then another replaces it.
#[tokio::test]
async fn a_kept_connection_is_replaced_once_it_has_lived_its_time() {
    let pool = test_pool().await;
    let lasting = Leased::new(pool.clone(), 1);
    let first = read_backend(&lasting).await.expect("pid");
    assert_eq!(
        read_backend(&lasting).await.expect("pid"),
        first,
        "within its time"
    );

    let brief = Leased::with_lifetime(pool.clone(), 1, Duration::ZERO);
    let first = read_backend(&brief).await.expect("pid");
    assert_eq!(brief.idle(), 0, "not kept past its time");
    assert!(gone(&pool, first).await, "closed");
    assert_ne!(read_backend(&brief).await.expect("pid"), first);
}

/// Issue 11, point 11: at shutdown every kept connection is closed and none is lent again,
/// so the pool can close (it waits for its connections).
#[tokio::test]
async fn closing_ends_every_kept_connection_and_lends_no_more() {
    let pool = test_pool().await;
    let leased = Leased::new(pool.clone(), 2);
    let (mut a, mut b) = (
        leased.take().await.expect("take"),
        leased.take().await.expect("take"),
    );
    let pids = [
        backend(&mut a).await.expect("pid"),
        backend(&mut b).await.expect("pid"),
    ];
    a.keep();
    leased.close().await;
    assert!(leased.take().await.is_err(), "no more leases");
    b.keep(); // a lease out at close comes back and is closed, not kept
    assert_eq!(leased.idle(), 0);
    for pid in pids {
        assert!(gone(&pool, pid).await, "backend {pid} closed");
    }
}

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

/// Issue 11, point 11: kept connections are the pool's, counted within its limit, in use
/// or idle: with three kept and one lent, a pool of four has none left to give.
#[tokio::test]
async fn kept_connections_count_within_the_pools_limit() {
    let pool = attest::testing::test_pool_with(4).await;
    let leased = Leased::new(pool.clone(), 3);
    let leases = [
        leased.take().await.expect("take"),
        leased.take().await.expect("take"),
        leased.take().await.expect("take"),
    ];
    assert_eq!(pool.size(), 3, "the three kept are counted");
    let fourth = pool.acquire().await.expect("the fourth");
    assert!(pool.try_acquire().is_none(), "a fifth would pass the limit");
    for lease in leases {
        lease.keep();
    }
    assert_eq!((leased.idle(), pool.size()), (3, 4), "idle, still counted");
    assert!(pool.try_acquire().is_none());
    drop(fourth); // given back to the pool by a task of its own: wait for it
    tokio::time::timeout(Duration::from_secs(30), pool.acquire())
        .await
        .expect("no answer")
        .expect("what the pool lent came back");
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
    tokio::time::timeout(Duration::from_secs(30), pool.close())
        .await
        .expect("the pool closes: nothing of it is held");
}

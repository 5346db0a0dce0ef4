//! Loaded qualification versions are kept in memory (they never change once stored).
use attest::db::qualifications::{self, load_version};
use attest::db::version_cache::VersionCache;

use crate::helpers::{tiny, world};

#[tokio::test]
async fn a_kept_version_is_served_without_the_database_and_the_cache_stays_within_capacity() {
    let w = world().await;
    let other = qualifications::import(&w.pool, w.centre.id, &tiny("OTHER/1"), None)
        .await
        .expect("import");
    let cache = VersionCache::with_capacity(1);

    let first = cache
        .load(&w.pool, w.version.version_id)
        .await
        .expect("load");
    assert_eq!(
        *first,
        load_version(&w.pool, w.version.version_id)
            .await
            .expect("load")
    );
    let second = cache.load(&w.pool, other.version_id).await.expect("load");
    assert_eq!(second.qualification.code, "OTHER/1");
    assert_eq!(cache.len(), 1, "the first version made room for the second");

    // With the pool closed, only what is kept can be served.
    w.pool.close().await;
    let kept = cache
        .load(&w.pool, other.version_id)
        .await
        .expect("served from memory");
    assert_eq!(kept.version_id, other.version_id);
    assert!(cache.load(&w.pool, w.version.version_id).await.is_err());
}

#[tokio::test]
async fn the_version_served_longest_ago_makes_room_not_a_busy_one() {
    let w = world().await;
    let import = |code: &'static str| {
        let pool = w.pool.clone();
        let centre = w.centre.id;
        async move {
            qualifications::import(&pool, centre, &tiny(code), None)
                .await
                .expect("import")
                .version_id
        }
    };
    let (busy, idle, new) = (
        w.version.version_id,
        import("IDLE/1").await,
        import("NEW/1").await,
    );
    let cache = VersionCache::with_capacity(2);
    cache.load(&w.pool, busy).await.expect("load");
    cache.load(&w.pool, idle).await.expect("load");
    // The busy version is served again, so the idle one is now the oldest.
    cache.load(&w.pool, busy).await.expect("load");
    cache.load(&w.pool, new).await.expect("load");
    assert_eq!(cache.len(), 2);

    w.pool.close().await;
    assert!(
        cache.load(&w.pool, busy).await.is_ok(),
        "the busy one stays"
    );
    assert!(
        cache.load(&w.pool, new).await.is_ok(),
        "the new one is kept"
    );
    assert!(
        cache.load(&w.pool, idle).await.is_err(),
        "the idle one made room"
    );
}

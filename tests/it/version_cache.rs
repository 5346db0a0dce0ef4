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

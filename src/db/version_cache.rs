//! Qualification versions kept in memory once loaded. A stored version never changes (a
//! changed file is imported as a new version), so a kept copy cannot go stale, even with
//! several server processes. Every portfolio page needs its version, and loading one
//! (a 1,500-criterion definition read as JSON and parsed, with the ids of its items) was
//! the largest part of those pages' work.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sqlx::PgExecutor;
use uuid::Uuid;

use super::qualifications::{load_version, LoadedVersion};
use super::DbResult;

/// How many versions are kept; a large version takes about a megabyte.
pub const DEFAULT_CAPACITY: usize = 64;

#[derive(Clone)]
pub struct VersionCache {
    kept: Arc<Mutex<HashMap<Uuid, Arc<LoadedVersion>>>>,
    capacity: usize,
}

impl Default for VersionCache {
    fn default() -> Self {
        VersionCache::with_capacity(DEFAULT_CAPACITY)
    }
}

/// The process's cache: pages and audits (which run inside other callers'
/// transactions, far from the web state) share it.
pub fn shared() -> &'static VersionCache {
    static SHARED: OnceLock<VersionCache> = OnceLock::new();
    SHARED.get_or_init(VersionCache::default)
}

impl VersionCache {
    pub fn with_capacity(capacity: usize) -> Self {
        VersionCache {
            kept: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    /// The version, from memory when it was loaded before.
    pub async fn load(
        &self,
        db: impl PgExecutor<'_>,
        version_id: Uuid,
    ) -> DbResult<Arc<LoadedVersion>> {
        if let Some(v) = self.kept().get(&version_id) {
            return Ok(Arc::clone(v));
        }
        // Two requests may both miss and both load; the second insert just replaces.
        let loaded = Arc::new(load_version(db, version_id).await?);
        let mut kept = self.kept();
        if kept.len() >= self.capacity && !kept.contains_key(&version_id) {
            // Full: make room by dropping any one version (it is loaded again if needed).
            if let Some(&any) = kept.keys().next() {
                kept.remove(&any);
            }
        }
        kept.insert(version_id, Arc::clone(&loaded));
        Ok(loaded)
    }

    /// How many versions are kept now.
    pub fn len(&self) -> usize {
        self.kept().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<LoadedVersion>>> {
        // A panic while holding the lock leaves the map whole (inserts and removes are
        // single calls), so a poisoned lock is still safe to use.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

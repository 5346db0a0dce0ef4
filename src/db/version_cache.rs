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
pub(crate) const DEFAULT_CAPACITY: usize = 64;

#[derive(Clone)]
pub struct VersionCache {
    kept: Arc<Mutex<Kept<LoadedVersion>>>,
    capacity: usize,
}

/// What is kept of each version (here the version itself; the suggestions' jobs keep its
/// criterion vectors so) with the moment it was last served (a counter), so that the one
/// served longest ago makes room: a busy version must not be dropped for a one-off load.
pub(crate) struct Kept<V> {
    versions: HashMap<Uuid, (Arc<V>, u64)>,
    clock: u64,
}

impl<V> Default for Kept<V> {
    fn default() -> Self {
        Kept {
            versions: HashMap::new(),
            clock: 0,
        }
    }
}

impl<V> Kept<V> {
    pub(crate) fn get(&mut self, version_id: &Uuid) -> Option<Arc<V>> {
        self.clock += 1;
        let now = self.clock;
        self.versions.get_mut(version_id).map(|(v, used)| {
            *used = now;
            Arc::clone(v)
        })
    }

    pub(crate) fn insert(&mut self, version_id: Uuid, version: Arc<V>, capacity: usize) {
        if self.versions.len() >= capacity && !self.versions.contains_key(&version_id) {
            let oldest = self
                .versions
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(&id, _)| id);
            if let Some(oldest) = oldest {
                self.versions.remove(&oldest);
            }
        }
        self.clock += 1;
        self.versions.insert(version_id, (version, self.clock));
    }
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
            return Ok(v);
        }
        // Two requests may both miss and both load; the second insert just replaces.
        let loaded = Arc::new(load_version(db, version_id).await?);
        self.kept()
            .insert(version_id, Arc::clone(&loaded), self.capacity);
        Ok(loaded)
    }

    /// How many versions are kept now.
    pub fn len(&self) -> usize {
        self.kept().versions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept<LoadedVersion>> {
        // A panic while holding the lock leaves the map whole (inserts and removes are
        // single calls), so a poisoned lock is still safe to use.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

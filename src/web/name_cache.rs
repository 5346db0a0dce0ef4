//! The display names of the people who ticked, kept in memory per centre for the
//! in-place tick's answer (which names who made each tick of its row): looked up in the
//! tick's statement, up to three names cost as much as the rest of its answer.
//!
//! A centre's names hold for one revision of its pages (`centres.page_revision`, which
//! a rename moves, migration 0044): a request at a newer revision starts the centre's
//! names afresh, and one at an older revision reads the database and keeps nothing, so
//! no answer shows a name from before the revision its request saw.
use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::PgPool;
use uuid::Uuid;

use crate::db::{users, DbResult};

/// Names kept a centre at most; beyond, they are read from the database each time.
const MOST: usize = 20_000;

/// One centre's names, as at one page revision.
struct Kept {
    revision: i64,
    names: HashMap<Uuid, String>,
}

#[derive(Default)]
pub struct NameCache {
    centres: Mutex<HashMap<Uuid, Kept>>,
}

impl NameCache {
    /// The display names of `ids`, people of `centre`, as of the centre's page
    /// `revision` or later. Users are never deleted (migration 0012): an id with no user
    /// is left out, and shows as no name, as on the evidence page.
    pub async fn names(
        &self,
        pool: &PgPool,
        centre: Uuid,
        revision: i64,
        ids: &[Uuid],
    ) -> DbResult<HashMap<Uuid, String>> {
        let (mut found, missing) = self.kept(centre, revision, ids);
        if missing.is_empty() {
            return Ok(found);
        }
        let read = users::names(pool, &missing).await?;
        {
            let mut centres = self.centres.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(kept) = centres.get_mut(&centre) {
                if kept.revision == revision && kept.names.len() + read.len() <= MOST {
                    kept.names
                        .extend(read.iter().map(|(id, name)| (*id, name.clone())));
                }
            }
        }
        found.extend(read);
        Ok(found)
    }

    /// The names of `ids` kept at `revision`, and the ids without one.
    fn kept(
        &self,
        centre: Uuid,
        revision: i64,
        ids: &[Uuid],
    ) -> (HashMap<Uuid, String>, Vec<Uuid>) {
        let mut centres = self.centres.lock().unwrap_or_else(|p| p.into_inner());
        let kept = centres.entry(centre).or_insert_with(|| Kept {
            revision,
            names: HashMap::new(),
        });
        if kept.revision < revision {
            *kept = Kept {
                revision,
                names: HashMap::new(),
            };
        }
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match kept.names.get(id).filter(|_| kept.revision == revision) {
                Some(name) => {
                    found.insert(*id, name.clone());
                }
                None => missing.push(*id),
            }
        }
        (found, missing)
    }
}

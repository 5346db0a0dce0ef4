//! Removing the evidence files of an archived portfolio or an erased learner from
//! storage, after the change that marked them removed has committed
//! (`db::retention`). Removing is idempotent, so a job taken over, or tried again after
//! the store failed part-way, ends with every file gone.
use super::Worker;
use crate::credentials::store::Document;
use crate::db::jobs::{self, Job};
use crate::db::retention::Removal;
use crate::db::DbError;

impl Worker {
    pub(super) async fn remove_files(&self, job: &Job) -> Result<(), DbError> {
        let removal = serde_json::from_value::<Removal>(job.payload.clone());
        let failed = match &removal {
            // Trying again cannot mend it; the job stays failed, with the reason, to see.
            Err(e) => Some((false, format!("the job's payload is not a removal: {e}"))),
            Ok(removal) => self.remove(removal).await.err().map(|e| (true, e)),
        };
        let mut conn = self.pool.acquire().await?;
        match failed {
            None => {
                jobs::finish(&mut conn, job.id, &self.name, true, None).await?;
                tracing::info!("removed archived or erased files");
            }
            Some((retry, error)) => {
                // The store may answer later; what was removed stays removed.
                let doubling = 1u32 << (job.attempts - 1).clamp(0, 10);
                let delay = self.config.retry_after.saturating_mul(doubling);
                tracing::warn!(%error, attempt = job.attempts, "removing files failed");
                if retry && job.attempts < job.max_attempts {
                    jobs::retry_later(&mut *conn, job.id, &self.name, delay, &error).await?;
                } else {
                    jobs::finish(&mut conn, job.id, &self.name, false, Some(&error)).await?;
                }
            }
        }
        Ok(())
    }

    /// Removes every file the removal names (gone already is fine); the first failure
    /// stops it, for the job to try again.
    async fn remove(&self, removal: &Removal) -> Result<(), String> {
        for key in &removal.keys {
            self.config
                .files
                .remove_kept(key)
                .await
                .map_err(|e| format!("removing {key}: {e}"))?;
        }
        for d in &removal.documents {
            let document = Document::from_stem(&d.document)
                .ok_or_else(|| format!("no document is called {:?}", d.document))?;
            self.config
                .documents
                .remove(d.credential, document, &d.sha256)
                .await
                .map_err(|e| format!("removing a document of {}: {e}", d.credential))?;
        }
        Ok(())
    }
}

//! Removing the evidence files of an archived portfolio or an erased learner from
//! storage, after the change that marked them removed has committed
//! (`db::retention`). Removing is idempotent, so a job taken over, or tried again after
//! the store failed part-way, ends with every file gone.
use super::Worker;
use crate::credentials::store::Document;
use crate::db::jobs::{self, Job};
use crate::db::DbError;

impl Worker {
    pub(super) async fn remove_files(&self, job: &Job) -> Result<(), DbError> {
        let keys: Vec<String> = job
            .payload
            .get("keys")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let documents: Vec<serde_json::Value> = job
            .payload
            .get("documents")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let mut failed = None;
        for key in &keys {
            if let Err(e) = self.config.files.remove_kept(key).await {
                failed = Some(format!("removing {key}: {e}"));
                break;
            }
        }
        for d in &documents {
            if failed.is_some() {
                break;
            }
            let text = |k: &str| d.get(k).and_then(|v| v.as_str());
            let (Some(credential), Some(document), Some(sha256)) = (
                text("credential").and_then(|c| c.parse().ok()),
                text("document").and_then(Document::from_stem),
                text("sha256"),
            ) else {
                continue;
            };
            if let Err(e) = self
                .config
                .documents
                .remove(credential, document, sha256)
                .await
            {
                failed = Some(format!("removing a document of {credential}: {e}"));
            }
        }
        let mut conn = self.pool.acquire().await?;
        match failed {
            None => {
                jobs::finish(&mut conn, job.id, &self.name, true, None).await?;
                tracing::info!(files = keys.len(), "removed archived or erased files");
            }
            Some(error) => {
                // The store may answer later; what was removed stays removed.
                let doubling = 1u32 << (job.attempts - 1).clamp(0, 10);
                let delay = self.config.retry_after.saturating_mul(doubling);
                tracing::warn!(%error, attempt = job.attempts, "removing files will be retried");
                if job.attempts < job.max_attempts {
                    jobs::retry_later(&mut *conn, job.id, &self.name, delay, &error).await?;
                } else {
                    jobs::finish(&mut conn, job.id, &self.name, false, Some(&error)).await?;
                }
            }
        }
        Ok(())
    }
}

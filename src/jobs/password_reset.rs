//! Emailing the links a "Forgot your password?" request asked for (`db::password_reset`):
//! the links, their queued emails, the activity entries and the job's end commit
//! together, so a job taken over by another worker emails nobody twice.
use super::Worker;
use crate::db::jobs::{self, Job};
use crate::db::{password_reset, DbError};

impl Worker {
    pub(super) async fn send_reset_links(&self, job: &Job) -> Result<(), DbError> {
        let text = |key: &str| job.payload.get(key).and_then(|v| v.as_str());
        let (Some(email), Some(public_url)) = (text("email"), text("public_url")) else {
            // Trying again cannot mend it.
            let mut conn = self.pool.acquire().await?;
            let error = "the job names no email or public address";
            jobs::finish(&mut conn, job.id, &self.name, false, Some(error)).await?;
            return Ok(());
        };
        let mut tx = self.pool.begin().await?;
        let sent = password_reset::send_links(&mut tx, email, text("address"), public_url).await?;
        password_reset::forget_request(&mut tx, job.id).await?;
        if !jobs::finish(&mut tx, job.id, &self.name, true, None).await? {
            tracing::warn!(job = %job.id, "job was taken over by another worker; result dropped");
            return Ok(());
        }
        tx.commit().await?;
        tracing::info!(sent, "password reset links queued");
        Ok(())
    }
}

//! Background work: a worker that runs the automatic audits that are due
//! (`db::auto_audit::audit_due`, SPEC §4) and takes jobs from the PostgreSQL queue
//! (`db::jobs`). Any number of workers, in one process or several, can share a
//! database: a job is claimed by one of them at a time, and its effect is committed
//! only by the worker that still holds it, so it takes effect exactly once; a due audit
//! is done by whichever worker locks the enrolment first.
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::credentials::store::{Document, DocumentStore};
use crate::db::credentials::{self, Credential, Generated, GENERATE_JOB};
use crate::db::jobs::{self, Job};
use crate::db::DbError;
use crate::db::{auto_audit, housekeeping, quiet, version_cache};

/// How often each worker prunes the records that only grow.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

pub mod documents;
pub mod evidence_text;
mod mail;
mod password_reset;
mod remove_files;
mod render;
pub mod suggestions;
pub use mail::MailSettings;
pub use render::{certificate, record_fonts, renderer, renderer_with_fonts};

/// Why rendering a credential failed. Transient errors are retried with a growing
/// pause; permanent ones (a missing font, a character no font has) fail at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Permanent(String),
    #[error("{0}")]
    Transient(String),
}

/// Turns a credential of the register into its PDF.
pub type Renderer = Arc<dyn Fn(&Credential) -> Result<Vec<u8>, RenderError> + Send + Sync>;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often an idle worker looks for work.
    pub poll: Duration,
    /// How often a running job's heartbeat is written.
    pub heartbeat: Duration,
    /// A running job whose heartbeat is older than this is taken to be orphaned.
    pub stale_after: Duration,
    /// The pause before the first retry; it doubles with each attempt.
    pub retry_after: Duration,
    /// How long a marked portfolio rests before its automatic audit
    /// (`auto_audit::DUE_SETTLE`; tests shorten it).
    pub audit_settle: Duration,
    /// Where the generated PDFs are kept (`<data>/credentials` when serving).
    pub documents: DocumentStore,
    /// Where evidence files are kept: the job that archives or erases removes them.
    pub files: crate::web::files::FileStore,
    /// The sentence-embedding model of suggestions, when the server has it; without it
    /// suggestions are ranked on words alone.
    pub model: Option<suggestions::Model>,
    /// How busy the server is with requests: the walks over a whole centre's items wait
    /// out its busy spells (see `load`). A worker of its own has a load that stays quiet.
    pub load: crate::load::Load,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            poll: Duration::from_millis(250),
            heartbeat: Duration::from_secs(2),
            stale_after: Duration::from_secs(15),
            retry_after: Duration::from_secs(2),
            audit_settle: auto_audit::DUE_SETTLE,
            documents: documents::default_store(),
            files: crate::web::files::FileStore::new(
                std::env::temp_dir().join("attest-files"),
                crate::web::files::DEFAULT_MAX_BYTES,
            ),
            model: None,
            load: Default::default(),
        }
    }
}

/// A running worker; `shutdown` stops it after the job in hand.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    pub name: String,
}

impl WorkerHandle {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

struct Worker {
    pool: PgPool,
    name: String,
    /// When this worker last pruned the records that only grow and folded the centres'
    /// tallies (`db::housekeeping`), and moved the quiet enrolments' copy on (`db::quiet`).
    housekept: std::sync::Mutex<Option<std::time::Instant>>,
    config: WorkerConfig,
    render: Renderer,
    mail: MailSettings,
}

/// A worker whose email goes to `MailSettings::default()` (.eml files).
pub fn spawn(pool: PgPool, render: Renderer, config: WorkerConfig) -> WorkerHandle {
    spawn_with_mail(pool, render, config, MailSettings::default())
}

/// A worker that also sends the queued email through `mail`.
pub fn spawn_with_mail(
    pool: PgPool,
    render: Renderer,
    config: WorkerConfig,
    mail: MailSettings,
) -> WorkerHandle {
    let name = format!(
        "{}-{}-{}",
        hostname(),
        std::process::id(),
        &Uuid::new_v4().simple().to_string()[..8]
    );
    let (stop, mut stopped) = watch::channel(false);
    let worker = Arc::new(Worker {
        pool,
        name: name.clone(),
        housekept: std::sync::Mutex::new(None),
        config,
        render,
        mail,
    });
    let task = tokio::spawn(async move {
        if worker.config.model.is_some() {
            match crate::db::suggestions::queue_rerank(&worker.pool).await {
                Ok(true) => tracing::info!(
                    "items ranked by words alone will be ranked again with the model"
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "looking for items ranked by words alone"),
            }
        }
        loop {
            if *stopped.borrow() {
                break;
            }
            match worker.step().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, worker = %worker.name, "job queue"),
            }
            tokio::select! {
                _ = tokio::time::sleep(worker.config.poll) => {}
                _ = stopped.changed() => {}
            }
        }
    });
    WorkerHandle { stop, task, name }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "attest".into())
}

impl Worker {
    /// Run the automatic audits due, pick up orphans, then run one due job. True when
    /// there may be more to do at once.
    async fn step(self: &Arc<Self>) -> Result<bool, DbError> {
        let audited = auto_audit::audit_due(
            &self.pool,
            version_cache::shared(),
            self.config.audit_settle,
        )
        .await?;
        if audited.len() >= auto_audit::DUE_ROUND as usize {
            return Ok(true);
        }
        if self.housekeeping_due() {
            let pruned = housekeeping::prune_round(&self.pool).await?;
            let caught_up = quiet::advance_round(&self.pool).await?;
            housekeeping::fold_tallies(&self.pool).await?;
            if pruned.full() || !caught_up {
                // More is left: the next step takes another round.
                self.housekept
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
            }
        }
        let orphans = jobs::requeue_stale(&self.pool, self.config.stale_after).await?;
        if orphans > 0 {
            tracing::warn!(orphans, "picked up jobs whose worker stopped");
        }
        let Some(job) = jobs::claim(&self.pool, &self.name).await? else {
            return Ok(false);
        };
        let beat = self.heartbeat(job.id);
        let result = self.run(&job).await;
        beat.abort();
        result.map(|()| true)
    }

    /// True at most once an hour (and at start), marking it done.
    fn housekeeping_due(&self) -> bool {
        let mut last = self.housekept.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        match *last {
            Some(at) if now.duration_since(at) < HOUSEKEEPING_EVERY => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }

    fn heartbeat(self: &Arc<Self>, job: Uuid) -> JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(me.config.heartbeat).await;
                match jobs::heartbeat(&me.pool, job, &me.name).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => tracing::warn!(error = %e, "heartbeat"),
                }
            }
        })
    }

    async fn run(&self, job: &Job) -> Result<(), DbError> {
        match job.kind.as_str() {
            GENERATE_JOB => self.generate(job).await,
            crate::db::outbox::MAIL_JOB => self.send_mail(job).await,
            crate::db::password_reset::RESET_JOB => self.send_reset_links(job).await,
            crate::db::retention::REMOVE_FILES_JOB => self.remove_files(job).await,
            crate::db::evidence_texts::READ_JOB => self.read_evidence_text(job).await,
            crate::db::evidence_texts::BACKFILL_JOB => self.backfill_evidence_texts(job).await,
            crate::db::suggestions::CRITERION_VECTORS_JOB => self.make_criterion_vectors(job).await,
            crate::db::suggestions::BACKFILL_JOB => self.backfill_suggestions(job).await,
            crate::db::suggestions::EXAMPLES_JOB => self.learn_examples(job).await,
            other => {
                let mut conn = self.pool.acquire().await?;
                let error = format!("unknown job kind {other:?}");
                jobs::finish(&mut conn, job.id, &self.name, false, Some(&error)).await?;
                Ok(())
            }
        }
    }

    async fn generate(&self, job: &Job) -> Result<(), DbError> {
        let credential_id = job
            .uuid("credential")
            .ok_or_else(|| DbError::Corrupt(format!("job {} has no credential", job.id)))?;
        let outcome = match credentials::get(&self.pool, credential_id).await {
            Ok(credential) => {
                let render = Arc::clone(&self.render);
                let id = credential.id;
                // Rendering is CPU work: off the async threads. The PDF is kept under
                // its own hash, so a worker that has lost the job meanwhile cannot
                // replace what another one kept.
                let drawn = tokio::task::spawn_blocking(move || render(&credential))
                    .await
                    .unwrap_or_else(|e| {
                        Err(RenderError::Permanent(format!("rendering stopped: {e}")))
                    });
                match drawn {
                    Ok(pdf) => self
                        .config
                        .documents
                        .write(id, Document::DraftPdf, pdf)
                        .await
                        .map_err(|e| RenderError::Transient(e.to_string())),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(RenderError::Transient(e.to_string())),
        };
        let result = match &outcome {
            Ok(pdf) => Generated::Succeeded { pdf: pdf.clone() },
            Err(RenderError::Transient(error)) if job.attempts < job.max_attempts => {
                let doubling = 1u32 << (job.attempts - 1).clamp(0, 10);
                let delay = self.config.retry_after.saturating_mul(doubling);
                tracing::warn!(%error, attempt = job.attempts, "credential generation will be retried");
                jobs::retry_later(&self.pool, job.id, &self.name, delay, error).await?;
                return Ok(());
            }
            Err(RenderError::Transient(error) | RenderError::Permanent(error)) => {
                Generated::Failed { error }
            }
        };
        let applied =
            credentials::finish_generation(&self.pool, job.id, &self.name, credential_id, result)
                .await?;
        if !applied {
            tracing::warn!(job = %job.id, "job was taken over by another worker; result dropped");
        }
        Ok(())
    }
}

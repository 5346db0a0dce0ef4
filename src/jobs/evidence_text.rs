//! Reading an evidence item's text (issue 17, point 1) after the change that asked for it
//! committed (`db::evidence_texts`): each kept file's bytes from storage, read off the
//! async threads within a deadline, then the item's text written if still wanted. A
//! reading is idempotent, so a job taken over, or run twice, writes the same text.
use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::suggestions::Model;
use super::Worker;
use crate::db::evidence_texts::{self, FileToRead, BACKFILL_JOB};
use crate::db::jobs::{self, Job};
use crate::db::DbError;
use crate::domain::file_type::{family_of, Family};
use crate::evidence_text::{self as text, FileText};
use crate::web::files::FileStore;

/// How long one file may take to read before it is called unreadable.
const READ_DEADLINE: Duration = Duration::from_secs(60);
/// Items a backfill job does before it hands on to the next.
pub(super) const BACKFILL_CHUNK: i64 = 50;
/// A walk's next step waits this many times as long as the last step took, so a walk
/// has the worker (and, ranking with the model, the cores) a quarter of the time. A
/// walk catches up on a whole centre once (the model arriving after items were ranked
/// by words: 480,000 items at the 10,000-enrolment bench centre); run flat out, it took
/// a third of the tick's throughput for the day it ran. New items are read at once.
const WALK_REST: u32 = 3;

/// Why a reading stopped: the store failed (a later try may work).
type Stopped = String;

impl Worker {
    pub(super) async fn read_evidence_text(&self, job: &Job) -> Result<(), DbError> {
        let asked = job.uuid("evidence");
        let result = match asked {
            None => Err((false, "the job names no evidence item".to_string())),
            Some(id) => read_item(
                &self.pool,
                &self.config.files,
                self.config.model.as_ref(),
                id,
            )
            .await
            .map_err(|e| (true, e)),
        };
        self.finish_reading(job, result).await
    }

    /// Reads a chunk of the items no text was read for, then queues the next chunk.
    pub(super) async fn backfill_evidence_texts(&self, job: &Job) -> Result<(), DbError> {
        let chunk = evidence_texts::unread_after(&self.pool, job.uuid("after"), BACKFILL_CHUNK)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>();
        let (files, model) = (&self.config.files, self.config.model.as_ref());
        self.walk(job, BACKFILL_JOB, &chunk, |id| {
            read_item(&self.pool, files, model, id)
        })
        .await
    }

    /// One step of a walk over items in id order (a backfill), a chunk of
    /// `BACKFILL_CHUNK` per job: does `each` to the chunk's items, each once the server
    /// is quiet (`load`: requests come first; the walk catches up in quiet spells), then,
    /// while chunks come full, queues the job `kind` for the items after its last, with
    /// the same payload otherwise (a walk named in it, `"walk"`, is told apart from
    /// others), due after a rest of `WALK_REST` times the step's own time (its waits left
    /// out). The first item that fails stops the step, which is retried as a whole.
    pub(super) async fn walk<F, Fut>(
        &self,
        job: &Job,
        kind: &str,
        chunk: &[Uuid],
        each: F,
    ) -> Result<(), DbError>
    where
        F: Fn(Uuid) -> Fut,
        Fut: std::future::Future<Output = Result<(), Stopped>>,
    {
        let started = std::time::Instant::now();
        let (mut since, mut waited) = (self.config.load.mark(), Duration::ZERO);
        let mut result = Ok(());
        for id in chunk {
            waited += self.config.load.quiet_since(&mut since).await;
            if let Err(e) = each(*id).await {
                result = Err((true, e));
                break;
            }
        }
        if let (Ok(()), Some(last)) = (&result, chunk.last()) {
            if chunk.len() as i64 == BACKFILL_CHUNK {
                let mut next = job.payload.clone();
                next["after"] = json!(last);
                let key = match job.payload["walk"].as_str() {
                    Some(walk) => format!("{kind} {walk} after {last}"),
                    None => format!("{kind} after {last}"),
                };
                let rest = started
                    .elapsed()
                    .saturating_sub(waited)
                    .saturating_mul(WALK_REST);
                let mut conn = self.pool.acquire().await?;
                jobs::enqueue_after(&mut conn, kind, next, &key, rest).await?;
            }
        }
        self.finish_reading(job, result).await
    }

    pub(super) async fn finish_reading(
        &self,
        job: &Job,
        result: Result<(), (bool, Stopped)>,
    ) -> Result<(), DbError> {
        let mut conn = self.pool.acquire().await?;
        match result {
            Ok(()) => jobs::finish(&mut conn, job.id, &self.name, true, None)
                .await
                .map(drop),
            Err((retry, error)) if retry && job.attempts < job.max_attempts => {
                let doubling = 1u32 << (job.attempts - 1).clamp(0, 10);
                let delay = self.config.retry_after.saturating_mul(doubling);
                tracing::warn!(%error, attempt = job.attempts, "reading evidence text will be retried");
                jobs::retry_later(&mut *conn, job.id, &self.name, delay, &error)
                    .await
                    .map(drop)
            }
            Err((_, error)) => jobs::finish(&mut conn, job.id, &self.name, false, Some(&error))
                .await
                .map(drop),
        }
    }
}

/// Reads the item as it is now and writes its text for the number now wanted (a later
/// change's job, if any, reads it again), then ranks the criteria it may meet
/// (`suggestions`). Also how the bench fixture reads its items.
pub async fn read_item(
    pool: &PgPool,
    files: &FileStore,
    model: Option<&Model>,
    evidence_id: Uuid,
) -> Result<(), Stopped> {
    let stopped = |e: DbError| e.to_string();
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    let Some(item) = evidence_texts::to_read(&mut conn, evidence_id)
        .await
        .map_err(stopped)?
    else {
        return Ok(()); // The item was deleted: nothing to read.
    };
    drop(conn);
    let mut read = Vec::with_capacity(item.files.len());
    for file in &item.files {
        read.push((file, read_one(files, file).await?));
    }
    let text = text::item_text(&item.title, &item.description, read.iter().map(|(_, t)| t));
    let outcomes: Vec<serde_json::Value> = read.iter().map(|(f, t)| outcome(f, t)).collect();
    let written = evidence_texts::write(pool, evidence_id, item.wanted, &text, &json!(outcomes))
        .await
        .map_err(stopped)?;
    if written {
        super::suggestions::rank_item(pool, model, evidence_id).await?;
    }
    Ok(())
}

async fn read_one(files: &FileStore, file: &FileToRead) -> Result<FileText, Stopped> {
    // Media hold no text: their bytes are not even fetched.
    if let Some(Family::Photo | Family::Video | Family::Audio) = family_of(&file.content_type) {
        return Ok(text::read_file(&file.content_type, &[]));
    }
    if file.size_bytes as u64 > text::MAX_FILE_BYTES {
        return Ok(text::too_large());
    }
    let bytes = files
        .read_kept(&file.storage_key)
        .await
        .map_err(|e| format!("reading {}: {e}", file.file_name))?;
    let content_type = file.content_type.clone();
    let reading = tokio::task::spawn_blocking(move || text::read_file(&content_type, &bytes));
    Ok(match tokio::time::timeout(READ_DEADLINE, reading).await {
        Ok(Ok(read)) => read,
        Ok(Err(_)) => FileText::Unreadable {
            why: "the file is damaged".into(),
        },
        // The reading thread runs on, bounded by the file's size, and its answer is dropped.
        Err(_) => FileText::Unreadable {
            why: "it took too long to read".into(),
        },
    })
}

/// What the page says of a file: its outcome, and its words when it had text.
fn outcome(file: &FileToRead, read: &FileText) -> serde_json::Value {
    let mut v = serde_json::to_value(read).unwrap_or_else(|_| json!({}));
    if let Some(map) = v.as_object_mut() {
        if let Some(serde_json::Value::String(t)) = map.remove("text") {
            map.insert("words".into(), json!(t.split_whitespace().count()));
        }
        map.insert("file".into(), json!(file.id));
        map.insert("name".into(), json!(file.file_name));
    }
    v
}

/// Reads, here and now, every item of the centre whose text is not read, and drops the
/// readings queued for them: how a loader (the demo) leaves its items as the job would.
pub async fn read_centre_now(
    pool: &PgPool,
    files: &FileStore,
    model: Option<&Model>,
    centre_id: Uuid,
) -> Result<usize, Stopped> {
    let ids = evidence_texts::unread_of_centre(pool, centre_id)
        .await
        .map_err(|e| e.to_string())?;
    for id in &ids {
        read_item(pool, files, model, *id).await?;
    }
    evidence_texts::drop_queued_readings(pool, &ids)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ids.len())
}

//! Ranking an evidence item's text against its qualification's criteria (issue 17,
//! point 2), after the text is read: kept beside the text, so the evidence page reads the
//! suggestions and never computes them. With the model the ranking is hybrid (words and
//! meaning), without it lexical; the page says which.
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::evidence_text::BACKFILL_CHUNK;
use super::Worker;
use crate::db::jobs::{self, Job};
use crate::db::qualifications::LoadedVersion;
use crate::db::suggestions::{self as kept, SuggestedBy, BACKFILL_JOB};
use crate::db::version_cache::{self, Kept};
use crate::db::DbError;
use crate::domain::suggest::{self, Criteria, Vectors};
use crate::embedding::{Embedder, MODEL_NAME};

/// The suggestions kept per item: enough for the page's list and its "weaker" ones.
const KEPT: usize = 10;
/// A text is ranked on its first sentences: a 100,000-character text would otherwise
/// take the model minutes.
const MAX_SENTENCES: usize = 300;
/// The centre's newest items of a version its examples are learnt from: enough to
/// cover each criterion many times, bounded at any centre's size.
const RECENT_ITEMS: i64 = 2_000;

/// The model, shared by the jobs of a process.
pub type Model = Arc<Embedder>;

impl Worker {
    /// Makes a version's criterion vectors (queued by the import), when there is a model.
    pub(super) async fn make_criterion_vectors(&self, job: &Job) -> Result<(), DbError> {
        let result = match (job.uuid("version"), &self.config.model) {
            (None, _) => Err((false, "the job names no version".to_string())),
            (Some(_), None) => Ok(()),
            (Some(id), Some(model)) => match version_cache::shared().load(&self.pool, id).await {
                Ok(version) => criterion_vectors(&self.pool, model, &version)
                    .await
                    .map(drop)
                    .map_err(|e| (true, e)),
                Err(e) => Err((true, e.to_string())),
            },
        };
        self.finish_reading(job, result).await
    }

    /// Learns a centre's examples of a version's criteria from its decisions.
    pub(super) async fn learn_examples(&self, job: &Job) -> Result<(), DbError> {
        let result = match (job.uuid("centre"), job.uuid("version")) {
            (Some(centre), Some(version)) => learn(&self.pool, centre, version)
                .await
                .map(drop)
                .map_err(|e| (true, e)),
            _ => Err((false, "the job names no centre or version".to_string())),
        };
        self.finish_reading(job, result).await
    }

    /// Ranks a chunk of the items read before suggestions were, then queues the next.
    pub(super) async fn backfill_suggestions(&self, job: &Job) -> Result<(), DbError> {
        let model = self.config.model.as_ref();
        // Ranking by words again what was ranked by words changes nothing.
        let lexical = model.is_some() && job.payload["lexical"] == json!(true);
        let chunk =
            kept::unranked_after(&self.pool, job.uuid("after"), BACKFILL_CHUNK, lexical).await?;
        self.walk(job, BACKFILL_JOB, &chunk, |id| {
            rank_item(&self.pool, model, id)
        })
        .await
    }
}

/// Versions whose criterion vectors are kept in memory. A version's vectors never change
/// once made (the first made stay), and a large version's are 2.3 MB (1,500 criteria):
/// read from the database for every item ranked, they were 6 ms of the database's time
/// an item and a 2.3 MB copy in the server's memory.
const VECTORS_KEPT: usize = 16;

fn kept_vectors() -> MutexGuard<'static, Kept<Vec<Vec<f32>>>> {
    static KEPT: OnceLock<Mutex<Kept<Vec<Vec<f32>>>>> = OnceLock::new();
    // Inserts and reads are single calls: a poisoned lock still holds a whole map.
    KEPT.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The version's criterion vectors: from memory, the database, or made now and kept.
async fn criterion_vectors(
    pool: &PgPool,
    model: &Model,
    version: &LoadedVersion,
) -> Result<Arc<Vec<Vec<f32>>>, String> {
    let id = version.version_id;
    if let Some(v) = kept_vectors().get(&id) {
        return Ok(v);
    }
    let stored = kept::criterion_vectors(pool, id, MODEL_NAME)
        .await
        .map_err(|e| e.to_string())?;
    let vectors = match stored {
        Some(v) => v,
        None => {
            let texts: Vec<String> = Criteria::of(&version.qualification)
                .docs
                .iter()
                .map(|d| d.embedded_text())
                .collect();
            let vectors = embed(model, texts).await?;
            kept::keep_criterion_vectors(pool, id, MODEL_NAME, &vectors)
                .await
                .map_err(|e| e.to_string())?;
            vectors
        }
    };
    let vectors = Arc::new(vectors);
    kept_vectors().insert(id, Arc::clone(&vectors), VECTORS_KEPT);
    Ok(vectors)
}

/// Learns, from the assessor ticks on the centre's newest items of the version, each
/// criterion's example: the direction of the items it was confirmed on. The items read
/// without the model teach nothing. Answers how many items taught something.
pub async fn learn(pool: &PgPool, centre_id: Uuid, version_id: Uuid) -> Result<usize, String> {
    let version = version_cache::shared()
        .load(pool, version_id)
        .await
        .map_err(|e| e.to_string())?;
    let confirmed = kept::confirmed_on_recent_items(pool, centre_id, version_id, RECENT_ITEMS)
        .await
        .map_err(|e| e.to_string())?;
    let mut sums: Vec<Vec<f32>> = vec![Vec::new(); version.criterion_ids.len()];
    let mut items = std::collections::HashSet::new();
    for c in &confirmed {
        let (Some(ordinal), Ok(whole)) = (
            version.criterion_ordinal(c.criterion_id),
            kept::from_bytes(&c.whole),
        ) else {
            continue;
        };
        let Some(whole) = whole.first() else { continue };
        let sum = &mut sums[ordinal];
        if sum.is_empty() {
            *sum = vec![0.0; whole.len()];
        }
        sum.iter_mut().zip(whole).for_each(|(s, x)| *s += x);
        items.insert(c.evidence_id);
    }
    let examples: Vec<Vec<f32>> = sums
        .iter()
        .map(|s| match s.is_empty() {
            true => vec![0.0; kept::DIMENSIONS],
            false => suggest::mean_direction([s.as_slice()]),
        })
        .collect();
    kept::keep_examples(
        pool,
        centre_id,
        version_id,
        MODEL_NAME,
        &examples,
        items.len() as i32,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(items.len())
}

/// The model's vectors of `texts`, off the async threads (on the model's own).
async fn embed(model: &Model, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
    let model = Arc::clone(model);
    off_the_async_threads(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        model.embed(&refs).map_err(|e| e.to_string())
    })
    .await?
}

/// CPU work (the model, and ranking a text against every criterion: milliseconds for a
/// large qualification) must not hold an async thread, whose requests would wait on it.
async fn off_the_async_threads<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("the ranking stopped: {e}"))
}

/// A ranking, what the text's sentences mean together (with the model), and how made.
type Ranking = (Vec<suggest::Ranked>, Option<Vec<f32>>, SuggestedBy);

/// Ranks `text` by words and meaning, all of it on the model's threads, at the lowest
/// priority: the walk that ranks a whole centre again runs on what requests leave.
fn hybrid(
    model: &Embedder,
    version: &LoadedVersion,
    text: &str,
    criteria: &[Vec<f32>],
    examples: &[Vec<f32>],
) -> Result<Ranking, String> {
    model.in_background(|| {
        let sentences: Vec<&str> = suggest::sentences(text);
        let sentence_vectors = model.embed(&sentences).map_err(|e| e.to_string())?;
        let whole = suggest::mean_direction(sentence_vectors.iter().map(Vec::as_slice));
        let vectors = Vectors {
            criteria,
            sentences: &sentence_vectors,
            examples,
        };
        let ranked = suggest::rank(
            &Criteria::of(&version.qualification),
            text,
            Some(vectors),
            KEPT,
        );
        Ok((
            ranked,
            (!whole.is_empty()).then_some(whole),
            SuggestedBy::Hybrid,
        ))
    })
}

/// Ranks the item's text as read now and keeps the suggestions (nothing when the item
/// changed since its text was read: that reading's job ranks it).
pub async fn rank_item(
    pool: &PgPool,
    model: Option<&Model>,
    evidence_id: Uuid,
) -> Result<(), String> {
    let Some(item) = kept::text_to_rank(pool, evidence_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let version = version_cache::shared()
        .load(pool, item.version_id)
        .await
        .map_err(|e| e.to_string())?;
    let pieces = suggest::sentences(&item.text);
    let text = match pieces.get(MAX_SENTENCES) {
        Some(_) => pieces[..MAX_SENTENCES].join("\n"),
        None => item.text.clone(),
    };
    let (ranked, whole, by) = match model {
        Some(model) => {
            let criterion_vectors = criterion_vectors(pool, model, &version).await?;
            let examples = kept::examples(pool, item.centre_id, item.version_id, MODEL_NAME)
                .await
                .map_err(|e| e.to_string())?
                .filter(|e| e.len() == criterion_vectors.len())
                .unwrap_or_default();
            relearn_today(pool, item.centre_id, item.version_id).await?;
            let (model, version) = (Arc::clone(model), Arc::clone(&version));
            off_the_async_threads(move || {
                hybrid(&model, &version, &text, &criterion_vectors, &examples)
            })
            .await??
        }
        None => {
            let version = Arc::clone(&version);
            off_the_async_threads(move || {
                let criteria = Criteria::of(&version.qualification);
                let ranked = suggest::rank(&criteria, &text, None, KEPT);
                (ranked, None, SuggestedBy::Lexical)
            })
            .await?
        }
    };
    let suggestions: Vec<kept::Suggestion> = ranked
        .into_iter()
        .filter(|r| r.score > 0.0)
        .filter_map(|r| {
            Some(kept::Suggestion {
                criterion: *version.criterion_ids.get(r.index)?,
                score: r.score,
                confident: r.confident,
                because: r.because,
            })
        })
        .collect();
    let suggestions = serde_json::to_value(&suggestions).map_err(|e| e.to_string())?;
    kept::keep_ranking(
        pool,
        evidence_id,
        item.done,
        whole.as_deref(),
        &suggestions,
        by,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// Queues the day's learning of the centre's examples (once a day per centre and version:
/// the decisions of the day before teach the rankings of the day).
async fn relearn_today(pool: &PgPool, centre_id: Uuid, version_id: Uuid) -> Result<(), String> {
    let today = time::OffsetDateTime::now_utc().date();
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    jobs::enqueue(
        &mut conn,
        kept::EXAMPLES_JOB,
        json!({ "centre": centre_id, "version": version_id }),
        &format!("criterion examples {centre_id} {version_id} {today}"),
    )
    .await
    .map_err(|e| e.to_string())
}

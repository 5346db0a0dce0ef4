//! Ranking an evidence item's text against its qualification's criteria (issue 17,
//! point 2), after the text is read: kept beside the text, so the evidence page reads the
//! suggestions and never computes them. With the model the ranking is hybrid (words and
//! meaning), without it lexical; the page says which.
use std::sync::Arc;

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::evidence_text::BACKFILL_CHUNK;
use super::Worker;
use crate::db::jobs::{self, Job};
use crate::db::qualifications::LoadedVersion;
use crate::db::suggestions::{self as kept, SuggestedBy, BACKFILL_JOB};
use crate::db::version_cache;
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

/// The version's criterion vectors: kept ones, or made now and kept.
async fn criterion_vectors(
    pool: &PgPool,
    model: &Model,
    version: &LoadedVersion,
) -> Result<Vec<Vec<f32>>, String> {
    if let Some(v) = kept::criterion_vectors(pool, version.version_id, MODEL_NAME)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(v);
    }
    let texts: Vec<String> = Criteria::of(&version.qualification)
        .docs
        .iter()
        .map(|d| d.embedded_text())
        .collect();
    let vectors = embed(model, texts).await?;
    kept::keep_criterion_vectors(pool, version.version_id, MODEL_NAME, &vectors)
        .await
        .map_err(|e| e.to_string())?;
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

/// The model's vectors of `texts`, off the async threads.
async fn embed(model: &Model, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
    let model = Arc::clone(model);
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        model.embed(&refs).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("the model stopped: {e}"))?
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
    let criteria = Criteria::of(&version.qualification);
    let pieces = suggest::sentences(&item.text);
    let text = match pieces.get(MAX_SENTENCES) {
        Some(_) => pieces[..MAX_SENTENCES].join("\n"),
        None => item.text.clone(),
    };
    let (ranked, whole, by) = match model {
        Some(model) => {
            let criterion_vectors = criterion_vectors(pool, model, &version).await?;
            let sentences: Vec<String> = suggest::sentences(&text)
                .into_iter()
                .map(str::to_string)
                .collect();
            let sentence_vectors = embed(model, sentences).await?;
            let whole = suggest::mean_direction(sentence_vectors.iter().map(Vec::as_slice));
            let examples = kept::examples(pool, item.centre_id, item.version_id, MODEL_NAME)
                .await
                .map_err(|e| e.to_string())?
                .filter(|e| e.len() == criterion_vectors.len())
                .unwrap_or_default();
            relearn_today(pool, item.centre_id, item.version_id).await?;
            let vectors = Vectors {
                criteria: &criterion_vectors,
                sentences: &sentence_vectors,
                examples: &examples,
            };
            let ranked = suggest::rank(&criteria, &text, Some(vectors), KEPT);
            (
                ranked,
                (!whole.is_empty()).then_some(whole),
                SuggestedBy::Hybrid,
            )
        }
        None => (
            suggest::rank(&criteria, &text, None, KEPT),
            None,
            SuggestedBy::Lexical,
        ),
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

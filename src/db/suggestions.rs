//! Suggestions (issue 17; migration 0042): criterion vectors kept per qualification
//! version, and the ranking kept beside each evidence item's text. Vectors are kept as
//! little-endian f32 bytes, `DIMENSIONS` to a vector.
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::{DbError, DbResult};

/// The job kind that makes a version's criterion vectors; its payload is `{"version"}`.
pub const CRITERION_VECTORS_JOB: &str = "criterion vectors";
/// The job kind that learns a centre's examples of a version's criteria from its
/// decisions; its payload is `{"centre", "version"}`.
pub const EXAMPLES_JOB: &str = "criterion examples";
/// The job kind that ranks, in chunks, the items read before suggestions were.
pub const BACKFILL_JOB: &str = "evidence suggestions backfill";
/// The numbers in a vector of the model (all-MiniLM-L6-v2).
pub const DIMENSIONS: usize = 384;

/// How a ranking was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestedBy {
    /// Words and meaning: the server had the model.
    Hybrid,
    /// Words only: it had not.
    Lexical,
}

impl SuggestedBy {
    pub fn key(self) -> &'static str {
        match self {
            SuggestedBy::Hybrid => "hybrid",
            SuggestedBy::Lexical => "lexical",
        }
    }

    pub fn from_key(key: &str) -> Option<SuggestedBy> {
        match key {
            "hybrid" => Some(SuggestedBy::Hybrid),
            "lexical" => Some(SuggestedBy::Lexical),
            _ => None,
        }
    }
}

pub fn to_bytes(vectors: &[Vec<f32>]) -> Vec<u8> {
    vectors
        .iter()
        .flat_map(|v| v.iter().flat_map(|x| x.to_le_bytes()))
        .collect()
}

/// The vectors of `bytes`; an error unless they hold whole vectors.
pub fn from_bytes(bytes: &[u8]) -> DbResult<Vec<Vec<f32>>> {
    if !bytes.len().is_multiple_of(DIMENSIONS * 4) {
        return Err(DbError::Corrupt(format!(
            "{} bytes are no whole number of vectors",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(DIMENSIONS * 4)
        .map(|v| {
            v.chunks_exact(4)
                .map(|x| f32::from_le_bytes([x[0], x[1], x[2], x[3]]))
                .collect()
        })
        .collect())
}

/// The version's criterion vectors made by `model`, if they are kept.
pub async fn criterion_vectors(
    db: impl PgExecutor<'_>,
    version_id: Uuid,
    model: &str,
) -> DbResult<Option<Vec<Vec<f32>>>> {
    let bytes = sqlx::query_scalar!(
        "SELECT vectors FROM criterion_vectors WHERE version_id = $1 AND model = $2",
        version_id,
        model
    )
    .fetch_optional(db)
    .await?;
    bytes.map(|b| from_bytes(&b)).transpose()
}

/// Keeps the version's criterion vectors (the first made stay: they are the same).
pub async fn keep_criterion_vectors(
    db: impl PgExecutor<'_>,
    version_id: Uuid,
    model: &str,
    vectors: &[Vec<f32>],
) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO criterion_vectors (version_id, model, criteria, vectors) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (version_id) DO NOTHING",
        version_id,
        model,
        vectors.len() as i32,
        to_bytes(vectors),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// An item's text as read, with what the ranking needs to know of it.
#[derive(Debug, Clone)]
pub struct TextToRank {
    pub evidence_id: Uuid,
    /// The reading the text is of: the ranking is kept only while it is still current.
    pub done: i32,
    pub text: String,
    pub version_id: Uuid,
    pub centre_id: Uuid,
}

/// The item's text, if it was read as the item is now.
pub async fn text_to_rank(
    db: impl PgExecutor<'_>,
    evidence_id: Uuid,
) -> DbResult<Option<TextToRank>> {
    Ok(sqlx::query_as!(
        TextToRank,
        "SELECT t.evidence_id, t.done AS \"done!\", t.text, e.version_id, e.centre_id \
           FROM evidence_texts t \
           JOIN evidence ev ON ev.id = t.evidence_id \
           JOIN enrolments e ON e.id = ev.enrolment_id \
          WHERE t.evidence_id = $1 AND t.done = t.wanted",
        evidence_id
    )
    .fetch_optional(db)
    .await?)
}

/// Keeps the ranking of the text read for `done`, unless the item changed since; the
/// item's portfolio pages are kept per revision, so its revision moves with it. True
/// when kept.
pub async fn keep_ranking(
    db: impl PgExecutor<'_>,
    evidence_id: Uuid,
    done: i32,
    whole: Option<&[f32]>,
    suggestions: &serde_json::Value,
    by: SuggestedBy,
) -> DbResult<bool> {
    let whole = whole.map(|w| to_bytes(&[w.to_vec()]));
    let kept = sqlx::query_scalar!(
        "WITH t AS (UPDATE evidence_texts SET whole = $3, suggestions = $4, suggested_by = $5 \
                     WHERE evidence_id = $1 AND done = $2 AND wanted = $2 RETURNING evidence_id), \
              e AS (UPDATE enrolments SET revision = revision \
                     WHERE id = (SELECT enrolment_id FROM evidence WHERE id IN (SELECT evidence_id FROM t)) \
                     RETURNING id) \
         SELECT count(*) AS \"n!\" FROM t",
        evidence_id,
        done,
        whole,
        suggestions,
        by.key(),
    )
    .fetch_one(db)
    .await?;
    Ok(kept == 1)
}

/// Items read but not ranked, after `after` in id order (the backfill's walk); or, when
/// `lexical`, those ranked by words alone (the walk once the model arrives, by the
/// partial index of migration 0045: it never reads past the items it wants).
pub async fn unranked_after(
    db: impl PgExecutor<'_>,
    after: Option<Uuid>,
    limit: i64,
    lexical: bool,
) -> DbResult<Vec<Uuid>> {
    let after = after.unwrap_or(Uuid::nil());
    let ids = if lexical {
        sqlx::query_scalar!(
            "SELECT evidence_id FROM evidence_texts \
              WHERE suggested_by = 'lexical' AND evidence_id > $1 \
              ORDER BY evidence_id LIMIT $2",
            after,
            limit
        )
        .fetch_all(db)
        .await?
    } else {
        sqlx::query_scalar!(
            "SELECT evidence_id FROM evidence_texts \
              WHERE done IS NOT NULL AND suggested_by IS NULL AND evidence_id > $1 \
              ORDER BY evidence_id LIMIT $2",
            after,
            limit
        )
        .fetch_all(db)
        .await?
    };
    Ok(ids)
}

/// Queues a walk that ranks again, with the model, the items ranked by words alone,
/// if there are any and no such walk is queued or running already (a server that has
/// the model calls it as it starts; servers starting together queue one walk).
pub async fn queue_rerank(pool: &PgPool) -> DbResult<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended('attest: re-rank walk', 0))")
        .execute(&mut *tx)
        .await?;
    let walk = Uuid::now_v7().to_string();
    // Each state is looked up by its own partial index: finished jobs are many.
    let queued = sqlx::query!(
        "INSERT INTO jobs (kind, payload, idempotency_key) \
         SELECT $1, jsonb_build_object('lexical', true, 'walk', $2::text), $1 || ' ' || $2 \
          WHERE EXISTS (SELECT 1 FROM evidence_texts WHERE suggested_by = 'lexical') \
            AND NOT EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND kind = $1 \
                              AND payload->>'lexical' = 'true') \
            AND NOT EXISTS (SELECT 1 FROM jobs WHERE state = 'running' AND kind = $1 \
                              AND payload->>'lexical' = 'true') \
         ON CONFLICT (idempotency_key) DO NOTHING",
        BACKFILL_JOB,
        walk
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(queued.rows_affected() == 1)
}

/// One kept suggestion, as the evidence page shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Suggestion {
    pub criterion: Uuid,
    pub score: f32,
    pub confident: bool,
    pub because: String,
}

/// The item's kept suggestions, best first, and how they were made; None before the
/// item is ranked, or when its centre turned suggestions off.
pub async fn of_item(
    db: impl PgExecutor<'_>,
    evidence_id: Uuid,
) -> DbResult<Option<(SuggestedBy, Vec<Suggestion>)>> {
    let row = sqlx::query!(
        "SELECT t.suggestions, t.suggested_by AS \"suggested_by!\" \
           FROM evidence_texts t \
           JOIN evidence ev ON ev.id = t.evidence_id \
           JOIN enrolments e ON e.id = ev.enrolment_id \
           JOIN centres c ON c.id = e.centre_id \
          WHERE t.evidence_id = $1 AND t.suggested_by IS NOT NULL AND c.suggestions",
        evidence_id
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let by = SuggestedBy::from_key(&row.suggested_by)
        .ok_or_else(|| DbError::Corrupt(format!("suggested by {:?}", row.suggested_by)))?;
    let list =
        serde_json::from_value(row.suggestions).map_err(|e| DbError::Corrupt(e.to_string()))?;
    Ok(Some((by, list)))
}

/// Drops the criterion vectors still queued for the centre's versions: a loader (the
/// demo) leaves no job behind, and a reading makes them when it first needs them.
pub async fn drop_queued_vectors(db: impl PgExecutor<'_>, centre_id: Uuid) -> DbResult<u64> {
    Ok(sqlx::query!(
        "DELETE FROM jobs WHERE kind = $1 AND state = 'queued' \
            AND (payload ->> 'version')::uuid IN \
                (SELECT id FROM qualification_versions WHERE centre_id = $2)",
        CRITERION_VECTORS_JOB,
        centre_id
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// One confirmation to learn from: an assessor tick, and the model's vector of its item.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub evidence_id: Uuid,
    pub criterion_id: Uuid,
    pub whole: Vec<u8>,
}

/// The assessor ticks on the centre's `recent` newest items of the version whose text the
/// model read (item ids are time-ordered, so the newest are found by the primary key).
pub async fn confirmed_on_recent_items(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    version_id: Uuid,
    recent: i64,
) -> DbResult<Vec<Confirmed>> {
    Ok(sqlx::query_as!(
        Confirmed,
        "SELECT t.evidence_id, t.criterion_id, et.whole AS \"whole!\" \
           FROM (SELECT ev.id FROM evidence ev JOIN enrolments e ON e.id = ev.enrolment_id \
                  WHERE e.centre_id = $1 AND ev.version_id = $2 \
                  ORDER BY ev.id DESC LIMIT $3) recent \
           JOIN evidence_texts et ON et.evidence_id = recent.id \
           JOIN ticks t ON t.evidence_id = recent.id AND t.layer = 'assessor' \
          WHERE et.whole IS NOT NULL",
        centre_id,
        version_id,
        recent
    )
    .fetch_all(db)
    .await?)
}

/// Keeps the centre's examples of the version's criteria (in the version's order).
pub async fn keep_examples(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    version_id: Uuid,
    model: &str,
    vectors: &[Vec<f32>],
    items: i32,
) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO criterion_examples (centre_id, version_id, model, criteria, vectors, items) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (centre_id, version_id) DO UPDATE \
            SET model = excluded.model, criteria = excluded.criteria, vectors = excluded.vectors, \
                items = excluded.items, made_at = now()",
        centre_id,
        version_id,
        model,
        vectors.len() as i32,
        to_bytes(vectors),
        items,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The centre's examples of the version's criteria made by `model`, if any are kept.
pub async fn examples(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    version_id: Uuid,
    model: &str,
) -> DbResult<Option<Vec<Vec<f32>>>> {
    let bytes = sqlx::query_scalar!(
        "SELECT vectors FROM criterion_examples \
          WHERE centre_id = $1 AND version_id = $2 AND model = $3 AND items > 0",
        centre_id,
        version_id,
        model
    )
    .fetch_optional(db)
    .await?;
    bytes.map(|b| from_bytes(&b)).transpose()
}

//! `attest bench-apprenticeships`: makes every enrolment of the benchmark centre an
//! apprenticeship with 100 OTJ entries and 8 progress reviews (issue 14's benchmark), in
//! a few set-based statements. Entries fall every other day from a start 200 to 455 days
//! ago; one in ten is pending and one in ten rejected. Reviews are three weeks apart;
//! the latest of each is not yet signed. Review content is written as the app writes it,
//! but without signature rows: the pages' cost is in reading them, not in their
//! cryptography. The kept figures are then worked out as the app's write paths would.
//!
//! Run again, it puts the centre back in that shape: the entries an earlier run of
//! `benches/apprenticeships.sh` added are removed, so each run measures 100 entries an
//! apprenticeship rather than the thousands that runs would otherwise pile on a few.
use sqlx::PgPool;
use uuid::Uuid;

/// Entries, and reviews, per apprenticeship.
pub const ENTRIES: i32 = 100;
pub const REVIEWS: i32 = 8;

/// The text of every loaded entry starts so; what else is in the log was added since.
const LOADED_WHAT: &str = "Practice on the ward, session ";

/// Loads the apprenticeships (skipping enrolments that are one already) or, when they are
/// loaded, removes the entries added since; answers how many apprenticeships there are.
/// `loader` may switch triggers off (the local cluster's superuser).
pub async fn grow(pool: &PgPool, loader: &PgPool) -> anyhow::Result<i64> {
    let today = time::OffsetDateTime::now_utc().date();
    let added = sqlx::query!(
        "INSERT INTO apprenticeships (enrolment_id, centre_id, start_on, planned_end_on, \
                adjusted_end_on, weekly_minutes, default_minutes, planned_minutes, next_review_due) \
         SELECT e.id, e.centre_id, s.start, s.start + 730, s.start + 730, 1800, 33480, 33480, s.start + 84 \
           FROM enrolments e \
           CROSS JOIN LATERAL (SELECT $1::date - 200 - (abs(hashtext(e.id::text)) % 256) AS start) s \
          WHERE NOT EXISTS (SELECT 1 FROM apprenticeships a WHERE a.enrolment_id = e.id)",
        today
    )
    .execute(pool)
    .await?
    .rows_affected();
    if added > 0 {
        // The per-row trigger would update each apprenticeship 100 times: switched off for
        // the load, and its figures set once from the entries after.
        sqlx::query!("ALTER TABLE otj_entries DISABLE TRIGGER otj_entries_keep_minutes")
            .execute(loader)
            .await?;
        let loaded = sqlx::query!(
            "INSERT INTO otj_entries (id, enrolment_id, day, minutes, activity, what, state, \
                    decided_by, decided_at, reject_reason, logged_by) \
             SELECT gen_random_uuid(), a.enrolment_id, a.start_on + 2 * i, 60 + (i * 37) % 240, \
                    'Practical training', $2 || i, \
                    CASE i % 10 WHEN 0 THEN 'rejected' WHEN 1 THEN 'pending' ELSE 'approved' END, \
                    CASE WHEN i % 10 <> 1 THEN e.assessor_id END, \
                    CASE WHEN i % 10 <> 1 THEN now() END, \
                    CASE WHEN i % 10 = 0 THEN 'Normal duties, not training' END, e.learner_id \
               FROM apprenticeships a JOIN enrolments e ON e.id = a.enrolment_id \
              CROSS JOIN generate_series(1, $1) AS i \
              WHERE NOT EXISTS (SELECT 1 FROM otj_entries o WHERE o.enrolment_id = a.enrolment_id)",
            ENTRIES,
            LOADED_WHAT
        )
        .execute(loader)
        .await;
        sqlx::query!("ALTER TABLE otj_entries ENABLE TRIGGER otj_entries_keep_minutes")
            .execute(loader)
            .await?;
        loaded?;
        sqlx::query!(
            "UPDATE apprenticeships a SET approved_minutes = f.approved, pending_minutes = f.pending, \
                    pending_entries = f.entries \
               FROM (SELECT enrolment_id, \
                            coalesce(sum(minutes) FILTER (WHERE state = 'approved'), 0) AS approved, \
                            coalesce(sum(minutes) FILTER (WHERE state = 'pending'), 0) AS pending, \
                            count(*) FILTER (WHERE state = 'pending')::int AS entries \
                       FROM otj_entries GROUP BY enrolment_id) f \
              WHERE f.enrolment_id = a.enrolment_id"
        )
        .execute(pool)
        .await?;
        sqlx::query!(
            "WITH r AS ( \
               SELECT gen_random_uuid() AS id, a.enrolment_id, a.centre_id, a.start_on + 21 * k AS held_on, \
                      k, e.assessor_id \
                 FROM apprenticeships a JOIN enrolments e ON e.id = a.enrolment_id \
                CROSS JOIN generate_series(1, $1) AS k \
                WHERE NOT EXISTS (SELECT 1 FROM progress_reviews p WHERE p.enrolment_id = a.enrolment_id)), \
             i AS (INSERT INTO signed_items (id, centre_id, enrolment_id, kind) \
                   SELECT id, centre_id, enrolment_id, 'progress_review' FROM r), \
             v AS (INSERT INTO signed_item_versions (item_id, version, content, made_by) \
                   SELECT id, 1, jsonb_build_object( \
                       'held_on', held_on::text, 'attended', 'The learner, their manager, the assessor', \
                       'assessor_summary', 'Steady progress on the units of this period.', \
                       'targets', 'Complete the next unit; log training weekly.', \
                       'learner_reflection', 'I am more confident with residents.', \
                       'employer_comments', 'Reliable and keen.', \
                       'next_review_on', (held_on + 84)::text, \
                       'since', jsonb_build_object('criteria_confirmed', 12, 'units_achieved', 1, \
                           'otj_minutes_approved', 2400, 'open_iqa_actions', 0, \
                           'total_criteria_confirmed', 12 * k, 'total_units_achieved', k, \
                           'total_otj_minutes_approved', 2400 * k)), assessor_id FROM r) \
             INSERT INTO progress_reviews (id, enrolment_id, held_on, recorded_by, fully_signed_at) \
             SELECT id, enrolment_id, held_on, assessor_id, CASE WHEN k < $1 THEN now() END FROM r",
            REVIEWS
        )
        .execute(loader)
        .await?;
        sqlx::query!(
            "UPDATE apprenticeships a SET last_review_on = r.last, next_review_due = r.last + 84, \
                    oldest_unsigned_review_on = r.unsigned \
               FROM (SELECT enrolment_id, max(held_on) AS last, \
                            min(held_on) FILTER (WHERE fully_signed_at IS NULL) AS unsigned \
                       FROM progress_reviews GROUP BY enrolment_id) r \
              WHERE r.enrolment_id = a.enrolment_id"
        )
        .execute(pool)
        .await?;
        let centres: Vec<Uuid> =
            sqlx::query_scalar!("SELECT DISTINCT centre_id FROM apprenticeships")
                .fetch_all(pool)
                .await?;
        for centre in centres {
            crate::db::apprenticeships::recompute_centre(pool, centre).await?;
        }
        sqlx::query!("VACUUM ANALYZE").execute(pool).await?;
    } else {
        remove_added_entries(pool).await?;
    }
    Ok(
        sqlx::query_scalar!("SELECT count(*) AS \"n!\" FROM apprenticeships")
            .fetch_one(pool)
            .await?,
    )
}

/// Removes the entries added since the load, through the trigger so the kept minutes
/// follow; the benchmark's entries are pending, but approved ones among them move the
/// figures, so their centres' apprenticeships are worked out again.
async fn remove_added_entries(pool: &PgPool) -> anyhow::Result<()> {
    let touched: Vec<Uuid> = sqlx::query_scalar!(
        "WITH gone AS (DELETE FROM otj_entries WHERE left(what, length($1)) <> $1 \
                        RETURNING enrolment_id, state) \
         SELECT DISTINCT a.centre_id FROM gone g \
           JOIN apprenticeships a ON a.enrolment_id = g.enrolment_id WHERE g.state = 'approved'",
        LOADED_WHAT
    )
    .fetch_all(pool)
    .await?;
    for centre in touched {
        crate::db::apprenticeships::recompute_centre(pool, centre).await?;
    }
    sqlx::query!("VACUUM ANALYZE otj_entries, apprenticeships")
        .execute(pool)
        .await?;
    Ok(())
}

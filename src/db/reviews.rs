//! Progress reviews (issue 14, point 4): recorded by the assessor, each party writing
//! their own part, signed by the learner, the employer and the assessor in any order.
//! The content is the versions of the review's signed item: every change is a new
//! version, and once all three have signed the current one the review is locked. Each
//! use case is one transaction with its activity entry and the kept schedule.
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::signatures::{self, SignedItem};
use super::{activity, apprenticeships, figures, DbError, DbResult};
use crate::domain::form::FieldError;
use crate::domain::reviews::{self, Part, ReviewForm, SinceLast, Totals};
use crate::domain::signature::{self, Signable, SignedKind, Signing, Standing};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReviewRow {
    pub id: Uuid,
    pub enrolment_id: Uuid,
    pub held_on: Date,
    pub recorded_by_name: String,
    pub recorded_at: OffsetDateTime,
    pub fully_signed_at: Option<OffsetDateTime>,
    pub current_version: i32,
}

/// The enrolment's reviews, newest first (a few a year).
pub(crate) async fn of_enrolment(
    db: impl PgExecutor<'_>,
    enrolment: Uuid,
) -> DbResult<Vec<ReviewRow>> {
    Ok(sqlx::query_as!(
        ReviewRow,
        "SELECT r.id, r.enrolment_id, r.held_on, u.display_name AS recorded_by_name, \
                r.recorded_at, r.fully_signed_at, i.current_version \
           FROM progress_reviews r JOIN users u ON u.id = r.recorded_by \
           JOIN signed_items i ON i.id = r.id \
          WHERE r.enrolment_id = $1 ORDER BY r.held_on DESC, r.id DESC LIMIT 200",
        enrolment
    )
    .fetch_all(db)
    .await?)
}

pub(crate) async fn get(db: impl PgExecutor<'_>, enrolment: Uuid, id: Uuid) -> DbResult<ReviewRow> {
    sqlx::query_as!(
        ReviewRow,
        "SELECT r.id, r.enrolment_id, r.held_on, u.display_name AS recorded_by_name, \
                r.recorded_at, r.fully_signed_at, i.current_version \
           FROM progress_reviews r JOIN users u ON u.id = r.recorded_by \
           JOIN signed_items i ON i.id = r.id \
          WHERE r.id = $1 AND r.enrolment_id = $2",
        id,
        enrolment
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)
}

/// Why a review was not changed or signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReviewRefusal {
    Fields(Vec<FieldError>),
    /// Signed by all three: locked.
    Locked,
}

/// The totals the next review takes its "since the last review" from.
async fn totals(
    conn: &mut PgConnection,
    enrolment: Uuid,
    approved: i64,
) -> DbResult<(Totals, i64)> {
    let kept = figures::kept(&mut *conn, enrolment).await?;
    Ok((
        Totals {
            criteria_confirmed: i64::from(kept.confirmed_criteria),
            units_achieved: i64::from(kept.units_achieved),
            otj_minutes_approved: approved,
        },
        i64::from(kept.open_iqa_actions),
    ))
}

/// The totals kept in the latest review's content, if there is one.
async fn previous_totals(conn: &mut PgConnection, enrolment: Uuid) -> DbResult<Option<Totals>> {
    let since = sqlx::query_scalar!(
        "SELECT v.content -> 'since' AS since FROM progress_reviews r \
           JOIN signed_items i ON i.id = r.id \
           JOIN signed_item_versions v ON v.item_id = i.id AND v.version = i.current_version \
          WHERE r.enrolment_id = $1 ORDER BY r.held_on DESC, r.id DESC LIMIT 1",
        enrolment
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    Ok(since
        .and_then(|s| serde_json::from_value::<SinceLast>(s).ok())
        .map(|s| s.totals()))
}

/// Records a review held, as the assessor (or trainee) writes it, with what the system
/// knows since the last review.
pub(crate) async fn record(
    pool: &PgPool,
    enrolment: Uuid,
    actor: Uuid,
    form: &ReviewForm,
    today: Date,
) -> DbResult<Result<Uuid, Vec<FieldError>>> {
    let mut tx = pool.begin().await?;
    let a = apprenticeships::lock(&mut tx, enrolment)
        .await?
        .ok_or(DbError::NotFound)?;
    let rules = apprenticeships::settings(&mut *tx, a.centre_id).await?;
    let mut content = match reviews::write_part(
        &serde_json::json!({}),
        Part::Assessor,
        form,
        a.start_on,
        today,
        rules.review_weeks,
    ) {
        Ok(c) => c,
        Err(errors) => return Ok(Err(errors)),
    };
    let before = previous_totals(&mut tx, enrolment).await?;
    let (now, open) = totals(&mut tx, enrolment, a.approved_minutes).await?;
    content["since"] = serde_json::to_value(SinceLast::between(now, before, open))
        .map_err(|e| DbError::Corrupt(e.to_string()))?;
    let held_on = content["held_on"]
        .as_str()
        .and_then(crate::domain::log_filter::parse_date)
        .ok_or_else(|| DbError::Corrupt("a review without its day".into()))?;
    let item = SignedItem {
        id: Uuid::now_v7(),
        centre_id: a.centre_id,
        enrolment_id: enrolment,
        evidence_id: None,
        kind: SignedKind::ProgressReview,
        current_version: 1,
    };
    signatures::create(&mut tx, &item, &content, Some(actor)).await?;
    sqlx::query!(
        "INSERT INTO progress_reviews (id, enrolment_id, held_on, recorded_by) VALUES ($1, $2, $3, $4)",
        item.id,
        enrolment,
        held_on,
        actor
    )
    .execute(&mut *tx)
    .await?;
    apprenticeships::refresh(&mut tx, enrolment).await?;
    activity::record(
        &mut *tx,
        a.centre_id,
        Some(enrolment),
        Some(actor),
        "progress review recorded",
        serde_json::json!({ "review": item.id, "held_on": held_on.to_string() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(item.id))
}

/// The review's item held, its current content and every signature.
async fn held(
    conn: &mut PgConnection,
    review: Uuid,
) -> DbResult<(SignedItem, signatures::Version, Vec<signature::Signature>)> {
    let item = signatures::lock(conn, review).await?;
    if item.kind != SignedKind::ProgressReview {
        return Err(DbError::NotFound);
    }
    let current = signatures::versions(&mut *conn, review)
        .await?
        .pop()
        .ok_or_else(|| DbError::Corrupt("a review without a version".into()))?;
    let all = signatures::signatures(&mut *conn, review)
        .await?
        .into_iter()
        .map(|s| s.signature)
        .collect();
    Ok((item, current, all))
}

fn signable(item: &SignedItem, v: &signatures::Version) -> Signable {
    Signable {
        kind: SignedKind::ProgressReview,
        item: item.id,
        version: v.version.max(1) as u32,
        content: v.content.clone(),
    }
}

/// A party writes their part: a new version (signatures of earlier versions stand for
/// them only), refused once all three have signed.
pub(crate) async fn write(
    pool: &PgPool,
    enrolment: Uuid,
    review: Uuid,
    actor: Option<Uuid>,
    part: Part,
    form: &ReviewForm,
    today: Date,
) -> DbResult<Result<(), ReviewRefusal>> {
    let mut tx = pool.begin().await?;
    let a = apprenticeships::lock(&mut tx, enrolment)
        .await?
        .ok_or(DbError::NotFound)?;
    let (item, current, all) = held(&mut tx, review).await?;
    if item.enrolment_id != enrolment {
        return Err(DbError::NotFound);
    }
    let standing = signature::standing(&signable(&item, &current), &all)
        .map_err(|e| DbError::Corrupt(e.to_string()))?;
    if standing == Standing::Signed {
        return Ok(Err(ReviewRefusal::Locked));
    }
    let rules = apprenticeships::settings(&mut *tx, a.centre_id).await?;
    let content = match reviews::write_part(
        &current.content,
        part,
        form,
        a.start_on,
        today,
        rules.review_weeks,
    ) {
        Ok(c) => c,
        Err(errors) => return Ok(Err(ReviewRefusal::Fields(errors))),
    };
    if content == current.content {
        return Ok(Ok(()));
    }
    let version = signatures::add_version(&mut tx, review, &content, actor).await?;
    if let Some(held_on) = content["held_on"]
        .as_str()
        .and_then(crate::domain::log_filter::parse_date)
    {
        sqlx::query!(
            "UPDATE progress_reviews SET held_on = $2, fully_signed_at = NULL WHERE id = $1",
            review,
            held_on
        )
        .execute(&mut *tx)
        .await?;
    }
    apprenticeships::refresh(&mut tx, enrolment).await?;
    activity::record(
        &mut *tx,
        a.centre_id,
        Some(enrolment),
        actor,
        "progress review changed",
        serde_json::json!({ "review": review, "version": version, "part": part_key(part) }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

fn part_key(p: Part) -> &'static str {
    match p {
        Part::Learner => "learner",
        Part::Employer => "employer",
        Part::Assessor => "assessor",
    }
}

/// A party signs the current version; the last of the three locks the review. A
/// one-time `link` it was signed through is used up with it.
pub(crate) async fn sign(
    pool: &PgPool,
    enrolment: Uuid,
    review: Uuid,
    part: Part,
    who: Signing<'_>,
    link: Option<Uuid>,
) -> DbResult<Result<(), ReviewRefusal>> {
    let mut tx = pool.begin().await?;
    let a = apprenticeships::lock(&mut tx, enrolment)
        .await?
        .ok_or(DbError::NotFound)?;
    let (item, current, all) = held(&mut tx, review).await?;
    if item.enrolment_id != enrolment {
        return Err(DbError::NotFound);
    }
    if !reviews::ready_to_sign(&current.content, part) {
        let field = part.needed();
        return Ok(Err(ReviewRefusal::Fields(vec![FieldError::new(
            field,
            "Write your part of the review before you sign it",
        )])));
    }
    let s = signable(&item, &current);
    let capacity = who.capacity;
    let signed = match signature::sign(&s, &all, who) {
        Ok(signed) => signed,
        Err(e) => {
            let message = match e {
                signature::SignError::NoName => "Type your full name to sign",
                signature::SignError::NameDiffers => {
                    "Type your full name as it is shown above to sign"
                }
                _ => "This review has been signed in this capacity already",
            };
            return Ok(Err(ReviewRefusal::Fields(vec![FieldError::new(
                "signed_name",
                message,
            )])));
        }
    };
    let mut with = all;
    with.push(signed.clone());
    signatures::store(&mut tx, review, current.version, &signed).await?;
    if let Some(link) = link {
        sqlx::query!(
            "UPDATE review_sign_links SET used_at = now() WHERE id = $1 AND used_at IS NULL",
            link
        )
        .execute(&mut *tx)
        .await?;
    }
    let complete = signature::standing(&s, &with).map_err(|e| DbError::Corrupt(e.to_string()))?
        == Standing::Signed;
    if complete {
        sqlx::query!(
            "UPDATE progress_reviews SET fully_signed_at = now() WHERE id = $1",
            review
        )
        .execute(&mut *tx)
        .await?;
        apprenticeships::refresh(&mut tx, enrolment).await?;
    }
    activity::record(
        &mut *tx,
        a.centre_id,
        Some(enrolment),
        signed_by(&signed.signer),
        "progress review signed",
        serde_json::json!({
            "review": review, "version": current.version, "capacity": capacity.key(),
            "complete": complete,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

fn signed_by(s: &signature::Signer) -> Option<Uuid> {
    match s {
        signature::Signer::Account(u) => Some(*u),
        signature::Signer::EmailLink { .. } => None,
    }
}

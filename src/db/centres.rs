//! Centres: the organisations that run qualifications.
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Centre {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub auto_audit: bool,
    /// Suggest the criteria evidence may meet (issue 17); on by default.
    pub suggestions: bool,
    pub created_at: OffsetDateTime,
}

pub async fn create(db: impl PgExecutor<'_>, slug: &str, name: &str) -> DbResult<Centre> {
    Ok(sqlx::query_as!(
        Centre,
        "INSERT INTO centres (id, slug, name) VALUES ($1, $2, $3) \
         RETURNING id, slug, name, auto_audit, suggestions, created_at",
        Uuid::now_v7(),
        slug,
        name.trim(),
    )
    .fetch_one(db)
    .await?)
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Centre> {
    Ok(sqlx::query_as!(
        Centre,
        "SELECT id, slug, name, auto_audit, suggestions, created_at FROM centres WHERE id = $1",
        id
    )
    .fetch_one(db)
    .await?)
}

pub async fn find_by_slug(db: impl PgExecutor<'_>, slug: &str) -> DbResult<Option<Centre>> {
    Ok(sqlx::query_as!(
        Centre,
        "SELECT id, slug, name, auto_audit, suggestions, created_at FROM centres WHERE slug = $1",
        slug
    )
    .fetch_optional(db)
    .await?)
}

/// Names are unique regardless of case, so this finds "ACME Training" for "acme training".
pub async fn find_by_name(db: impl PgExecutor<'_>, name: &str) -> DbResult<Option<Centre>> {
    Ok(sqlx::query_as!(
        Centre,
        "SELECT id, slug, name, auto_audit, suggestions, created_at FROM centres WHERE lower(name) = lower($1)",
        name.trim(),
    )
    .fetch_optional(db)
    .await?)
}

pub async fn list(db: impl PgExecutor<'_>) -> DbResult<Vec<Centre>> {
    Ok(sqlx::query_as!(
        Centre,
        "SELECT id, slug, name, auto_audit, suggestions, created_at FROM centres ORDER BY name"
    )
    .fetch_all(db)
    .await?)
}

pub async fn set_auto_audit(db: impl PgExecutor<'_>, id: Uuid, on: bool) -> DbResult<()> {
    let r = sqlx::query!("UPDATE centres SET auto_audit = $2 WHERE id = $1", id, on)
        .execute(db)
        .await?;
    if r.rows_affected() == 0 {
        return Err(super::DbError::NotFound);
    }
    Ok(())
}

/// The settings an admin changes on the centre's settings page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub auto_audit: bool,
    pub suggestions: bool,
}

/// The centre's settings changed by an admin, with its activity entry, in one
/// transaction. Turning suggestions on or off moves the centre's page revision, so no
/// kept evidence page shows them otherwise (one row, however many portfolios).
pub(crate) async fn change_settings(
    pool: &sqlx::PgPool,
    id: Uuid,
    actor: Uuid,
    settings: Settings,
) -> DbResult<()> {
    let Settings {
        auto_audit,
        suggestions,
    } = settings;
    let mut tx = pool.begin().await?;
    set_auto_audit(&mut *tx, id, auto_audit).await?;
    sqlx::query!(
        "UPDATE centres SET suggestions = $2, page_revision = page_revision + 1 \
          WHERE id = $1 AND suggestions <> $2",
        id,
        suggestions
    )
    .execute(&mut *tx)
    .await?;
    super::activity::record(
        &mut *tx,
        id,
        None,
        Some(actor),
        "centre settings changed",
        serde_json::json!({ "auto_audit": auto_audit, "suggestions": suggestions }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The centre a command-line import goes to: the named one, else the only one, else a
/// new "Default centre" when there is none.
pub(crate) async fn resolve_for_import(
    db: &sqlx::PgPool,
    name: Option<&str>,
) -> anyhow::Result<Centre> {
    let centres = list(db).await?;
    match name {
        Some(name) => centres
            .into_iter()
            .find(|c| c.slug.eq_ignore_ascii_case(name) || c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| anyhow::anyhow!("no centre is called \"{name}\"")),
        None => match centres.len() {
            0 => Ok(create(db, "default", "Default centre").await?),
            1 => centres
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("the centre disappeared")),
            _ => {
                let names: Vec<String> = centres.iter().map(|c| c.slug.clone()).collect();
                anyhow::bail!(
                    "there are several centres; choose one with --centre ({})",
                    names.join(", ")
                )
            }
        },
    }
}

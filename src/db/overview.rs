//! The centre overview on the home page: counts only, in three statements.
use sqlx::PgExecutor;
use uuid::Uuid;

use super::DbResult;
use crate::domain::Status;

#[derive(Debug, Clone)]
pub struct Overview {
    pub centres: Vec<CentreOverview>,
}

#[derive(Debug, Clone)]
pub struct CentreOverview {
    pub id: Uuid,
    pub name: String,
    pub users: i64,
    pub enrolments: i64,
    pub qualifications: Vec<QualificationRow>,
    pub statuses: Vec<StatusCount>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QualificationRow {
    pub centre_id: Uuid,
    pub code: String,
    pub title: String,
    pub level: i16,
    pub version: i32,
    pub units: i64,
    pub majors: i64,
    pub enrolments: i64,
}

#[derive(Debug, Clone)]
pub struct StatusCount {
    pub key: &'static str,
    pub label: &'static str,
    pub count: i64,
}

/// The overview of one centre (the signed-in user's).
pub async fn load<'c, E>(db: E, centre_id: Uuid) -> DbResult<Overview>
where
    E: PgExecutor<'c> + Copy,
{
    let centres: Vec<(Uuid, String, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.name,
                (SELECT count(*) FROM users u WHERE u.centre_id = c.id),
                (SELECT count(*) FROM enrolments e WHERE e.centre_id = c.id)
           FROM centres c WHERE c.id = $1",
    )
    .bind(centre_id)
    .fetch_all(db)
    .await?;
    let qualifications: Vec<QualificationRow> = sqlx::query_as(
        "SELECT DISTINCT ON (q.id) q.centre_id, q.code, v.title, v.level, v.version,
                (SELECT count(*) FROM units u WHERE u.version_id = v.id) AS units,
                (SELECT count(*) FROM majors m WHERE m.version_id = v.id) AS majors,
                (SELECT count(*) FROM enrolments e JOIN qualification_versions ev ON ev.id = e.version_id
                  WHERE ev.qualification_id = q.id) AS enrolments
           FROM qualifications q JOIN qualification_versions v ON v.qualification_id = q.id
          WHERE q.centre_id = $1
          ORDER BY q.id, v.version DESC",
    )
    .bind(centre_id)
    .fetch_all(db)
    .await?;
    let statuses: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT centre_id, status, count(*) FROM enrolments GROUP BY centre_id, status",
    )
    .fetch_all(db)
    .await?;
    let centres = centres
        .into_iter()
        .map(|(id, name, users, enrolments)| {
            let mut qualifications: Vec<QualificationRow> = qualifications
                .iter()
                .filter(|q| q.centre_id == id)
                .cloned()
                .collect();
            qualifications.sort_by(|a, b| a.code.cmp(&b.code));
            // In the order of the status machine, so the list reads as a pipeline.
            let statuses = Status::ALL
                .iter()
                .filter_map(|s| {
                    statuses
                        .iter()
                        .find(|(c, key, _)| *c == id && key == s.key())
                        .map(|(_, _, n)| StatusCount {
                            key: s.key(),
                            label: s.label(),
                            count: *n,
                        })
                })
                .collect();
            CentreOverview {
                id,
                name,
                users,
                enrolments,
                qualifications,
                statuses,
            }
        })
        .collect();
    Ok(Overview { centres })
}

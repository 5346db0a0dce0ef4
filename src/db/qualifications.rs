//! Qualification versions: import (SPEC §1 "Re-importing ... creates a new version") and
//! loading a version back as the domain `Qualification` plus the ids of its items.
use std::collections::HashMap;

use sqlx::types::Json;
use sqlx::{Acquire, PgExecutor, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DbError, DbResult};
use crate::domain::qualification::Qualification;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOutcome {
    pub qualification_id: Uuid,
    pub version_id: Uuid,
    pub version: i32,
    /// False when the latest version already had this exact content.
    pub created: bool,
}

/// A stored version with the ids of its items, each indexed like the domain's vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedVersion {
    pub version_id: Uuid,
    pub qualification_id: Uuid,
    pub version: i32,
    pub qualification: Qualification,
    /// Index = criterion ordinal.
    pub criterion_ids: Vec<Uuid>,
    /// Index = position in `qualification.units`.
    pub unit_ids: Vec<Uuid>,
    /// Index = position in `qualification.majors`.
    pub major_ids: Vec<Uuid>,
    /// `[major][rule set]`.
    pub rule_set_ids: Vec<Vec<Uuid>>,
    /// Criterion id → ordinal, for placing ticks without a join or a scan.
    criterion_ordinals: HashMap<Uuid, usize>,
}

impl LoadedVersion {
    pub(crate) fn major_index(&self, major_id: Uuid) -> Option<usize> {
        self.major_ids.iter().position(|m| *m == major_id)
    }

    pub fn criterion_ordinal(&self, criterion_id: Uuid) -> Option<usize> {
        self.criterion_ordinals.get(&criterion_id).copied()
    }

    /// A criterion as people refer to it: its unit's code and its number ("201 1.1").
    pub(crate) fn criterion_ref(&self, criterion_id: Uuid) -> Option<String> {
        let mut ordinal = self.criterion_ordinal(criterion_id)?;
        for u in &self.qualification.units {
            let n = u.criterion_count();
            if ordinal < n {
                let c = u.outcomes.iter().flat_map(|o| &o.criteria).nth(ordinal)?;
                return Some(format!("{} {}", u.code, c.number));
            }
            ordinal -= n;
        }
        None
    }

    /// The criterion a reference names: unit code (any case) and number.
    pub(crate) fn criterion_by_ref(&self, unit: &str, number: &str) -> Option<Uuid> {
        let mut ordinal = 0;
        for u in &self.qualification.units {
            if u.code.eq_ignore_ascii_case(unit) {
                let at = u
                    .outcomes
                    .iter()
                    .flat_map(|o| &o.criteria)
                    .position(|c| c.number == number)?;
                return self.criterion_ids.get(ordinal + at).copied();
            }
            ordinal += u.criterion_count();
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSummary {
    pub version_id: Uuid,
    pub qualification_id: Uuid,
    pub code: String,
    pub version: i32,
    pub title: String,
    pub level: i16,
    pub awarding_body: String,
    pub imported_at: OffsetDateTime,
    pub imported_by: Option<Uuid>,
}

/// Store `q` as the newest version of its code in `centre_id`, unless the newest version
/// already has exactly this content. One transaction; concurrent imports of one code
/// serialise on the qualification row.
pub async fn import<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    centre_id: Uuid,
    q: &Qualification,
    imported_by: Option<Uuid>,
) -> DbResult<ImportOutcome> {
    let definition = serde_json::to_value(q).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let mut tx = db.begin().await?;
    // DO UPDATE (not DO NOTHING) so that RETURNING always yields the id and the row
    // stays locked until commit.
    let qualification_id = sqlx::query_scalar!(
        "INSERT INTO qualifications (id, centre_id, code) VALUES ($1, $2, $3) \
         ON CONFLICT (centre_id, code) DO UPDATE SET code = EXCLUDED.code RETURNING id",
        Uuid::now_v7(),
        centre_id,
        &q.code,
    )
    .fetch_one(&mut *tx)
    .await?;
    /// The newest stored version, and whether its content is the one imported.
    struct LatestVersion {
        id: Uuid,
        version: i32,
        same_content: bool,
    }
    let latest = sqlx::query_as!(
        LatestVersion,
        "SELECT id, version, definition = $2 AS \"same_content!\" FROM qualification_versions \
         WHERE qualification_id = $1 ORDER BY version DESC LIMIT 1",
        qualification_id,
        &definition,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(LatestVersion {
        id: version_id,
        version,
        same_content: true,
    }) = latest
    {
        tx.rollback().await?;
        return Ok(ImportOutcome {
            qualification_id,
            version_id,
            version,
            created: false,
        });
    }
    let version = latest.map_or(1, |l| l.version + 1);
    let version_id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO qualification_versions \
         (id, qualification_id, centre_id, version, title, level, awarding_body, definition, imported_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        version_id,
        qualification_id,
        centre_id,
        version,
        &q.title,
        i16::from(q.level),
        &q.awarding_body,
        &definition,
        imported_by,
    )
    .execute(&mut *tx)
    .await?;
    super::qualification_items::insert_items(&mut tx, version_id, q).await?;
    // Suggestions read the criteria as the model sees them: made once, in the background.
    super::jobs::enqueue(
        &mut tx,
        super::suggestions::CRITERION_VECTORS_JOB,
        serde_json::json!({ "version": version_id }),
        &format!("criterion vectors {version_id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(ImportOutcome {
        qualification_id,
        version_id,
        version,
        created: true,
    })
}

/// A stored version with its items' ids, each list in the domain's order.
struct LoadRow {
    qualification_id: Uuid,
    version: i32,
    definition: Json<Qualification>,
    criterion_ids: Vec<Uuid>,
    unit_ids: Vec<Uuid>,
    major_ids: Vec<Uuid>,
    rule_set_ids: Vec<Uuid>,
}

pub async fn load_version(db: impl PgExecutor<'_>, version_id: Uuid) -> DbResult<LoadedVersion> {
    let row = sqlx::query_as!(
        LoadRow,
        "SELECT v.qualification_id, v.version, v.definition AS \"definition: Json<Qualification>\", \
           ARRAY(SELECT id FROM criteria WHERE version_id = v.id ORDER BY ordinal) AS \"criterion_ids!\", \
           ARRAY(SELECT id FROM units WHERE version_id = v.id ORDER BY ordinal) AS \"unit_ids!\", \
           ARRAY(SELECT id FROM majors WHERE version_id = v.id ORDER BY ordinal) AS \"major_ids!\", \
           ARRAY(SELECT rs.id FROM rule_sets rs JOIN majors m ON m.id = rs.major_id \
                 WHERE rs.version_id = v.id ORDER BY m.ordinal, rs.ordinal) AS \"rule_set_ids!\" \
         FROM qualification_versions v WHERE v.id = $1",
        version_id,
    )
    .fetch_one(db)
    .await?;
    let q = row.definition.0;
    let rule_set_counts: Vec<usize> = q.majors.iter().map(|m| m.rule_sets.len()).collect();
    if row.criterion_ids.len() != q.criterion_count()
        || row.unit_ids.len() != q.units.len()
        || row.major_ids.len() != q.majors.len()
        || row.rule_set_ids.len() != rule_set_counts.iter().sum::<usize>()
    {
        return Err(DbError::Corrupt(format!(
            "version {version_id}: its items do not match its definition"
        )));
    }
    let mut rest = row.rule_set_ids.as_slice();
    let rule_set_ids = rule_set_counts
        .iter()
        .map(|&n| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head.to_vec()
        })
        .collect();
    let criterion_ordinals = row
        .criterion_ids
        .iter()
        .enumerate()
        .map(|(ordinal, id)| (*id, ordinal))
        .collect();
    Ok(LoadedVersion {
        criterion_ordinals,
        version_id,
        qualification_id: row.qualification_id,
        version: row.version,
        qualification: q,
        criterion_ids: row.criterion_ids,
        unit_ids: row.unit_ids,
        major_ids: row.major_ids,
        rule_set_ids,
    })
}

/// The newest version of `code` in a centre.
pub async fn latest_version(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    code: &str,
) -> DbResult<Option<VersionSummary>> {
    Ok(sqlx::query_as!(
        VersionSummary,
        "SELECT v.id AS version_id, v.qualification_id, q.code, v.version, v.title, v.level, \
                v.awarding_body, v.imported_at, v.imported_by \
         FROM qualification_versions v JOIN qualifications q ON q.id = v.qualification_id \
         WHERE q.centre_id = $1 AND q.code = $2 ORDER BY v.version DESC LIMIT 1",
        centre_id,
        code,
    )
    .fetch_optional(db)
    .await?)
}

/// Every version of every qualification of a centre, by code then newest first.
pub async fn list_versions(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
) -> DbResult<Vec<VersionSummary>> {
    Ok(sqlx::query_as!(
        VersionSummary,
        "SELECT v.id AS version_id, v.qualification_id, q.code, v.version, v.title, v.level, \
                v.awarding_body, v.imported_at, v.imported_by \
         FROM qualification_versions v JOIN qualifications q ON q.id = v.qualification_id \
         WHERE q.centre_id = $1 ORDER BY q.code, v.version DESC",
        centre_id,
    )
    .fetch_all(db)
    .await?)
}

pub(crate) async fn get_version(
    db: impl PgExecutor<'_>,
    version_id: Uuid,
) -> DbResult<VersionSummary> {
    Ok(sqlx::query_as!(
        VersionSummary,
        "SELECT v.id AS version_id, v.qualification_id, q.code, v.version, v.title, v.level, \
                v.awarding_body, v.imported_at, v.imported_by \
         FROM qualification_versions v JOIN qualifications q ON q.id = v.qualification_id \
         WHERE v.id = $1",
        version_id,
    )
    .fetch_one(db)
    .await?)
}

/// The id of a major of a version, by its code.
pub async fn major_id(db: impl PgExecutor<'_>, version_id: Uuid, code: &str) -> DbResult<Uuid> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM majors WHERE version_id = $1 AND code = $2",
        version_id,
        code,
    )
    .fetch_one(db)
    .await?)
}

/// A major of the newest version of a qualification, as offered when enrolling.
#[derive(Debug, Clone)]
pub(crate) struct MajorChoice {
    pub major_id: Uuid,
    pub version_id: Uuid,
    pub code: String,
    pub version: i32,
    pub title: String,
    pub major_code: String,
    pub major_title: String,
}

/// The majors of each qualification's newest version in a centre, in one statement.
pub(crate) async fn majors_to_enrol(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
) -> DbResult<Vec<MajorChoice>> {
    Ok(sqlx::query_as!(
        MajorChoice,
        "SELECT m.id AS major_id, v.id AS version_id, q.code, v.version, v.title, m.code AS major_code, \
                m.title AS major_title \
           FROM qualifications q \
           JOIN qualification_versions v ON v.qualification_id = q.id \
            AND v.version = (SELECT max(version) FROM qualification_versions w WHERE w.qualification_id = q.id) \
           JOIN majors m ON m.version_id = v.id \
          WHERE q.centre_id = $1 ORDER BY q.code, m.ordinal",
        centre_id,
    )
    .fetch_all(db)
    .await?)
}

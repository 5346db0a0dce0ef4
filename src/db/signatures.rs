//! Signed items, their versions and signatures (issue 13, point 2). Versions and
//! signatures are append-only (the database refuses a change): a signed version stays
//! exactly what was signed, and a change is a new version. The rules are
//! `domain::signature`'s; this module stores and reads what they decide.
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DbError, DbResult};
use crate::domain::signature::{self, Capacity, Signable, SignedKind, Signer, Standing};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SignedItem {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub enrolment_id: Uuid,
    /// None for a progress review.
    pub evidence_id: Option<Uuid>,
    pub kind: SignedKind,
    pub current_version: i32,
}

fn kind_of(key: &str) -> DbResult<SignedKind> {
    SignedKind::from_key(key).ok_or_else(|| DbError::Corrupt(format!("signed kind {key:?}")))
}

/// One version's content as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Version {
    pub version: i32,
    pub content: Value,
    pub made_by: Option<Uuid>,
    pub made_at: OffsetDateTime,
}

/// A signature as stored, with the signer's name as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredSignature {
    pub id: Uuid,
    pub version: i32,
    pub signature: signature::Signature,
    /// The account's name, or the address the link went to.
    pub signer_label: String,
}

/// Makes a signed item with its first version.
pub(crate) async fn create(
    conn: &mut PgConnection,
    item: &SignedItem,
    content: &Value,
    made_by: Option<Uuid>,
) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO signed_items (id, centre_id, enrolment_id, evidence_id, kind, current_version) \
         VALUES ($1, $2, $3, $4, $5, 1)",
        item.id,
        item.centre_id,
        item.enrolment_id,
        item.evidence_id,
        item.kind.key()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO signed_item_versions (item_id, version, content, made_by) VALUES ($1, 1, $2, $3)",
        item.id,
        content,
        made_by
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds the next version of a locked item; returns its number.
pub(crate) async fn add_version(
    conn: &mut PgConnection,
    item: Uuid,
    content: &Value,
    made_by: Option<Uuid>,
) -> DbResult<i32> {
    let version = sqlx::query_scalar!(
        "UPDATE signed_items SET current_version = current_version + 1 WHERE id = $1 \
         RETURNING current_version",
        item
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO signed_item_versions (item_id, version, content, made_by) VALUES ($1, $2, $3, $4)",
        item,
        version,
        content,
        made_by
    )
    .execute(&mut *conn)
    .await?;
    Ok(version)
}

/// Stores a signature the domain made of `version` of `item`.
pub(crate) async fn store(
    conn: &mut PgConnection,
    item: Uuid,
    version: i32,
    s: &signature::Signature,
) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    let (user, email) = match &s.signer {
        Signer::Account(u) => (Some(*u), None),
        Signer::EmailLink { email } => (None, Some(email.as_str())),
    };
    sqlx::query!(
        "INSERT INTO signatures (id, item_id, version, capacity, signer_user_id, signer_email, \
                statement, typed_name, signed_at, digest, address, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        id,
        item,
        version,
        s.capacity.key(),
        user,
        email,
        s.statement,
        s.typed_name,
        s.at,
        &s.digest[..],
        s.address,
        s.user_agent
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

struct ItemRow {
    id: Uuid,
    centre_id: Uuid,
    enrolment_id: Uuid,
    evidence_id: Option<Uuid>,
    kind: String,
    current_version: i32,
}

impl TryFrom<ItemRow> for SignedItem {
    type Error = DbError;
    fn try_from(r: ItemRow) -> DbResult<SignedItem> {
        Ok(SignedItem {
            id: r.id,
            centre_id: r.centre_id,
            enrolment_id: r.enrolment_id,
            evidence_id: r.evidence_id,
            kind: kind_of(&r.kind)?,
            current_version: r.current_version,
        })
    }
}

pub(crate) async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<SignedItem> {
    sqlx::query_as!(
        ItemRow,
        "SELECT id, centre_id, enrolment_id, evidence_id, kind, current_version \
           FROM signed_items WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)?
    .try_into()
}

/// The item, held until the transaction ends: signing and versioning wait for each other.
pub(crate) async fn lock(conn: &mut PgConnection, id: Uuid) -> DbResult<SignedItem> {
    sqlx::query_as!(
        ItemRow,
        "SELECT id, centre_id, enrolment_id, evidence_id, kind, current_version \
           FROM signed_items WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DbError::NotFound)?
    .try_into()
}

/// The signed items of an evidence item (a declaration, a record or a testimony).
pub(crate) async fn of_evidence(
    db: impl PgExecutor<'_>,
    evidence: Uuid,
) -> DbResult<Vec<SignedItem>> {
    sqlx::query_as!(
        ItemRow,
        "SELECT id, centre_id, enrolment_id, evidence_id, kind, current_version \
           FROM signed_items WHERE evidence_id = $1 ORDER BY created_at, id",
        evidence
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(SignedItem::try_from)
    .collect()
}

pub(crate) async fn versions(db: impl PgExecutor<'_>, item: Uuid) -> DbResult<Vec<Version>> {
    Ok(sqlx::query_as!(
        Version,
        "SELECT version, content, made_by, made_at FROM signed_item_versions \
          WHERE item_id = $1 ORDER BY version",
        item
    )
    .fetch_all(db)
    .await?)
}

/// Every signature of every version of `item`, oldest first.
pub(crate) async fn signatures(
    db: impl PgExecutor<'_>,
    item: Uuid,
) -> DbResult<Vec<StoredSignature>> {
    let rows = sqlx::query!(
        "SELECT s.id, s.version, s.capacity, s.signer_user_id, s.signer_email, s.statement, \
                s.typed_name, s.signed_at, s.digest, s.address, s.user_agent, \
                COALESCE(u.display_name, s.signer_email) AS \"signer_label!\" \
           FROM signatures s LEFT JOIN users u ON u.id = s.signer_user_id \
          WHERE s.item_id = $1 ORDER BY s.signed_at, s.id",
        item
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let capacity = Capacity::from_key(&r.capacity)
                .ok_or_else(|| DbError::Corrupt(format!("capacity {:?}", r.capacity)))?;
            let signer = match (r.signer_user_id, r.signer_email) {
                (Some(u), _) => Signer::Account(u),
                (None, Some(email)) => Signer::EmailLink { email },
                (None, None) => return Err(DbError::Corrupt("a signature without signer".into())),
            };
            let digest: [u8; 32] = r
                .digest
                .as_slice()
                .try_into()
                .map_err(|_| DbError::Corrupt("a digest not of 32 bytes".into()))?;
            Ok(StoredSignature {
                id: r.id,
                version: r.version,
                signer_label: r.signer_label,
                signature: signature::Signature {
                    signer,
                    capacity,
                    statement: r.statement,
                    typed_name: r.typed_name,
                    at: r.signed_at,
                    digest,
                    address: r.address,
                    user_agent: r.user_agent,
                },
            })
        })
        .collect()
}

/// An item read whole: its versions, signatures, and how its current version stands.
#[derive(Debug, Clone)]
pub(crate) struct Whole {
    pub item: SignedItem,
    pub versions: Vec<Version>,
    pub signatures: Vec<StoredSignature>,
    pub standing: Standing,
}

impl Whole {
    pub fn current(&self) -> Option<&Version> {
        self.versions.last()
    }

    /// The version as the domain signs it.
    pub fn signable(&self, v: &Version) -> Signable {
        Signable {
            kind: self.item.kind,
            item: self.item.id,
            version: v.version.max(1) as u32,
            content: v.content.clone(),
        }
    }

    /// Whether each signature still matches the version it signed (valid), and the
    /// current version (`of_current`).
    pub fn checks(&self) -> Vec<(StoredSignature, signature::Check, bool)> {
        self.signatures
            .iter()
            .map(|s| {
                let signed = self.versions.iter().find(|v| v.version == s.version);
                let check = signed
                    .and_then(|v| signature::check(&s.signature, &self.signable(v)).ok())
                    .unwrap_or(signature::Check::Changed);
                let of_current = self.item.current_version == s.version;
                (s.clone(), check, of_current)
            })
            .collect()
    }
}

pub(crate) async fn whole(db: &sqlx::PgPool, item: SignedItem) -> DbResult<Whole> {
    let versions = versions(db, item.id).await?;
    let signatures = signatures(db, item.id).await?;
    let current = versions
        .last()
        .ok_or_else(|| DbError::Corrupt("a signed item without a version".into()))?;
    let signable = Signable {
        kind: item.kind,
        item: item.id,
        version: current.version.max(1) as u32,
        content: current.content.clone(),
    };
    let all: Vec<signature::Signature> = signatures.iter().map(|s| s.signature.clone()).collect();
    let standing = signature::standing(&signable, &all)
        .map_err(|e| DbError::Corrupt(format!("signed content: {e}")))?;
    Ok(Whole {
        item,
        versions,
        signatures,
        standing,
    })
}

/// The item a signature signed.
pub(crate) async fn of_signature(db: &sqlx::PgPool, signature: Uuid) -> DbResult<SignedItem> {
    let item = sqlx::query_scalar!("SELECT item_id FROM signatures WHERE id = $1", signature)
        .fetch_optional(db)
        .await?
        .ok_or(DbError::NotFound)?;
    get(db, item).await
}

/// How each signed item of `evidence` items stands, in one statement: (evidence, kind,
/// the capacities that signed its current version, whether an earlier version was signed).
pub(crate) async fn standings(
    db: impl PgExecutor<'_>,
    evidence: &[Uuid],
) -> DbResult<Vec<(Uuid, SignedKind, Standing)>> {
    let rows = sqlx::query!(
        "SELECT i.evidence_id AS \"evidence_id!\", i.kind, \
                ARRAY(SELECT s.capacity FROM signatures s \
                       WHERE s.item_id = i.id AND s.version = i.current_version) AS \"current!\", \
                EXISTS (SELECT 1 FROM signatures s WHERE s.item_id = i.id \
                          AND s.version < i.current_version) AS \"earlier!\" \
           FROM signed_items i WHERE i.evidence_id = ANY($1) ORDER BY i.created_at, i.id",
        evidence
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let kind = kind_of(&r.kind)?;
            let current: Vec<Capacity> = r
                .current
                .iter()
                .filter_map(|c| Capacity::from_key(c))
                .collect();
            Ok((
                r.evidence_id,
                kind,
                signature::standing_of(kind, &current, r.earlier),
            ))
        })
        .collect()
}

/// Makes a signed item whose first version its maker signs at once (a learner's
/// declaration, an assessor's observation record), in the caller's transaction.
pub(crate) async fn create_signed(
    conn: &mut PgConnection,
    item: &SignedItem,
    content: Value,
    who: signature::Signing<'_>,
) -> DbResult<Result<Uuid, signature::SignError>> {
    let made_by = match &who.signer {
        Signer::Account(u) => Some(*u),
        Signer::EmailLink { .. } => None,
    };
    let signable = Signable {
        kind: item.kind,
        item: item.id,
        version: 1,
        content,
    };
    let signed = match signature::sign(&signable, &[], who) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    create(conn, item, &signable.content, made_by).await?;
    Ok(Ok(store(conn, item.id, 1, &signed).await?))
}

/// The evidence item of each of `items`, in one statement.
pub(crate) async fn evidence_of(
    db: impl PgExecutor<'_>,
    items: &[Uuid],
) -> DbResult<std::collections::HashMap<Uuid, Uuid>> {
    Ok(sqlx::query!(
        "SELECT id, evidence_id AS \"evidence_id!\" FROM signed_items \
          WHERE id = ANY($1) AND evidence_id IS NOT NULL",
        items
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.evidence_id))
    .collect())
}

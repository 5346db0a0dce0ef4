//! Each centre's Ed25519 signing keys (SPEC §6, issue 11 point 7). The first is made
//! on first use; an admin may rotate to a new one, after which it signs and the old
//! ones stay published, so every credential the centre issued still verifies. A key
//! is never changed or deleted, only retired, once.
//!
//! The secret seed is stored sealed under the server's key-encryption key
//! ([`Kek`], held outside the database), bound to its centre and key id; a key kept
//! in the clear by an earlier version is sealed at start ([`seal_clear_keys`]).
use ed25519_dalek::{SigningKey, VerifyingKey};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{activity, DbError, DbResult};
use crate::credentials::sealing::{Kek, SealError};

#[derive(Debug, Clone)]
pub struct CentreKey {
    pub centre_id: Uuid,
    /// 1 for a centre's first key, then one more at each rotation.
    pub number: i32,
    /// Zeroed when dropped.
    pub signing_key: SigningKey,
    pub created_at: OffsetDateTime,
}

impl CentreKey {
    pub fn public_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// The key's id in the centre's published document: `key-1`, `key-2`, …
    pub fn key_id(&self) -> String {
        key_id(self.number)
    }
}

pub fn key_id(number: i32) -> String {
    format!("key-{number}")
}

/// A key as the centre publishes it: no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub number: i32,
    pub public_key: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
}

impl PublishedKey {
    pub fn key_id(&self) -> String {
        key_id(self.number)
    }
}

struct Row {
    centre_id: Uuid,
    key_number: i32,
    public_key: Vec<u8>,
    private_key_sealed: Option<Vec<u8>>,
    created_at: OffsetDateTime,
}

impl Row {
    fn open(self, kek: &Kek) -> DbResult<CentreKey> {
        let id = key_id(self.key_number);
        // A key not sealed yet: the server seals every such key before it serves.
        let sealed = self
            .private_key_sealed
            .ok_or_else(|| corrupt(self.centre_id))?;
        let seed = kek
            .open(self.centre_id, &id, &sealed)
            .map_err(DbError::from)?;
        let signing_key = SigningKey::from_bytes(&seed);
        // A stored public key that the secret does not give is a damaged row; signing
        // with it would hand out credentials nobody can verify.
        if signing_key.verifying_key().as_bytes().as_slice() != self.public_key.as_slice() {
            return Err(corrupt(self.centre_id));
        }
        Ok(CentreKey {
            centre_id: self.centre_id,
            number: self.key_number,
            signing_key,
            created_at: self.created_at,
        })
    }
}

impl From<SealError> for DbError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::WrongKek => DbError::KeyWontOpen,
            other => DbError::Corrupt(other.to_string()),
        }
    }
}

fn corrupt(centre_id: Uuid) -> DbError {
    DbError::Corrupt(format!("the signing key of centre {centre_id} is damaged"))
}

/// The centre's current signing key (the one not retired), if it has one yet.
pub async fn find(pool: &PgPool, kek: &Kek, centre_id: Uuid) -> DbResult<Option<CentreKey>> {
    let row = sqlx::query_as!(
        Row,
        "SELECT centre_id, key_number, public_key, private_key_sealed, created_at \
         FROM centre_keys WHERE centre_id = $1 AND retired_at IS NULL",
        centre_id
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| r.open(kek)).transpose()
}

/// Every key the centre has had, first first: what its document publishes.
pub async fn published(pool: &PgPool, centre_id: Uuid) -> DbResult<Vec<PublishedKey>> {
    Ok(sqlx::query_as!(
        PublishedKey,
        "SELECT key_number AS number, public_key, created_at, retired_at FROM centre_keys \
         WHERE centre_id = $1 ORDER BY key_number",
        centre_id
    )
    .fetch_all(pool)
    .await?)
}

/// A fresh key, sealed for `centre_id` as key `number`: (its public key, its seal).
fn fresh(kek: &Kek, centre_id: Uuid, number: i32) -> DbResult<(VerifyingKey, Vec<u8>)> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| DbError::NoRandomness(e.to_string()))?;
    let public = SigningKey::from_bytes(&seed).verifying_key();
    let sealed = kek.seal(centre_id, &key_id(number), &seed)?;
    Ok((public, sealed))
}

/// The centre's current key, made now if it has none. Safe when several processes
/// ask at once: each offers a fresh key, the first insert wins (the others' `ON
/// CONFLICT DO NOTHING` waits for it to commit), and everyone reads back the winner.
/// Takes the pool, not a transaction, so that the read-back sees the winner's commit.
pub async fn get_or_create(pool: &PgPool, kek: &Kek, centre_id: Uuid) -> DbResult<CentreKey> {
    if let Some(key) = find(pool, kek, centre_id).await? {
        return Ok(key);
    }
    // A centre's first key; every key is retired only as its successor is made.
    let (public, sealed) = fresh(kek, centre_id, 1)?;
    sqlx::query!(
        "INSERT INTO centre_keys (centre_id, key_number, public_key, private_key_sealed) \
         VALUES ($1, 1, $2, $3) ON CONFLICT DO NOTHING",
        centre_id,
        public.as_bytes().as_slice(),
        sealed
    )
    .execute(pool)
    .await?;
    find(pool, kek, centre_id).await?.ok_or(DbError::NotFound)
}

/// Rotation (an admin's action): the current key is retired and a new one signs from
/// now on; both stay published. One transaction with its activity entry. A centre
/// without a key gets its first.
pub async fn rotate(
    pool: &PgPool,
    kek: &Kek,
    centre_id: Uuid,
    actor_id: Option<Uuid>,
) -> DbResult<CentreKey> {
    let mut tx = pool.begin().await?;
    // The centre's row lock puts two rotations at once one after the other.
    sqlx::query_scalar!(
        "SELECT 1 AS \"locked!\" FROM centres WHERE id = $1 FOR UPDATE",
        centre_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let retired: Option<i32> = sqlx::query_scalar!(
        "UPDATE centre_keys SET retired_at = greatest(now(), created_at) \
         WHERE centre_id = $1 AND retired_at IS NULL RETURNING key_number",
        centre_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let number: i32 = sqlx::query_scalar!(
        "SELECT coalesce(max(key_number), 0) + 1 AS \"number!\" FROM centre_keys \
         WHERE centre_id = $1",
        centre_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let (public, sealed) = fresh(kek, centre_id, number)?;
    sqlx::query!(
        "INSERT INTO centre_keys (centre_id, key_number, public_key, private_key_sealed) \
         VALUES ($1, $2, $3, $4)",
        centre_id,
        number,
        public.as_bytes().as_slice(),
        sealed
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        centre_id,
        None,
        actor_id,
        "signing key rotated",
        serde_json::json!({
            "new_key": key_id(number),
            "retired_key": retired.map(key_id),
        }),
    )
    .await?;
    tx.commit().await?;
    find(pool, kek, centre_id).await?.ok_or(DbError::NotFound)
}

/// At start, before serving: every key an earlier version kept in the clear is sealed
/// under `kek` and its clear seed emptied, each in one UPDATE (the one change the
/// append-only trigger allows for it). Then every sealed key must open with `kek`: a
/// wrong key file stops the start rather than leaving the centres unable to sign.
/// Returns how many keys were sealed.
pub async fn seal_clear_keys(pool: &PgPool, kek: &Kek) -> DbResult<u64> {
    struct Clear {
        centre_id: Uuid,
        key_number: i32,
        public_key: Vec<u8>,
        private_key: Vec<u8>,
    }
    let clear = sqlx::query_as!(
        Clear,
        "SELECT centre_id, key_number, public_key, private_key AS \"private_key!\" \
         FROM centre_keys WHERE private_key IS NOT NULL"
    )
    .fetch_all(pool)
    .await?;
    let mut sealed_now = 0;
    for row in clear {
        let seed: zeroize::Zeroizing<[u8; 32]> = zeroize::Zeroizing::new(
            row.private_key
                .as_slice()
                .try_into()
                .map_err(|_| corrupt(row.centre_id))?,
        );
        if SigningKey::from_bytes(&seed)
            .verifying_key()
            .as_bytes()
            .as_slice()
            != row.public_key.as_slice()
        {
            return Err(corrupt(row.centre_id));
        }
        let sealed = kek.seal(row.centre_id, &key_id(row.key_number), &seed)?;
        sealed_now += sqlx::query!(
            "UPDATE centre_keys SET private_key_sealed = $3, private_key = NULL \
             WHERE centre_id = $1 AND key_number = $2 AND private_key IS NOT NULL",
            row.centre_id,
            row.key_number,
            sealed
        )
        .execute(pool)
        .await?
        .rows_affected();
    }
    check_kek(pool, kek).await?;
    Ok(sealed_now)
}

/// Whether the database holds any sealed key (then a missing key file is an error,
/// not a reason to make a new one).
pub(crate) async fn any_sealed(pool: &PgPool) -> DbResult<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM centre_keys WHERE private_key_sealed IS NOT NULL) \
         AS \"exists!\""
    )
    .fetch_one(pool)
    .await?)
}

/// Every sealed key opens with `kek`, or [`DbError::KeyWontOpen`].
pub(crate) async fn check_kek(pool: &PgPool, kek: &Kek) -> DbResult<()> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT centre_id, key_number, public_key, private_key_sealed, created_at \
         FROM centre_keys WHERE private_key_sealed IS NOT NULL"
    )
    .fetch_all(pool)
    .await?;
    for row in rows {
        row.open(kek)?;
    }
    Ok(())
}

//! Each centre's Ed25519 signing key (SPEC §6), made on first use and never changed:
//! every credential the centre issued is checked against it.
use ed25519_dalek::{SigningKey, VerifyingKey};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DbError, DbResult};

#[derive(Debug, Clone)]
pub struct CentreKey {
    pub centre_id: Uuid,
    /// Zeroed when dropped.
    pub signing_key: SigningKey,
    pub created_at: OffsetDateTime,
}

impl CentreKey {
    pub fn public_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    centre_id: Uuid,
    public_key: Vec<u8>,
    private_key: Vec<u8>,
    created_at: OffsetDateTime,
}

impl TryFrom<Row> for CentreKey {
    type Error = DbError;
    fn try_from(row: Row) -> DbResult<Self> {
        let seed: [u8; 32] = row
            .private_key
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(row.centre_id))?;
        let signing_key = SigningKey::from_bytes(&seed);
        // A stored public key that the secret does not give is a damaged row; signing
        // with it would hand out credentials nobody can verify.
        if signing_key.verifying_key().as_bytes().as_slice() != row.public_key.as_slice() {
            return Err(corrupt(row.centre_id));
        }
        Ok(CentreKey {
            centre_id: row.centre_id,
            signing_key,
            created_at: row.created_at,
        })
    }
}

fn corrupt(centre_id: Uuid) -> DbError {
    DbError::Corrupt(format!("the signing key of centre {centre_id} is damaged"))
}

const COLUMNS: &str = "centre_id, public_key, private_key, created_at";

/// The centre's key, if it has one yet.
pub async fn find(pool: &PgPool, centre_id: Uuid) -> DbResult<Option<CentreKey>> {
    let sql = format!("SELECT {COLUMNS} FROM centre_keys WHERE centre_id = $1");
    let row: Option<Row> = sqlx::query_as(&sql)
        .bind(centre_id)
        .fetch_optional(pool)
        .await?;
    row.map(CentreKey::try_from).transpose()
}

/// The centre's key, made now if it has none. Safe when several processes ask at
/// once: each offers a fresh key, the first insert wins (the others' `ON CONFLICT DO
/// NOTHING` waits for it to commit), and everyone reads back the winner. Takes the
/// pool, not a transaction, so that the read-back sees the winner's commit.
pub async fn get_or_create(pool: &PgPool, centre_id: Uuid) -> DbResult<CentreKey> {
    if let Some(key) = find(pool, centre_id).await? {
        return Ok(key);
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| DbError::NoRandomness(e.to_string()))?;
    let offered = SigningKey::from_bytes(&seed);
    seed.fill(0);
    sqlx::query(
        "INSERT INTO centre_keys (centre_id, public_key, private_key) VALUES ($1, $2, $3) \
         ON CONFLICT (centre_id) DO NOTHING",
    )
    .bind(centre_id)
    .bind(offered.verifying_key().as_bytes().as_slice())
    .bind(offered.as_bytes().as_slice())
    .execute(pool)
    .await?;
    find(pool, centre_id).await?.ok_or(DbError::NotFound)
}

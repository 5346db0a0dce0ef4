//! Credential numbers in the register, and centres' signing keys (SPEC §6), sealed
//! under a key kept outside the database and rotated (issue 11 point 7).
use attest::credentials::sealing::Kek;
use attest::credentials::vc;
use attest::db::{centre_keys, centres, DbError};
use attest::domain::credential_number::CredentialNumber;
use attest::testing::test_pool_with;
use time::macros::datetime;

use crate::db_schema::{insert_credential, number};
use crate::helpers::world;

/// The key-encryption key `AppState::new` uses too.
fn kek() -> Kek {
    Kek::for_tests()
}

/// Every column of every row of `centre_keys`, as JSON (bytea as `\\x` and hex).
async fn centre_keys_rows(pool: &sqlx::PgPool) -> Vec<serde_json::Value> {
    sqlx::query_scalar("SELECT to_jsonb(k) FROM centre_keys k")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Issue 11 point 7, finding 1: a backup of the database alone yields the signing key.
#[tokio::test]
async fn no_column_of_centre_keys_holds_the_private_seed() {
    let pool = test_pool_with(2).await;
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    let made = centre_keys::get_or_create(&pool, &kek(), centre.id)
        .await
        .unwrap();
    let rotated = centre_keys::rotate(&pool, &kek(), centre.id, None)
        .await
        .unwrap();
    // The seeds as the app itself opens them.
    let mut seeds = vec![made.signing_key.to_bytes(), rotated.signing_key.to_bytes()];
    let reopened = centre_keys::find(&pool, &kek(), centre.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reopened.signing_key.to_bytes(), seeds[1]);
    let rows = centre_keys_rows(&pool).await;
    assert_eq!(rows.len(), 2);
    for row in &rows {
        for seed in &seeds {
            assert!(
                !row.to_string().contains(&hex(seed)),
                "the seed in the clear: {row}"
            );
        }
        assert_eq!(row["private_key"], serde_json::Value::Null, "{row}");
    }
    seeds.iter_mut().for_each(|s| s.fill(0));
}

/// Issue 11 point 7, finding 1: a wrong key file is refused, not replaced by a new key.
#[tokio::test]
async fn a_wrong_signing_key_file_does_not_open_the_keys_and_makes_no_new_one() {
    let pool = test_pool_with(2).await;
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    centre_keys::get_or_create(&pool, &kek(), centre.id)
        .await
        .unwrap();
    let wrong = Kek::from_bytes([0x42; 32]);
    let refused = centre_keys::find(&pool, &wrong, centre.id)
        .await
        .unwrap_err();
    assert!(matches!(refused, DbError::KeyWontOpen), "{refused:?}");
    assert_eq!(
        refused.to_string(),
        "the signing key file does not open this database's keys"
    );
    let refused = centre_keys::get_or_create(&pool, &wrong, centre.id)
        .await
        .unwrap_err();
    assert!(matches!(refused, DbError::KeyWontOpen), "{refused:?}");
    // What the server checks at start.
    let refused = centre_keys::seal_clear_keys(&pool, &wrong)
        .await
        .unwrap_err();
    assert!(matches!(refused, DbError::KeyWontOpen), "{refused:?}");
    assert_eq!(
        centre_keys_rows(&pool).await.len(),
        1,
        "no new key was made"
    );
    assert!(centre_keys::find(&pool, &kek(), centre.id).await.is_ok());
}

/// Issue 11 point 7, finding 1: the seal is bound to its centre (and key id).
#[tokio::test]
async fn a_sealed_key_moved_to_another_centres_row_does_not_open() {
    let pool = test_pool_with(2).await;
    let acme = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    let bolt = centres::create(&pool, "bolt", "Bolt College")
        .await
        .unwrap();
    centre_keys::get_or_create(&pool, &kek(), acme.id)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO centre_keys (centre_id, key_number, public_key, private_key_sealed) \
         SELECT $2, key_number, public_key, private_key_sealed FROM centre_keys WHERE centre_id = $1",
    )
    .bind(acme.id)
    .bind(bolt.id)
    .execute(&pool)
    .await
    .unwrap();
    let moved = centre_keys::find(&pool, &kek(), bolt.id).await.unwrap_err();
    assert!(matches!(moved, DbError::KeyWontOpen), "{moved:?}");
}

/// A key an earlier version kept in the clear is sealed at start, and then opens the same.
#[tokio::test]
async fn a_key_kept_in_the_clear_is_sealed_at_start() {
    let pool = test_pool_with(2).await;
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    let seed = [0x5a; 32];
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    // As migration 0006 left it (the insert trigger of 0021 refuses clear keys now).
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE centre_keys DISABLE TRIGGER centre_keys_sealed_on_insert")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO centre_keys (centre_id, key_number, public_key, private_key) VALUES ($1, 1, $2, $3)",
    )
    .bind(centre.id)
    .bind(public.as_bytes().as_slice())
    .bind(seed.as_slice())
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("ALTER TABLE centre_keys ENABLE TRIGGER centre_keys_sealed_on_insert")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        centre_keys::seal_clear_keys(&pool, &kek()).await.unwrap(),
        1
    );
    assert_eq!(
        centre_keys::seal_clear_keys(&pool, &kek()).await.unwrap(),
        0
    );
    let rows = centre_keys_rows(&pool).await;
    assert!(!rows[0].to_string().contains(&hex(&seed)), "{}", rows[0]);
    let key = centre_keys::find(&pool, &kek(), centre.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.signing_key.to_bytes(), seed);
    assert_eq!(key.key_id(), vc::FIRST_KEY_ID);
    // Writing a clear key anew is refused.
    let clear = sqlx::query("UPDATE centre_keys SET private_key = private_key_sealed")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(matches!(DbError::from(clear), DbError::AppendOnly));
}

#[tokio::test]
async fn two_processes_asking_at_once_get_the_same_key() {
    let pool = test_pool_with(10).await;
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    // Separate tasks on separate connections, as two server processes would be.
    let asks: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { centre_keys::get_or_create(&pool, &kek(), centre.id).await })
        })
        .collect();
    let mut keys = Vec::new();
    for ask in asks {
        keys.push(ask.await.unwrap().unwrap().public_key());
    }
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM centre_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    // And later asks keep getting it.
    let again = centre_keys::get_or_create(&pool, &kek(), centre.id)
        .await
        .unwrap();
    assert_eq!(again.public_key(), keys[0]);
}

#[tokio::test]
async fn each_centre_has_its_own_key_made_on_first_use() {
    let pool = test_pool_with(2).await;
    let acme = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    let bolt = centres::create(&pool, "bolt", "Bolt College")
        .await
        .unwrap();
    assert!(centre_keys::find(&pool, &kek(), acme.id)
        .await
        .unwrap()
        .is_none());
    let a = centre_keys::get_or_create(&pool, &kek(), acme.id)
        .await
        .unwrap();
    let b = centre_keys::get_or_create(&pool, &kek(), bolt.id)
        .await
        .unwrap();
    assert_ne!(a.public_key(), b.public_key());
    let found = centre_keys::find(&pool, &kek(), acme.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.signing_key.to_bytes(), a.signing_key.to_bytes());
}

#[tokio::test]
async fn a_stored_key_signs_credentials_its_published_document_verifies() {
    let pool = test_pool_with(2).await;
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    let key = centre_keys::get_or_create(&pool, &kek(), centre.id)
        .await
        .unwrap();
    let base = "http://127.0.0.1:3000";
    let input = vc::CredentialInput {
        number: CredentialNumber::from_random([9; 8]),
        centre_id: centre.id,
        centre_name: centre.name.clone(),
        learner_name: "Lee".into(),
        qualification_code: "TINY/1".into(),
        qualification_title: "Tiny certificate".into(),
        qualification_level: 2,
        major_code: "ALL".into(),
        major_title: "All units".into(),
        units: Vec::new(),
        issued_at: datetime!(2026-01-05 09:00 UTC),
        status_list_index: 0,
    };
    let signer = vc::IssuerKey {
        id: &key.key_id(),
        key: &key.signing_key,
    };
    let credential = vc::issue(base, &input, signer).unwrap();
    // What the well-known address serves, read back from the database afresh.
    let stored = centre_keys::find(&pool, &kek(), centre.id)
        .await
        .unwrap()
        .unwrap();
    let document = vc::controller_document(
        &vc::issuer_id(base, centre.id),
        &[(stored.key_id(), stored.public_key())],
    );
    let method = credential["proof"][0]["verificationMethod"]
        .as_str()
        .unwrap();
    let published = vc::key_from_controller_document(&document, method).unwrap();
    assert_eq!(vc::verify(&credential, &published), Ok(()));
}

#[tokio::test]
async fn a_published_key_cannot_be_changed_or_deleted() {
    let pool = test_pool_with(2).await;
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    centre_keys::get_or_create(&pool, &kek(), centre.id)
        .await
        .unwrap();
    let change = sqlx::query("UPDATE centre_keys SET public_key = private_key")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(matches!(DbError::from(change), DbError::AppendOnly));
    let delete = sqlx::query("DELETE FROM centre_keys")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(matches!(DbError::from(delete), DbError::AppendOnly));
    // Retired once, never again, and never un-retired.
    centre_keys::rotate(&pool, &kek(), centre.id, None)
        .await
        .unwrap();
    for change in [
        "UPDATE centre_keys SET retired_at = retired_at + interval '1 day' WHERE key_number = 1",
        "UPDATE centre_keys SET retired_at = NULL WHERE key_number = 1",
        "UPDATE centre_keys SET private_key_sealed = private_key_sealed WHERE key_number = 2",
    ] {
        let refused = sqlx::query(change).execute(&pool).await.unwrap_err();
        assert!(
            matches!(DbError::from(refused), DbError::AppendOnly),
            "{change}"
        );
    }
}

#[tokio::test]
async fn the_register_holds_numbers_only_in_their_canonical_form() {
    let w = world().await;
    // Values 32..=36 end in each check-only symbol *~$=U; 37 in a digit.
    for v in 32..=37 {
        let id = insert_credential(&w.pool, &w, &number(v)).await.unwrap();
        cancel(&w.pool, id).await;
    }
    let random = CredentialNumber::from_random([0xa5; 8]).to_string();
    let live = insert_credential(&w.pool, &w, &random).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT number FROM credentials WHERE id = $1")
        .bind(live)
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(
        CredentialNumber::parse(&stored).unwrap().to_string(),
        random
    );
    cancel(&w.pool, live).await;

    for wrong in [
        "AB12-CD34-EF56",     // the old free form: no check symbol
        "0000-0000-0010-%2A", // the URL form
        "0000-0000-0010-*-",
        "0000-0000-001-0*",
        "0000-0000-0010*",
        "000000000010*",
        "0000-0000-00i0-*", // lower case, and a look-alike letter
        "0000-0000-00I0-*",
        "0000-0000-00L0-*",
        "0000-0000-00O0-*",
        "0000-0000-00U0-*", // U only as the check symbol
        "0000-0000-00*0-0",
        "0000-0000-0010-#",
        " 0000-0000-0010-*",
    ] {
        let err = insert_credential(&w.pool, &w, wrong).await.unwrap_err();
        assert!(
            matches!(err, DbError::Constraint { ref constraint, .. } if constraint == "credentials_number_format"),
            "{wrong}: {err:?}"
        );
    }
}

/// Cancels a credential, so the enrolment may have another.
async fn cancel(pool: &sqlx::PgPool, id: uuid::Uuid) {
    sqlx::query(
        "UPDATE credentials SET cancelled_at = now(), cancel_reason = 'test' WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
}

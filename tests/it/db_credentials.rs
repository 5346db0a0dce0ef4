//! Credential numbers in the register, and centres' signing keys (SPEC §6).
use attest::credentials::vc;
use attest::db::{centre_keys, centres, DbError};
use attest::domain::credential_number::CredentialNumber;
use attest::testing::test_pool_with;
use time::macros::datetime;

use crate::db_schema::{insert_credential, number};
use crate::helpers::world;

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
            tokio::spawn(async move { centre_keys::get_or_create(&pool, centre.id).await })
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
    let again = centre_keys::get_or_create(&pool, centre.id).await.unwrap();
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
    assert!(centre_keys::find(&pool, acme.id).await.unwrap().is_none());
    let a = centre_keys::get_or_create(&pool, acme.id).await.unwrap();
    let b = centre_keys::get_or_create(&pool, bolt.id).await.unwrap();
    assert_ne!(a.public_key(), b.public_key());
    let found = centre_keys::find(&pool, acme.id).await.unwrap().unwrap();
    assert_eq!(found.signing_key.to_bytes(), a.signing_key.to_bytes());
}

#[tokio::test]
async fn a_stored_key_signs_credentials_its_published_document_verifies() {
    let pool = test_pool_with(2).await;
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    let key = centre_keys::get_or_create(&pool, centre.id).await.unwrap();
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
    let credential = vc::issue(base, &input, &key.signing_key).unwrap();
    // What the well-known address serves, read back from the database afresh.
    let stored = centre_keys::find(&pool, centre.id).await.unwrap().unwrap();
    let document = vc::controller_document(&vc::issuer_id(base, centre.id), &stored.public_key());
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
    centre_keys::get_or_create(&pool, centre.id).await.unwrap();
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

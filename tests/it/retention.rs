//! Retention and erasure (issue 16 point 5): a portfolio past the centre's period is
//! listed and archived once (its files leave storage, its record stays); one still kept
//! is refused with the date; a learner's personal data is erased on request, with the
//! credential register and the assessment record kept under a pseudonym. Both logged.
use attest::testing::s3;
use attest::web::files::FileStore;
use attest::web::AppState;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::http::{form_post_as, get, multipart_as, send};
use crate::portfolio::{demo, Demo};

/// The app with its files in `bucket`, and a worker that removes files from it.
fn server(d: &Demo, bucket: &attest::storage::Bucket) -> AppState {
    let dir = std::env::temp_dir().join(format!("attest-retention-{}", Uuid::new_v4().simple()));
    AppState::from(attest::web::Services {
        files: FileStore::new(dir, 1024 * 1024).with_bucket(Some(bucket.clone())),
        ..attest::web::Services::new(d.pool.clone())
    })
}

/// Ben uploads an item with one file; returns the file's object name.
async fn upload(d: &Demo, state: &AppState) -> String {
    let ben = d.as_("ben").await;
    let fields = [
        ("title", "Site diary"),
        ("description", "Week one on site"),
        ("kind", "document"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    let r = send(
        state.clone(),
        multipart_as(
            &ben,
            &format!("/enrolments/{}/evidence", d.ben.id),
            &fields,
            &[("diary.txt", b"Monday: footings")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let key: String = sqlx::query_scalar(
        "SELECT f.storage_key FROM evidence_files f JOIN evidence e ON e.id = f.evidence_id \
          WHERE e.enrolment_id = $1 AND e.title = 'Site diary'",
    )
    .bind(d.ben.id)
    .fetch_one(&d.pool)
    .await
    .expect("the file");
    format!("files/{key}")
}

/// The credential number the tests give Ben.
fn number() -> String {
    attest::domain::credential_number::CredentialNumber::from_value(0x0BE4_D000_0001)
        .expect("a number")
        .to_string()
}

/// Gives Ben's enrolment a credential issued `days` ago, as the register would have it.
async fn certified(d: &Demo, days: i32) {
    let mut tx = d.pool.begin().await.expect("tx");
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("triggers off");
    sqlx::query(
        "INSERT INTO credentials (number, enrolment_id, centre_id, learner_name, qualification_code, \
                                  qualification_title, qualification_level, major_code, major_title, \
                                  centre_name, requested_at, generated_at, issued_at, status_list_index) \
         SELECT $3, e.id, e.centre_id, l.display_name, 'Q1', 'Diploma', 2, 'M1', 'Major', \
                'Demo College', now() - make_interval(days => $2 + 2), \
                now() - make_interval(days => $2 + 1), now() - make_interval(days => $2), 999 \
           FROM enrolments e JOIN users l ON l.id = e.learner_id WHERE e.id = $1",
    )
    .bind(d.ben.id)
    .bind(days)
    .bind(number())
    .execute(&mut *tx)
    .await
    .expect("a credential");
    tx.commit().await.expect("commit");
}

async fn wait_for_no_object(bucket: &attest::storage::Bucket, key: &str) {
    crate::mail_queue::wait_until("the file to leave the bucket", || async {
        let keys = bucket.keys("files/").await.expect("a listing");
        (!keys.iter().any(|k| k == key)).then_some(())
    })
    .await;
}

async fn ticks_of(d: &Demo) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM ticks t JOIN evidence e ON e.id = t.evidence_id WHERE e.enrolment_id = $1",
    )
    .bind(d.ben.id)
    .fetch_one(&d.pool)
    .await
    .expect("a count")
}

async fn actions(d: &Demo, action: &str) -> Vec<serde_json::Value> {
    sqlx::query_scalar("SELECT detail FROM activity_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&d.pool)
        .await
        .expect("entries")
}

struct Setup {
    d: Demo,
    bucket: attest::storage::Bucket,
    state: AppState,
    worker: attest::jobs::WorkerHandle,
    /// The object of the file Ben uploaded.
    object: String,
}

/// The demo centre with its files in a bucket of its own, a worker that removes files
/// from it, and one item of Ben's with a file.
async fn setup() -> Setup {
    let d = demo().await;
    let (bucket, _) = s3::bucket().await;
    let state = server(&d, &bucket);
    let worker = attest::jobs::spawn(
        d.pool.clone(),
        attest::jobs::renderer("http://localhost"),
        attest::jobs::WorkerConfig {
            files: state.files.clone(),
            documents: attest::credentials::store::DocumentStore::new(std::env::temp_dir())
                .with_bucket(Some(bucket.clone())),
            ..Default::default()
        },
    );
    let object = upload(&d, &state).await;
    Setup {
        d,
        bucket,
        state,
        worker,
        object,
    }
}

#[tokio::test]
async fn a_portfolio_past_retention_is_archived_once_and_its_files_leave_storage() {
    let Setup {
        d,
        bucket,
        state,
        worker,
        object,
    } = setup().await;
    assert!(bucket.keys("files/").await.unwrap().contains(&object));
    let admin = d.as_("admin").await;
    let archive = format!("/admin/retention/{}/archive", d.ben.id);

    // Certified two years ago: kept, and refused with the day it may go.
    certified(&d, 2 * 365).await;
    let page = send(state.clone(), get("/admin/retention", Some(&admin))).await;
    assert!(
        page.body
            .contains("No portfolio is past its retention period"),
        "{}",
        page.body
    );
    let refused = send(state.clone(), form_post_as(&admin, &archive, "")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body.contains("must be kept until"),
        "{}",
        refused.body
    );

    // The centre keeps portfolios one year: now it is past, listed, and archived.
    let saved = send(
        state.clone(),
        form_post_as(&admin, "/admin/retention", "retention_years=1"),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = send(state.clone(), get("/admin/retention", Some(&admin))).await;
    assert!(page.body.contains(&number()), "{}", page.body);
    let done = send(state.clone(), form_post_as(&admin, &archive, "")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/admin/retention?archived=1")
    );
    wait_for_no_object(&bucket, &object).await;

    // The record stays: the item, its file's row (marked removed), the credential.
    let (items, removed, numbers): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM evidence WHERE enrolment_id = $1), \
                (SELECT count(*) FROM evidence_files f JOIN evidence e ON e.id = f.evidence_id \
                  WHERE e.enrolment_id = $1 AND f.removed_at IS NOT NULL), \
                (SELECT count(*) FROM credentials WHERE enrolment_id = $1)",
    )
    .bind(d.ben.id)
    .fetch_one(&d.pool)
    .await
    .unwrap();
    assert!(items > 1, "every item stays");
    // The item says its file was removed, and the file's address says it is gone.
    let (evidence_id, file_id): (Uuid, Uuid) = sqlx::query_as(
        "SELECT f.evidence_id, f.id FROM evidence_files f JOIN evidence e ON e.id = f.evidence_id \
          WHERE e.enrolment_id = $1 AND e.title = 'Site diary'",
    )
    .bind(d.ben.id)
    .fetch_one(&d.pool)
    .await
    .unwrap();
    let tom = d.as_("assessor").await;
    let item = format!("/enrolments/{}/evidence/{evidence_id}", d.ben.id);
    let shown = send(state.clone(), get(&item, Some(&tom))).await;
    assert!(
        shown.body.contains("removed from storage"),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains(&format!("/files/{file_id}")));
    let gone = send(
        state.clone(),
        get(&format!("{item}/files/{file_id}"), Some(&tom)),
    )
    .await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert_eq!(removed, 1);
    assert_eq!(numbers, 1);
    // Once: no longer listed, and a second archive is refused.
    let page = send(state.clone(), get("/admin/retention", Some(&admin))).await;
    assert!(!page.body.contains(&number()));
    let again = send(state.clone(), form_post_as(&admin, &archive, "")).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(actions(&d, "portfolio archived").await.len(), 1);
    assert_eq!(actions(&d, "retention period changed").await.len(), 1);
    worker.shutdown().await;
}

#[tokio::test]
async fn a_learner_erased_on_request_is_pseudonymised_and_the_record_stays() {
    let Setup {
        d,
        bucket,
        state,
        worker,
        object,
    } = setup().await;
    certified(&d, 30).await;
    // The register's documents, kept in the bucket with their SHA-256 in the register.
    let credential: Uuid = sqlx::query_scalar("SELECT id FROM credentials WHERE enrolment_id = $1")
        .bind(d.ben.id)
        .fetch_one(&d.pool)
        .await
        .unwrap();
    let documents = attest::credentials::store::DocumentStore::new(std::env::temp_dir())
        .with_bucket(Some(bucket.clone()));
    let pdf = documents
        .write(
            credential,
            attest::credentials::store::Document::IssuedPdf,
            b"%PDF-1.7 Ben Carter".to_vec(),
        )
        .await
        .unwrap();
    let vc = documents
        .write(
            credential,
            attest::credentials::store::Document::SignedJson,
            b"{\"name\":\"Ben Carter\"}".to_vec(),
        )
        .await
        .unwrap();
    sqlx::query(
        "UPDATE credentials SET pdf_sha256 = $2, pdf_size = $3, vc_sha256 = $4, vc_size = $5 WHERE id = $1",
    )
    .bind(credential)
    .bind(&pdf.sha256)
    .bind(pdf.size as i64)
    .bind(&vc.sha256)
    .bind(vc.size as i64)
    .execute(&d.pool)
    .await
    .unwrap();
    assert_eq!(bucket.keys("credentials/").await.unwrap().len(), 2);
    let ben = d.as_("ben").await;
    let ticks_before = ticks_of(&d).await;
    let admin = d.as_("admin").await;
    let learner = d.ben.learner_id;
    let confirm = send(
        state.clone(),
        get(&format!("/admin/people/{learner}/erase"), Some(&admin)),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("cannot be undone"));
    let done = send(
        state.clone(),
        form_post_as(&admin, &format!("/admin/people/{learner}/erase"), ""),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    wait_for_no_object(&bucket, &object).await;
    // The person's page says so, and no longer offers an erasure a second one would refuse.
    let person = send(
        state.clone(),
        get(&format!("/admin/people/{learner}"), Some(&admin)),
    )
    .await;
    assert_eq!(person.status, StatusCode::OK);
    assert!(
        !person
            .body
            .contains(&format!("/admin/people/{learner}/erase")),
        "{}",
        person.body
    );
    assert!(
        person.body.contains("Personal data erased on"),
        "{}",
        person.body
    );

    let (name, email, password, register): (String, String, Option<String>, String) =
        sqlx::query_as(
            "SELECT u.display_name, u.email, u.password_hash, c.learner_name FROM users u \
           JOIN enrolments e ON e.learner_id = u.id JOIN credentials c ON c.enrolment_id = e.id \
          WHERE u.id = $1",
        )
        .bind(learner)
        .fetch_one(&d.pool)
        .await
        .unwrap();
    assert!(name.starts_with("Erased learner "), "{name}");
    assert!(email.ends_with("@erased.invalid"), "{email}");
    assert_eq!(password, None);
    assert_eq!(register, name, "the register names the pseudonym");
    // Its documents bore the name: gone from the bucket, their SHA-256 kept.
    crate::mail_queue::wait_until("the documents to leave the bucket", || async {
        bucket
            .keys("credentials/")
            .await
            .expect("a listing")
            .is_empty()
            .then_some(())
    })
    .await;
    let kept: Option<String> =
        sqlx::query_scalar("SELECT pdf_sha256 FROM credentials WHERE id = $1")
            .bind(credential)
            .fetch_one(&d.pool)
            .await
            .unwrap();
    assert_eq!(kept, Some(pdf.sha256.clone()));
    let document = send(
        state.clone(),
        get(
            &format!("/enrolments/{}/credential.pdf", d.ben.id),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(document.status, StatusCode::GONE, "{}", document.body);
    assert!(document.body.contains("erased"), "{}", document.body);
    // Nothing of Ben's remains where a search would find it.
    let left: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM users WHERE display_name ILIKE '%Ben Carter%' OR email ILIKE 'ben@%' \
         UNION ALL SELECT count(*) FROM credentials WHERE learner_name ILIKE '%Ben Carter%'",
    )
    .fetch_all(&d.pool)
    .await
    .unwrap()
    .into_iter()
    .sum();
    assert_eq!(left, 0);
    // The assessment record stays whole.
    let ticks_after = ticks_of(&d).await;
    assert_eq!(ticks_after, ticks_before);
    // Signed out everywhere: the old session opens nothing.
    let page = send(
        state.clone(),
        get(&format!("/enrolments/{}", d.ben.id), Some(&ben)),
    )
    .await;
    assert_ne!(page.status, StatusCode::OK);
    let logged = actions(&d, "learner erased").await;
    assert_eq!(logged.len(), 1);
    assert!(!logged[0].to_string().contains("Ben"), "{}", logged[0]);
    // Once.
    let again = send(
        state.clone(),
        form_post_as(&admin, &format!("/admin/people/{learner}/erase"), ""),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    worker.shutdown().await;
}

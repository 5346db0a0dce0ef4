//! Two servers, one database, one bucket (issue 16 points 1 and 3): each server has its
//! own data folder, and still evidence uploaded through one downloads through the other
//! (a redirect to a short-lived presigned address, made only after the access check),
//! the register's documents and stored emails are in the bucket, and a change that does
//! not commit leaves no object behind.
use attest::credentials::store::{Document, DocumentStore, StoreError};
use attest::testing::s3;
use attest::web::files::FileStore;
use attest::web::AppState;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::http::{get, multipart_as, send};
use crate::portfolio::demo;
use crate::storage::attest_get;

fn folder() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("attest-server-{}", Uuid::new_v4().simple()))
}

/// A server of its own data folder, keeping files in `bucket`.
fn server(pool: &sqlx::PgPool, bucket: &attest::storage::Bucket) -> (AppState, std::path::PathBuf) {
    let dir = folder();
    let state = AppState::from(attest::web::Services {
        files: FileStore::new(dir.join("files"), 1024 * 1024).with_bucket(Some(bucket.clone())),
        documents: DocumentStore::new(dir.join("credentials")).with_bucket(Some(bucket.clone())),
        ..attest::web::Services::new(pool.clone())
    });
    (state, dir)
}

/// Files kept under a folder, leaving out the partial uploads' own folder.
fn kept_under(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "partial")
                .collect()
        })
        .unwrap_or_default()
}

const FIELDS: [(&str, &str); 5] = [
    ("title", "Site photos and notes"),
    ("description", ""),
    ("kind", "document"),
    ("declared", "yes"),
    ("signed_name", "Ben Carter"),
];

#[tokio::test]
async fn evidence_uploaded_through_one_server_downloads_through_the_other() {
    let d = demo().await;
    let (bucket, _) = s3::bucket().await;
    let (one, one_dir) = server(&d.pool, &bucket);
    let (other, other_dir) = server(&d.pool, &bucket);
    let ben = d.as_("ben").await;
    let notes: Vec<u8> = b"Notes from the site visit\n".repeat(4000);
    let added = send(
        one.clone(),
        multipart_as(
            &ben,
            &format!("/enrolments/{}/evidence", d.ben.id),
            &FIELDS,
            &[("notes.txt", &notes)],
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let (evidence_id, file_id, key): (Uuid, Uuid, String) = sqlx::query_as(
        "SELECT f.evidence_id, f.id, f.storage_key FROM evidence_files f \
         JOIN evidence e ON e.id = f.evidence_id \
         WHERE e.enrolment_id = $1 AND e.title = 'Site photos and notes'",
    )
    .bind(d.ben.id)
    .fetch_one(&d.pool)
    .await
    .expect("the file's row");
    // In the bucket, and in neither server's folder.
    assert_eq!(
        bucket.keys("files/").await.unwrap(),
        vec![format!("files/{key}")]
    );
    assert_eq!(kept_under(&one_dir.join("files")), Vec::<String>::new());

    let uri = format!(
        "/enrolments/{}/evidence/{evidence_id}/files/{file_id}",
        d.ben.id
    );
    // Another learner, and nobody signed in: not found, and no address to the bytes.
    let amira = d.as_("amira").await;
    let refused = send(other.clone(), get(&uri, Some(&amira))).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(refused.location.is_none());
    let anonymous = send(other.clone(), get(&uri, None)).await;
    assert!(
        anonymous
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        anonymous.location
    );

    // The assessor, through the other server: sent on to the bucket, for minutes only.
    let tom = d.as_("assessor").await;
    let served = send(other.clone(), get(&uri, Some(&tom))).await;
    assert_eq!(served.status, StatusCode::SEE_OTHER);
    let location: url::Url = served.location.expect("a redirect").parse().unwrap();
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query.get("X-Amz-Expires").map(String::as_str), Some("300"));
    let (status, headers, body) = attest_get(&location).await;
    assert_eq!(status, 200);
    assert!(body == notes, "the same bytes");
    // Text is never shown as a page: an attachment, whatever it holds.
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    assert!(headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"notes.txt\""));
    assert_eq!(kept_under(&other_dir.join("files")), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(one_dir);
    let _ = std::fs::remove_dir_all(other_dir);
}

/// The database refuses the file's row after the file went to the bucket: the object
/// is removed again.
#[tokio::test]
async fn objects_of_a_change_that_does_not_commit_are_removed() {
    let d = demo().await;
    let (bucket, _) = s3::bucket().await;
    let (one, dir) = server(&d.pool, &bucket);
    for statement in [
        "CREATE FUNCTION refuse_files() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'injected fault'; END; $$",
        "CREATE TRIGGER refuse_files BEFORE INSERT ON evidence_files \
         FOR EACH ROW EXECUTE FUNCTION refuse_files()",
    ] {
        sqlx::query(statement)
            .execute(&d.pool)
            .await
            .expect("fault");
    }
    let ben = d.as_("ben").await;
    let r = send(
        one,
        multipart_as(
            &ben,
            &format!("/enrolments/{}/evidence", d.ben.id),
            &FIELDS,
            &[("a.txt", b"one"), ("b.txt", b"two")],
        ),
    )
    .await;
    assert!(r.status.is_server_error(), "{} {}", r.status, r.body);
    // Removed in the background: wait for the state, never for a time.
    let mut left = bucket.keys("files/").await.unwrap();
    for _ in 0..500 {
        if left.is_empty() {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        left = bucket.keys("files/").await.unwrap();
    }
    assert_eq!(left, Vec::<String>::new(), "no object left");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_registers_documents_in_the_bucket_are_checked_as_they_are_read() {
    let (bucket, _) = s3::bucket().await;
    let store = DocumentStore::new(folder()).with_bucket(Some(bucket.clone()));
    let id = Uuid::new_v4();
    let kept = store
        .write(id, Document::IssuedPdf, b"%PDF-1.7 issued".to_vec())
        .await
        .unwrap();
    // Another server reads it back through its own store of the same bucket.
    let elsewhere = DocumentStore::new(folder()).with_bucket(Some(bucket.clone()));
    assert_eq!(
        elsewhere
            .read(id, Document::IssuedPdf, &kept)
            .await
            .unwrap(),
        b"%PDF-1.7 issued"
    );
    let keys = bucket.keys("credentials/").await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].contains(&kept.sha256), "{keys:?}");
    // Changed in the bucket: refused, never served.
    bucket
        .put_bytes(&keys[0], b"%PDF-1.7 forged".to_vec())
        .await
        .unwrap();
    assert!(matches!(
        elsewhere.read(id, Document::IssuedPdf, &kept).await,
        Err(StoreError::Mismatch { .. })
    ));
    bucket.delete(&keys[0]).await.unwrap();
    assert!(matches!(
        elsewhere.read(id, Document::IssuedPdf, &kept).await,
        Err(StoreError::Bucket { .. })
    ));
}

/// `attest serve --storage s3://…` with keys from the environment: it says where files
/// go, and with no SMTP server the email of a person added goes to the bucket as .eml.
#[tokio::test]
async fn serve_keeps_stored_email_in_the_bucket_its_setting_names() {
    use crate::serve::{add_ana_as_demo_admin, free_port, interrupt_and_wait, start_with};
    let (bucket, address) = s3::bucket().await;
    let pool = attest::testing::test_pool().await;
    let url = crate::helpers::database_url(&pool);
    let data = attest::testing::test_dir().join(format!("serve-s3-{}", Uuid::new_v4().simple()));
    let port = free_port();
    let setting = s3::setting(&address);
    let (mut child, lines) = tokio::task::spawn_blocking(move || {
        let data_arg = data.to_str().expect("utf-8").to_string();
        let addr = format!("127.0.0.1:{port}");
        start_with(
            &[
                "--data-dir",
                &data_arg,
                "serve",
                "--demo",
                "--addr",
                &addr,
                "--storage",
                &setting,
            ],
            Some(&url),
            &[
                ("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY),
                ("AWS_SECRET_ACCESS_KEY", s3::SECRET_KEY),
            ],
        )
    })
    .await
    .expect("join");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Files are kept in Bucket") && l.contains(&address.name)),
        "{lines:?}"
    );
    let reply = tokio::task::spawn_blocking(move || add_ana_as_demo_admin(port))
        .await
        .expect("join");
    assert!(reply.starts_with("HTTP/1.0 201"), "{reply}");
    let keys = crate::mail_queue::wait_until("the stored email", || {
        let bucket = bucket.clone();
        async move {
            let keys = bucket.keys("mail/").await.expect("a listing");
            (!keys.is_empty()).then_some(keys)
        }
    })
    .await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let message = bucket.get_bytes(&keys[0]).await.expect("the message");
    let parsed = mail_parser::MessageParser::default()
        .parse(&message)
        .expect("parses");
    let to = parsed.to().and_then(|a| a.first()).expect("recipient");
    assert_eq!(to.address(), Some("ana@example.es"));
    tokio::task::spawn_blocking(move || interrupt_and_wait(&mut child))
        .await
        .expect("join");
}

#[test]
fn serve_refuses_a_storage_setting_it_cannot_use() {
    let data =
        attest::testing::test_dir().join(format!("serve-bad-s3-{}", Uuid::new_v4().simple()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_attest"))
        .args(["--data-dir", data.to_str().expect("utf-8"), "serve"])
        .args(["--storage", "/srv/evidence"])
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run attest");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--storage") && said.contains("s3://bucket"),
        "{said}"
    );
}

//! Evidence text (issue 17, point 1): an item's text is read by a job after the upload,
//! never in the request; read again when a file is added or its description changes;
//! forgotten at once when its files leave storage; and read for the items that were
//! there before, by a walking job. A photo says it has no text.
use std::io::Write;

use attest::web::files::FileStore;
use attest::web::AppState;
use axum::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::http::{get, multipart_as, send};
use crate::mail_queue::wait_until;
use crate::portfolio::{demo, Demo};

const PARAGRAPH: &str = "I listened to the caller and asked what she needed before the weekend.";

fn docx(paragraph: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    // The body first: how the upload's content sniffer knows a Word file from any zip.
    for (name, body) in [
        (
            "word/document.xml",
            format!(
                r#"<?xml version="1.0"?><w:document xmlns:w="w"><w:body><w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p></w:body></w:document>"#
            ),
        ),
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#.to_string(),
        ),
    ] {
        zip.start_file(name, stored).expect("start");
        zip.write_all(body.as_bytes()).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

struct Setup {
    d: Demo,
    state: AppState,
    worker: attest::jobs::WorkerHandle,
}

fn setup_with(d: Demo) -> Setup {
    let dir = std::env::temp_dir().join(format!("attest-text-{}", Uuid::new_v4().simple()));
    let state = AppState::from(attest::web::Services {
        files: FileStore::new(dir, 1024 * 1024),
        ..attest::web::Services::new(d.pool.clone())
    });
    let worker = attest::jobs::spawn(
        d.pool.clone(),
        attest::jobs::renderer("http://localhost"),
        attest::jobs::WorkerConfig {
            files: state.files.clone(),
            // As `serve` does: the worker's walks give way to this server's requests.
            load: state.load.clone(),
            ..Default::default()
        },
    );
    Setup { d, state, worker }
}

/// Ben uploads an item with `file`; returns its id.
async fn upload(s: &Setup, title: &str, file: (&str, &[u8])) -> Uuid {
    let ben = s.d.as_("ben").await;
    let fields = [
        ("title", title),
        ("description", "Written at work"),
        ("kind", "document"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    let r = send(
        s.state.clone(),
        multipart_as(
            &ben,
            &format!("/enrolments/{}/evidence", s.d.ben.id),
            &fields,
            &[file],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    sqlx::query_scalar("SELECT id FROM evidence WHERE enrolment_id = $1 AND title = $2")
        .bind(s.d.ben.id)
        .bind(title)
        .fetch_one(&s.d.pool)
        .await
        .expect("the item")
}

/// The item's text and files once the reading wanted now is written.
async fn read(s: &Setup, item: Uuid) -> (String, Vec<Value>) {
    wait_until("the item's text to be read", || async {
        let text = attest::db::evidence_texts::get(&s.d.pool, item)
            .await
            .expect("a text row");
        text.current.then(|| {
            (
                text.text,
                text.files.as_array().cloned().unwrap_or_default(),
            )
        })
    })
    .await
}

/// The item's page as Ben sees it.
async fn item_page(s: &Setup, item: Uuid) -> String {
    let ben = s.d.as_("ben").await;
    let path = format!("/enrolments/{}/evidence/{item}", s.d.ben.id);
    let r = send(s.state.clone(), get(&path, Some(&ben))).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body
}

async fn wanted(s: &Setup, item: Uuid) -> i32 {
    sqlx::query_scalar("SELECT wanted FROM evidence_texts WHERE evidence_id = $1")
        .bind(item)
        .fetch_one(&s.d.pool)
        .await
        .expect("wanted")
}

#[tokio::test]
async fn an_uploaded_document_is_read_after_the_request_and_again_when_it_changes() {
    let s = setup_with(demo().await);
    let item = upload(&s, "Call notes", ("notes.docx", &docx(PARAGRAPH))).await;
    let (text, files) = read(&s, item).await;
    assert_eq!(
        text,
        format!("Call notes\n\nWritten at work\n\n{PARAGRAPH}")
    );
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["outcome"], "text");
    assert_eq!(files[0]["name"], "notes.docx");
    assert_eq!(files[0]["words"], PARAGRAPH.split_whitespace().count());
    let page = item_page(&s, item).await;
    assert!(
        page.contains("notes.docx</a> <span class=\"hint\">(0 KB; text read: 13 words)"),
        "{page}"
    );

    // A file added to the item (as a witness's second answer adds one): read again.
    let key = "ab".repeat(16);
    std::fs::create_dir_all(s.state.files.dir()).unwrap();
    std::fs::write(s.state.files.dir().join(&key), "Then I rang her back.").unwrap();
    let before = wanted(&s, item).await;
    attest::db::evidence::add_file(
        &s.d.pool,
        &attest::db::evidence::NewFile {
            evidence_id: item,
            file_name: "follow-up.txt",
            content_type: "text/plain",
            size_bytes: 21,
            storage_key: &key,
            sha256: None,
            uploaded_by: s.d.ben.learner_id,
        },
    )
    .await
    .expect("a file");
    assert_eq!(wanted(&s, item).await, before + 1);
    let (text, files) = read(&s, item).await;
    assert!(
        text.ends_with(&format!("{PARAGRAPH}\n\nThen I rang her back.")),
        "{text}"
    );
    assert_eq!(files.len(), 2);

    // The description changed (a witness's account rewritten): read again.
    sqlx::query("UPDATE evidence SET description = 'Rewritten' WHERE id = $1")
        .bind(item)
        .execute(&s.d.pool)
        .await
        .unwrap();
    let (text, _) = read(&s, item).await;
    assert!(text.starts_with("Call notes\n\nRewritten\n\n"), "{text}");

    // Its files leave storage (archive, erasure): the text read from them goes at once,
    // in the same transaction, before any job runs.
    let mut tx = s.d.pool.begin().await.unwrap();
    sqlx::query("UPDATE evidence_files SET removed_at = now() WHERE evidence_id = $1")
        .bind(item)
        .execute(&mut *tx)
        .await
        .unwrap();
    let (kept, files): (String, Value) =
        sqlx::query_as("SELECT text, files FROM evidence_texts WHERE evidence_id = $1")
            .bind(item)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!((kept.as_str(), files), ("", serde_json::json!([])));
    tx.commit().await.unwrap();
    let (text, files) = read(&s, item).await;
    assert_eq!(text, "Call notes\n\nRewritten");
    assert!(files.is_empty());
    s.worker.shutdown().await;
}

#[tokio::test]
async fn a_photo_says_it_has_no_text_and_its_bytes_are_not_fetched() {
    let s = setup_with(demo().await);
    let mut photo = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec();
    photo.resize(4096, 7);
    let item = upload(&s, "Display photo", ("display.jpg", &photo)).await;
    // Gone from the store before the job runs: a photo is judged by its type alone.
    let key: String =
        sqlx::query_scalar("SELECT storage_key FROM evidence_files WHERE evidence_id = $1")
            .bind(item)
            .fetch_one(&s.d.pool)
            .await
            .unwrap();
    let _ = std::fs::remove_file(s.state.files.dir().join(key));
    let (text, files) = read(&s, item).await;
    assert_eq!(text, "Display photo\n\nWritten at work");
    assert_eq!(files[0]["outcome"], "no_text");
    assert_eq!(files[0]["why"], "photo");
    let page = item_page(&s, item).await;
    assert!(page.contains("(4 KB; a photo: no text to read)"), "{page}");
    s.worker.shutdown().await;
}

#[tokio::test]
async fn items_from_before_are_read_by_a_job_walking_them_in_chunks() {
    let d = demo().await;
    // 60 more items (more than one chunk), then every item as if it came before texts.
    for i in 0..60 {
        attest::db::evidence::add(
            &d.pool,
            &attest::db::evidence::NewEvidence {
                enrolment_id: d.amira.id,
                title: &format!("Old item {i}"),
                description: "From last year",
                kind: attest::db::evidence::EvidenceKind::Document,
                added_by: d.amira.learner_id,
            },
        )
        .await
        .expect("an item");
    }
    sqlx::query("DELETE FROM jobs WHERE kind = 'evidence text'")
        .execute(&d.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE evidence_texts SET done = NULL, text = ''")
        .execute(&d.pool)
        .await
        .unwrap();
    attest::db::jobs::enqueue(
        &mut d.pool.acquire().await.unwrap(),
        attest::db::evidence_texts::BACKFILL_JOB,
        serde_json::json!({}),
        "evidence texts backfill start",
    )
    .await
    .unwrap();
    let s = setup_with(d);
    wait_until("every item to be read, and the walk to end", || async {
        let (unread, walking): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM evidence_texts WHERE done IS NULL), \
                    (SELECT count(*) FROM jobs WHERE kind = $1 AND state IN ('queued', 'running'))",
        )
        .bind(attest::db::evidence_texts::BACKFILL_JOB)
        .fetch_one(&s.d.pool)
        .await
        .unwrap();
        (unread == 0 && walking == 0).then_some(())
    })
    .await;
    let (walks, failed): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE state <> 'succeeded') FROM jobs WHERE kind = $1",
    )
    .bind(attest::db::evidence_texts::BACKFILL_JOB)
    .fetch_one(&s.d.pool)
    .await
    .unwrap();
    assert!(walks >= 2, "more than one chunk: {walks}");
    assert_eq!(failed, 0);
    // Each step after the first was queued to rest before it ran (the walk leaves the
    // worker to other work most of the time).
    let rushed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE kind = $1 AND payload ? 'after' AND run_at <= created_at",
    )
    .bind(attest::db::evidence_texts::BACKFILL_JOB)
    .fetch_one(&s.d.pool)
    .await
    .unwrap();
    assert_eq!(rushed, 0, "every next step rested first");
    let old: String = sqlx::query_scalar(
        "SELECT t.text FROM evidence_texts t JOIN evidence e ON e.id = t.evidence_id \
          WHERE e.title = 'Old item 59'",
    )
    .fetch_one(&s.d.pool)
    .await
    .unwrap();
    assert_eq!(old, "Old item 59\n\nFrom last year");
    s.worker.shutdown().await;
}

/// The walk over a whole centre's items gives way to requests (`attest::load`): while a
/// request is in flight it takes no item, and it goes on once the server is quiet.
#[tokio::test]
async fn a_walk_waits_while_the_server_answers_requests_and_goes_on_when_it_is_quiet() {
    let d = demo().await;
    sqlx::query("DELETE FROM jobs WHERE kind = 'evidence text'")
        .execute(&d.pool)
        .await
        .unwrap();
    let items: i64 = sqlx::query_scalar(
        "WITH u AS (UPDATE evidence_texts SET done = NULL, text = '' RETURNING 1) \
         SELECT count(*) FROM u",
    )
    .fetch_one(&d.pool)
    .await
    .unwrap();
    assert!(items > 1, "the demo has items to read again: {items}");
    let s = setup_with(d);
    let load = s.state.load.clone();
    // A request in flight, as the middleware counts one, before the walk is queued.
    let in_flight = load.start();
    attest::db::jobs::enqueue(
        &mut s.d.pool.acquire().await.unwrap(),
        attest::db::evidence_texts::BACKFILL_JOB,
        serde_json::json!({}),
        "evidence texts backfill start",
    )
    .await
    .unwrap();
    wait_until("the walk to wait for a quiet spell", || async {
        (load.walks_waiting() == 1).then_some(())
    })
    .await;
    let unread = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM evidence_texts WHERE done IS NULL")
            .fetch_one(&s.d.pool)
            .await
            .unwrap()
    };
    assert_eq!(
        unread().await,
        items,
        "no item is read while the server is busy"
    );
    // Every request the router answers is counted.
    let before = load.requests();
    let r = send(s.state.clone(), get("/login", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(load.requests(), before + 1);
    drop(in_flight);
    wait_until("every item to be read once the server is quiet", || async {
        (unread().await == 0).then_some(())
    })
    .await;
    assert_eq!(load.walks_waiting(), 0);
    s.worker.shutdown().await;
}

//! Resumable uploads (issue 15, point 4): a big file goes in pieces, a dropped connection
//! resumes where it stopped without sending again what arrived, and the finished upload
//! becomes an evidence item's file once, however often the form is sent.
use std::net::SocketAddr;
use std::time::Duration;

use attest::web::{router, AppState};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::http::{get, multipart_as, send, Reply};
use crate::portfolio::demo;

const MB: usize = 1024 * 1024;

fn state(pool: &sqlx::PgPool, dir: &std::path::Path) -> AppState {
    AppState::from(attest::web::Services {
        files: attest::web::files::FileStore::new(dir.to_path_buf(), 4 * MB as u64)
            .with_media_limit(32 * MB as u64),
        ..attest::web::Services::new(pool.clone())
    })
}

fn store() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("attest-resumable-{}", Uuid::new_v4().simple()))
}

/// A video's start as a phone writes it (an MP4 `ftyp` box), then `len` bytes of filler.
fn mp4(len: usize) -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    v.extend((0..len).map(|i| (i % 251) as u8));
    v
}

fn png(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    v.resize(len, 7);
    v
}

fn create(cookie: &str, enrolment: Uuid, length: usize, name: &str) -> Request<Body> {
    use base64::Engine;
    let metadata = format!(
        "filename {}",
        base64::engine::general_purpose::STANDARD.encode(name)
    );
    Request::post(format!("/enrolments/{enrolment}/uploads"))
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .header("tus-resumable", "1.0.0")
        .header("upload-length", length.to_string())
        .header("upload-metadata", metadata)
        .body(Body::empty())
        .expect("request")
}

fn piece(cookie: &str, at: &str, offset: usize, bytes: &[u8]) -> Request<Body> {
    Request::patch(at)
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .header("tus-resumable", "1.0.0")
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(Body::from(bytes.to_vec()))
        .expect("request")
}

fn header_of(r: &Reply, name: &str) -> Option<String> {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Where the upload at `at` stands, as HEAD answers.
async fn offset(s: &AppState, cookie: &str, at: &str) -> Option<usize> {
    let request = Request::head(at)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    let r = send(s.clone(), request).await;
    (r.status == StatusCode::OK).then(|| {
        header_of(&r, "upload-offset")
            .and_then(|v| v.parse().ok())
            .expect("an offset")
    })
}

/// The app on a real socket, for a client that drops its connection.
async fn listening(s: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, router(s)).await.expect("serving");
    });
    address
}

/// Sends a piece's headers for all of `bytes` and only the first `sent` of them, then
/// drops the connection, as a phone losing signal does.
async fn cut_piece(address: SocketAddr, cookie: &str, at: &str, bytes: &[u8], sent: usize) {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "PATCH {at} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nSec-Fetch-Site: same-origin\r\n\
         Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n\
         Content-Length: {}\r\n\r\n",
        bytes.len()
    );
    stream.write_all(head.as_bytes()).await.expect("headers");
    stream.write_all(&bytes[..sent]).await.expect("a part");
    stream.shutdown().await.expect("closing");
    // The server may answer or just close; either way the connection is gone.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut rest)).await;
}

#[tokio::test]
async fn a_video_sent_in_pieces_resumes_where_the_connection_dropped_and_is_kept_once() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let dir = store();
    let s = state(&d.pool, &dir);
    let video = mp4(3 * MB);

    let r = send(
        s.clone(),
        create(&ben, d.ben.id, video.len(), "site visit.mp4"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(header_of(&r, "tus-resumable").as_deref(), Some("1.0.0"));
    let at = r.location.clone().expect("the upload's address");
    assert_eq!(offset(&s, &ben, &at).await, Some(0));

    // The connection drops a third of the way through the first piece.
    let arrived = MB + 4321;
    cut_piece(listening(s.clone()).await, &ben, &at, &video, arrived).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while offset(&s, &ben, &at).await != Some(arrived) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upload never stood at {arrived}: {:?}",
            offset(&s, &ben, &at).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Starting again from the beginning is refused with where it stands: nothing doubles.
    let r = send(s.clone(), piece(&ben, &at, 0, &video[..10])).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(header_of(&r, "upload-offset"), Some(arrived.to_string()));

    // The rest, from where it stands, in two pieces.
    let middle = 2 * MB;
    let r = send(
        s.clone(),
        piece(&ben, &at, arrived, &video[arrived..middle]),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(header_of(&r, "upload-offset"), Some(middle.to_string()));
    let r = send(s.clone(), piece(&ben, &at, middle, &video[middle..])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(offset(&s, &ben, &at).await, Some(video.len()));

    // The form names the upload; sent twice (its answer lost), it makes one item.
    let upload = at.rsplit('/').next().expect("id").to_string();
    let key = Uuid::new_v4().to_string();
    let title = format!("Filmed site visit {key}");
    let fields = [
        ("title", title.as_str()),
        ("description", "Filmed on the day"),
        ("kind", "photo"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
        ("upload", upload.as_str()),
        ("client_key", key.as_str()),
    ];
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let first = send(s.clone(), multipart_as(&ben, &uri, &fields, &[])).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = send(s.clone(), multipart_as(&ben, &uri, &fields, &[])).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(again.location, first.location, "the same item both times");
    let items: i64 = sqlx::query_scalar("SELECT count(*) FROM evidence WHERE title = $1")
        .bind(&title)
        .fetch_one(&d.pool)
        .await
        .expect("count");
    assert_eq!(items, 1);

    // The item's file is the video, byte for byte, kept as what it is.
    let page = send(
        s.clone(),
        get(&first.location.clone().expect("item"), Some(&ben)),
    )
    .await;
    assert!(page.body.contains("site visit.mp4"), "{}", page.body);
    let (name, content_type, digest): (String, String, String) = sqlx::query_as(
        "SELECT f.file_name, f.content_type, f.sha256 FROM evidence_files f \
         JOIN evidence e ON e.id = f.evidence_id WHERE e.title = $1",
    )
    .bind(&title)
    .fetch_one(&d.pool)
    .await
    .expect("the file");
    assert_eq!(
        (name.as_str(), content_type.as_str()),
        ("site visit.mp4", "video/mp4")
    );
    let expected: String = Sha256::digest(&video)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, expected);

    // The upload is the item's now: its own bytes are gone, and it cannot be used again.
    assert!(
        std::fs::read_dir(dir.join("resumable"))
            .expect("the folder")
            .next()
            .is_none(),
        "no upload bytes left behind"
    );
    let other: Vec<(&str, &str)> = fields
        .iter()
        .copied()
        .filter(|(n, _)| *n != "client_key")
        .collect();
    let r = send(s.clone(), multipart_as(&ben, &uri, &other, &[])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("missing or has not finished"), "{}", r.body);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_upload_is_refused_for_what_it_is_and_nobody_else_may_touch_it() {
    let d = demo().await;
    let (ben, amira) = (d.as_("ben").await, d.as_("amira").await);
    let dir = store();
    let s = state(&d.pool, &dir);

    // Larger than any file may be: refused before a byte is sent.
    let r = send(s.clone(), create(&ben, d.ben.id, 33 * MB, "huge.mp4")).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("32 MB"), "{}", r.body);
    // Another learner's enrolment is unknown.
    let r = send(s.clone(), create(&ben, d.amira.id, 10, "x.png")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A photo is held to the photo limit once its start is in, and is then gone.
    let photo = png(5 * MB);
    let r = send(s.clone(), create(&ben, d.ben.id, photo.len(), "wall.png")).await;
    let at = r.location.clone().expect("created");
    let r = send(s.clone(), piece(&ben, &at, 0, &photo[..8192])).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("4 MB"), "{}", r.body);
    assert_eq!(offset(&s, &ben, &at).await, None, "the upload is gone");

    // A program is refused once all of it is in, and is then gone.
    let program = {
        let mut p = b"\x7fELF\x02\x01\x01\0".to_vec();
        p.resize(6000, 0);
        p
    };
    let r = send(
        s.clone(),
        create(&ben, d.ben.id, program.len(), "notes.pdf"),
    )
    .await;
    let at = r.location.clone().expect("created");
    let r = send(s.clone(), piece(&ben, &at, 0, &program)).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    assert_eq!(offset(&s, &ben, &at).await, None, "the upload is gone");

    // Pieces that are not pieces, or go past the end.
    let small = png(1000);
    let r = send(s.clone(), create(&ben, d.ben.id, small.len(), "small.png")).await;
    let at = r.location.clone().expect("created");
    let mut wrong = piece(&ben, &at, 0, &small);
    wrong.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/octet-stream".parse().expect("value"),
    );
    assert_eq!(
        send(s.clone(), wrong).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let mut no_offset = piece(&ben, &at, 0, &small);
    no_offset.headers_mut().remove("upload-offset");
    assert_eq!(
        send(s.clone(), no_offset).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut longer = small.clone();
    longer.extend_from_slice(b"more");
    let r = send(s.clone(), piece(&ben, &at, 0, &longer)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // Nobody else sees, sends to or discards it.
    assert_eq!(offset(&s, &amira, &at).await, None);
    let r = send(s.clone(), piece(&amira, &at, 0, &small)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let assessor = d.as_("iqa").await;
    assert_eq!(offset(&s, &assessor, &at).await, None);

    // A form naming it before it is finished is refused and changes nothing.
    let upload = at.rsplit('/').next().expect("id").to_string();
    let title = format!("Unfinished {}", Uuid::new_v4());
    let fields = [
        ("title", title.as_str()),
        ("description", ""),
        ("kind", "photo"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
        ("upload", upload.as_str()),
    ];
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let r = send(s.clone(), multipart_as(&ben, &uri, &fields, &[])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains(&title), "what was typed is kept");
    let items: i64 = sqlx::query_scalar("SELECT count(*) FROM evidence WHERE title = $1")
        .bind(&title)
        .fetch_one(&d.pool)
        .await
        .expect("count");
    assert_eq!(items, 0);

    // Its owner discards it.
    let discard = Request::delete(&at)
        .header(header::COOKIE, &ben)
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        send(s.clone(), discard).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(offset(&s, &ben, &at).await, None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Pieces are on the disk of the server that began the upload. Reached through another
/// server (no affinity at the proxy, or the first is gone), the upload is not found, and
/// the client starts it again there: never a server error, never bytes mixed up.
#[tokio::test]
async fn an_upload_reached_through_another_server_is_not_found_so_it_starts_again() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let (one_dir, other_dir) = (store(), store());
    let (one, other) = (state(&d.pool, &one_dir), state(&d.pool, &other_dir));
    let video = mp4(MB);
    let r = send(one.clone(), create(&ben, d.ben.id, video.len(), "clip.mp4")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let at = r.location.clone().expect("the upload's address");
    let r = send(one.clone(), piece(&ben, &at, 0, &video[..1000])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    let head = Request::head(&at)
        .header(header::COOKIE, &ben)
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        send(other.clone(), head).await.status,
        StatusCode::NOT_FOUND
    );
    let r = send(other.clone(), piece(&ben, &at, 1000, &video[1000..])).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // The first server still has it where it stood.
    assert_eq!(offset(&one, &ben, &at).await, Some(1000));
    // Finished there, but its item sent to the other: the form says to send it again,
    // keeps what was typed, and makes nothing.
    let r = send(one.clone(), piece(&ben, &at, 1000, &video[1000..])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let upload = at.rsplit('/').next().expect("an id").to_string();
    let fields = [
        ("title", "Clip from the other server"),
        ("description", ""),
        ("kind", "video"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
        ("upload", upload.as_str()),
    ];
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let r = send(other.clone(), multipart_as(&ben, &uri, &fields, &[])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("missing or has not finished"), "{}", r.body);
    assert!(r.body.contains("Clip from the other server"));
    let _ = std::fs::remove_dir_all(one_dir);
    let _ = std::fs::remove_dir_all(other_dir);
}

//! Evidence files as what they are (issue 15, point 4): a file's type is read from its
//! content against an allow-list, whatever its name or the browser's claim; photos,
//! video and audio show in the page and are served in the byte ranges a player asks for
//! (so a video seeks); anything else stays an attachment.
use attest::db::evidence;
use attest::web::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use uuid::Uuid;

use crate::http::{get, multipart_as, send};
use crate::portfolio::demo;

const FIELDS: [(&str, &str); 5] = [
    ("title", "Site visit"),
    ("description", "Filmed on the day"),
    ("kind", "photo"),
    ("declared", "yes"),
    ("signed_name", "Ben Carter"),
];

fn state(pool: &sqlx::PgPool, dir: &std::path::Path) -> AppState {
    AppState::from(attest::web::Services {
        files: attest::web::files::FileStore::new(dir.to_path_buf(), 4 * 1024 * 1024),
        ..attest::web::Services::new(pool.clone())
    })
}

/// A video file's start as a phone writes it (an MP4 `ftyp` box), then `len` bytes of
/// text-safe filler, so that the reply's body reads back byte for byte.
fn mp4(len: usize) -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    v.extend((0..len).map(|i| b'a' + (i % 26) as u8));
    v
}

fn file_link(page: &str) -> String {
    page.split("href=\"")
        .skip(1)
        .filter_map(|p| p.split('"').next())
        .find(|href| href.contains("/files/"))
        .expect("a file link")
        .to_string()
}

#[tokio::test]
async fn a_file_is_kept_as_what_its_content_is_and_a_program_is_refused() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let dir = std::env::temp_dir().join(format!("attest-media-{}", Uuid::new_v4().simple()));
    let uri = format!("/enrolments/{}/evidence", d.ben.id);

    // A PNG named as a JPEG: kept, served and shown as the PNG it is.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
    let r = send(
        state(&d.pool, &dir),
        multipart_as(&ben, &uri, &FIELDS, &[("wall.jpg", png)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let item = r.location.expect("the item");
    let evidence_id: Uuid = item.rsplit('/').next().expect("id").parse().expect("uuid");
    let kept = evidence::list_files(&d.pool, evidence_id)
        .await
        .expect("files");
    assert_eq!(kept[0].content_type, "image/png");
    let page = send(state(&d.pool, &dir), get(&item, Some(&ben)))
        .await
        .body;
    assert!(
        page.contains(r#"<img class="evidence-media""#)
            && page.contains(r#"alt="Photo: wall.jpg""#),
        "{page}"
    );
    let served = send(state(&d.pool, &dir), get(&file_link(&page), Some(&ben))).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.headers[header::CONTENT_TYPE], "image/png");
    assert!(served.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ASCII")
        .starts_with("inline; filename=\"wall.jpg\""));
    assert_eq!(served.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

    // A program named as a photo: refused beside the field, the typed text kept,
    // nothing added, nothing left on disk.
    let before = evidence::list_for_enrolment(&d.pool, d.ben.id)
        .await
        .expect("list")
        .len();
    let on_disk = std::fs::read_dir(&dir).expect("dir").count();
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0";
    let r = send(
        state(&d.pool, &dir),
        multipart_as(&ben, &uri, &FIELDS, &[("holiday.jpg", elf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("Select photos, videos, audio recordings or documents"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("“holiday.jpg” is not a photo, video, audio recording or document"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Filmed on the day"), "typed text kept");
    assert_eq!(
        evidence::list_for_enrolment(&d.pool, d.ben.id)
            .await
            .expect("list")
            .len(),
        before
    );
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), on_disk);
    let partial = std::fs::read_dir(dir.join("partial"))
        .expect("partial")
        .count();
    assert_eq!(partial, 0, "no partial file left");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_video_plays_in_the_page_and_is_served_in_the_ranges_a_player_asks_for() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let dir = std::env::temp_dir().join(format!("attest-media-{}", Uuid::new_v4().simple()));
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let video = mp4(200 * 1024);
    let r = send(
        state(&d.pool, &dir),
        multipart_as(&ben, &uri, &FIELDS, &[("visit.mp4", &video)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let item = r.location.expect("the item");
    let page = send(state(&d.pool, &dir), get(&item, Some(&ben)))
        .await
        .body;
    assert!(
        page.contains(r#"<video class="evidence-media" controls preload="metadata""#)
            && page.contains(r#"aria-label="Video: visit.mp4""#),
        "{page}"
    );
    let link = file_link(&page);

    // Whole: offered in ranges.
    let whole = send(state(&d.pool, &dir), get(&link, Some(&ben))).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.headers[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(whole.headers[header::ACCEPT_RANGES], "bytes");
    assert_eq!(whole.body.as_bytes(), &video[..]);

    // A seek: exactly the bytes asked for.
    let ranged = |range: &str| {
        Request::get(&link)
            .header(header::COOKIE, &ben)
            .header(header::RANGE, range)
            .body(Body::empty())
            .expect("request")
    };
    let part = send(state(&d.pool, &dir), ranged("bytes=100000-100999")).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers[header::CONTENT_RANGE],
        format!("bytes 100000-100999/{}", video.len()).as_str()
    );
    assert_eq!(part.body.as_bytes(), &video[100_000..101_000]);
    // The end of the file, as a player reads an index kept there.
    let tail = send(state(&d.pool, &dir), ranged("bytes=-500")).await;
    assert_eq!(tail.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.body.as_bytes(), &video[video.len() - 500..]);
    // Past the end: said so, nothing sent.
    let past = send(
        state(&d.pool, &dir),
        ranged(&format!("bytes={}-", video.len() + 10)),
    )
    .await;
    assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE);

    // Another learner may not have even a range of it.
    let amira = d.as_("amira").await;
    let r = send(
        state(&d.pool, &dir),
        Request::get(&link)
            .header(header::COOKIE, &amira)
            .header(header::RANGE, "bytes=0-99")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each kind of file has its own limit, read from its content: a video may be larger
/// than a photo, and each is refused above its own with that limit named.
#[tokio::test]
async fn video_and_audio_have_their_own_size_limit() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let dir = std::env::temp_dir().join(format!("attest-media-{}", Uuid::new_v4().simple()));
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let limited = || {
        AppState::from(attest::web::Services {
            files: attest::web::files::FileStore::new(dir.clone(), 1024 * 1024)
                .with_media_limit(3 * 1024 * 1024),
            ..attest::web::Services::new(d.pool.clone())
        })
    };
    let new_form = send(limited(), get(&format!("{uri}/new"), Some(&ben))).await;
    assert!(
        new_form.body.contains(
            "Documents and photos up to 1 MB each, videos and recordings up to 3 MB each."
        ),
        "{}",
        new_form.body
    );
    // A 2 MB video: over the photo limit, within the video one.
    let video = mp4(2 * 1024 * 1024);
    let r = send(
        limited(),
        multipart_as(&ben, &uri, &FIELDS, &[("visit.mp4", &video)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A 2 MB photo: over its limit.
    let mut photo = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec();
    photo.resize(2 * 1024 * 1024, b'j');
    let r = send(
        limited(),
        multipart_as(&ben, &uri, &FIELDS, &[("wall.jpg", &photo)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body.contains("“wall.jpg” is larger than the 1 MB limit"),
        "{}",
        r.body
    );
    // A 4 MB video: over the video limit.
    let big = mp4(4 * 1024 * 1024);
    let r = send(
        limited(),
        multipart_as(&ben, &uri, &FIELDS, &[("long.mp4", &big)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body.contains("“long.mp4” is larger than the 3 MB limit"),
        "{}",
        r.body
    );
    // Text has no signature: a text file a little over the document limit is held to it.
    let notes = vec![b'n'; 1024 * 1024 + 10];
    let r = send(
        limited(),
        multipart_as(&ben, &uri, &FIELDS, &[("notes.txt", &notes)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    let _ = std::fs::remove_dir_all(&dir);
}

//! Resource limits (issue 11, point 3): connections that send their request slowly or
//! sit idle are closed; a body over a limit is refused whole with the limit named; an
//! evidence form carries a bounded number of files.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use attest::db::{centres, evidence, qualifications};
use attest::demo::load::DEMO_CENTRE_SLUG;
use attest::testing::test_pool;
use attest::web::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use uuid::Uuid;

use crate::helpers::database_url;
use crate::http::{multipart_as, send, signed_in};
use crate::portfolio::demo;
use crate::serve::{free_port, interrupt_and_wait, start_with};

/// Reads until the server closes the connection; `None` if it has not within the
/// guard (a failure guard, far beyond the timeout under test).
fn read_until_closed(stream: &mut TcpStream) -> Option<Vec<u8>> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset is the server closing too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(got),
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_and_shutdown_still_waits_for_none() {
    let pool = test_pool().await;
    let url = database_url(&pool);
    let data = attest::testing::test_dir().join(format!("limits-{}", Uuid::new_v4().simple()));
    let port = free_port();
    let (mut child, _) = tokio::task::block_in_place(|| {
        start_with(
            &[
                "--data-dir",
                data.to_str().expect("utf-8"),
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
            ],
            Some(&url),
            &[("ATTEST_HEADER_TIMEOUT_SECS", "1")],
        )
    });
    tokio::task::block_in_place(|| {
        // Slowloris: part of a request line and headers, then nothing.
        let mut slow = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        slow.write_all(b"GET /help HTTP/1.1\r\nHost: loc")
            .expect("write");
        let closed = read_until_closed(&mut slow);
        assert!(
            closed.is_some(),
            "a connection that never finishes its headers is closed"
        );

        // Keep-alive: one request answered, then the idle connection is closed.
        let mut idle = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .expect("write");
        let answer = read_until_closed(&mut idle).expect("the idle connection is closed");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"),
            "{answer}"
        );

        // An idle connection does not hold up a graceful shutdown.
        let mut waiting = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        waiting
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .expect("write");
        let mut first = [0u8; 12];
        waiting.read_exact(&mut first).expect("answered");
        interrupt_and_wait(&mut child);
    });
    let _ = std::fs::remove_dir_all(&data);
}

/// A qualification file of `units` units, each followed by a comment line of
/// `padding` bytes: a file that stays valid TOML wherever it is cut in a comment.
fn padded_qualification(code: &str, units: usize, padding: usize) -> String {
    let mut toml = format!(
        "[qualification]\ncode = \"{code}\"\ntitle = \"Padded diploma\"\nlevel = 2\n\
         awarding_body = \"Test Body\"\n"
    );
    for u in 0..units {
        toml.push_str(&format!(
            "\n[[unit]]\ncode = \"{}\"\ntitle = \"Unit {u}\"\nlevel = 2\ncredits = 3\n\
             [[unit.outcome]]\nnumber = \"1\"\ntitle = \"Outcome\"\n\
             [[unit.outcome.criterion]]\nnumber = \"1.1\"\ntext = \"Do the thing\"\n# {}\n",
            300 + u,
            "x".repeat(padding)
        ));
    }
    toml
}

#[tokio::test]
async fn a_qualification_file_over_the_limit_is_refused_whole_with_the_limit_named() {
    let pool = test_pool().await;
    attest::demo::load::load_if_empty(&pool)
        .await
        .expect("demo");
    let cookie = signed_in(
        AppState::new(pool.clone()),
        "admin@demo.attest.test",
        attest::demo::load::DEMO_PASSWORD,
    )
    .await;
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let before = qualifications::list_versions(&pool, centre.id)
        .await
        .expect("versions");
    // 30 units in about 3 MB.
    let file = padded_qualification("BIG/3MB", 30, 100 * 1024);
    assert!(file.len() > 3_000_000);
    let boundary = "attest-limit-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.toml\"\r\n\
         Content-Type: application/toml\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    // Sent as a browser on a slow link may: in pieces, with no length given first.
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let request = Request::post("/admin/qualifications")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from_stream(futures_util::stream::iter(pieces)))
        .expect("request");
    let r = send(AppState::new(pool.clone()), request).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body
            .contains("over the 2 MB limit for a qualification file"),
        "the limit is named: {}",
        r.body
    );
    let after = qualifications::list_versions(&pool, centre.id)
        .await
        .expect("versions");
    assert_eq!(after.len(), before.len(), "nothing was imported");
    assert!(after.iter().all(|v| v.code != "BIG/3MB"));

    // A file within the limit, of the same shape, imports every unit.
    let small = padded_qualification("BIG/1MB", 30, 30 * 1024);
    assert!(small.len() < 1_000_000);
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"small.toml\"\r\n\
         Content-Type: application/toml\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(small.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post("/admin/qualifications")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .expect("request");
    let r = send(AppState::new(pool.clone()), request).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let version: Uuid = r
        .location
        .expect("to the version")
        .rsplit('/')
        .next()
        .expect("id")
        .parse()
        .expect("uuid");
    let loaded = qualifications::load_version(&pool, version)
        .await
        .expect("version");
    assert_eq!(loaded.qualification.units.len(), 30);
}

#[tokio::test]
async fn an_evidence_form_with_too_many_files_is_refused_keeping_the_text() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let files_dir = std::env::temp_dir().join(format!("attest-files-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&files_dir).expect("dir");
    let state = || {
        AppState::from(attest::web::Services {
            files: attest::web::files::FileStore::new(files_dir.clone(), 1024 * 1024),
            ..attest::web::Services::new(d.pool.clone())
        })
    };
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let fields = [
        ("title", "Two thousand receipts"),
        ("description", "One per sale"),
        ("kind", "document"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    let before = evidence::list_for_enrolment(&d.pool, d.ben.id)
        .await
        .expect("list")
        .len();
    let names: Vec<String> = (0..2000).map(|i| format!("receipt-{i}.txt")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let r = send(state(), multipart_as(&ben, &uri, &fields, &files)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Attach at most 20 files"),
        "the limit named next to the field: {}",
        r.body
    );
    assert!(
        r.body.contains("Two thousand receipts") && r.body.contains("One per sale"),
        "typed text kept"
    );
    assert_eq!(
        evidence::list_for_enrolment(&d.pool, d.ben.id)
            .await
            .expect("list")
            .len(),
        before,
        "nothing saved"
    );
    let left: Vec<_> = [files_dir.clone(), files_dir.join("partial")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
        .collect();
    assert_eq!(left.len(), 0, "no file left on disk");

    // Twenty files are fine.
    let r = send(state(), multipart_as(&ben, &uri, &fields, &files[..20])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let _ = std::fs::remove_dir_all(&files_dir);
}

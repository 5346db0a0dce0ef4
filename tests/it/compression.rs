//! Every HTML page, fragment and CSV is sent gzip-compressed to a browser that accepts
//! it, once (kept pages carry their own gzip), and plain to one that does not.
use std::io::Read;

use attest::web::{router, AppState};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

use crate::portfolio::demo;

/// (status, content-encoding, the body as sent).
async fn fetch(
    state: AppState,
    uri: &str,
    cookie: &str,
    gzip: bool,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let mut request = Request::get(uri).header(header::COOKIE, cookie);
    if gzip {
        request = request.header(header::ACCEPT_ENCODING, "gzip, deflate, br");
    }
    let response = router(state)
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().expect("ascii").to_string());
    let body = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body")
        .to_vec();
    (status, encoding, body)
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .expect("a gzip stream of UTF-8");
    out
}

#[tokio::test]
async fn pages_fragments_and_csv_are_compressed_once_when_the_browser_accepts_gzip() {
    let d = demo().await;
    let admin = d.as_("admin").await;
    let tom = d.as_("assessor").await;
    let e = format!("/enrolments/{}", d.ben.id);
    for (cookie, uri) in [
        (&admin, "/".to_string()),
        (&admin, "/admin/enrolments".to_string()),
        (&admin, "/admin/enrolments.csv".to_string()),
        (&admin, "/admin/dashboard".to_string()),
        (&tom, "/caseload".to_string()),
        (&tom, e.clone()),
        (&tom, format!("{e}/activity")),
        (&tom, format!("{e}/progress")),
        (&tom, format!("{e}/audit")),
        (&tom, "/static/attest.css".to_string()),
    ] {
        let state = AppState::new(d.pool.clone());
        let (status, encoding, zipped) = fetch(state.clone(), &uri, cookie, true).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(encoding.as_deref(), Some("gzip"), "{uri}");
        let (_, plain_encoding, plain) = fetch(state, &uri, cookie, false).await;
        assert_eq!(plain_encoding, None, "{uri}: plain without Accept-Encoding");
        let unzipped = gunzip(&zipped);
        assert!(zipped.len() < plain.len(), "{uri}: smaller");
        // Compressed once: what comes out is the page itself, not another gzip.
        assert!(
            unzipped.starts_with("<!doctype html>")
                || unzipped.starts_with('\u{feff}')
                || unzipped.starts_with("/*"),
            "{uri}: {}",
            &unzipped[..40.min(unzipped.len())]
        );
    }
}

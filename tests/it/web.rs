//! The HTTP surface of the Foundation: health, readiness, the home page, static files.
use attest::db::{centres, qualifications};
use attest::demo::DEMO_QUALIFICATION;
use attest::domain::import::{self, Format};
use attest::testing::test_pool;
use attest::web::{router, AppState};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sqlx::PgPool;
use tower::ServiceExt;

async fn get(pool: &PgPool, uri: &str) -> (StatusCode, String, String) {
    let app = router(AppState::new(pool.clone()));
    let response = app
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let pool = test_pool().await;
    assert_eq!(get(&pool, "/healthz").await.0, StatusCode::OK);
    let (status, _, body) = get(&pool, "/readyz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready"));
}

#[tokio::test]
async fn readyz_says_unavailable_without_a_database() {
    let pool = test_pool().await;
    pool.close().await;
    let (status, _, body) = get(&pool, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, "database unavailable");
    // The process itself is still up.
    assert_eq!(get(&pool, "/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn home_page_needs_a_signed_in_user() {
    let pool = test_pool().await;
    let centre = centres::create(&pool, "ngc", "Northgate College")
        .await
        .expect("centre");
    let q = import::parse(DEMO_QUALIFICATION, Format::Toml).expect("demo parses");
    qualifications::import(&pool, centre.id, &q, None)
        .await
        .expect("import");
    let (status, _, body) = get(&pool, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        !body.contains("Northgate College"),
        "nothing of the centre is shown signed out"
    );
}

#[tokio::test]
async fn stylesheet_is_served_and_unknown_paths_are_404_pages() {
    let pool = test_pool().await;
    let (status, content_type, body) = get(&pool, "/static/attest.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/css"));
    assert!(body.contains(".tag-withdrawn"));
    let (status, _, body) = get(&pool, "/static/nope.css").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"));
    assert_eq!(get(&pool, "/no/such/page").await.0, StatusCode::NOT_FOUND);
}

//! Behind a reverse proxy (issue 16, point 4): the rate limits count the client the
//! proxy names in `X-Forwarded-For` when, and only when, the connection comes from a
//! configured proxy; from anywhere else the header is the sender's own word, ignored.
use std::net::SocketAddr;
use std::sync::Arc;

use attest::domain::client_address::Proxies;
use attest::testing::test_pool;
use attest::web::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request};

use crate::http::send;

async fn failed_sign_in(state: &AppState, peer: &str, forwarded: Option<&str>) {
    let mut b = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin");
    if let Some(f) = forwarded {
        b = b.header("x-forwarded-for", f);
    }
    let mut request = b
        .body(Body::from(
            "email=nobody%40proxies.test&password=not+the+right+one",
        ))
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().expect("address")));
    send(state.clone(), request).await;
}

/// Which of `addresses` the sign-in limits count failures against.
async fn counted(pool: &sqlx::PgPool, addresses: &[&str]) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT address FROM login_throttles WHERE scope = 'address' AND address = ANY($1) \
         ORDER BY address",
    )
    .bind(addresses)
    .fetch_all(pool)
    .await
    .expect("the counters")
}

#[tokio::test]
async fn the_limits_count_the_client_a_trusted_proxy_names_and_no_one_else_s_claim() {
    let pool = test_pool().await;
    let behind = AppState::from(attest::web::Services {
        proxies: Arc::new(Proxies::parse("192.0.2.10, 10.20.0.0/16").expect("proxies")),
        ..attest::web::Services::new(pool.clone())
    });
    let open = AppState::new(pool.clone());
    let all = [
        "192.0.2.10",
        "10.20.3.4",
        "198.51.100.23",
        "198.51.100.99",
        "203.0.113.77",
        "192.0.2.201",
        "198.51.100.55",
        "203.0.113.1",
    ];

    // Through two trusted proxies, with a forged hop the client wrote on the left.
    failed_sign_in(
        &behind,
        "192.0.2.10:5000",
        Some("203.0.113.1, 198.51.100.23, 10.20.3.4"),
    )
    .await;
    // Straight from the internet, claiming to be someone else.
    failed_sign_in(&behind, "203.0.113.77:4000", Some("198.51.100.99")).await;
    // No proxies configured: the header counts for nothing, even from a proxy's address.
    failed_sign_in(&open, "192.0.2.201:4000", Some("198.51.100.55")).await;

    assert_eq!(
        counted(&pool, &all).await,
        ["192.0.2.201", "198.51.100.23", "203.0.113.77"]
    );
}

//! Ending every session of one account at once (issue 12): each session carries the
//! account's generation from sign-in, and a bump signs all of them out on every server.
use attest::db::{password_tokens, users};
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;

use crate::helpers::learner;
use crate::http::{enc, form_post, get, send, session_cookie, signed_in};

const PASSWORD: &str = "a long enough password";

async fn lee(pool: &sqlx::PgPool) -> uuid::Uuid {
    let centre = attest::db::centres::create(pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let lee = learner(pool, centre.id, "lee@acme.test").await;
    let hash = password::hash(PASSWORD).expect("hash");
    users::set_password_hash(pool, lee.id, &hash)
        .await
        .expect("password");
    lee.id
}

async fn stands(state: &AppState, cookie: &str) -> bool {
    let r = send(state.clone(), get("/", Some(cookie))).await;
    match r.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => false,
        other => panic!("home answered {other}: {}", r.body),
    }
}

#[tokio::test]
async fn ending_an_accounts_sessions_signs_out_every_one_and_a_new_sign_in_stands() {
    let pool = test_pool().await;
    let lee = lee(&pool).await;
    let state = AppState::new(pool.clone());
    let phone = signed_in(state.clone(), "lee@acme.test", PASSWORD).await;
    let laptop = signed_in(state.clone(), "lee@acme.test", PASSWORD).await;
    assert!(stands(&state, &phone).await && stands(&state, &laptop).await);

    let generation = users::end_sessions(&pool, lee).await.expect("end sessions");
    assert_eq!(generation, 1);
    // The same state: its memory of the sessions (auth::memo) does not decide.
    assert!(!stands(&state, &phone).await, "the phone's session ended");
    assert!(!stands(&state, &laptop).await, "the laptop's session ended");
    // A second server sees the same.
    let other = AppState::new(pool.clone());
    assert!(!stands(&other, &laptop).await);

    let again = signed_in(state.clone(), "lee@acme.test", PASSWORD).await;
    assert!(stands(&state, &again).await, "signing in again works");
}

#[tokio::test]
async fn a_password_set_by_link_ends_the_other_sessions_and_keeps_the_one_it_signs_in() {
    let pool = test_pool().await;
    let lee = lee(&pool).await;
    let state = AppState::new(pool.clone());
    let elsewhere = signed_in(state.clone(), "lee@acme.test", PASSWORD).await;
    assert!(stands(&state, &elsewhere).await);

    let token = password_tokens::create(&pool, lee).await.expect("token");
    let new = "another long password";
    let r = send(
        state.clone(),
        form_post(
            &format!("/set-password/{token}"),
            &format!("password={}&confirm={}", enc(new), enc(new)),
            "192.0.2.9",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let here = session_cookie(&r);
    assert!(
        stands(&state, &here).await,
        "the reset signs this browser in"
    );
    assert!(
        !stands(&state, &elsewhere).await,
        "a session from before the reset no longer stands"
    );
}

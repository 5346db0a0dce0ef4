//! The help page: open to everyone, linked from every page, the journey in plain words.
use attest::db::users;
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;

use crate::helpers::learner;
use crate::http::{get, send, signed_in};

#[tokio::test]
async fn help_is_open_to_everyone_and_explains_the_journey() {
    let pool = test_pool().await;
    let r = send(AppState::new(pool), get("/help", None)).await;
    assert_eq!(r.status, StatusCode::OK, "no sign-in needed: {}", r.body);
    assert_eq!(r.body.matches("<h1").count(), 1, "one h1");
    assert!(r.body.contains("<main"), "a main landmark");
    for step in [
        "Add evidence",
        "Tick what you think it meets",
        "The assessor confirms",
        "Why can’t the learner see the progress?",
        "Accept all learner ticks",
        "Accept all trainee assessor ticks",
        "countersigns",
        "Action required",
        "confirmed criteria only",
    ] {
        assert!(r.body.contains(step), "help explains {step:?}");
    }
    assert!(!r.body.contains("Signed in as"), "nobody is signed in");
}

const PASSWORD: &str = "a long enough password";

/// Lee, a learner of a new centre, with a password: their id.
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

#[tokio::test]
async fn a_signed_in_visitor_sees_who_they_are_and_every_page_links_to_help() {
    let pool = test_pool().await;
    lee(&pool).await;
    let state = AppState::new(pool);
    let cookie = signed_in(state.clone(), "lee@acme.test", PASSWORD).await;
    let r = send(state.clone(), get("/help", Some(&cookie))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .body
        .contains("Signed in as <strong>lee@acme.test</strong>"));
    for page in ["/", "/login", "/help"] {
        let cookie = (page != "/login").then_some(cookie.as_str());
        let r = send(state.clone(), get(page, cookie)).await;
        assert!(
            r.body.contains(r#"<a href="/help">Help</a>"#),
            "{page} links to help"
        );
    }
}

/// Issue 11, point 10: /help checks the session as every other page does. A session the
/// database no longer stands behind (the account deactivated, or the session ended
/// elsewhere) reads as signed out there too, and is forgotten.
#[tokio::test]
async fn help_reads_a_session_that_no_longer_stands_as_signed_out() {
    let pool = test_pool().await;
    let lee = lee(&pool).await;
    let state = AppState::new(pool.clone());
    let signed_in_as = "Signed in as <strong>lee@acme.test</strong>";

    let deactivated = signed_in(state.clone(), "lee@acme.test", PASSWORD).await;
    let ended = signed_in(state.clone(), "lee@acme.test", PASSWORD).await;
    for cookie in [&deactivated, &ended] {
        let r = send(state.clone(), get("/help", Some(cookie))).await;
        assert!(
            r.body.contains(signed_in_as),
            "both sessions stand at first"
        );
    }

    // One session ends in the database (signed out elsewhere): help no longer shows it.
    let session_id = ended
        .split(';')
        .next()
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("cookie value");
    let removed = sqlx::query("DELETE FROM tower_sessions.session WHERE id = $1")
        .bind(&session_id)
        .execute(&pool)
        .await
        .expect("end the session")
        .rows_affected();
    assert_eq!(removed, 1, "the cookie names a stored session");
    // The same state: its memory of the session (auth::memo) is not what decides.
    let r = send(state.clone(), get("/help", Some(&ended))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.body.contains("Signed in as"),
        "an ended session: {}",
        r.body
    );

    // The account is deactivated: its other session reads as signed out too.
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(lee)
        .execute(&pool)
        .await
        .expect("deactivate");
    let r = send(state.clone(), get("/help", Some(&deactivated))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.body.contains("Signed in as"),
        "a deactivated account: {}",
        r.body
    );
    let r = send(state, get("/", Some(&deactivated))).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "and every page sends them to sign in"
    );
}

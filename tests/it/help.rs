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

#[tokio::test]
async fn a_signed_in_visitor_sees_who_they_are_and_every_page_links_to_help() {
    let pool = test_pool().await;
    let centre = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let lee = learner(&pool, centre.id, "lee@acme.test").await;
    let hash = password::hash("a long enough password").expect("hash");
    users::set_password_hash(&pool, lee.id, &hash)
        .await
        .expect("password");
    let state = AppState::new(pool);
    let cookie = signed_in(state.clone(), "lee@acme.test", "a long enough password").await;
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

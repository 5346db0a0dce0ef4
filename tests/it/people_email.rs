//! A new person is emailed their one-time set-password link; the admin still sees it,
//! and a failed email loses neither the person nor the link.
use attest::db::{activity, users};
use attest::mail::Mailer;
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use mail_parser::MessageParser;
use sqlx::PgPool;

use crate::http::{enc, form_post, form_post_as, get, send, signed_in};
use crate::people::{admin_session, link_in};
use crate::smtp::{Answer, SmtpServer};

const KHAI: &str = "Nguyễn Thị Minh Khai";

fn state(pool: &PgPool, server: &SmtpServer) -> AppState {
    AppState {
        mailer: Mailer::smtp(&server.url, "Northgate College <no-reply@ngc.ac.uk>")
            .expect("mailer"),
        ..AppState::new(pool.clone())
    }
}

fn add_khai_form() -> String {
    format!(
        "display_name={}&email=khai%40example.vn&kind=learner",
        enc(KHAI)
    )
}

#[tokio::test]
async fn a_new_person_is_emailed_the_link_and_the_emailed_link_sets_their_password() {
    let pool = test_pool().await;
    let server = SmtpServer::start(Answer::Accept).await;
    let (centre, cookie) = admin_session(&pool).await;
    let r = send(
        state(&pool, &server),
        form_post_as(&cookie, "/admin/people", &add_khai_form()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        r.body.contains("We have emailed") && r.body.contains("khai@example.vn"),
        "{}",
        r.body
    );
    let shown = link_in(&r.body);

    let received = server.received();
    assert_eq!(received.len(), 1, "one email");
    assert_eq!(received[0].rcpt_to, vec!["khai@example.vn".to_string()]);
    let parsed = MessageParser::default()
        .parse(&received[0].data)
        .expect("parses");
    let to = parsed.to().and_then(|a| a.first()).expect("recipient");
    assert_eq!(to.name(), Some(KHAI));
    assert_eq!(
        parsed.subject(),
        Some("Set your password for Northgate College")
    );
    let text = parsed.body_text(0).expect("text");
    let emailed = text
        .split_whitespace()
        .find(|w| w.contains("/set-password/"))
        .expect("the link is in the email")
        .to_string();
    assert!(
        emailed.starts_with("http://localhost/set-password/"),
        "{emailed}"
    );
    assert!(emailed.ends_with(&shown), "the same link as on the page");

    // The emailed link, followed: it greets her, takes a password and signs her in.
    let path = emailed.trim_start_matches("http://localhost");
    let page = send(AppState::new(pool.clone()), get(path, None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("Welcome, {KHAI}")));
    let set = send(
        AppState::new(pool.clone()),
        form_post(
            path,
            "password=xin+chao+ca+lop&confirm=xin+chao+ca+lop",
            "192.0.2.9",
        ),
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    signed_in(
        AppState::new(pool.clone()),
        "khai@example.vn",
        "xin chao ca lop",
    )
    .await;

    let log = activity::for_centre(&pool, centre, None, 10)
        .await
        .expect("log");
    let entry = log
        .iter()
        .find(|e| e.action == "password link emailed")
        .expect("the sending is in the activity log");
    assert_eq!(entry.detail["to"], "khai@example.vn");
    assert!(
        !entry.detail.to_string().contains(path),
        "the log never holds the link itself"
    );
}

#[tokio::test]
async fn when_the_email_fails_the_person_and_the_link_are_kept_and_the_page_says_so() {
    let pool = test_pool().await;
    let server = SmtpServer::start(Answer::Refuse).await;
    let (centre, cookie) = admin_session(&pool).await;
    let r = send(
        state(&pool, &server),
        form_post_as(&cookie, "/admin/people", &add_khai_form()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        r.body
            .contains("The email to khai@example.vn could not be sent"),
        "{}",
        r.body
    );
    assert!(r.body.contains("No such mailbox"), "the reason is given");
    assert!(!r.body.contains("We have emailed"));
    let shown = link_in(&r.body);

    let khai = users::find_by_email(&pool, centre, "khai@example.vn")
        .await
        .expect("query");
    assert!(khai.is_some(), "the person is kept");
    let page = send(AppState::new(pool.clone()), get(&shown, None)).await;
    assert_eq!(page.status, StatusCode::OK, "the shown link works");

    let log = activity::for_centre(&pool, centre, None, 10)
        .await
        .expect("log");
    let entry = log
        .iter()
        .find(|e| e.action == "password link email failed")
        .expect("the failure is in the activity log");
    assert!(entry.detail["error"]
        .as_str()
        .is_some_and(|e| e.contains("550")));
    assert!(!log.iter().any(|e| e.action == "password link emailed"));
}

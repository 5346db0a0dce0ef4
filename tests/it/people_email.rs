//! A new person is emailed their one-time set-password link by the job worker; the
//! admin still sees it, and a failed email loses neither the person nor the link.
use attest::db::{activity, users};
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use mail_parser::MessageParser;

use crate::http::{enc, form_post, form_post_as, get, send, signed_in};
use crate::mail_queue::{answered, app, wait_until, Mail, PUBLIC, QUICK};
use crate::people::{admin_session, link_in};
use crate::smtp::{Answer, SmtpServer};

const KHAI: &str = "Nguyễn Thị Minh Khai";

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
    let app = app(&pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let r = answered(send(
        app.state.clone(),
        form_post_as(&cookie, "/admin/people", &add_khai_form()),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        r.body.contains("The set-password email is queued") && r.body.contains("khai@example.vn"),
        "{}",
        r.body
    );
    let shown = link_in(&r.body);

    let received = wait_until("the email", || async {
        let got = server.received();
        (!got.is_empty()).then_some(got)
    })
    .await;
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
        emailed.starts_with(&format!("{PUBLIC}/set-password/")),
        "{emailed}"
    );
    assert!(emailed.ends_with(&shown), "the same link as on the page");

    // The emailed link, followed: it greets her, takes a password and signs her in.
    let path = emailed.trim_start_matches(PUBLIC);
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

    let entry = wait_until("the sending in the activity log", || async {
        let log = activity::for_centre(&pool, centre, None, 10)
            .await
            .expect("log");
        log.into_iter()
            .find(|e| e.action == "password link emailed")
    })
    .await;
    assert_eq!(entry.detail["to"], "khai@example.vn");
    assert!(
        !entry.detail.to_string().contains(path),
        "the log never holds the link itself"
    );
    let kept: Option<String> = sqlx::query_scalar("SELECT link FROM mail_outbox")
        .fetch_one(&pool)
        .await
        .expect("the outbox");
    assert_eq!(kept, None, "the sent link is forgotten");
    app.stop().await;
}

#[tokio::test]
async fn when_the_email_fails_the_person_and_the_link_are_kept_and_the_people_page_says_so() {
    let pool = test_pool().await;
    let server = SmtpServer::start(Answer::Refuse).await;
    let (centre, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let r = answered(send(
        app.state.clone(),
        form_post_as(&cookie, "/admin/people", &add_khai_form()),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let shown = link_in(&r.body);

    let entry = wait_until("the failure in the activity log", || async {
        let log = activity::for_centre(&pool, centre, None, 10)
            .await
            .expect("log");
        log.into_iter()
            .find(|e| e.action == "password link email failed")
    })
    .await;
    assert!(entry.detail["error"]
        .as_str()
        .is_some_and(|e| e.contains("550")));

    let khai = users::find_by_email(&pool, centre, "khai@example.vn")
        .await
        .expect("query");
    assert!(khai.is_some(), "the person is kept");
    let page = send(AppState::new(pool.clone()), get(&shown, None)).await;
    assert_eq!(page.status, StatusCode::OK, "the shown link works");
    let people = send(app.state.clone(), get("/admin/people", Some(&cookie))).await;
    assert!(
        people.body.contains("Gave up after 1 attempt") && people.body.contains("No such mailbox"),
        "{}",
        people.body
    );
    app.stop().await;
}

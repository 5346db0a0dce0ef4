//! Email never hangs a request (issue 11, point 5). "Add person" and "Email the
//! credential" answer at once whatever the mail server does; a worker sends from the
//! job queue with retries, every attempt is recorded and shown to admins; admins can
//! send a new set-password link; every link in an email is built on the public URL.
//!
//! Each test waits for states (the attempts table, the job, the .eml file), never for
//! time. `answered` is a hang detector, not a timing assertion: on the old code the
//! request never answered at all.
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use attest::db::credentials::{self, Credential};
use attest::db::{activity, users};
use attest::domain::Status;
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::{header, StatusCode};
use sqlx::PgPool;
use uuid::Uuid;

use crate::credentials::{demo_centre, fast, number, wait_for, Centre};
use crate::http::{enc, form_post_as, get, send, signed_in, Reply};
use crate::mail::eml_files;
use crate::people::{admin_session, link_in};
use crate::smtp::{Answer, SmtpServer, Tarpit};

/// The configured `--public-url`: links in email must start with it.
pub(crate) const PUBLIC: &str = "https://attest.example.org";
const FROM: &str = "Northgate College <no-reply@ngc.ac.uk>";
/// A pause between attempts no test outlives: the job stays waiting for its retry.
const HOUR: Duration = Duration::from_secs(3600);
/// A pause short enough that a test sees every retry.
pub(crate) const QUICK: Duration = Duration::from_millis(10);

pub(crate) enum Mail {
    Smtp(String),
    Files(PathBuf),
}

/// The app as `serve` wires it: pages, and a worker that sends the mail.
pub(crate) struct App {
    pub state: AppState,
    worker: attest::jobs::WorkerHandle,
}

impl App {
    pub async fn stop(self) {
        self.worker.shutdown().await;
    }
}

pub(crate) async fn app(pool: &PgPool, mail: Mail, pause: Duration) -> App {
    use attest::mail::Mailer;
    let mailer = match mail {
        Mail::Smtp(url) => Mailer::smtp(&url, FROM).expect("mailer"),
        Mail::Files(dir) => Mailer::files(&dir, FROM).expect("mailer"),
    };
    let render = attest::jobs::renderer(PUBLIC);
    let worker = attest::jobs::spawn_with_mail(
        pool.clone(),
        render.clone(),
        fast(),
        attest::jobs::MailSettings {
            // Short, so that a test sees the tarpit given up on.
            mailer: mailer.with_deadline(Duration::from_millis(500)),
            retry_after: pause,
        },
    );
    App {
        state: AppState::from(attest::web::Services {
            public_url: PUBLIC.into(),
            render,
            ..attest::web::Services::new(pool.clone())
        }),
        worker,
    }
}

/// The reply, or a failure if the request never answers.
pub(crate) async fn answered(request: impl Future<Output = Reply>) -> Reply {
    tokio::time::timeout(Duration::from_secs(60), request)
        .await
        .expect("the request hung: it never answered")
}

/// Polls `check` until it gives a value; fails after a generous deadline.
pub(crate) async fn wait_until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "still waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every attempt recorded, oldest first: (outcome, error).
async fn attempts(pool: &PgPool) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT outcome, error FROM mail_attempts ORDER BY at, id")
        .fetch_all(pool)
        .await
        .expect("the attempts table")
}

async fn attempts_reach(pool: &PgPool, n: usize) -> Vec<(String, Option<String>)> {
    wait_until(&format!("{n} recorded attempts"), || async {
        let a = attempts(pool).await;
        (a.len() >= n).then_some(a)
    })
    .await
}

fn add_khai() -> String {
    format!(
        "display_name={}&email=khai%40example.vn&kind=learner",
        enc("Nguyễn Thị Minh Khai")
    )
}

async fn khai(pool: &PgPool, centre: Uuid) -> users::User {
    users::find_by_email(pool, centre, "khai@example.vn")
        .await
        .expect("query")
        .expect("Khai was added")
}

async fn people_page(app: &App, cookie: &str) -> String {
    let r = send(app.state.clone(), get("/admin/people", Some(cookie))).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body
}

/// The set-password link in a message, whole.
fn link_in_message(raw: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("parses");
    let text = parsed.body_text(0).expect("text").into_owned();
    text.split_whitespace()
        .find(|w| w.contains("/set-password/"))
        .expect("a link in the email")
        .to_string()
}

// Finding 1: a mail server that accepts the connection and never answers.

#[tokio::test]
async fn adding_a_person_answers_while_the_mail_server_never_answers() {
    let pool = test_pool().await;
    let tarpit = Tarpit::start().await;
    let (centre, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Smtp(tarpit.url.clone()), HOUR).await;
    let r = answered(send(
        app.state.clone(),
        form_post_as(&cookie, "/admin/people", &add_khai()),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        r.body.contains("The set-password email is queued"),
        "{}",
        r.body
    );
    assert!(link_in(&r.body).starts_with("/set-password/"));
    khai(&pool, centre).await;

    // The worker's attempt runs into its deadline and is recorded to be tried again.
    let a = attempts_reach(&pool, 1).await;
    assert_eq!(a[0].0, "retrying", "{a:?}");
    let error = a[0].1.as_deref().unwrap_or_default();
    assert!(error.contains("timed out"), "{error}");
    assert!(tarpit.connections() >= 1, "it did try the server");
    let page = people_page(&app, &cookie).await;
    assert!(page.contains("Failed once: "), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn emailing_a_credential_answers_while_the_mail_server_never_answers() {
    let c = demo_centre().await;
    let credential = issued(&c).await;
    let tarpit = Tarpit::start().await;
    let app = app(&c.pool, Mail::Smtp(tarpit.url.clone()), HOUR).await;
    let admin = demo_admin(&c.pool).await;
    let uri = format!("/enrolments/{}/credential/email", c.zoe.id);
    let r = answered(send(app.state.clone(), form_post_as(&admin, &uri, ""))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location
            .as_deref()
            .is_some_and(|l| l.ends_with("emailed=queued")),
        "{:?}",
        r.location
    );
    let a = attempts_reach(&c.pool, 1).await;
    assert_eq!(a[0].0, "retrying", "{a:?}");
    assert!(a[0].1.as_deref().unwrap_or_default().contains("timed out"));
    let page = send(
        app.state.clone(),
        get(
            &format!("/enrolments/{}/credential", c.zoe.id),
            Some(&admin),
        ),
    )
    .await;
    assert!(page.body.contains("Failed once: "), "{}", page.body);
    assert!(page.body.contains("zoe@demo.attest.test"));
    let _ = credential;
    app.stop().await;
}

// Finding 2: sending runs from the job queue, with retries, every attempt recorded and
// shown where the person or the credential is shown.

#[tokio::test]
async fn a_failed_attempt_is_recorded_and_the_people_page_says_why_and_when_it_is_retried() {
    let pool = test_pool().await;
    let server = SmtpServer::start(Answer::Defer).await;
    let (_, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Smtp(server.url.clone()), HOUR).await;
    let r = answered(send(
        app.state.clone(),
        form_post_as(&cookie, "/admin/people", &add_khai()),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = attempts_reach(&pool, 1).await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].0, "retrying");
    assert!(a[0].1.as_deref().unwrap_or_default().contains("451"));
    let page = people_page(&app, &cookie).await;
    assert!(page.contains("Failed once: "), "{page}");
    assert!(page.contains("Mailbox busy"), "{page}");
    assert!(page.contains("retrying at"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn a_deferred_email_is_sent_on_a_later_attempt_and_the_people_page_says_sent() {
    let pool = test_pool().await;
    let server = SmtpServer::start(Answer::DeferFirst(2)).await;
    let (centre, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let r = answered(send(
        app.state.clone(),
        form_post_as(&cookie, "/admin/people", &add_khai()),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let shown = link_in(&r.body);
    let a = attempts_reach(&pool, 3).await;
    let outcomes: Vec<&str> = a.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["retrying", "retrying", "sent"]);
    assert!(a[2].1.is_none());
    let received = server.received();
    assert_eq!(received.len(), 1, "sent once");
    assert!(link_in_message(&received[0].data).ends_with(&shown));
    let page = people_page(&app, &cookie).await;
    assert!(page.contains("Set-password email: Sent "), "{page}");
    let log = activity::for_centre(&pool, centre, None, 20)
        .await
        .expect("log");
    assert!(log.iter().any(|e| e.action == "password link emailed"));
    app.stop().await;
}

#[tokio::test]
async fn after_five_failed_attempts_the_people_page_says_it_gave_up() {
    let pool = test_pool().await;
    let server = SmtpServer::start(Answer::Defer).await;
    let (centre, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let r = answered(send(
        app.state.clone(),
        form_post_as(&cookie, "/admin/people", &add_khai()),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = attempts_reach(&pool, 5).await;
    let outcomes: Vec<&str> = a.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(
        outcomes,
        ["retrying", "retrying", "retrying", "retrying", "failed"]
    );
    let page = people_page(&app, &cookie).await;
    assert!(page.contains("Gave up after 5 attempts"), "{page}");
    let log = wait_until("the failure in the activity log", || async {
        let log = activity::for_centre(&pool, centre, None, 20)
            .await
            .expect("log");
        log.into_iter()
            .find(|e| e.action == "password link email failed")
    })
    .await;
    assert!(log.detail["error"]
        .as_str()
        .is_some_and(|e| e.contains("451")));
    app.stop().await;
}

#[tokio::test]
async fn a_refused_address_is_not_retried() {
    let pool = test_pool().await;
    let server = SmtpServer::start(Answer::Refuse).await;
    let (_, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let r = answered(send(
        app.state.clone(),
        form_post_as(&cookie, "/admin/people", &add_khai()),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = attempts_reach(&pool, 1).await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].0, "failed");
    assert!(a[0].1.as_deref().unwrap_or_default().contains("550"));
    let page = people_page(&app, &cookie).await;
    assert!(page.contains("Gave up after 1 attempt:"), "{page}");
    assert!(page.contains("No such mailbox"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn an_emailed_credential_is_sent_by_the_worker_with_its_pdf_and_the_page_says_sent() {
    let c = demo_centre().await;
    let credential = issued(&c).await;
    let server = SmtpServer::start(Answer::Accept).await;
    let app = app(&c.pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let admin = demo_admin(&c.pool).await;
    // Its issued PDF is kept (made on this first download): the email must carry
    // exactly those bytes, never a new rendering (issue 11 point 8).
    // (Made by a renderer of another address, so that a new rendering would differ.)
    let pdf_uri = format!("/enrolments/{}/credential.pdf", c.zoe.id);
    let elsewhere = AppState::from(attest::web::Services {
        render: attest::jobs::renderer("https://elsewhere.example"),
        ..(*app.state).clone()
    });
    let r = send(elsewhere, get(&pdf_uri, Some(&admin))).await;
    assert_eq!(r.status, StatusCode::OK);
    let kept = attest::db::credentials::get(&c.pool, credential.id)
        .await
        .expect("credential")
        .pdf
        .expect("the issued PDF is kept");
    let uri = format!("/enrolments/{}/credential/email", c.zoe.id);
    let r = answered(send(app.state.clone(), form_post_as(&admin, &uri, ""))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let a = attempts_reach(&c.pool, 1).await;
    assert_eq!(a[0].0, "sent", "{a:?}");
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, ["zoe@demo.attest.test"]);
    let parsed = mail_parser::MessageParser::default()
        .parse(&got[0].data)
        .expect("message");
    let pdf = parsed.attachments().next().expect("the PDF is attached");
    assert!(pdf.contents().starts_with(b"%PDF") && pdf.contents().len() > 1000);
    use sha2::Digest;
    let sent: String = sha2::Sha256::digest(pdf.contents())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sent, kept.sha256, "the kept bytes, not a new rendering");
    let text = parsed.body_text(0).expect("text");
    assert!(text.contains(&format!("{PUBLIC}/verify/")), "{text}");
    let sendings = attest::db::credential_emails::list_for_credential(&c.pool, credential.id)
        .await
        .expect("list");
    assert!(sendings.len() == 1 && sendings[0].was_sent());
    let page = send(
        app.state.clone(),
        get(
            &format!("/enrolments/{}/credential", c.zoe.id),
            Some(&admin),
        ),
    )
    .await;
    assert!(page.body.contains("Sent "), "{}", page.body);
    app.stop().await;
}

// Finding 3: an admin sends a new set-password link; the old one stops working.

#[tokio::test]
async fn an_admin_sends_a_new_set_password_link_and_only_the_new_one_works() {
    let pool = test_pool().await;
    let server = SmtpServer::start(Answer::Accept).await;
    let (centre, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let r = answered(send(
        app.state.clone(),
        form_post_as(&cookie, "/admin/people", &add_khai()),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = link_in(&r.body);
    let person = khai(&pool, centre).await;
    // The first email has gone (a new link drops one still waiting in the queue).
    attempts_reach(&pool, 1).await;
    let page = people_page(&app, &cookie).await;
    let action = format!("/admin/people/{}/password-link", person.id);
    assert!(page.contains(&action), "the page offers it: {page}");

    let r = answered(send(app.state.clone(), form_post_as(&cookie, &action, ""))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        r.body.contains("The set-password email is queued"),
        "{}",
        r.body
    );
    let second = link_in(&r.body);
    assert_ne!(first, second);

    let old = send(app.state.clone(), get(&first, None)).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND, "the old link is spent");
    let new = send(app.state.clone(), get(&second, None)).await;
    assert_eq!(new.status, StatusCode::OK, "the new link works");

    // Both messages go out; the second carries the new link.
    let received = wait_until("two messages", || async {
        let got = server.received();
        (got.len() >= 2).then_some(got)
    })
    .await;
    assert!(received
        .iter()
        .any(|m| link_in_message(&m.data).ends_with(&second)));
    let log = activity::for_centre(&pool, centre, None, 20)
        .await
        .expect("log");
    let entry = log
        .iter()
        .find(|e| e.action == "password link resent")
        .expect("the resend is in the activity log");
    assert_eq!(entry.detail["user"], person.id.to_string());
    assert!(!entry.detail.to_string().contains(&second));
    app.stop().await;
}

#[tokio::test]
async fn a_new_set_password_link_is_refused_for_someone_who_has_a_password() {
    let pool = test_pool().await;
    let (centre, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Files(fresh_dir()), QUICK).await;
    let admin = users::find_by_email(&pool, centre, "admin@ngc.ac.uk")
        .await
        .expect("query")
        .expect("admin");
    let action = format!("/admin/people/{}/password-link", admin.id);
    let r = send(app.state.clone(), form_post_as(&cookie, &action, "")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    app.stop().await;
}

// Finding 4: links are built on --public-url, never on the request's Host header.

#[tokio::test]
async fn the_emailed_link_is_built_on_the_public_url_not_the_host_header() {
    let pool = test_pool().await;
    let dir = fresh_dir();
    let (_, cookie) = admin_session(&pool).await;
    let app = app(&pool, Mail::Files(dir.clone()), QUICK).await;
    let mut request = form_post_as(&cookie, "/admin/people", &add_khai());
    request
        .headers_mut()
        .insert(header::HOST, "evil.example".parse().expect("header"));
    let r = answered(send(app.state.clone(), request)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(!r.body.contains("evil.example"), "{}", r.body);
    assert!(r.body.contains(&format!("{PUBLIC}/set-password/")));

    let files = wait_until("the .eml file", || async {
        let files = eml_files(&dir);
        (!files.is_empty()).then_some(files)
    })
    .await;
    let link = link_in_message(&files[0]);
    assert!(
        link.starts_with(&format!("{PUBLIC}/set-password/")),
        "{link}"
    );
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn fresh_dir() -> PathBuf {
    std::env::temp_dir().join(format!("attest-mail-queue-{}", Uuid::new_v4().simple()))
}

async fn demo_admin(pool: &PgPool) -> String {
    signed_in(
        AppState::new(pool.clone()),
        "admin@demo.attest.test",
        attest::demo::load::DEMO_PASSWORD,
    )
    .await
}

/// Zoë's credential, requested, generated and issued.
async fn issued(c: &Centre) -> Credential {
    credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");
    let worker = attest::jobs::spawn(c.pool.clone(), attest::jobs::renderer(PUBLIC), fast());
    wait_for(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    worker.shutdown().await;
    credentials::issue(&c.pool, c.zoe.id, c.admin)
        .await
        .expect("issued")
}

//! A forgotten password in Chromium (issue 12): from the sign-in page's link, through the
//! email the worker writes (lettre's file transport, as the app does with no SMTP
//! server), to the emailed link, a refused common password, the new password and the
//! home page; then changing it again from the header. axe checks every page on the way.
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use attest::db::users::Role;
use attest::jobs::{spawn_with_mail, MailSettings, WorkerConfig};
use attest::mail::Mailer;
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::{router, AppState};
use uuid::Uuid;

use super::driver::Chromedriver;
use super::{sign_in_as, sign_out};
use crate::helpers::person;
use crate::mail::eml_files;
use crate::mail_queue::wait_until;

const LEARNER: &str = "lee@acme.test";
const NAME: &str = "Lee Quill";
const FORGOTTEN: &str = "the password I forgot 2026";
const CHOSEN: &str = "kettle on by the harbour wall";
const CHANGED: &str = "gulls over the harbour at noon";

/// The one link in the only email in `dir`, once the worker has written it.
async fn emailed_link(dir: &Path) -> String {
    let raw = wait_until("the reset email", || async {
        eml_files(dir).into_iter().next()
    })
    .await;
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("parses");
    assert_eq!(
        parsed.subject(),
        Some("Choose a new password for Acme Training")
    );
    parsed
        .body_text(0)
        .expect("text")
        .split_whitespace()
        .find(|w| w.contains("/set-password/"))
        .expect("a link in the email")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_through_the_emailed_link_in_chromium() {
    let pool = test_pool().await;
    let centre = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let hash = password::hash(FORGOTTEN).expect("hash");
    person(&pool, centre.id, LEARNER, NAME, &[Role::Learner], &hash).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let state = AppState::from(attest::web::Services {
        public_url: base.clone(),
        ..attest::web::Services::new(pool.clone())
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.expect("serving") });
    let mail_dir = attest::testing::test_dir().join(format!("mail-{}", Uuid::new_v4().simple()));
    let worker = spawn_with_mail(
        pool.clone(),
        attest::jobs::renderer(&base),
        WorkerConfig {
            poll: Duration::from_millis(50),
            ..WorkerConfig::default()
        },
        MailSettings {
            mailer: Mailer::files(&mail_dir, "Acme Training <no-reply@acme.test>").expect("mailer"),
            ..MailSettings::default()
        },
    );
    let driver = Chromedriver::start();
    let mut b = driver.browser(base.clone()).await;

    // From the sign-in page to the form; an empty email is refused beside the field.
    b.goto("/login").await;
    b.arrive("Sign in").await;
    b.click("main a[href='/forgot-password']").await;
    b.arrive("Reset your password").await;
    b.click("main form button[type=submit]").await;
    b.wait_for("#email-error", "the message beside the email field")
        .await;
    assert!(b
        .text("#email-error")
        .await
        .contains("Enter your email address"));
    b.check_accessibility().await;
    b.fill("#email", LEARNER).await;
    b.click("main form button[type=submit]").await;
    b.arrive("Check your email").await;
    assert!(b
        .text("main .lead")
        .await
        .starts_with("If an account uses that address, we have emailed it a link"));

    // The emailed link, built on the public address.
    let link = emailed_link(&mail_dir).await;
    let path = link
        .strip_prefix(&base)
        .unwrap_or_else(|| panic!("the link is on the public address: {link}"))
        .to_string();
    b.goto(&path).await;
    b.arrive("Choose a new password").await;
    // A common password is refused, and the page says why.
    b.fill("#password", "Qwertyuiop").await;
    b.fill("#confirm", "Qwertyuiop").await;
    b.click("main form button[type=submit]").await;
    b.wait_for("#password-error", "the message beside the password")
        .await;
    assert!(b
        .text("#password-error")
        .await
        .contains("on a list of common passwords that attackers try first"));
    b.check_accessibility().await;
    b.fill("#password", CHOSEN).await;
    b.fill("#confirm", CHOSEN).await;
    b.click("main form button[type=submit]").await;
    b.viewer = Some(LEARNER);
    b.arrive(&format!("Welcome, {NAME}")).await;
    // The link worked once.
    b.goto(&path).await;
    b.arrive("Page not found").await;

    // Changing it again from the header: a wrong current password first.
    b.goto("/").await;
    b.arrive(&format!("Welcome, {NAME}")).await;
    b.click("header a[href='/account/password']").await;
    b.arrive("Change your password").await;
    b.fill("#current", FORGOTTEN).await;
    b.fill("#password", CHANGED).await;
    b.fill("#confirm", CHANGED).await;
    b.click("main form button[type=submit]").await;
    b.wait_for("#current-error", "the message beside the current password")
        .await;
    b.check_accessibility().await;
    b.fill("#current", CHOSEN).await;
    b.fill("#password", CHANGED).await;
    b.fill("#confirm", CHANGED).await;
    b.click("main form button[type=submit]").await;
    b.wait_for(".panel-confirm", "the confirmation").await;
    assert!(b
        .text(".panel-confirm")
        .await
        .contains("Your password has been changed."));
    b.check_accessibility().await;
    sign_out(&mut b).await;
    sign_in_as(&mut b, LEARNER, CHANGED, NAME).await;

    b.assert_accessible();
    b.close().await;
    worker.shutdown().await;
    server.abort();
}

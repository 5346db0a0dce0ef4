//! The issued credential over HTTP: its page, the public verification page (valid,
//! withdrawn, mistyped, unknown), the signed Open Badges JSON checked against the key
//! the centre publishes, the print page, and emailing it through a real SMTP server.

use attest::credentials::vc;
use attest::db::credential_emails;
use attest::db::credentials::{self, Credential};
use attest::domain::credential_number::CredentialNumber;
use attest::domain::Status;
use attest::jobs::{spawn, MailSettings, Renderer};
use attest::mail::Mailer;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::credentials::{demo_centre, fast, number, wait_for, Centre};
use crate::http::{form_post_as, get, send, signed_in, Reply};
use crate::smtp::{Answer, SmtpServer};

const BASE: &str = "https://attest.example.org";

fn state(pool: &PgPool) -> AppState {
    AppState::from(attest::web::Services {
        public_url: BASE.into(),
        render: real_pdf(),
        ..attest::web::Services::new(pool.clone())
    })
}

fn real_pdf() -> Renderer {
    attest::jobs::renderer(BASE)
}

async fn as_(pool: &PgPool, who: &str) -> String {
    signed_in(
        state(pool),
        &format!("{who}@demo.attest.test"),
        attest::demo::load::DEMO_PASSWORD,
    )
    .await
}

async fn page(pool: &PgPool, cookie: Option<&str>, uri: &str) -> Reply {
    send(state(pool), get(uri, cookie)).await
}

/// Zoë's credential, requested, generated and issued.
async fn issued(c: &Centre) -> Credential {
    credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");
    let worker = spawn(c.pool.clone(), real_pdf(), fast());
    wait_for(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    worker.shutdown().await;
    credentials::issue(&c.pool, c.zoe.id, c.admin)
        .await
        .expect("issued")
}

#[tokio::test]
async fn verification_tells_valid_withdrawn_mistyped_and_unknown_apart() {
    let c = demo_centre().await;
    let credential = issued(&c).await;
    let number = CredentialNumber::parse(&credential.number).expect("canonical");

    let r = page(&c.pool, None, &format!("/verify/{}", number.url_segment())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Valid: issued on"), "{}", r.body);
    assert!(r.body.contains("Zoë Ōtaki-Ngata"));
    assert!(r.body.contains(&credential.qualification_title));
    for u in &credential.units {
        assert!(r.body.contains(&u.title), "unit {}", u.code);
    }
    assert!(
        !r.body.contains("zoe@demo.attest.test"),
        "only what the certificate shows"
    );

    // Typed loosely: lower case, spaces, O for 0 and L for 1 all find it.
    let loose = credential.number.to_lowercase().replace('-', " ");
    let r = page(
        &c.pool,
        None,
        &format!("/verify?number={}", crate::http::enc(&loose)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/verify/{}", number.url_segment()).as_str())
    );

    // One symbol changed: the check symbol catches it without a look-up.
    let mut chars: Vec<char> = credential.number.chars().collect();
    chars[0] = if chars[0] == '7' { '8' } else { '7' };
    let mistyped: String = chars.into_iter().collect();
    let r = page(
        &c.pool,
        None,
        &format!("/verify/{}", crate::http::enc(&mistyped)),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("mistyped"), "{}", r.body);
    assert!(
        r.body.contains(&format!("value=\"{mistyped}\"")),
        "what was typed is kept"
    );

    // Well formed but not in the register.
    let unknown = CredentialNumber::from_value(number.value() ^ 1).expect("fits");
    let r = page(&c.pool, None, &format!("/verify/{}", unknown.url_segment())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("No credential has this number"));

    // Cancelled: withdrawn, with the date; the reason stays private.
    credentials::cancel(&c.pool, c.zoe.id, c.admin, "private reason")
        .await
        .expect("cancel");
    let r = page(&c.pool, None, &format!("/verify/{}", number.url_segment())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Withdrawn on"), "{}", r.body);
    assert!(!r.body.contains("private reason"));
}

#[tokio::test]
async fn the_signed_credential_verifies_against_the_published_key_and_shows_revocation() {
    let c = demo_centre().await;
    let credential = issued(&c).await;
    let learner = as_(&c.pool, "zoe").await;
    let r = page(
        &c.pool,
        Some(&learner),
        &format!("/enrolments/{}/credential.json", c.zoe.id),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "the learner downloads it");
    let signed: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    assert_eq!(
        signed["credentialSubject"]["identifier"][0]["identityHash"],
        "Zoë Ōtaki-Ngata"
    );

    // A verifier follows the proof's verification method to the centre's key document.
    let method = signed["proof"][0]["verificationMethod"]
        .as_str()
        .expect("method")
        .to_string();
    let issuer = method.split('#').next().expect("issuer");
    let path = issuer.strip_prefix(BASE).expect("on this site");
    let published = page(&c.pool, None, path).await;
    assert_eq!(published.status, StatusCode::OK);
    let document: serde_json::Value = serde_json::from_str(&published.body).expect("JSON");
    let key = vc::key_from_controller_document(&document, &method).expect("key");
    vc::verify(&signed, &key).expect("the signature holds");

    // Any change breaks it.
    let mut forged = signed.clone();
    forged["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else".into();
    assert!(vc::verify(&forged, &key).is_err());
    let mut forged = signed.clone();
    forged["credentialSubject"]["creditsEarned"] = 999.into();
    assert!(vc::verify(&forged, &key).is_err());

    // Its 1EdTech revocation list, published beside its Bitstring Status List entry
    // (register.rs): valid now, revoked once withdrawn.
    let status_url = format!("{}/status", signed["id"].as_str().expect("id"));
    let status_path = status_url
        .strip_prefix(BASE)
        .expect("on this site")
        .to_string();
    let before: serde_json::Value =
        serde_json::from_str(&page(&c.pool, None, &status_path).await.body).expect("JSON");
    assert_eq!(before["revoked"], false);
    credentials::cancel(&c.pool, c.zoe.id, c.admin, "error")
        .await
        .expect("cancel");
    let after: serde_json::Value =
        serde_json::from_str(&page(&c.pool, None, &status_path).await.body).expect("JSON");
    assert_eq!(after["revoked"], true);
    let listed = CredentialNumber::parse(&credential.number)
        .expect("canonical")
        .url_segment();
    assert!(
        after["revokedCredentials"].to_string().contains(&listed),
        "{after}"
    );
}

/// A second credential, issued now to Ben (written into the register by hand: the demo
/// has one learner ready for a credential, and this is about keys, not audits), and
/// signed as the issue handler signs, by the centre's current key.
async fn issued_to_ben(c: &Centre) -> serde_json::Value {
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO credentials (number, enrolment_id, centre_id, learner_name, qualification_code, \
         qualification_title, qualification_level, major_code, major_title, centre_name, \
         requested_by, generated_at, issued_at, issued_by) \
         VALUES ($1, $2, $3, 'Ben', 'TINY/1', 'Tiny', 2, 'ALL', 'All', 'Demo', $4, now(), now(), $4) \
         RETURNING id",
    )
    .bind(number())
    .bind(c.ben.id)
    .bind(c.ben.centre_id)
    .bind(c.admin)
    .fetch_one(&c.pool)
    .await
    .expect("in the register");
    let credential = credentials::get(&c.pool, id).await.expect("credential");
    let state = state(&c.pool);
    let credential = state
        .documents()
        .make_issued(&credential)
        .await
        .expect("signed at issue");
    let json = state
        .documents()
        .issued(
            &credential,
            attest::credentials::store::Document::SignedJson,
        )
        .await
        .expect("kept");
    serde_json::from_slice(&json).expect("JSON")
}

/// The enrolment's signed credential, as its centre's admin downloads it.
async fn download_signed(c: &Centre, admin: &str, enrolment: uuid::Uuid) -> serde_json::Value {
    let r = page(
        &c.pool,
        Some(admin),
        &format!("/enrolments/{enrolment}/credential.json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).expect("JSON")
}

fn method_of(signed: &serde_json::Value) -> String {
    signed["proof"][0]["verificationMethod"]
        .as_str()
        .expect("method")
        .to_string()
}

/// The controller document the proof's method points at, as served.
async fn published_document(pool: &PgPool, method: &str) -> serde_json::Value {
    let issuer = method.split('#').next().expect("issuer");
    let r = page(pool, None, issuer.strip_prefix(BASE).expect("on this site")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).expect("JSON")
}

/// Issue 11 point 7, finding 2: a rotated key signs from then on, and the old one stays
/// published, so what it signed still verifies.
#[tokio::test]
async fn after_the_admin_rotates_the_key_new_credentials_name_it_and_earlier_ones_still_verify() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    issued(&c).await;
    let first = download_signed(&c, &admin, c.zoe.id).await;
    assert!(
        method_of(&first).ends_with("#key-1"),
        "{}",
        method_of(&first)
    );

    // The admin rotates, from the settings page.
    let r = send(
        state(&c.pool),
        form_post_as(&admin, "/admin/settings/rotate-key", ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let settings = page(&c.pool, Some(&admin), "/admin/settings?rotated=1").await;
    assert!(settings.body.contains("key-2"), "{}", settings.body);
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activity_log WHERE action = 'signing key rotated' AND actor_id = $1",
    )
    .bind(c.admin)
    .fetch_one(&c.pool)
    .await
    .expect("count");
    assert_eq!(logged, 1);

    // Another credential, issued after the rotation.
    let second = issued_to_ben(&c).await;
    assert_ne!(first["id"], second["id"]);
    assert!(
        method_of(&second).ends_with("#key-2"),
        "{}",
        method_of(&second)
    );

    // One document, listing both keys; each credential verifies with the key it names.
    let document = published_document(&c.pool, &method_of(&second)).await;
    assert_eq!(
        document["assertionMethod"],
        serde_json::json!([method_of(&first), method_of(&second)])
    );
    for signed in [&first, &second] {
        let key = vc::key_from_controller_document(&document, &method_of(signed)).expect("key");
        vc::verify(signed, &key).expect("the signature holds");
    }
    let new_key = vc::key_from_controller_document(&document, &method_of(&second)).expect("key");
    assert!(
        vc::verify(&first, &new_key).is_err(),
        "each names its own key"
    );
}

#[tokio::test]
async fn the_credential_page_print_page_and_downloads_follow_the_status() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    let learner = as_(&c.pool, "zoe").await;
    let uri = format!("/enrolments/{}/credential", c.zoe.id);
    // Nothing to see before a credential exists.
    assert_eq!(
        page(&c.pool, Some(&admin), &uri).await.status,
        StatusCode::NOT_FOUND
    );

    credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");
    let worker = spawn(c.pool.clone(), real_pdf(), fast());
    wait_for(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    worker.shutdown().await;
    // Generated, not issued: the admin previews it; the learner does not see it yet,
    // and there is no print page or signed credential until it is issued.
    let r = page(&c.pool, Some(&admin), &uri).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Not yet issued"));
    assert_eq!(
        page(&c.pool, Some(&learner), &uri).await.status,
        StatusCode::NOT_FOUND
    );
    let print = format!("{uri}/print");
    assert_eq!(
        page(&c.pool, Some(&admin), &print).await.status,
        StatusCode::CONFLICT
    );
    let pdf = page(
        &c.pool,
        Some(&admin),
        &format!("/enrolments/{}/credential.pdf", c.zoe.id),
    )
    .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with("%PDF"));

    credentials::issue(&c.pool, c.zoe.id, c.admin)
        .await
        .expect("issued");
    let r = page(&c.pool, Some(&learner), &uri).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Zoë Ōtaki-Ngata"));
    let r = page(&c.pool, Some(&admin), &print).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("/static/print.css") && r.body.contains("<svg"),
        "print styles and a QR code"
    );
    assert!(r.body.contains("Transcript of units achieved"));
}

#[tokio::test]
async fn emailing_sends_the_pdf_through_smtp_and_records_every_sending() {
    let c = demo_centre().await;
    let credential = issued(&c).await;
    let admin = as_(&c.pool, "admin").await;
    let uri = format!("/enrolments/{}/credential/email", c.zoe.id);
    // The worker sends what the page queues: first through a server that accepts it.
    let sending = |url: String| {
        let pool = c.pool.clone();
        async move {
            let mailer =
                Mailer::smtp(&url, "attest <no-reply@attest.example.org>").expect("mailer");
            attest::jobs::spawn_with_mail(
                pool,
                real_pdf(),
                fast(),
                MailSettings {
                    mailer,
                    retry_after: std::time::Duration::from_millis(10),
                },
            )
        }
    };
    let sendings = |n: usize| {
        let pool = c.pool.clone();
        let id = credential.id;
        async move {
            crate::mail_queue::wait_until("the sendings on record", || async {
                let list = credential_emails::list_for_credential(&pool, id)
                    .await
                    .expect("list");
                (list.len() >= n).then_some(list)
            })
            .await
        }
    };
    let server = SmtpServer::start(Answer::Accept).await;
    let worker = sending(server.url.clone()).await;
    let r = send(state(&c.pool), form_post_as(&admin, &uri, "")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r
        .location
        .as_deref()
        .is_some_and(|l| l.ends_with("emailed=queued")));
    sendings(1).await;
    worker.shutdown().await;
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, ["zoe@demo.attest.test"]);
    let parsed = mail_parser::MessageParser::default()
        .parse(&got[0].data)
        .expect("message");
    let pdf = parsed.attachments().next().expect("the PDF is attached");
    assert!(pdf.contents().starts_with(b"%PDF") && pdf.contents().len() > 1000);

    // A refused sending is recorded too, and said on the page.
    let refusing = SmtpServer::start(Answer::Refuse).await;
    let worker = sending(refusing.url.clone()).await;
    let r = send(state(&c.pool), form_post_as(&admin, &uri, "")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let list = sendings(2).await;
    worker.shutdown().await;
    assert!(list[0].was_sent() && !list[1].was_sent());
    let shown = page(
        &c.pool,
        Some(&admin),
        &format!("/enrolments/{}/credential?emailed=queued", c.zoe.id),
    )
    .await;
    assert!(shown.body.contains("The email to the learner is queued"));
    assert!(
        shown.body.contains("Gave up after 1 attempt") && shown.body.contains("No such mailbox"),
        "{}",
        shown.body
    );

    // Email is an action of Credential Issued only.
    credentials::cancel(&c.pool, c.zoe.id, c.admin, "error")
        .await
        .expect("cancel");
    let r = send(state(&c.pool), form_post_as(&admin, &uri, "")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_outbox")
        .fetch_one(&c.pool)
        .await
        .expect("count");
    assert_eq!(queued, 2, "nothing more was queued");
}

//! The status page's journey in Chromium (SPEC §5, §6): enrol → Not Yet Achieved →
//! criteria of another major confirmed → the audit says Other Majors Achieved → switch
//! major → Ready to be Requested → Request → Generating → Awaiting Issue without a
//! reload → Issue → download the PDF, email it → Cancel → Withdrawn with no action
//! left; and generation failing (a missing font) then succeeding on Retry.
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use attest::db::users::{self, Role};
use attest::db::{qualifications, ticks};
use attest::domain::ticks::Layer;
use attest::jobs::{spawn, WorkerConfig};
use attest::mail::Mailer;
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::{router, AppState};
use uuid::Uuid;

use super::driver::{Browser, Chromedriver};
use crate::helpers::{criteria, learner, staff, two_majors};
use crate::smtp::{Answer, SmtpServer};

const PASSWORD: &str = "status journey 2026";
const ADMIN: &str = "ada@acme.test";
const ASSESSOR: &str = "ann@acme.test";
const LEARNER: &str = "nguyen@acme.test";

fn fast() -> WorkerConfig {
    WorkerConfig {
        poll: Duration::from_millis(100),
        ..WorkerConfig::default()
    }
}

async fn sign_in(b: &mut Browser, email: &'static str, name: &str) {
    super::sign_in_as(b, email, PASSWORD, name).await;
}

/// The status tag shown in the panel, waited for without reloading the page.
async fn wait_status(b: &Browser, key: &str, label: &str) -> Duration {
    let start = Instant::now();
    b.wait_for(
        &format!("#status-panel .tag-{key}"),
        &format!("the panel says {label}"),
    )
    .await;
    start.elapsed()
}

/// The panel's action controls as a screen reader names them.
async fn panel_buttons(b: &Browser) -> Vec<String> {
    b.texts("#status-panel .actions .button")
        .await
        .into_iter()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_journey_from_enrolment_to_withdrawn_in_chromium() {
    let pool = test_pool().await;
    let centre = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let admin = staff(&pool, centre.id, ADMIN, &[Role::Admin]).await;
    let assessor = staff(&pool, centre.id, ASSESSOR, &[Role::Assessor]).await;
    let nguyen = learner(&pool, centre.id, LEARNER).await;
    sqlx::query("UPDATE users SET display_name = 'Nguyễn Thị Minh Khai' WHERE id = $1")
        .bind(nguyen.id)
        .execute(&pool)
        .await
        .expect("name");
    let hash = password::hash(PASSWORD).expect("hash");
    for u in [&admin, &assessor, &nguyen] {
        users::set_password_hash(&pool, u.id, &hash)
            .await
            .expect("password");
    }
    // Majors: ALL (both units) and FIRST (the first unit only).
    let version = qualifications::import(&pool, centre.id, &two_majors("CS/3"), None)
        .await
        .expect("import");
    let smtp = SmtpServer::start(Answer::Accept).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    // Fonts that do not exist: the first generation fails, as on a server missing them.
    let broken = attest::jobs::renderer_with_fonts(&base, "/nonexistent/fonts");
    let state = AppState::from(attest::web::Services {
        public_url: base.clone(),
        render: attest::jobs::renderer(&base),
        ..attest::web::Services::new(pool.clone())
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.expect("serving") });
    let driver = Chromedriver::start();
    let mut b = driver.browser(base.clone()).await;

    // The admin enrols Nguyễn on the ALL major: Not Yet Achieved.
    sign_in(&mut b, ADMIN, ADMIN).await;
    b.goto("/admin/enrolments/new").await;
    b.arrive("Enrol a learner").await;
    let all = qualifications::major_id(&pool, version.version_id, "ALL")
        .await
        .expect("major");
    b.select("#learner", &nguyen.id.to_string()).await;
    b.select("#major", &all.to_string()).await;
    b.select("#assessor", &assessor.id.to_string()).await;
    b.click("main form[action=\"/admin/enrolments\"] button[type=submit]")
        .await;
    b.arrive("Nguyễn Thị Minh Khai").await;
    let enrolment: Uuid = b
        .path()
        .await
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the portfolio's address");
    wait_status(&b, "not_yet_achieved", "Not Yet Achieved").await;
    assert_eq!(panel_buttons(&b).await, ["Audit", "Switch major"]);

    // The first unit's criteria are confirmed: that achieves FIRST, not ALL.
    let ids = criteria(&pool, version.version_id).await;
    let item = attest::db::evidence::add(
        &pool,
        &attest::db::evidence::NewEvidence {
            enrolment_id: enrolment,
            title: "Workplace observation",
            description: "",
            kind: attest::db::evidence::EvidenceKind::Observation,
            added_by: assessor.id,
        },
    )
    .await
    .expect("evidence");
    ticks::tick_many(&pool, item.id, &ids[..2], Layer::Assessor, assessor.id)
        .await
        .expect("confirmed");

    // Audit: Other Majors Achieved, and the status stays.
    b.click("#status-panel form[action$='/audit'] button").await;
    b.arrive("Audit and status").await;
    assert!(b.text("main").await.contains("Other Majors Achieved"));
    b.check_accessibility().await;

    // Switch to FIRST: re-audited, Ready to be Requested.
    b.click("#status-panel a[href$='/major']").await;
    b.arrive("Switch major").await;
    let first = qualifications::major_id(&pool, version.version_id, "FIRST")
        .await
        .expect("major");
    b.click(&format!("#major-{first}")).await;
    b.click("main form button[type=submit]").await;
    b.arrive("Audit and status").await;
    wait_status(&b, "ready_to_be_requested", "Ready to be Requested").await;

    // Request with the broken fonts: the page follows generation to its failure.
    let failing = spawn(pool.clone(), broken, fast());
    b.goto(&format!("/enrolments/{enrolment}")).await;
    b.arrive("Nguyễn Thị Minh Khai").await;
    b.click("#status-panel form[action$='/credential/request'] button")
        .await;
    wait_status(
        &b,
        "credential_failed_to_generate",
        "Credential Failed to Generate",
    )
    .await;
    let error = b.text("#status-panel .error-message").await;
    assert!(error.contains("font"), "the error is shown: {error}");
    b.check_accessibility().await;
    failing.shutdown().await;

    // Retry with the fonts in place: Awaiting Issue within seconds, no reload.
    let worker = attest::jobs::spawn_with_mail(
        pool.clone(),
        state.render.clone(),
        fast(),
        attest::jobs::MailSettings {
            mailer: Mailer::smtp(&smtp.url, "Acme Training <no-reply@acme.test>").expect("mailer"),
            ..attest::jobs::MailSettings::default()
        },
    );
    b.click("#status-panel form[action$='/credential/retry'] button")
        .await;
    let took = wait_status(&b, "awaiting_issue", "Awaiting Issue").await;
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(
        panel_buttons(&b).await,
        ["Issue", "Audit", "Cancel credential"]
    );

    // Issue: Credential Issued; the PDF downloads, and email sends it.
    b.click("#status-panel form[action$='/credential/issue'] button")
        .await;
    wait_status(&b, "credential_issued", "Credential Issued").await;
    assert_eq!(
        panel_buttons(&b).await,
        [
            "Print",
            "Email the credential to nguyen@acme.test",
            "Audit",
            "Cancel credential"
        ]
    );
    b.check_accessibility().await;
    let (status, content_type, head) = b
        .fetch(&format!("/enrolments/{enrolment}/credential.pdf"))
        .await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert!(head.starts_with("%PDF"), "{head:?}");
    b.click("#status-panel form[action$='/credential/email'] button")
        .await;
    b.wait_for(".notice", "the page says the email is queued")
        .await;
    let received = crate::mail_queue::wait_until("the email", || async {
        let got = smtp.received();
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(received.len(), 1);
    assert_eq!(smtp.received()[0].rcpt_to, [LEARNER]);
    b.check_accessibility().await;

    // Cancel with a reason: Withdrawn, and not one action left.
    b.goto(&format!("/enrolments/{enrolment}/credential/cancel"))
        .await;
    b.arrive("Cancel the credential").await;
    b.check_accessibility().await;
    b.fill("#reason", "Issued under the wrong major").await;
    b.click("main form button[type=submit]").await;
    b.arrive("Nguyễn Thị Minh Khai").await;
    wait_status(&b, "withdrawn", "Withdrawn").await;
    assert!(panel_buttons(&b).await.is_empty(), "no action in Withdrawn");
    assert!(!b.has("#status-panel .actions").await);
    b.check_accessibility().await;

    // The activity log: a filter applied in place by htmx with the address kept for a
    // reload, and a date that is not a day reported beside its field, then corrected.
    b.goto(&format!("/enrolments/{enrolment}/activity?from=2026-02-30"))
        .await;
    b.arrive("Activity").await;
    assert!(b.has("#activity-errors .error-summary").await);
    assert!(b.has("#from-error").await);
    b.run("window.notReloaded = true").await;
    b.fill("#from", "").await;
    b.select("#kind", "status").await;
    b.click("#apply-filters").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.has("#activity-errors .error-summary").await
        || !b
            .text("#activity-results caption")
            .await
            .contains("that match")
    {
        assert!(Instant::now() < deadline, "the filter was not applied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        b.run("return window.notReloaded === true").await,
        true,
        "swapped in place"
    );
    assert!(
        !b.has("#from-error").await,
        "the corrected field's message is gone"
    );
    assert!(
        b.location().await.contains("kind=status"),
        "the address says what is shown"
    );
    let whats = b.texts("#activity-results tbody td:nth-child(3)").await;
    assert!(
        !whats.is_empty()
            && whats
                .iter()
                .all(|w| w.starts_with("credential") || w == "major switched"),
        "{whats:?}"
    );
    b.check_accessibility().await;

    worker.shutdown().await;
    b.assert_accessible();
    b.close().await;
    server.abort();
}

//! An apprenticeship in Chromium (issue 14): the admin sets up the plan; the learner
//! logs off-the-job hours; the assessor approves some and rejects one with a reason, and
//! the to-date figures and the chart follow; an overdue review shows on the caseload; a
//! review is recorded, signed by the learner, by the employer through the emailed link
//! and by the assessor, then locked and printed. Bad input on every form on the way, and
//! axe on every page.
use attest::db::enrolments::{self, NewEnrolment};
use attest::db::qualifications;
use attest::db::users::{self, Role};
use attest::testing::test_pool;
use attest::web::auth::password;
use time::{Date, Duration, OffsetDateTime};

use super::driver::Chromedriver;
use super::{sign_in_as, sign_out};
use crate::helpers::{learner, staff, tiny};

const PASSWORD: &str = "apprentice journey 2026";
const ASSESSOR: &str = "ann@acme.test";
const LEARNER: &str = "lee@acme.test";
const ADMIN: &str = "ada@acme.test";

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hours_are_logged_and_decided_and_a_review_is_signed_by_all_three_in_chromium() {
    let pool = test_pool().await;
    let centre = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let ann = staff(&pool, centre.id, ASSESSOR, &[Role::Assessor]).await;
    let lee = learner(&pool, centre.id, LEARNER).await;
    let ada = staff(&pool, centre.id, ADMIN, &[Role::Admin]).await;
    let hash = password::hash(PASSWORD).expect("hash");
    for u in [&ann, &lee, &ada] {
        users::set_password_hash(&pool, u.id, &hash)
            .await
            .expect("password");
    }
    let version = qualifications::import(&pool, centre.id, &tiny("TINY/1"), None)
        .await
        .expect("import");
    let loaded = qualifications::load_version(&pool, version.version_id)
        .await
        .expect("version");
    let e = enrolments::create(
        &pool,
        &NewEnrolment {
            centre_id: centre.id,
            learner_id: lee.id,
            version_id: version.version_id,
            major_id: loaded.major_ids[0],
            assessor_id: ann.id,
            trainee_assessor_id: None,
            iqa_id: None,
        },
        None,
    )
    .await
    .expect("Lee's enrolment");
    let otj = format!("/enrolments/{}/otj", e.id);
    let today = OffsetDateTime::now_utc().date();

    let (base, server) = super::serve(pool.clone()).await;
    let driver = Chromedriver::start();
    let mut b = driver.browser(base).await;

    // The admin sets Lee's enrolment up as an apprenticeship, 20 weeks in.
    sign_in_as(&mut b, ADMIN, PASSWORD, ADMIN).await;
    b.goto(&otj).await;
    b.arrive("Off-the-job training").await;
    b.click(&format!(
        "main a[href='/enrolments/{}/apprenticeship']",
        e.id
    ))
    .await;
    b.arrive("Set up the apprenticeship").await;
    b.set_date("#start", &iso(today - Duration::weeks(20)))
        .await;
    b.set_date("#planned_end", &iso(today + Duration::weeks(20)))
        .await;
    b.fill("#weekly_hours", "30").await;
    b.fill("#planned_hours", "200").await;
    b.submit("main form button[type=submit]").await;
    b.arrive("Set up the apprenticeship").await;
    assert!(b
        .text("#reason-error")
        .await
        .contains("Say why the plan differs from the centre's default"));
    assert_eq!(
        b.attribute("#planned_hours", "value").await.as_deref(),
        Some("200")
    );
    b.fill("#planned_hours", "").await;
    b.submit("main form button[type=submit]").await;
    b.arrive("Off-the-job training").await;
    assert!(b.text("main").await.contains("To-date target"));
    sign_out(&mut b).await;

    // Lee logs three entries; one in the future is refused with the reason.
    sign_in_as(&mut b, LEARNER, PASSWORD, LEARNER).await;
    b.goto(&otj).await;
    b.arrive("Off-the-job training").await;
    let log = |days: i64, hours: &'static str, what: &'static str| (days, hours, what);
    for (days, hours, what) in [
        log(-2, "1", "A day that has not come"),
        log(10, "3", "Workshop on infection control"),
        log(6, "2", "Shadowed the ward sister"),
        log(3, "4", "Filled in forms at my desk"),
    ] {
        b.set_date("#day", &iso(today - Duration::days(days))).await;
        b.fill("#hours", hours).await;
        b.fill("#minutes", "0").await;
        b.select("#activity", "Shadowing").await;
        b.fill("#what", what).await;
        b.submit("form[action$='/otj'] button[type=submit]").await;
        b.arrive("Off-the-job training").await;
        if days < 0 {
            assert!(b
                .text("#day-error")
                .await
                .contains("An entry cannot be dated in the future"));
        } else {
            assert!(b.text("main").await.contains("Entry logged"));
        }
    }
    sign_out(&mut b).await;

    // The assessor approves two and rejects one with a reason.
    sign_in_as(&mut b, ASSESSOR, PASSWORD, ASSESSOR).await;
    b.goto(&otj).await;
    b.arrive("Off-the-job training").await;
    for what in ["Workshop on infection control", "Shadowed the ward sister"] {
        let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM otj_entries WHERE what = $1")
            .bind(what)
            .fetch_one(&pool)
            .await
            .expect("entry");
        b.submit(&format!(
            "form[action$='/otj/{id}/decision'] button[type=submit]"
        ))
        .await;
        b.arrive("Off-the-job training").await;
    }
    let desk: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM otj_entries WHERE what = 'Filled in forms at my desk'")
            .fetch_one(&pool)
            .await
            .expect("entry");
    b.click(&format!("main a[href='{otj}/{desk}']")).await;
    let heading = format!(
        "Off-the-job entry of {}",
        attest_day(today - Duration::days(3))
    );
    b.arrive(&heading).await;
    b.click("#decision-reject").await;
    b.submit("form[action$='/decision'] button[type=submit]")
        .await;
    b.arrive(&heading).await;
    assert!(b
        .text("#reason-error")
        .await
        .contains("Say why the entry is rejected"));
    b.click("#decision-reject").await;
    b.fill("#reason", "Normal duties, not training").await;
    b.submit("form[action$='/decision'] button[type=submit]")
        .await;
    b.arrive("Off-the-job training").await;
    let main = b.text("main").await;
    assert!(
        main.contains("Approved\n5 hours") || main.contains("Approved 5 hours"),
        "{main}"
    );
    assert!(main.contains("Normal duties, not training"));
    assert!(
        b.has("main svg.chart polyline.chart-approved").await,
        "the actual line is drawn"
    );

    // No review in 20 weeks: overdue on the assessor's caseload.
    b.goto("/caseload").await;
    b.arrive("Your caseload").await;
    assert!(b.text("main").await.contains("Review overdue"));

    // The assessor records the review held today, with what each said at it, and asks
    // the employer to sign by email; a bad address is refused beside its field.
    b.goto(&format!("/enrolments/{}/reviews", e.id)).await;
    b.arrive("Progress reviews").await;
    b.set_date("#held_on", &iso(today)).await;
    b.fill("#attended", "Lee, Owen Owner (employer), Ann (assessor)")
        .await;
    b.fill("#assessor_summary", "Good progress on infection control")
        .await;
    b.fill("#targets", "Finish unit 2").await;
    b.set_date("#next_review_on", &iso(today + Duration::weeks(13)))
        .await;
    b.fill("#learner_reflection", "I am more confident with residents")
        .await;
    b.fill("#employer_comments", "Lee is reliable and keen")
        .await;
    b.submit("form[action$='/reviews'] button[type=submit]")
        .await;
    b.arrive("Progress reviews").await;
    assert!(b
        .text("#next_review_on-error")
        .await
        .contains("within the centre"));
    b.set_date("#next_review_on", &iso(today + Duration::weeks(12)))
        .await;
    b.submit("form[action$='/reviews'] button[type=submit]")
        .await;
    let review_heading = format!("Progress review of {}", attest_day(today));
    b.arrive(&review_heading).await;
    b.fill("#signer_name", "Owen Owner").await;
    b.fill("#signer_email", "owen").await;
    b.submit("form[action$='/employer-link'] button[type=submit]")
        .await;
    b.arrive(&review_heading).await;
    assert!(b
        .text("#signer_email-error")
        .await
        .contains("Enter an email address"));
    b.fill("#signer_email", "owen@riverside.test").await;
    b.submit("form[action$='/employer-link'] button[type=submit]")
        .await;
    b.arrive(&review_heading).await;
    assert!(b
        .text("main")
        .await
        .contains("The employer has been emailed a link"));
    b.fill("#signed_name", ASSESSOR).await;
    b.submit("form[action$='/sign'] button[type=submit]").await;
    b.arrive(&review_heading).await;
    sign_out(&mut b).await;

    // Owen opens the emailed link, signed out, and signs.
    let link: String = sqlx::query_scalar(
        "SELECT link FROM mail_outbox WHERE kind = 'review_signature' AND link IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .expect("the employer's email");
    let path = format!("/review-sign/{}", link.rsplit('/').next().expect("token"));
    b.goto(&path).await;
    b.arrive(&format!(
        "{LEARNER}'s progress review of {}",
        attest_day(today)
    ))
    .await;
    b.fill("#signed_name", "Owen Owner").await;
    b.submit("form[action$='/sign'] button[type=submit]").await;
    b.arrive("Progress review signed").await;

    // Lee signs last: the review is locked and prints.
    sign_in_as(&mut b, LEARNER, PASSWORD, LEARNER).await;
    b.goto(&format!("/enrolments/{}/reviews", e.id)).await;
    b.arrive("Progress reviews").await;
    b.click("main table a").await;
    b.arrive(&review_heading).await;
    b.fill("#signed_name", LEARNER).await;
    b.submit("form[action$='/sign'] button[type=submit]").await;
    b.arrive(&review_heading).await;
    let main = b.text("main").await;
    assert!(main.contains("Signed by"), "{main}");
    assert!(
        !b.has("form[action$='/part']").await,
        "locked: nothing to change"
    );
    assert!(
        b.has("a[href$='/review.pdf']").await,
        "the printout is offered"
    );
    let review: uuid::Uuid = sqlx::query_scalar("SELECT id FROM progress_reviews")
        .fetch_one(&pool)
        .await
        .expect("the review");
    let (status, content_type, _) = b
        .fetch(&format!("/enrolments/{}/reviews/{review}/review.pdf", e.id))
        .await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));

    b.assert_accessible();
    b.close().await;
    server.abort();
}

/// A day as the pages write it: "24 Nov 2026".
fn attest_day(d: Date) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    d.format(&format).expect("a day")
}

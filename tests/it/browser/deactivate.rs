//! An admin deactivates an assessor who is signed in in another browser (issue 12): on
//! the person's page, after a refused edit, the admin deactivates; the assessor's next
//! page sends them to sign in, where the right password is told plainly the account is
//! deactivated; then the admin moves the caseload, from the person's page, to another
//! assessor. axe-core checks every page on the way.
use attest::db::enrolments::{self, NewEnrolment};
use attest::db::qualifications;
use attest::db::users::Role;
use attest::testing::test_pool;
use attest::web::auth::password;

use super::driver::Chromedriver;
use crate::helpers::{learner, person, tiny};

const PASSWORD: &str = "deactivation journey 2026";
const ADMIN: &str = "ada@acme.test";
const ASSESSOR: &str = "ann@acme.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_deactivates_an_assessor_signed_in_elsewhere_in_chromium() {
    let pool = test_pool().await;
    let centre = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let hash = password::hash(PASSWORD).expect("hash");
    person(&pool, centre.id, ADMIN, "Ada Admin", &[Role::Admin], &hash).await;
    let ann = person(
        &pool,
        centre.id,
        ASSESSOR,
        "Ann Assessor",
        &[Role::Assessor],
        &hash,
    )
    .await;
    let abe = person(
        &pool,
        centre.id,
        "abe@acme.test",
        "Abe Assessor",
        &[Role::Assessor],
        &hash,
    )
    .await;
    let version = qualifications::import(&pool, centre.id, &tiny("TINY/1"), None)
        .await
        .expect("import");
    let major = qualifications::major_id(&pool, version.version_id, "ALL")
        .await
        .expect("major");
    for email in ["lena@acme.test", "leo@acme.test"] {
        let l = learner(&pool, centre.id, email).await;
        enrolments::create(
            &pool,
            &NewEnrolment {
                centre_id: centre.id,
                learner_id: l.id,
                version_id: version.version_id,
                major_id: major,
                assessor_id: ann,
                trainee_assessor_id: None,
                iqa_id: None,
            },
            None,
        )
        .await
        .expect("enrolment");
    }
    let (base, server) = super::serve(pool.clone()).await;
    // Two people, two browsers: a driver each, since one Chromium profile is one browser.
    let (theirs, ours) = (Chromedriver::start(), Chromedriver::start());
    let mut assessor = theirs.browser(base.clone()).await;
    let mut admin = ours.browser(base).await;

    super::sign_in_as(&mut assessor, ASSESSOR, PASSWORD, "Ann Assessor").await;
    super::sign_in_as(&mut admin, ADMIN, PASSWORD, "Ada Admin").await;

    admin.goto(&format!("/admin/people/{ann}")).await;
    admin.arrive("Ann Assessor").await;
    // A refused edit: the message beside the field, what was typed kept.
    admin.fill("#email", "ann-at-acme").await;
    admin
        .click(&format!(
            "main form[action='/admin/people/{ann}'] button[type=submit]"
        ))
        .await;
    admin.wait_for("#email-error", "the email's message").await;
    assert_eq!(
        admin.attribute("#email", "value").await.as_deref(),
        Some("ann-at-acme")
    );
    admin.check_accessibility().await;

    admin.click("main button.button-warning").await;
    admin.wait_for(".notice", "the deactivation's notice").await;
    assert!(admin
        .text(".notice")
        .await
        .starts_with("Account deactivated"));
    admin
        .wait_for(&format!("form[action$='/{ann}/reactivate']"), "reactivate")
        .await;
    admin.check_accessibility().await;

    // Ann's next page, in her own browser, sends her to sign in.
    assessor.goto("/").await;
    assessor.viewer = None;
    assessor.arrive("Sign in").await;
    assessor.fill("#email", ASSESSOR).await;
    assessor.fill("#password", PASSWORD).await;
    assessor.click("main form button[type=submit]").await;
    assessor
        .wait_for(".error-summary", "the sign-in's problem")
        .await;
    assert!(assessor
        .text(".error-summary")
        .await
        .contains("This account has been deactivated. Ask your centre's administrator."));
    assessor.arrive("Sign in").await;
    assessor.check_accessibility().await;

    // Ann's learners still name her: the admin moves them to Abe from her page.
    admin.goto(&format!("/admin/people/{ann}")).await;
    admin.arrive("Ann Assessor").await;
    admin
        .click(&format!("a[href='/admin/people/{ann}/reassign']"))
        .await;
    let heading = "Reassign Ann Assessor’s caseload";
    admin.arrive(heading).await;
    admin.select("#to", &abe.to_string()).await;
    admin.click("main form button[type=submit]").await;
    admin
        .arrive("Move 2 enrolments from Ann Assessor to Abe Assessor as assessor?")
        .await;
    admin.check_accessibility().await;
    admin.click("main form button[type=submit]").await;
    admin.arrive(heading).await;
    assert!(admin
        .text(".notice")
        .await
        .contains("Moved 2 enrolments to Abe Assessor as assessor."));
    let moved: i64 = sqlx::query_scalar("SELECT count(*) FROM enrolments WHERE assessor_id = $1")
        .bind(abe)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(moved, 2);

    admin.assert_accessible();
    assessor.assert_accessible();
    admin.close().await;
    assessor.close().await;
    server.abort();
}

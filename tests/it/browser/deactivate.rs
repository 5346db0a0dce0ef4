//! An admin deactivates an assessor who is signed in in another browser (issue 12): on
//! the person's page, after a refused edit, the admin deactivates; the assessor's next
//! page sends them to sign in, where the right password is told plainly the account is
//! deactivated. axe-core checks every page on the way.
use attest::db::users::Role;
use attest::testing::test_pool;
use attest::web::auth::password;

use super::driver::Chromedriver;
use crate::helpers::person;

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

    admin.assert_accessible();
    assessor.assert_accessible();
    admin.close().await;
    assessor.close().await;
    server.abort();
}

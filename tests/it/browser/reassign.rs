//! Reassigning a caseload in Chromium (issue 12 point 2): from the people list, an
//! admin chooses the leaving assessor's enrolments and who takes them, reads the
//! confirmation that names the count, and moves them; axe checks every page on the way,
//! the form's error state and a refused move's page among them.
use attest::db::enrolments::{self, NewEnrolment};
use attest::db::qualifications;
use attest::db::users::{self, Role};
use attest::testing::test_pool;
use attest::web::auth::password;

use super::driver::Chromedriver;
use crate::helpers::{learner, staff, tiny};

const PASSWORD: &str = "reassign journey 2026";
const ADMIN: &str = "ada@acme.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reassigns_a_leaving_assessors_caseload_in_chromium() {
    let pool = test_pool().await;
    let centre = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let admin = staff(&pool, centre.id, ADMIN, &[Role::Admin]).await;
    let ann = staff(&pool, centre.id, "ann@acme.test", &[Role::Assessor]).await;
    let abe = staff(&pool, centre.id, "abe@acme.test", &[Role::Assessor]).await;
    let oscar = staff(
        &pool,
        centre.id,
        "oscar@acme.test",
        &[Role::Assessor, Role::Iqa],
    )
    .await;
    let hash = password::hash(PASSWORD).expect("hash");
    users::set_password_hash(&pool, admin.id, &hash)
        .await
        .expect("password");
    let version = qualifications::import(&pool, centre.id, &tiny("TINY/1"), None)
        .await
        .expect("import");
    let major = qualifications::major_id(&pool, version.version_id, "ALL")
        .await
        .expect("major");
    for (n, email) in ["lena@acme.test", "leo@acme.test"].into_iter().enumerate() {
        let l = learner(&pool, centre.id, email).await;
        enrolments::create(
            &pool,
            &NewEnrolment {
                centre_id: centre.id,
                learner_id: l.id,
                version_id: version.version_id,
                major_id: major,
                assessor_id: ann.id,
                trainee_assessor_id: None,
                // Oscar is the IQA of Leo's: he cannot become Leo's assessor.
                iqa_id: (n == 1).then_some(oscar.id),
            },
            None,
        )
        .await
        .expect("enrolment");
    }
    let (base, server) = super::serve(pool).await;
    let driver = Chromedriver::start();
    let mut b = driver.browser(base).await;
    super::sign_in_as(&mut b, ADMIN, PASSWORD, ADMIN).await;

    b.goto("/admin/people").await;
    b.arrive("People").await;
    b.click(&format!("a[href='/admin/people/{}/reassign']", ann.id))
        .await;
    let heading = "Reassign ann@acme.test’s caseload";
    b.arrive(heading).await;
    assert!(b.text("main").await.contains("As assessor (2)"));

    // Continuing without saying to whom: the message beside the field, checked by axe.
    b.click("main form button[type=submit]").await;
    b.wait_for(".error-summary", "the error summary").await;
    assert!(b
        .text("#to-error")
        .await
        .contains("Select who takes these enrolments over"));
    b.check_accessibility().await;

    // Oscar is Leo's IQA: the confirmation names Leo's and offers no way on.
    b.select("#to", &oscar.id.to_string()).await;
    b.click("main form button[type=submit]").await;
    b.arrive("1 enrolment cannot move to oscar@acme.test").await;
    assert!(b.text("main ul").await.contains("leo@acme.test"));
    assert!(!b.has("form[action$='/reassign/confirm']").await);
    b.check_accessibility().await;

    b.goto(&format!("/admin/people/{}/reassign", ann.id)).await;
    b.arrive(heading).await;
    b.select("#to", &abe.id.to_string()).await;
    b.click("main form button[type=submit]").await;
    b.arrive("Move 2 enrolments from ann@acme.test to abe@acme.test as assessor?")
        .await;
    b.click("main form button[type=submit]").await;
    b.arrive(heading).await;
    assert!(b
        .text(".notice")
        .await
        .contains("Moved 2 enrolments to abe@acme.test as assessor."));
    assert!(b.text("main").await.contains("As assessor (0)"));

    b.assert_accessible();
    b.close().await;
    server.abort();
}

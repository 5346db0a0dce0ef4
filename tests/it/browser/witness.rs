//! Witness testimony and the employer in Chromium (issue 13): an assessor asks an
//! external witness; the witness opens the emailed link signed out, writes and signs;
//! the learner claims on the testimony and the assessor confirms; the signed statement
//! cannot be changed, and a correction shows as a new, unsigned version; used, forged
//! and expired links say so; the employer's person signs in and sees exactly their
//! learner. axe checks every page on the way.
use attest::db::enrolments::{self, NewEnrolment};
use attest::db::qualifications;
use attest::db::users::{self, Role};
use attest::testing::test_pool;
use attest::web::auth::password;
use uuid::Uuid;

use super::driver::Chromedriver;
use super::{sign_in_as, sign_out, tick, Column};
use crate::helpers::{learner, staff, tiny};

const PASSWORD: &str = "witness journey 2026";
const ASSESSOR: &str = "ann@acme.test";
const LEARNER: &str = "lee@acme.test";
const ERIN: &str = "erin@northwind.test";
const ADMIN: &str = "ada@acme.test";

async fn erin_id(pool: &sqlx::PgPool) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(ERIN)
        .fetch_one(pool)
        .await
        .expect("Erin")
}

/// The newest witness link waiting in the outbox, as the path the witness opens.
async fn emailed_link(pool: &sqlx::PgPool) -> String {
    let link: String = sqlx::query_scalar(
        "SELECT link FROM mail_outbox WHERE kind = 'witness_request' AND link IS NOT NULL \
          ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("the witness's email");
    format!("/witness/{}", link.rsplit('/').next().expect("token"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_signs_through_the_link_and_the_employer_sees_their_learner_in_chromium() {
    let pool = test_pool().await;
    let centre = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let ann = staff(&pool, centre.id, ASSESSOR, &[Role::Assessor]).await;
    let lee = learner(&pool, centre.id, LEARNER).await;
    let other = learner(&pool, centre.id, "otto@acme.test").await;
    let employer = Uuid::new_v4();
    sqlx::query("INSERT INTO employers (id, centre_id, name) VALUES ($1, $2, 'Northwind Care')")
        .bind(employer)
        .bind(centre.id)
        .execute(&pool)
        .await
        .expect("employer");
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
    let enrol = |learner: Uuid| NewEnrolment {
        centre_id: centre.id,
        learner_id: learner,
        version_id: version.version_id,
        major_id: loaded.major_ids[0],
        assessor_id: ann.id,
        trainee_assessor_id: None,
        iqa_id: None,
    };
    let e = enrolments::create(&pool, &enrol(lee.id), None)
        .await
        .expect("Lee's enrolment");
    enrolments::create(&pool, &enrol(other.id), None)
        .await
        .expect("Otto's enrolment");
    let criterion = loaded.criterion_ids[0];
    let portfolio = format!("/enrolments/{}", e.id);

    let (base, server) = super::serve(pool.clone()).await;
    let driver = Chromedriver::start();
    let mut b = driver.browser(base).await;

    // The admin adds Erin, Lee's workplace mentor, at Northwind, and links her to Lee.
    sign_in_as(&mut b, ADMIN, PASSWORD, ADMIN).await;
    b.goto(&format!("/admin/employers/{employer}")).await;
    b.arrive("Change an employer").await;
    b.click(&format!(
        "main a[href='/admin/people/new?employer={employer}']"
    ))
    .await;
    b.arrive("Add a person").await;
    assert!(
        b.attribute("#kind-employer", "checked").await.is_some(),
        "opens on the employer"
    );
    b.fill("#display_name", "Erin Mentor").await;
    b.fill("#email", ERIN).await;
    b.click("main form button[type=submit]").await;
    b.arrive("Erin Mentor added").await;
    let set_password = b.attribute("#link", "value").await.expect("the link");
    let set_password = format!(
        "/set-password/{}",
        set_password.rsplit('/').next().expect("token")
    );
    let assignments = format!("/admin/enrolments/{}/assignments", e.id);
    b.goto(&assignments).await;
    b.arrive("Change assessor or IQA").await;
    b.select("#employer", &employer.to_string()).await;
    b.click("main form button[type=submit]").await;
    b.arrive(LEARNER).await;
    b.goto(&assignments).await;
    b.arrive("Change assessor or IQA").await;
    b.click("input[name=employer_person]").await;
    b.click("main form button[type=submit]").await;
    b.arrive(LEARNER).await;
    sign_out(&mut b).await;
    b.goto(&set_password).await;
    b.arrive("Create your password").await;
    b.fill("#password", PASSWORD).await;
    b.fill("#confirm", PASSWORD).await;
    b.click("main form button[type=submit]").await;
    b.arrive("Welcome, Erin Mentor").await;
    sign_out(&mut b).await;

    // The assessor asks Wendy, by email.
    sign_in_as(&mut b, ASSESSOR, PASSWORD, ASSESSOR).await;
    b.goto(&portfolio).await;
    b.arrive(LEARNER).await;
    b.click(&format!("main a[href='{portfolio}/witness']"))
        .await;
    b.arrive("Witness testimony").await;
    b.click("#to-email").await;
    b.fill("#witness_name", "Wendy Witness").await;
    b.fill("#witness_email", "wendy@example.test").await;
    b.fill("#occasion", "Moving Mr B from bed to chair, 2 Dec")
        .await;
    b.click(&format!("#criterion-{criterion}")).await;
    b.click("form[action$='/witness'] button[type=submit]")
        .await;
    b.arrive("Witness testimony").await;
    assert!(b.text("main").await.contains("Waiting for the witness"));
    sign_out(&mut b).await;

    // Wendy opens the emailed link, signed out, and signs.
    let link = emailed_link(&pool).await;
    b.goto(&link).await;
    b.arrive(&format!("Witness testimony for {LEARNER}")).await;
    assert!(b
        .text("main")
        .await
        .contains("Moving Mr B from bed to chair"));
    b.fill(
        "#account",
        "Lee used the hoist safely and talked Mr B through each step.",
    )
    .await;
    b.fill("#role", "Ward sister").await;
    b.fill("#relationship", "Lee's supervisor on placement")
        .await;
    b.click("#agreed").await;
    b.fill("#signed_name", "Wendy Witness").await;
    b.click("main form button[type=submit]").await;
    b.arrive("Testimony signed").await;
    // The link worked once.
    b.goto(&link).await;
    b.arrive("Testimony signed").await;
    assert!(b.text("main").await.contains("This link has been used"));
    let (forged, _, _) = b.fetch(&format!("/witness/{}", "f".repeat(64))).await;
    assert_eq!(forged, 404);

    // The learner claims on the testimony.
    let evidence: Uuid = sqlx::query_scalar("SELECT evidence_id FROM signed_items")
        .fetch_one(&pool)
        .await
        .expect("the testimony's item");
    let item = format!("{portfolio}/evidence/{evidence}");
    sign_in_as(&mut b, LEARNER, PASSWORD, LEARNER).await;
    b.goto(&item).await;
    b.arrive("Witness testimony: Wendy Witness").await;
    assert!(b
        .text("main")
        .await
        .contains("Signed by Wendy Witness (witness)"));
    tick(&mut b, criterion, Column::Learner).await;
    // And asks Erin, who has an account, for a testimony of her own.
    b.goto(&format!("{portfolio}/witness")).await;
    b.arrive("Witness testimony").await;
    b.click("#to-employer").await;
    b.select("#employer_person", &erin_id(&pool).await.to_string())
        .await;
    b.click(&format!("#criterion-{criterion}")).await;
    b.click("form[action$='/witness'] button[type=submit]")
        .await;
    b.arrive("Witness testimony").await;
    sign_out(&mut b).await;

    // The assessor confirms it, then corrects the statement: a new version, unsigned.
    sign_in_as(&mut b, ASSESSOR, PASSWORD, ASSESSOR).await;
    b.goto(&item).await;
    b.arrive("Witness testimony: Wendy Witness").await;
    tick(&mut b, criterion, Column::Assessor).await;
    b.click("details.correct summary").await;
    b.fill(
        "details.correct textarea",
        "Lee used the ceiling hoist safely.",
    )
    .await;
    b.click("details.correct button[type=submit]").await;
    b.arrive("Witness testimony: Wendy Witness").await;
    let main = b.text("main").await;
    assert!(main.contains("Changed since it was signed"), "{main}");
    assert!(
        main.contains("valid for version 1; the record has changed since"),
        "{main}"
    );
    let first: serde_json::Value =
        sqlx::query_scalar("SELECT content FROM signed_item_versions WHERE version = 1")
            .fetch_one(&pool)
            .await
            .expect("version 1");
    assert_eq!(
        first["account"], "Lee used the hoist safely and talked Mr B through each step.",
        "the signed version is as it was signed"
    );
    // Asked to sign the correction, by a new link, which then expires unused.
    b.click("form[action$='/testimony/ask'] button[type=submit]")
        .await;
    b.arrive("Witness testimony").await;
    let second = emailed_link(&pool).await;
    assert_ne!(second, link);
    sqlx::query("UPDATE witness_requests SET expires_at = asked_at WHERE used_at IS NULL AND witness_user_id IS NULL")
        .execute(&pool)
        .await
        .expect("expiring");
    sign_out(&mut b).await;
    b.goto(&second).await;
    b.arrive("This link no longer works").await;
    assert!(b.text("main").await.contains("has expired"));

    // Erin, Lee's workplace mentor, sees Lee and nobody else, and what awaits her.
    sign_in_as(&mut b, ERIN, PASSWORD, "Erin Mentor").await;
    let home = b.text("main").await;
    assert!(
        home.contains("Witness testimony for lee@acme.test"),
        "{home}"
    );
    assert!(home.contains(LEARNER), "{home}");
    assert!(!home.contains("otto@acme.test"), "{home}");
    b.click(&format!("main a[href='/employer/learners/{}']", e.id))
        .await;
    b.arrive(LEARNER).await;
    let page = b.text("main").await;
    assert!(page.contains("1 of"), "confirmed progress: {page}");
    assert!(
        page.contains("Witness testimony: changed since it was signed"),
        "{page}"
    );
    let (portfolio_status, _, _) = b.fetch(&portfolio).await;
    assert_eq!(portfolio_status, 404, "never the portfolio itself");
    b.goto("/employer/learners").await;
    b.arrive("Your learners at Northwind Care").await;
    // She signs the testimony asked of her, signed in.
    b.goto("/").await;
    b.arrive("Welcome, Erin Mentor").await;
    b.click("main a[href^='/witness-requests/']").await;
    b.arrive(&format!("Witness testimony for {LEARNER}")).await;
    b.fill("#account", "Lee greets every resident by name.")
        .await;
    b.fill("#role", "Care home manager").await;
    b.fill("#relationship", "Lee's line manager").await;
    b.click("#agreed").await;
    b.fill("#signed_name", "Erin Mentor").await;
    b.click("main form button[type=submit]").await;
    b.arrive("Testimony signed").await;
    sign_out(&mut b).await;

    // Anyone holding a printout checks it, signed out.
    let (signature, item_id): (Uuid, Uuid) = sqlx::query_as(
        "SELECT s.id, s.item_id FROM signatures s JOIN signed_items i ON i.id = s.item_id \
          WHERE i.evidence_id = $1 ORDER BY s.signed_at LIMIT 1",
    )
    .bind(evidence)
    .fetch_one(&pool)
    .await
    .expect("Wendy's signature");
    b.goto(&format!("/signatures/{signature}")).await;
    b.arrive("Check a signature").await;
    assert!(b.text("main").await.contains("Valid."));
    b.goto(&format!("/signed/{item_id}")).await;
    b.arrive("Check a signed record").await;

    b.assert_accessible();
    b.close().await;
    server.abort();
}

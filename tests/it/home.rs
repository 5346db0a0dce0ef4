//! Each role's home page and report shows that person's enrolments and no one else's
//! (SPEC §3, §8).
use attest::db::centres;
use attest::db::users::{self, NewUser, Role, UserKind};
use attest::demo::load::{load_if_empty, DEMO_CENTRE_SLUG, DEMO_PASSWORD};
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::http::{get, send, signed_in};

const LEARNERS: [&str; 4] = [
    "Amira Hassan",
    "Ben Carter",
    "Zoë Ōtaki-Ngata",
    "Nguyễn Thị Minh Khai",
];

async fn home_of(pool: &PgPool, email: &str, password: &str) -> String {
    page_of(pool, email, password, "/").await
}

async fn page_of(pool: &PgPool, email: &str, password: &str, uri: &str) -> String {
    let cookie = signed_in(AppState::new(pool.clone()), email, password).await;
    let r = send(AppState::new(pool.clone()), get(uri, Some(&cookie))).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}");
    r.body
}

/// How the progress bar's text reads for `percent` and `confirmed` of the 51 criteria.
fn progress(percent: u32, confirmed: u32) -> String {
    format!("{percent}%<span class=\"hint\"> · {confirmed} of 51 criteria</span>")
}

/// The table row of one learner, from its header cell to the end of the row.
fn row<'a>(body: &'a str, learner: &str) -> &'a str {
    let start = body
        .find(&format!(">{learner}</a></th>"))
        .unwrap_or_else(|| panic!("row for {learner}"));
    let rest = &body[start..];
    &rest[..rest.find("</tr>").expect("end of row")]
}

#[tokio::test]
async fn an_assessor_sees_their_caseload_with_confirmed_progress_and_claims() {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let body = home_of(&pool, "assessor@demo.attest.test", DEMO_PASSWORD).await;
    assert!(body.contains("Your caseload"));
    assert!(body.contains(r#"<span class="tile-figure">4</span> enrolments"#));
    // Two learners have claims to review (Amira, Ben), one work awaiting countersignature.
    assert!(body.contains(r#"<span class="tile-figure">2</span> with claims to review"#));
    assert!(body.contains(r#"<span class="tile-figure">1</span> awaiting countersignature"#));
    for learner in LEARNERS {
        assert!(body.contains(learner), "{learner} is in the caseload");
    }
    // Most claims first: Amira (5) before Ben (1).
    assert!(body.find("Amira Hassan") < body.find("Ben Carter"));
    // Amira: six learner ticks of five criteria across two items, none reviewed;
    // nothing confirmed. Claims count criteria, as on her own home page.
    assert!(row(&body, "Amira Hassan").contains(r#"<strong class="claims">5</strong>"#));
    assert!(row(&body, "Amira Hassan").contains(&progress(0, 0)));
    // Ben: unit 201 (5) and 202 1.1–1.3 confirmed; his 2.1 claim was ticked by the trainee.
    let ben = row(&body, "Ben Carter");
    assert!(ben.contains(&progress(15, 8)), "{ben}");
    assert!(
        ben.contains(r#"<strong class="claims">1</strong>"#),
        "{ben}"
    );
    assert!(
        ben.contains(r#"<strong class="countersign">1</strong>"#),
        "{ben}"
    );
    assert!(
        !body.contains("Your centre"),
        "no admin section for an assessor"
    );
    // The full report has every column.
    let report = page_of(
        &pool,
        "assessor@demo.attest.test",
        DEMO_PASSWORD,
        "/caseload",
    )
    .await;
    assert!(row(&report, "Zoë Ōtaki-Ngata").contains("Ready to be Requested"));
    assert!(row(&report, "Ben Carter").contains("1 of 16"));
}

#[tokio::test]
async fn a_trainee_sees_only_the_learners_they_assess() {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let body = home_of(&pool, "trainee@demo.attest.test", DEMO_PASSWORD).await;
    assert!(body.contains("Ben Carter") && body.contains("Zoë Ōtaki-Ngata"));
    assert!(!body.contains("Amira Hassan") && !body.contains("Nguyễn Thị Minh Khai"));
}

#[tokio::test]
async fn an_iqa_sees_the_enrolments_they_quality_assure() {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let body = home_of(&pool, "iqa@demo.attest.test", DEMO_PASSWORD).await;
    assert!(body.contains("Your IQA sample"));
    assert!(body.contains(r#"<span class="tile-figure">4</span> enrolments"#));
    assert!(body.contains("Sampling by assessor") && body.contains("Tom Okafor"));
    assert!(!body.contains("Your caseload"));
    let sample = page_of(&pool, "iqa@demo.attest.test", DEMO_PASSWORD, "/sample").await;
    for learner in LEARNERS {
        assert!(sample.contains(learner), "{learner} is in the sample");
    }
}

#[tokio::test]
async fn a_learner_sees_confirmed_progress_and_claims_apart_and_only_their_own() {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let body = home_of(&pool, "amira@demo.attest.test", DEMO_PASSWORD).await;
    assert!(body.contains("Your qualifications"));
    assert!(body.contains(&progress(0, 0)), "nothing confirmed yet");
    assert!(
        body.contains("5 criteria claimed — awaiting assessor"),
        "claims shown as claims"
    );
    for other in ["Ben Carter", "Zoë Ōtaki-Ngata", "Nguyễn Thị Minh Khai"] {
        assert!(!body.contains(other), "{other} is not shown to Amira");
    }
    let zoe = home_of(&pool, "zoe@demo.attest.test", DEMO_PASSWORD).await;
    assert!(zoe.contains("Ready to be Requested") && zoe.contains("4 of 16 units achieved"));
}

#[tokio::test]
async fn an_admin_sees_the_centre_and_people() {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let body = home_of(&pool, "admin@demo.attest.test", DEMO_PASSWORD).await;
    assert!(body.contains("Your centre") && body.contains(r#"<a href="/admin/people">People</a>"#));
    assert!(body.contains("Northgate College (demo)"));
    assert!(!body.contains("Your caseload"));
}

#[tokio::test]
async fn another_assessor_or_centre_sees_none_of_them() {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let demo = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("query")
        .expect("demo");
    let other = centres::create(&pool, "other", "Another College")
        .await
        .expect("centre");
    let hash = password::hash("a long password").expect("hash");
    for (centre, email) in [
        (demo.id, "second@demo.attest.test"),
        (other.id, "assessor@other.ac.uk"),
    ] {
        let new = NewUser {
            centre_id: centre,
            email,
            display_name: "Second Assessor",
            password_hash: Some(&hash),
            kind: UserKind::Staff,
            roles: &[Role::Assessor, Role::Iqa],
            employer_id: None,
        };
        users::create(&pool, &new).await.expect("user");
        let body = home_of(&pool, email, "a long password").await;
        for learner in LEARNERS {
            assert!(!body.contains(learner), "{email} must not see {learner}");
        }
        assert!(body.contains("No learners are assigned to you yet."));
        assert!(body.contains(r#"<span class="tile-figure">0</span> enrolments"#));
        for report in ["/caseload", "/sample"] {
            let listed = page_of(&pool, email, "a long password", report).await;
            assert!(listed.contains("No enrolments match."), "{report}");
            for learner in LEARNERS {
                assert!(
                    !listed.contains(learner),
                    "{email} must not see {learner} in {report}"
                );
            }
        }
    }
}

//! The demo centre that `serve --demo` loads.
use attest::db::{centres, enrolments, ticks, users};
use attest::demo::load::{load_if_empty, logins, DemoState, DEMO_CENTRE_SLUG, DEMO_PASSWORD};
use attest::domain::Status;
use attest::testing::test_pool;
use attest::web::auth::password;
use sqlx::PgPool;
use uuid::Uuid;

async fn enrolment_of(pool: &PgPool, centre: Uuid, email: &str) -> enrolments::Enrolment {
    let learner = users::find_by_email(pool, centre, email)
        .await
        .expect("query")
        .expect("learner");
    enrolments::list_for_centre(pool, centre)
        .await
        .expect("enrolments")
        .into_iter()
        .find(|e| e.learner_id == learner.id)
        .expect("enrolment")
}

#[tokio::test]
async fn demo_centre_has_learners_in_different_states_and_working_logins() {
    let pool = test_pool().await;
    assert_eq!(load_if_empty(&pool).await.expect("load"), DemoState::Loaded);
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("query")
        .expect("centre");

    let amira = enrolment_of(&pool, centre.id, "amira@demo.attest.test").await;
    assert_eq!(amira.status, Status::NotYetAchieved);
    assert!(ticks::confirmed_ordinals(&pool, amira.id)
        .await
        .expect("confirmed")
        .is_empty());
    let claims: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ticks WHERE enrolment_id = $1 AND layer = 'learner'",
    )
    .bind(amira.id)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert!(claims >= 5, "Amira has claims: {claims}");

    let ben = enrolment_of(&pool, centre.id, "ben@demo.attest.test").await;
    assert_eq!(ben.status, Status::NotYetAchieved);
    let confirmed = ticks::confirmed_ordinals(&pool, ben.id)
        .await
        .expect("confirmed")
        .len();
    assert!(
        confirmed > 0 && confirmed < 51,
        "Ben is partly confirmed: {confirmed}"
    );

    let zoe = enrolment_of(&pool, centre.id, "zoe@demo.attest.test").await;
    assert_eq!(
        zoe.status,
        Status::ReadyToBeRequested,
        "Zoë achieved her assigned major"
    );

    for login in logins() {
        let user = users::find_by_email(&pool, centre.id, login.email)
            .await
            .expect("query")
            .expect("user");
        let hash = user.password_hash.as_deref().expect("password set");
        assert!(
            password::verify(DEMO_PASSWORD, hash),
            "{} can sign in",
            login.email
        );
    }
    assert_eq!(logins().len(), 8);
}

#[tokio::test]
async fn demo_loads_once_and_never_into_a_database_with_other_centres() {
    let pool = test_pool().await;
    assert_eq!(load_if_empty(&pool).await.expect("load"), DemoState::Loaded);
    assert_eq!(
        load_if_empty(&pool).await.expect("again"),
        DemoState::AlreadyThere
    );
    let centres_count = centres::list(&pool).await.expect("list").len();
    assert_eq!(centres_count, 1);

    let other = test_pool().await;
    centres::create(&other, "real", "A real college")
        .await
        .expect("centre");
    assert_eq!(
        load_if_empty(&other).await.expect("load"),
        DemoState::Skipped
    );
    assert_eq!(centres::list(&other).await.expect("list").len(), 1);
}

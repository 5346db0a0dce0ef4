//! The learner's declaration and the assessor's observation record (issue 13, point
//! 4): evidence is added with its maker's signature, in the same transaction; without
//! it nothing is added, and what was typed is kept.
use attest::demo::load::{load_if_empty, DEMO_PASSWORD};
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::http::{get, multipart_as, send, signed_in};

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_learner_declares_each_item_their_own_work_and_an_assessor_signs_an_observation() {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let state = AppState::new(pool.clone());
    let ben = signed_in(state.clone(), "ben@demo.attest.test", DEMO_PASSWORD).await;
    let assessor = signed_in(state.clone(), "assessor@demo.attest.test", DEMO_PASSWORD).await;
    let enrolment: Uuid = sqlx::query_scalar(
        "SELECT e.id FROM enrolments e JOIN users u ON u.id = e.learner_id \
          WHERE u.email = 'ben@demo.attest.test' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("Ben's enrolment");
    let uri = format!("/enrolments/{enrolment}/evidence");
    let form = send(state.clone(), get(&format!("{uri}/new"), Some(&ben))).await;
    assert!(form
        .body
        .contains(attest::domain::signature::SignedKind::LearnerDeclaration.statement()));
    let items = "SELECT count(*) FROM evidence";
    let before = count(&pool, items).await;

    let undeclared = send(
        state.clone(),
        multipart_as(
            &ben,
            &uri,
            &[
                ("title", "Rota I wrote"),
                ("kind", "document"),
                ("signed_name", "Ben Carter"),
            ],
            &[("rota.txt", b"Mon: early".as_slice())],
        ),
    )
    .await;
    assert_eq!(undeclared.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(undeclared
        .body
        .contains("Tick the box to declare that this evidence is your own work"));
    assert!(
        undeclared.body.contains("Rota I wrote"),
        "the title is kept"
    );
    assert_eq!(count(&pool, items).await, before, "nothing added");

    let declared = send(
        state.clone(),
        multipart_as(
            &ben,
            &uri,
            &[
                ("title", "Rota I wrote"),
                ("kind", "document"),
                ("declared", "yes"),
                ("signed_name", "ben carter"),
            ],
            &[("rota.txt", b"Mon: early".as_slice())],
        ),
    )
    .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.body);
    let item = declared.location.expect("to the item");
    let page = send(state.clone(), get(&item, Some(&assessor))).await;
    assert!(
        page.body.contains("Learner&#39;s declaration"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Signed by ben carter (learner)"),
        "{}",
        page.body
    );
    let (signature, content): (Uuid, serde_json::Value) = sqlx::query_as(
        "SELECT s.id, v.content FROM signatures s JOIN signed_item_versions v \
            ON v.item_id = s.item_id AND v.version = s.version \
          JOIN signed_items i ON i.id = s.item_id WHERE i.kind = 'learner_declaration'",
    )
    .fetch_one(&pool)
    .await
    .expect("the declaration");
    assert_eq!(content["title"], "Rota I wrote");
    assert_eq!(
        content["files"][0]["sha256"].as_str().map(str::len),
        Some(64),
        "each file is signed by its digest"
    );
    let check = send(
        state.clone(),
        get(&format!("/signatures/{signature}"), None),
    )
    .await;
    assert!(check.body.contains("Valid."), "{}", check.body);

    // An assessor's observation record is signed by them; a professional discussion
    // record asks for no signature.
    let observed = send(
        state.clone(),
        multipart_as(
            &assessor,
            &uri,
            &[
                ("title", "Observed: handover"),
                ("description", "Clear, complete handover to the night team."),
                ("kind", "observation"),
                ("declared", "yes"),
                ("signed_name", "Sol Assessor"),
            ],
            &[],
        ),
    )
    .await;
    assert_eq!(
        observed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "signed in another's name"
    );
    assert!(observed.body.contains("Clear, complete handover"), "kept");
    let observed = send(
        state.clone(),
        multipart_as(
            &assessor,
            &uri,
            &[
                ("title", "Observed: handover"),
                ("kind", "observation"),
                ("declared", "yes"),
                ("signed_name", "Tom Okafor"),
            ],
            &[],
        ),
    )
    .await;
    assert_eq!(observed.status, StatusCode::SEE_OTHER, "{}", observed.body);
    let talk = send(
        state.clone(),
        multipart_as(
            &assessor,
            &uri,
            &[
                ("title", "Discussion: safeguarding"),
                ("kind", "professional_discussion"),
            ],
            &[],
        ),
    )
    .await;
    assert_eq!(talk.status, StatusCode::SEE_OTHER, "{}", talk.body);
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM signed_items ORDER BY created_at")
            .fetch_all(&pool)
            .await
            .expect("kinds");
    assert_eq!(kinds, ["learner_declaration", "observation_record"]);
}

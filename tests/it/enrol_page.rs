//! The enrol form at a real centre's size: it offers the 50 learners added most recently
//! and a search for any other, never every learner of the centre; a learner already
//! chosen stays offered.
use axum::http::StatusCode;

use crate::http::{enc, get, send};
use crate::portfolio::demo;

#[tokio::test]
async fn the_enrol_form_offers_the_newest_learners_and_finds_any_other() {
    let d = demo().await;
    let centre: uuid::Uuid = sqlx::query_scalar("SELECT centre_id FROM enrolments WHERE id = $1")
        .bind(d.ben.id)
        .fetch_one(&d.pool)
        .await
        .unwrap();
    // 80 learners added after the demo's, the first of them longest ago.
    sqlx::query(
        "WITH made AS (INSERT INTO users (centre_id, email, display_name, kind, created_at) \
           SELECT $1, 'bulk' || g || '@example.org', 'Bulk Learner ' || lpad(g::text, 3, '0'), 'learner', \
                  now() + make_interval(secs => g) \
             FROM generate_series(1, 80) g RETURNING id, kind) \
         INSERT INTO user_roles (user_id, kind, role) SELECT id, kind, 'learner' FROM made",
    )
    .bind(centre)
    .execute(&d.pool)
    .await
    .expect("learners");
    let admin = d.as_("admin").await;
    let state = attest::web::AppState::new(d.pool.clone());

    let page = send(state.clone(), get("/admin/enrolments/new", Some(&admin))).await;
    assert_eq!(page.status, StatusCode::OK);
    let offered = page.body.matches("Bulk Learner ").count();
    assert_eq!(offered, 50, "the 50 newest, not all 80");
    assert!(page.body.contains("Bulk Learner 080"));
    assert!(!page.body.contains("Bulk Learner 001"));

    // A search finds an older one, and only what matches.
    let found = send(
        state.clone(),
        get(
            &format!("/admin/enrolments/new?q={}", enc("learner 001")),
            Some(&admin),
        ),
    )
    .await;
    assert!(found.body.contains("Bulk Learner 001"), "{}", found.body);
    assert_eq!(found.body.matches("Bulk Learner ").count(), 1);
    assert!(
        found.body.contains("value=\"learner 001\""),
        "the search is shown back"
    );

    // Chosen from the person's page: offered (and selected) whatever the list holds.
    let first: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'bulk1@example.org'")
            .fetch_one(&d.pool)
            .await
            .unwrap();
    let chosen = send(
        state.clone(),
        get(
            &format!("/admin/enrolments/new?learner={first}"),
            Some(&admin),
        ),
    )
    .await;
    assert!(
        chosen
            .body
            .contains(&format!("<option value=\"{first}\" selected")),
        "{}",
        chosen.body
    );
}

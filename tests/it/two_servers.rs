//! Two servers, one database (issue 16, point 3, what needs no shared storage): each
//! server keeps its own rendered pages, session records and tick writer, and still a
//! tick through one shows at once on the other's kept page, and signing out through one
//! signs the session out on the other.
use attest::db::evidence;
use attest::web::AppState;
use axum::http::StatusCode;

use crate::http::{form_post_as, get, send};
use crate::portfolio::{demo, tick_form};

#[tokio::test]
async fn a_tick_and_a_sign_out_through_one_server_show_at_once_on_the_other() {
    let d = demo().await;
    let (one, other) = (AppState::new(d.pool.clone()), AppState::new(d.pool.clone()));
    let tom = d.as_("assessor").await;
    let item = evidence::list_for_enrolment(&d.pool, d.ben.id)
        .await
        .expect("items")
        .remove(0);
    let page = format!("/enrolments/{}/evidence/{}", d.ben.id, item.id);
    let criterion: uuid::Uuid = sqlx::query_scalar(
        "SELECT c.id FROM criteria c WHERE c.version_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM ticks t WHERE t.evidence_id = $2 AND t.criterion_id = c.id AND t.layer = 'assessor') \
         ORDER BY c.ordinal LIMIT 1",
    )
    .bind(d.ben.version_id)
    .bind(item.id)
    .fetch_one(&d.pool)
    .await
    .expect("a criterion without an assessor tick");
    let untick_button = format!("id=\"t-{criterion}\" class=\"tick-button untick\"");

    // The other server keeps the page as it was.
    let before = send(other.clone(), get(&page, Some(&tom))).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(!before.body.contains(&untick_button));
    let kept = other.pages.usage().0;
    assert!(kept > 0, "the other server kept the page");

    // Ticked through one: the other's next answer shows it.
    let ticked = send(
        one.clone(),
        form_post_as(
            &tom,
            &format!("{page}/ticks"),
            &tick_form(criterion, "tick"),
        ),
    )
    .await;
    assert_eq!(ticked.status, StatusCode::SEE_OTHER);
    let after = send(other.clone(), get(&page, Some(&tom))).await;
    assert!(
        after.body.contains(&untick_button),
        "the tick shows at once"
    );

    // Signed out through one: the other opens nothing with the same cookie.
    let out = send(one.clone(), form_post_as(&tom, "/logout", "")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let refused = send(other.clone(), get(&page, Some(&tom))).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(
        refused
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        refused.location
    );
}

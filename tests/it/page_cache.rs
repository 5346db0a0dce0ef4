//! Rendered portfolio pages are kept in memory per viewer and enrolment revision: a
//! kept page is exactly the page, and any change the page shows renders it again.
use std::io::Read;

use attest::db::{enrolments, evidence};
use attest::domain::Status;
use attest::web::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::http::{form_post_as, get, send};
use crate::portfolio::{demo, tick_form};

fn gzip_get(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
        .body(Body::empty())
        .expect("request")
}

async fn gunzipped(state: &AppState, uri: &str, cookie: &str) -> (String, String) {
    let response =
        tower::ServiceExt::oneshot(attest::web::router(state.clone()), gzip_get(uri, cookie))
            .await
            .expect("response");
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    let encoding = response.headers()[header::CONTENT_ENCODING]
        .to_str()
        .expect("ascii")
        .to_string();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let mut html = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut html)
        .expect("gzip");
    (encoding, html)
}

#[tokio::test]
async fn a_kept_page_is_the_page_and_gzip_holds_the_same() {
    let d = demo().await;
    let state = AppState::new(d.pool.clone());
    let tom = d.as_("assessor").await;
    let items = evidence::list_for_enrolment(&d.pool, d.ben.id)
        .await
        .expect("items");
    let e = format!("/enrolments/{}", d.ben.id);
    for uri in [
        format!("{e}/evidence/{}", items[0].id),
        format!("{e}/progress"),
        format!("{e}/matrix"),
    ] {
        let kept_before = state.pages.usage().0;
        let rendered = send(state.clone(), get(&uri, Some(&tom))).await;
        assert_eq!(rendered.status, StatusCode::OK);
        assert_eq!(state.pages.usage().0, kept_before + 1, "{uri} was kept");
        let kept = send(state.clone(), get(&uri, Some(&tom))).await;
        assert_eq!(kept.body, rendered.body, "{uri}: the kept page is the page");
        assert_eq!(kept.headers[header::VARY], "accept-encoding");
        let (encoding, html) = gunzipped(&state, &uri, &tom).await;
        assert_eq!(encoding, "gzip");
        assert_eq!(html, rendered.body, "{uri}: gzip holds exactly the page");
        // Rendered afresh by a server that kept nothing: the same page.
        let fresh = send(AppState::new(d.pool.clone()), get(&uri, Some(&tom))).await;
        assert_eq!(fresh.body, rendered.body);
    }
}

#[tokio::test]
async fn every_change_a_page_shows_renders_it_again() {
    let d = demo().await;
    let state = AppState::new(d.pool.clone());
    let tom = d.as_("assessor").await;
    let items = evidence::list_for_enrolment(&d.pool, d.ben.id)
        .await
        .expect("items");
    let item = &items[0];
    let page = format!("/enrolments/{}/evidence/{}", d.ben.id, item.id);
    let matrix = format!("/enrolments/{}/matrix", d.ben.id);
    let before = send(state.clone(), get(&page, Some(&tom))).await.body;
    let matrix_before = send(state.clone(), get(&matrix, Some(&tom))).await.body;

    // A tick through the app: the kept page must not be served again.
    // Named as assessors write it, with its unit: "201 1.1".
    let (criterion, number): (uuid::Uuid, String) = sqlx::query_as(
        "SELECT c.id, u.code || ' ' || c.number FROM criteria c JOIN units u ON u.id = c.unit_id \
          WHERE c.version_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM ticks t WHERE t.evidence_id = $2 AND t.criterion_id = c.id AND t.layer = 'assessor') \
         ORDER BY c.ordinal LIMIT 1",
    )
    .bind(d.ben.version_id)
    .bind(item.id)
    .fetch_one(&d.pool)
    .await
    .expect("a criterion without an assessor tick");
    let ticked = send(
        state.clone(),
        form_post_as(
            &tom,
            &format!("{page}/ticks"),
            &tick_form(criterion, "tick"),
        ),
    )
    .await;
    assert_eq!(ticked.status, StatusCode::SEE_OTHER);
    let after = send(state.clone(), get(&page, Some(&tom))).await.body;
    assert_ne!(after, before);
    let untick_button = format!("id=\"t-{criterion}\" class=\"tick-button untick\"");
    assert!(
        !before.contains(&untick_button) && after.contains(&untick_button),
        "the new tick shows"
    );
    assert!(after.contains(&format!("your tick from {number}")));

    // A status move made elsewhere (another server, an admin): the tag changes.
    enrolments::transition(
        &d.pool,
        d.ben.id,
        d.ben.status,
        Status::ReadyToBeRequested,
        None,
        Some("test"),
    )
    .await
    .expect("moved");
    let moved = send(state.clone(), get(&page, Some(&tom))).await.body;
    assert!(
        moved.contains("Ready to be Requested"),
        "the status tag moved"
    );

    // A renamed person: every page naming them renders again.
    sqlx::query("UPDATE users SET display_name = 'Benjamin Renamed' WHERE id = $1")
        .bind(d.ben.learner_id)
        .execute(&d.pool)
        .await
        .expect("renamed");
    let renamed = send(state.clone(), get(&page, Some(&tom))).await.body;
    assert!(renamed.contains("Benjamin Renamed"));

    // A renamed assessor: the learner's page names who ticked, and it is not the
    // learner's own enrolment that changed but the centre's page revision.
    let ben = d.as_("ben").await;
    let bens = send(state.clone(), get(&page, Some(&ben))).await.body;
    assert!(!bens.contains("Thomas Renamed"));
    sqlx::query("UPDATE users SET display_name = 'Thomas Renamed' WHERE id = $1")
        .bind(d.ben.assessor_id)
        .execute(&d.pool)
        .await
        .expect("renamed");
    let bens = send(state.clone(), get(&page, Some(&ben))).await.body;
    assert!(bens.contains("Thomas Renamed"), "{bens}");

    // New evidence added straight to the database: the matrix grows a column.
    evidence::add(
        &d.pool,
        &evidence::NewEvidence {
            enrolment_id: d.ben.id,
            title: "A brand new column",
            description: "",
            kind: evidence::EvidenceKind::Document,
            added_by: d.ben.learner_id,
        },
    )
    .await
    .expect("added");
    let matrix_after = send(state.clone(), get(&matrix, Some(&tom))).await.body;
    assert_ne!(matrix_after, matrix_before);
    assert!(matrix_after.contains("A brand new column"));
}

#[tokio::test]
async fn each_viewer_has_their_own_page() {
    let d = demo().await;
    let state = AppState::new(d.pool.clone());
    let items = evidence::list_for_enrolment(&d.pool, d.ben.id)
        .await
        .expect("items");
    let page = format!("/enrolments/{}/evidence/{}", d.ben.id, items[0].id);
    let tom = d.as_("assessor").await;
    let ben = d.as_("ben").await;
    let as_tom = send(state.clone(), get(&page, Some(&tom))).await.body;
    let as_ben = send(state.clone(), get(&page, Some(&ben))).await.body;
    assert_ne!(as_tom, as_ben);
    assert!(as_tom.contains("Signed in as <strong>Tom Okafor</strong>"));
    assert!(!as_ben.contains("Signed in as <strong>Tom Okafor</strong>"));
    // Kept pages are still behind the access check: another learner gets 404.
    let amira = d.as_("amira").await;
    let refused = send(state.clone(), get(&page, Some(&amira))).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(!refused
        .body
        .contains("Signed in as <strong>Tom Okafor</strong>"));
}

/// The figure a home page's tile shows for `what` ("with claims to review", …).
fn tile(body: &str, what: &str) -> i64 {
    let end = body
        .find(&format!("</span> {what}"))
        .unwrap_or_else(|| panic!("a tile {what}"));
    let start = body[..end].rfind('>').expect("the figure") + 1;
    body[start..end].parse().expect("a number")
}

#[tokio::test]
async fn a_kept_home_page_shows_any_change_to_an_enrolment_on_it() {
    let d = demo().await;
    let state = AppState::new(d.pool.clone());
    let tom = d.as_("assessor").await;
    let home = send(state.clone(), get("/", Some(&tom))).await.body;
    let kept = state.pages.usage().0;
    assert_eq!(
        send(state.clone(), get("/", Some(&tom))).await.body,
        home,
        "served as kept"
    );
    assert_eq!(state.pages.usage().0, kept);
    let claims = tile(&home, "with claims to review");
    // Nguyễn claims a criterion: one more learner with claims to review.
    let minh = attest::db::enrolments::list_for_centre(&d.pool, d.ben.centre_id)
        .await
        .expect("enrolments")
        .into_iter()
        .find(|e| e.id != d.ben.id && e.id != d.amira.id && e.status == Status::NotYetAchieved)
        .expect("another learner");
    let item = evidence::add(
        &d.pool,
        &evidence::NewEvidence {
            enrolment_id: minh.id,
            title: "First workbook",
            description: "",
            kind: evidence::EvidenceKind::Document,
            added_by: minh.learner_id,
        },
    )
    .await
    .expect("evidence");
    let criterion = d.criterion(&minh, "201", "1.1").await;
    crate::ticking::tick(
        &d.pool,
        item.id,
        criterion,
        attest::domain::ticks::Layer::Learner,
        minh.learner_id,
    )
    .await
    .expect("tick");
    let after = send(state.clone(), get("/", Some(&tom))).await.body;
    assert_eq!(tile(&after, "with claims to review"), claims + 1);
}

#[tokio::test]
async fn a_kept_home_page_turns_a_learner_quiet_once_thirty_days_pass() {
    let d = demo().await;
    let state = AppState::new(d.pool.clone());
    let tom = d.as_("assessor").await;
    // Ben's last activity a second short of 30 days ago: not yet quiet.
    sqlx::query("UPDATE enrolments SET last_activity_at = now() - interval '30 days' + interval '1 second' WHERE id = $1")
        .bind(d.ben.id)
        .execute(&d.pool)
        .await
        .expect("back date");
    let home = send(state.clone(), get("/", Some(&tom))).await.body;
    let quiet = tile(&home, "with no activity for 30 days");
    // Nothing about Ben changes; only time passes. The kept page must follow.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = send(state.clone(), get("/", Some(&tom))).await.body;
        if tile(&now, "with no activity for 30 days") == quiet + 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the kept home never showed Ben quiet"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn an_iqa_home_names_a_renamed_assessor_at_once() {
    let d = demo().await;
    let state = AppState::new(d.pool.clone());
    let iqa = d.as_("iqa").await;
    let home = send(state.clone(), get("/", Some(&iqa))).await.body;
    assert!(home.contains("Sampling by assessor"), "{home}");
    assert!(!home.contains("Thomas Renamed"));
    // No enrolment of the IQA's changes: the centre's page revision moves instead.
    sqlx::query("UPDATE users SET display_name = 'Thomas Renamed' WHERE id = $1")
        .bind(d.ben.assessor_id)
        .execute(&d.pool)
        .await
        .expect("renamed");
    let home = send(state.clone(), get("/", Some(&iqa))).await.body;
    assert!(home.contains("Thomas Renamed"), "{home}");
}

//! SPEC §5 over HTTP: each status offers exactly its actions, each allowed row moves,
//! every other request answers 409 with the reason and changes nothing.
use attest::db::credentials;
use attest::domain::status::{offers, Offer};
use attest::domain::Status;
use attest::jobs::{spawn, Renderer};
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::credentials::{demo_centre, fast, status, wait_for};
use crate::http::{form_post_as, get, send, signed_in, Reply};

const PASSWORD: &str = attest::demo::load::DEMO_PASSWORD;

async fn as_(pool: &PgPool, who: &str) -> String {
    signed_in(
        AppState::new(pool.clone()),
        &format!("{who}@demo.attest.test"),
        PASSWORD,
    )
    .await
}

async fn post(pool: &PgPool, cookie: &str, uri: &str, form: &str) -> Reply {
    send(AppState::new(pool.clone()), form_post_as(cookie, uri, form)).await
}

async fn page(pool: &PgPool, cookie: &str, uri: &str) -> Reply {
    send(AppState::new(pool.clone()), get(uri, Some(cookie))).await
}

async fn set_status(pool: &PgPool, id: Uuid, to: Status) {
    sqlx::query("UPDATE enrolments SET status = $2 WHERE id = $1")
        .bind(id)
        .bind(to.key())
        .execute(pool)
        .await
        .expect("status");
}

const BASE_URL: &str = "https://attest.example.org";

fn ok_renderer() -> Renderer {
    attest::jobs::renderer("https://attest.example.org")
}

/// The POST each transition action is asked with.
fn action_post(offer: Offer) -> Option<(&'static str, &'static str)> {
    match offer {
        Offer::Audit => Some(("audit", "")),
        Offer::SwitchMajor => None,
        Offer::RequestCredential => Some(("credential/request", "")),
        Offer::Retry => Some(("credential/retry", "")),
        Offer::Issue => Some(("credential/issue", "")),
        Offer::CancelCredential => Some(("credential/cancel", "reason=test")),
        Offer::Print | Offer::Email => None,
    }
}

/// The controls the status panel shows, by the words on them.
fn shown(body: &str) -> Vec<Offer> {
    let panel = body
        .split("id=\"status-panel\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("a status panel");
    Offer::ALL
        .into_iter()
        .filter(|o| {
            let words = match o {
                Offer::Email => "Email<span",
                other => other.label(),
            };
            panel.contains(&format!(">{words}")) && panel.contains("class=\"button")
        })
        .collect()
}

#[tokio::test]
async fn each_status_shows_exactly_its_actions_to_an_admin_and_only_audit_to_the_assessor() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    let assessor = as_(&c.pool, "assessor").await;
    let learner = as_(&c.pool, "zoe").await;
    for s in Status::ALL {
        set_status(&c.pool, c.zoe.id, s).await;
        let uri = format!("/enrolments/{}", c.zoe.id);
        let r = page(&c.pool, &admin, &uri).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains(&format!("tag-{}\">{}", s.key(), s.label())),
            "badge for {s:?}"
        );
        let mut expected: Vec<Offer> = offers(s).to_vec();
        expected.sort_by_key(|o| Offer::ALL.iter().position(|a| a == o));
        assert_eq!(shown(&r.body), expected, "admin in {s:?}");
        let r = page(&c.pool, &assessor, &uri).await;
        let audit_only: Vec<Offer> = expected
            .iter()
            .copied()
            .filter(|o| *o == Offer::Audit)
            .collect();
        assert_eq!(shown(&r.body), audit_only, "assessor in {s:?}");
        let r = page(&c.pool, &learner, &uri).await;
        assert!(shown(&r.body).is_empty(), "learner in {s:?}");
    }
}

#[tokio::test]
async fn every_action_outside_its_status_answers_409_and_changes_nothing() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    for s in Status::ALL {
        for offer in Offer::ALL {
            let Some((path, form)) = action_post(offer) else {
                continue;
            };
            if offers(s).contains(&offer) {
                continue;
            }
            set_status(&c.pool, c.zoe.id, s).await;
            let history = attest::db::enrolments::history(&c.pool, c.zoe.id)
                .await
                .expect("h")
                .len();
            let r = post(
                &c.pool,
                &admin,
                &format!("/enrolments/{}/{path}", c.zoe.id),
                form,
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::CONFLICT,
                "{offer:?} in {s:?}: {}",
                r.body
            );
            assert!(
                r.body.contains(s.label()),
                "the reason names the status: {}",
                r.body
            );
            assert_eq!(status(&c.pool, c.zoe.id).await, s);
            assert_eq!(
                attest::db::enrolments::history(&c.pool, c.zoe.id)
                    .await
                    .expect("h")
                    .len(),
                history
            );
        }
    }
    // Print and email are refused outside Credential Issued the same way.
    set_status(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    let r = page(&c.pool, &admin, &format!("/enrolments/{}/major", c.zoe.id)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_status_journey_over_http_from_audit_to_withdrawn() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    let id = c.zoe.id;
    let at = |p: &str| format!("/enrolments/{id}/{p}");

    // Ready → (audit after the status was forced back) Not Yet Achieved → Ready.
    set_status(&c.pool, id, Status::NotYetAchieved).await;
    let r = post(&c.pool, &admin, &at("audit"), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&c.pool, id).await, Status::ReadyToBeRequested);
    let audit_page = page(&c.pool, &admin, &at("audit")).await;
    assert!(
        audit_page.body.contains("Assigned Major Achieved"),
        "{}",
        audit_page.body
    );
    assert!(audit_page.body.contains("Counted units"));

    // Switch to a major that is not achieved: Not Yet Achieved, with the nearest way shown.
    let form = page(&c.pool, &admin, &at("major")).await;
    let gen = form
        .body
        .split("value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default().to_string())
        .find(|v| form.body.contains(&format!("for=\"major-{v}\">GEN")))
        .expect("the GEN major is offered");
    let r = post(&c.pool, &admin, &at("major"), "major=").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Select the major to switch to"));
    let r = post(&c.pool, &admin, &at("major"), &format!("major={gen}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&c.pool, id).await, Status::NotYetAchieved);
    let r = post(&c.pool, &admin, &at("credential/request"), "").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // And back: the audit says SPEC is achieved.
    let spec = form
        .body
        .split("value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default().to_string())
        .find(|v| form.body.contains(&format!("for=\"major-{v}\">SPEC")))
        .expect("SPEC");
    post(&c.pool, &admin, &at("major"), &format!("major={spec}")).await;
    assert_eq!(status(&c.pool, id).await, Status::ReadyToBeRequested);

    // Request; a double submit gets 409; the panel polls while generating.
    let r = post(&c.pool, &admin, &at("credential/request"), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = post(&c.pool, &admin, &at("credential/request"), "").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("Generating Credential"));
    let panel = page(&c.pool, &admin, &at("status")).await;
    assert!(
        panel.body.contains("hx-trigger=\"every 1s\""),
        "{}",
        panel.body
    );
    let worker = spawn(c.pool.clone(), ok_renderer(), fast());
    wait_for(&c.pool, id, Status::AwaitingIssue).await;
    worker.shutdown().await;
    let panel = page(&c.pool, &admin, &at("status")).await;
    assert!(!panel.body.contains("hx-trigger"), "polling stops");
    assert!(panel.body.contains("Awaiting Issue"));

    // Issue, then a second Issue is refused.
    assert_eq!(
        post(&c.pool, &admin, &at("credential/issue"), "")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(status(&c.pool, id).await, Status::CredentialIssued);
    assert_eq!(
        post(&c.pool, &admin, &at("credential/issue"), "")
            .await
            .status,
        StatusCode::CONFLICT
    );

    // Cancelling needs a reason: without one the form says so and nothing changes.
    let r = post(&c.pool, &admin, &at("credential/cancel"), "reason=+++").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .body
        .contains("Enter the reason for cancelling the credential"));
    assert_eq!(status(&c.pool, id).await, Status::CredentialIssued);
    let r = post(
        &c.pool,
        &admin,
        &at("credential/cancel"),
        "reason=Issued+to+the+wrong+learner",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&c.pool, id).await, Status::Withdrawn);

    let r = page(&c.pool, &admin, &format!("/enrolments/{id}")).await;
    assert!(
        shown(&r.body).is_empty(),
        "Withdrawn shows no action at all"
    );
    let history = page(&c.pool, &admin, &at("audit")).await;
    assert!(
        history.body.contains("Issued to the wrong learner"),
        "the reason is in the history"
    );
    let register = credentials::list_for_enrolment(&c.pool, id)
        .await
        .expect("list");
    assert_eq!(register.len(), 1);
    assert!(register[0].cancelled_at.is_some());
}

#[tokio::test]
async fn a_failed_generation_shows_its_error_and_retry_works_over_http() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    let id = c.zoe.id;
    // The fonts are missing: a real failure, as on a server without them.
    let failing = attest::jobs::renderer_with_fonts(BASE_URL, "/nonexistent/fonts");
    let worker = spawn(c.pool.clone(), failing, fast());
    post(
        &c.pool,
        &admin,
        &format!("/enrolments/{id}/credential/request"),
        "",
    )
    .await;
    wait_for(&c.pool, id, Status::CredentialFailedToGenerate).await;
    worker.shutdown().await;
    let r = page(&c.pool, &admin, &format!("/enrolments/{id}")).await;
    assert!(
        r.body.contains("Generation failed") && r.body.contains("ATTEST_FONT_DIR"),
        "the error is shown: {}",
        r.body
    );
    let worker = spawn(c.pool.clone(), ok_renderer(), fast());
    let r = post(
        &c.pool,
        &admin,
        &format!("/enrolments/{id}/credential/retry"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    wait_for(&c.pool, id, Status::AwaitingIssue).await;
    worker.shutdown().await;
}

#[tokio::test]
async fn only_admins_run_the_credential_and_only_staff_on_the_enrolment_audit() {
    let c = demo_centre().await;
    let id = c.zoe.id;
    for who in ["assessor", "trainee", "iqa", "zoe"] {
        let cookie = as_(&c.pool, who).await;
        let r = post(
            &c.pool,
            &cookie,
            &format!("/enrolments/{id}/credential/request"),
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}");
    }
    assert_eq!(status(&c.pool, id).await, Status::ReadyToBeRequested);
    for (who, expected) in [
        ("assessor", StatusCode::SEE_OTHER),
        ("trainee", StatusCode::NOT_FOUND),
        ("iqa", StatusCode::NOT_FOUND),
        ("zoe", StatusCode::NOT_FOUND),
    ] {
        let cookie = as_(&c.pool, who).await;
        let r = post(&c.pool, &cookie, &format!("/enrolments/{id}/audit"), "").await;
        assert_eq!(r.status, expected, "{who} audits");
    }
}

#[tokio::test]
async fn every_page_about_an_enrolment_shows_its_status_tag() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    let learner = as_(&c.pool, "zoe").await;
    let assessor = as_(&c.pool, "assessor").await;
    let id = c.zoe.id;
    let item: Uuid = sqlx::query_scalar("SELECT id FROM evidence WHERE enrolment_id = $1 LIMIT 1")
        .bind(id)
        .fetch_one(&c.pool)
        .await
        .expect("evidence");
    let tag = "<span class=\"tag tag-ready_to_be_requested\">Ready to be Requested</span>";
    for (who, uri) in [
        (&admin, format!("/enrolments/{id}")),
        (&admin, format!("/enrolments/{id}/audit")),
        (&admin, format!("/enrolments/{id}/major")),
        (&admin, format!("/enrolments/{id}/progress")),
        (&admin, format!("/enrolments/{id}/matrix")),
        (&admin, format!("/enrolments/{id}/activity")),
        (&admin, format!("/enrolments/{id}/evidence/{item}")),
        (&learner, format!("/enrolments/{id}/evidence/new")),
        (
            &assessor,
            format!("/enrolments/{id}/evidence/{item}/accept/learner"),
        ),
    ] {
        let r = page(&c.pool, who, &uri).await;
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::CONFLICT,
            "{uri}: {}",
            r.status
        );
        if r.status == StatusCode::OK {
            assert!(r.body.contains(tag), "{uri} shows the status");
            assert!(
                r.body.contains("Zoë Ōtaki-Ngata"),
                "{uri} says whose portfolio"
            );
        }
    }
}

#[tokio::test]
async fn the_admins_enrolments_report_lists_every_enrolment_with_its_status_and_a_way_in() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    let home = page(&c.pool, &admin, "/admin/enrolments").await;
    for e in [&c.zoe, &c.ben] {
        assert!(
            home.body
                .contains(&format!("href=\"/enrolments/{}\"", e.id)),
            "a link to {}",
            e.id
        );
    }
    assert!(home.body.contains("tag-ready_to_be_requested"));
}

/// As for a bulk audit (`db_bulk_audit`): auditing one enrolment is logged but is not
/// activity on the portfolio.
#[tokio::test]
async fn an_audit_over_http_is_logged_but_leaves_last_activity_where_it_was() {
    let c = demo_centre().await;
    let id = c.zoe.id;
    sqlx::query(
        "UPDATE enrolments SET last_activity_at = now() - interval '40 days' WHERE id = $1",
    )
    .bind(id)
    .execute(&c.pool)
    .await
    .expect("backdate");
    let last_activity = || async {
        sqlx::query_scalar::<_, time::OffsetDateTime>(
            "SELECT last_activity_at FROM enrolments WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&c.pool)
        .await
        .expect("last activity")
    };
    let audits_logged = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM activity_log WHERE enrolment_id = $1 AND action = 'audit'",
        )
        .bind(id)
        .fetch_one(&c.pool)
        .await
        .expect("log")
    };
    let (before, logged) = (last_activity().await, audits_logged().await);
    let cookie = as_(&c.pool, "assessor").await;
    let r = post(&c.pool, &cookie, &format!("/enrolments/{id}/audit"), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(last_activity().await, before);
    assert_eq!(audits_logged().await, logged + 1);
}

/// Issue 11, point 10: the credential number is the learner's once the credential is
/// issued, not while it is requested, generated or waiting: no page or export of theirs
/// shows it before.
#[tokio::test]
async fn the_learner_sees_the_credential_number_only_once_it_is_issued() {
    let c = demo_centre().await;
    let admin = as_(&c.pool, "admin").await;
    let zoe = as_(&c.pool, "zoe").await;
    let id = c.zoe.id;
    let at = |p: &str| format!("/enrolments/{id}{p}");
    let pages = [
        at(""),
        at("/status"),
        at("/activity"),
        at("/activity.csv"),
        at("/audit"),
        "/".to_string(),
    ];
    let r = post(&c.pool, &admin, &at("/credential/request"), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let number = credentials::latest_for_enrolment(&c.pool, id)
        .await
        .expect("q")
        .expect("requested")
        .number;
    let admins_page = page(&c.pool, &admin, &at("")).await.body;
    assert!(admins_page.contains(&number), "the admin sees it at once");
    let hidden = |stage: &'static str| {
        let (pool, zoe, number, pages) =
            (c.pool.clone(), zoe.clone(), number.clone(), pages.clone());
        async move {
            for uri in &pages {
                let r = page(&pool, &zoe, uri).await;
                assert_eq!(r.status, StatusCode::OK, "{uri} {stage}");
                assert!(
                    !r.body.contains(&number),
                    "{stage}: the learner reads it on {uri}"
                );
            }
        }
    };
    hidden("requested").await;
    let worker = spawn(c.pool.clone(), ok_renderer(), fast());
    wait_for(&c.pool, id, Status::AwaitingIssue).await;
    worker.shutdown().await;
    hidden("awaiting issue").await;

    let r = post(&c.pool, &admin, &at("/credential/issue"), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let learners_page = page(&c.pool, &zoe, &at("")).await.body;
    assert!(learners_page.contains(&number), "issued: it is theirs");
}

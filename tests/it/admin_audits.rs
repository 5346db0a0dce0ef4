//! The admin's bulk audit pages over HTTP: choosing, bad input, the run's progress and
//! summary, and who may see them.
use std::time::{Duration, Instant};

use attest::db::evidence::{self, EvidenceKind, NewEvidence};
use attest::db::{activity, audits, bulk_audit_runs, centres, enrolments, ticks, users};
use attest::demo::load::{load_if_empty, DEMO_CENTRE_SLUG, DEMO_PASSWORD};
use attest::domain::ticks::Layer;
use attest::domain::Status;
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::criteria;
use crate::http::{form_post_as, get, send, signed_in, Reply};

struct Demo {
    pool: PgPool,
    admin: String,
    centre: Uuid,
    admin_id: Uuid,
}

async fn demo() -> Demo {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre")
        .id;
    let admin_id = users::find_by_email(&pool, centre, "admin@demo.attest.test")
        .await
        .expect("q")
        .expect("admin")
        .id;
    let admin = signed_in(
        AppState::new(pool.clone()),
        "admin@demo.attest.test",
        DEMO_PASSWORD,
    )
    .await;
    Demo {
        pool,
        admin,
        centre,
        admin_id,
    }
}

impl Demo {
    async fn get(&self, uri: &str, cookie: &str) -> Reply {
        send(AppState::new(self.pool.clone()), get(uri, Some(cookie))).await
    }
    async fn post(&self, uri: &str, cookie: &str, form: &str) -> Reply {
        send(
            AppState::new(self.pool.clone()),
            form_post_as(cookie, uri, form),
        )
        .await
    }
    async fn runs(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM bulk_audits")
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    /// Poll the progress fragment, as htmx does, until it stops asking to be polled.
    async fn wait_for(&self, run: &str) -> Reply {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.get(&format!("{run}/progress"), &self.admin).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r.body.contains("<progress"), "{}", r.body);
            if !r.body.contains("hx-trigger=\"every 1s\"") {
                return r;
            }
            assert!(r.body.contains(&format!("hx-get=\"{run}/progress\"")));
            assert!(Instant::now() < deadline, "the run did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn an_admin_audits_a_whole_qualification_and_reads_the_summary() {
    let d = demo().await;
    let all = enrolments::list_for_centre(&d.pool, d.centre)
        .await
        .expect("enrolments");
    // Minh has just enrolled; every criterion confirmed, the audit makes him ready.
    let minh = users::find_by_email(&d.pool, d.centre, "minh@demo.attest.test")
        .await
        .expect("q")
        .expect("minh");
    let minh = all
        .iter()
        .find(|e| e.learner_id == minh.id)
        .expect("Minh's enrolment");
    assert_eq!(minh.status, Status::NotYetAchieved);
    let assessor = minh.assessor_id;
    let item = evidence::add(
        &d.pool,
        &NewEvidence {
            enrolment_id: minh.id,
            title: "Everything",
            description: "",
            kind: EvidenceKind::Observation,
            added_by: assessor,
        },
    )
    .await
    .expect("evidence")
    .id;
    let every = criteria(&d.pool, minh.version_id).await;
    ticks::tick_many(&d.pool, item, &every, Layer::Assessor, assessor)
        .await
        .expect("ticks");

    let page = d.get("/admin/audits", &d.admin).await;
    assert_eq!(page.status, StatusCode::OK);
    let qualification = page
        .body
        .split("<option value=\"")
        .find(|o| o.contains("ATT/CS2/1"))
        .expect("the demo qualification offered");
    let qualification: Uuid = qualification[..36].parse().expect("id");
    assert!(page.body.contains("4 enrolments"), "{}", page.body);

    let started = d
        .post(
            "/admin/audits",
            &d.admin,
            &format!("scope=qualification&qualification={qualification}"),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let run = started.location.expect("to the run");
    assert!(run.starts_with("/admin/audits/"));

    let page = d.get(&run, &d.admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<progress"));
    assert!(page.body.contains("of 4 audited"), "{}", page.body);
    assert!(page.body.contains("Every enrolment of ATT/CS2/1"));

    let done = d.wait_for(&run).await;
    assert!(done.body.contains("4 of 4 audited"), "{}", done.body);
    assert!(
        done.body.contains("<strong>1</strong> changed status"),
        "{}",
        done.body
    );
    for e in &all {
        assert!(done
            .body
            .contains(&format!("href=\"/enrolments/{}\"", e.id)));
        let latest = audits::latest_audit(&d.pool, e.id)
            .await
            .expect("q")
            .expect("audited");
        assert_eq!(latest.actor_id, Some(d.admin_id));
        assert!(done.body.contains(latest.outcome.label()));
        let logged = activity::for_enrolment(&d.pool, e.id).await.expect("log");
        let last = logged.last().expect("an entry");
        assert_eq!(
            (last.action.as_str(), last.actor_id),
            ("audit", Some(d.admin_id))
        );
    }
    assert_eq!(
        enrolments::get(&d.pool, minh.id)
            .await
            .expect("minh")
            .status,
        Status::ReadyToBeRequested
    );
    assert!(done
        .body
        .contains("Not Yet Achieved</span> → <span class=\"tag tag-ready_to_be_requested\">"));
    // Without JavaScript, the run's own page shows the same.
    let page = d.get(&run, &d.admin).await;
    assert!(page.body.contains("4 of 4 audited") && page.body.contains("Summary"));
    let list = d.get("/admin/audits", &d.admin).await;
    assert!(list.body.contains(&format!("href=\"{run}\"")));
}

#[tokio::test]
async fn an_admin_audits_chosen_enrolments_only() {
    let d = demo().await;
    let all = enrolments::list_for_centre(&d.pool, d.centre)
        .await
        .expect("enrolments");
    let chosen = [all[0].id, all[2].id];
    let page = d.get("/admin/audits", &d.admin).await;
    for e in &all {
        assert!(page
            .body
            .contains(&format!("name=\"enrolment\" value=\"{}\"", e.id)));
    }
    let started = d
        .post(
            "/admin/audits",
            &d.admin,
            &format!(
                "scope=chosen&enrolment={}&enrolment={}",
                chosen[0], chosen[1]
            ),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let run = started.location.expect("to the run");
    let done = d.wait_for(&run).await;
    assert!(done.body.contains("2 of 2 audited"), "{}", done.body);
    for e in &all {
        let linked = done
            .body
            .contains(&format!("href=\"/enrolments/{}\"", e.id));
        assert_eq!(linked, chosen.contains(&e.id), "{}", e.id);
        let by_admin = audits::audit_history(&d.pool, e.id)
            .await
            .expect("audits")
            .iter()
            .any(|a| a.actor_id == Some(d.admin_id));
        assert_eq!(by_admin, chosen.contains(&e.id));
    }
}

#[tokio::test]
async fn choosing_nothing_says_so_beside_the_field_and_starts_nothing() {
    let d = demo().await;
    let r = d
        .post(
            "/admin/audits",
            &d.admin,
            "scope=qualification&qualification=",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"qualification-error\""));
    assert!(r
        .body
        .contains("Select the qualification whose enrolments to audit"));
    assert!(r.body.contains("href=\"#qualification\""), "in the summary");

    let r = d.post("/admin/audits", &d.admin, "scope=chosen").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"enrolment-error\""));
    assert!(r.body.contains("Select at least one enrolment to audit"));

    // An enrolment of another centre (or no enrolment at all) is not on the list.
    let r = d
        .post(
            "/admin/audits",
            &d.admin,
            &format!("scope=chosen&enrolment={}", Uuid::now_v7()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Select enrolments from the list"));
    let r = d
        .post(
            "/admin/audits",
            &d.admin,
            &format!("scope=qualification&qualification={}", Uuid::now_v7()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(d.runs().await, 0);
}

#[tokio::test]
async fn only_the_centres_admins_see_bulk_audits() {
    let d = demo().await;
    let assessor = signed_in(
        AppState::new(d.pool.clone()),
        "assessor@demo.attest.test",
        DEMO_PASSWORD,
    )
    .await;
    let own = bulk_audit_runs::create(&d.pool, d.centre, Some(d.admin_id), None, 0)
        .await
        .expect("run");
    for uri in [
        "/admin/audits".to_string(),
        format!("/admin/audits/{own}"),
        format!("/admin/audits/{own}/progress"),
    ] {
        assert_eq!(
            d.get(&uri, &assessor).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
        assert_eq!(d.get(&uri, &d.admin).await.status, StatusCode::OK, "{uri}");
    }
    let all = enrolments::list_for_centre(&d.pool, d.centre)
        .await
        .expect("enrolments");
    let r = d
        .post(
            "/admin/audits",
            &assessor,
            &format!("scope=chosen&enrolment={}", all[0].id),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let other = centres::create(&d.pool, "elsewhere", "Elsewhere College")
        .await
        .expect("centre");
    let theirs = bulk_audit_runs::create(&d.pool, other.id, None, None, 0)
        .await
        .expect("run");
    for uri in [
        format!("/admin/audits/{theirs}"),
        format!("/admin/audits/{theirs}/progress"),
        "/admin/audits/not-an-id".to_string(),
    ] {
        assert_eq!(
            d.get(&uri, &d.admin).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    assert_eq!(d.runs().await, 2, "the assessor started nothing");
}

//! IQA sampling over HTTP (SPEC §7): decisions, actions addressed and closed, never
//! one's own assessment.
use attest::db::{centres, enrolments, evidence, iqa, qualifications, users};
use attest::demo::load::{load_if_empty, DEMO_CENTRE_SLUG, DEMO_PASSWORD};
use attest::domain::iqa::ActionState;
use attest::domain::ticks::Layer;
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::http::{form_post_as, get, send, signed_in, Reply};

struct Setup {
    pool: PgPool,
    ben: enrolments::Enrolment,
    unit_201: Uuid,
    unit_203: Uuid,
}

async fn setup() -> Setup {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let ben_id = users::find_by_email(&pool, centre.id, "ben@demo.attest.test")
        .await
        .expect("q")
        .expect("ben")
        .id;
    let ben = enrolments::list_for_centre(&pool, centre.id)
        .await
        .expect("list")
        .into_iter()
        .find(|e| e.learner_id == ben_id)
        .expect("enrolment");
    let v = qualifications::load_version(&pool, ben.version_id)
        .await
        .expect("version");
    let unit = |code: &str| v.unit_ids[v.qualification.unit_index(code).expect("unit")];
    Setup {
        unit_201: unit("201"),
        unit_203: unit("203"),
        ben,
        pool,
    }
}

impl Setup {
    async fn as_(&self, who: &str) -> String {
        signed_in(
            AppState::new(self.pool.clone()),
            &format!("{who}@demo.attest.test"),
            DEMO_PASSWORD,
        )
        .await
    }
    async fn post(&self, cookie: &str, uri: &str, form: &str) -> Reply {
        send(
            AppState::new(self.pool.clone()),
            form_post_as(cookie, uri, form),
        )
        .await
    }
    async fn decisions(&self) -> Vec<iqa::DecisionRow> {
        iqa::for_enrolment(&self.pool, self.ben.id)
            .await
            .expect("decisions")
    }
}

#[tokio::test]
async fn an_action_is_raised_addressed_by_the_assessor_and_closed_by_the_iqa() {
    let s = setup().await;
    let base = format!("/enrolments/{}", s.ben.id);
    let margaret = s.as_("iqa").await;
    let form = format!(
        "target=unit%3A{}&verdict=action_required&feedback=Add+a+witness+statement",
        s.unit_201
    );
    let r = s.post(&margaret, &format!("{base}/iqa"), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = s.decisions().await.remove(0);
    assert_eq!(
        (d.state, d.feedback.as_str()),
        (ActionState::Open, "Add a witness statement")
    );

    // The assessor sees it in the caseload and on the portfolio, and marks it addressed.
    let tom = s.as_("assessor").await;
    let home = send(AppState::new(s.pool.clone()), get("/", Some(&tom)))
        .await
        .body;
    assert!(
        home.contains(r#"<strong class="attention">1</strong>"#),
        "open IQA action in the caseload"
    );
    let page = send(AppState::new(s.pool.clone()), get(&base, Some(&tom)))
        .await
        .body;
    assert!(page.contains("Add a witness statement") && page.contains("Mark addressed"));
    let r = s
        .post(&margaret, &format!("{base}/iqa/{}/closed", d.id), "")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "not addressed yet");
    s.post(&tom, &format!("{base}/iqa/{}/addressed", d.id), "")
        .await;
    assert_eq!(s.decisions().await[0].state, ActionState::Addressed);
    let again = s
        .post(&tom, &format!("{base}/iqa/{}/addressed", d.id), "")
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    s.post(&margaret, &format!("{base}/iqa/{}/closed", d.id), "")
        .await;
    assert_eq!(s.decisions().await[0].state, ActionState::Closed);
}

#[tokio::test]
async fn a_decision_without_what_it_needs_is_refused_beside_the_field() {
    let s = setup().await;
    let margaret = s.as_("iqa").await;
    let form = format!(
        "target=unit%3A{}&verdict=action_required&feedback=",
        s.unit_201
    );
    let r = s
        .post(&margaret, &format!("/enrolments/{}/iqa", s.ben.id), &form)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Say what the assessor needs to do")
            && r.body.contains(r#"id="feedback-error""#)
    );
    assert!(
        r.body
            .contains(&format!("<option value=\"unit:{}\" selected>", s.unit_201)),
        "choice kept"
    );
    assert!(s.decisions().await.is_empty());
}

/// Margaret, Ben's IQA, once ticked a criterion of unit 203 in `layer`: sampling that
/// unit is refused and no decision is written.
async fn refused_on_own_judgement(layer: Layer) {
    let s = setup().await;
    let centre = centres::find_by_slug(&s.pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let margaret = users::find_by_email(&s.pool, centre.id, "iqa@demo.attest.test")
        .await
        .expect("q")
        .expect("iqa");
    let v = qualifications::load_version(&s.pool, s.ben.version_id)
        .await
        .expect("v");
    let ordinal: usize = v.qualification.units[..v.qualification.unit_index("203").expect("unit")]
        .iter()
        .map(|u| u.criterion_count())
        .sum();
    let item = evidence::list_for_enrolment(&s.pool, s.ben.id)
        .await
        .expect("list")[0]
        .id;
    crate::ticking::tick(&s.pool, item, v.criterion_ids[ordinal], layer, margaret.id)
        .await
        .expect("tick");
    let cookie = s.as_("iqa").await;
    let form = format!("target=unit%3A{}&verdict=agreed&feedback=", s.unit_203);
    let r = s
        .post(&cookie, &format!("/enrolments/{}/iqa", s.ben.id), &form)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{layer:?}");
    assert!(r.body.contains("never samples their own assessment"));
    assert!(s.decisions().await.is_empty());
}

#[tokio::test]
async fn an_iqa_never_samples_their_own_assessment() {
    refused_on_own_judgement(Layer::Assessor).await;
}

/// Regression: the check read the assessor layer only, so an IQA who had judged a unit
/// as trainee assessor (countersigned or not) could sample their own judgement.
#[tokio::test]
async fn an_iqa_never_samples_what_they_judged_as_trainee_assessor() {
    refused_on_own_judgement(Layer::TraineeAssessor).await;
}

#[tokio::test]
async fn only_the_enrolments_iqa_decides_and_only_its_assessors_address() {
    let s = setup().await;
    let form = format!("target=unit%3A{}&verdict=agreed&feedback=", s.unit_201);
    for who in ["assessor", "ben", "admin"] {
        let cookie = s.as_(who).await;
        let r = s
            .post(&cookie, &format!("/enrolments/{}/iqa", s.ben.id), &form)
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{who} cannot record IQA decisions"
        );
    }
    let margaret = s.as_("iqa").await;
    let form = format!(
        "target=unit%3A{}&verdict=action_required&feedback=Fix",
        s.unit_201
    );
    s.post(&margaret, &format!("/enrolments/{}/iqa", s.ben.id), &form)
        .await;
    let d = s.decisions().await.remove(0);
    let ben = s.as_("ben").await;
    let r = s
        .post(
            &ben,
            &format!("/enrolments/{}/iqa/{}/addressed", s.ben.id, d.id),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A decision id under another enrolment's address does not exist there.
    let tom = s.as_("assessor").await;
    let other = enrolments::list_for_centre(&s.pool, s.ben.centre_id)
        .await
        .expect("list")
        .into_iter()
        .find(|e| e.id != s.ben.id)
        .expect("another");
    let r = s
        .post(
            &tom,
            &format!("/enrolments/{}/iqa/{}/addressed", other.id, d.id),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_sampling_report_shows_coverage_per_assessor() {
    let s = setup().await;
    let centre = centres::find_by_slug(&s.pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let margaret = users::find_by_email(&s.pool, centre.id, "iqa@demo.attest.test")
        .await
        .expect("q")
        .expect("iqa");
    let cookie = s.as_("iqa").await;
    let form = format!(
        "target=unit%3A{}&verdict=action_required&feedback=Check+1.2",
        s.unit_201
    );
    s.post(&cookie, &format!("/enrolments/{}/iqa", s.ben.id), &form)
        .await;
    let rows = iqa::coverage(&s.pool, centre.id, margaret.id)
        .await
        .expect("coverage");
    assert_eq!(rows.len(), 1);
    let tom = &rows[0];
    assert_eq!(tom.assessor, "Tom Okafor");
    // Four learners; units 201 and 202 for Ben, 201, 202, 230 and 231 for Zoë.
    assert_eq!(
        (
            tom.learners,
            tom.units_assessed,
            tom.units_sampled,
            tom.open_actions
        ),
        (4, 6, 1, 1)
    );
    let home = send(AppState::new(s.pool.clone()), get("/", Some(&cookie)))
        .await
        .body;
    assert!(
        home.contains("Sampling by assessor") && home.contains("<th scope=\"row\">Tom Okafor</th>")
    );
}

#[tokio::test]
async fn the_portfolio_page_has_one_quality_section_and_a_clean_title() {
    let s = setup().await;
    let tom = s.as_("assessor").await;
    let page = send(
        AppState::new(s.pool.clone()),
        get(&format!("/enrolments/{}", s.ben.id), Some(&tom)),
    )
    .await
    .body;
    assert_eq!(page.matches("id=\"quality-heading\"").count(), 1);
    assert!(
        page.contains("<title>Ben Carter — portfolio — attest</title>"),
        "the title holds no markup"
    );
}

/// Issue 11, point 10: the IQA's feedback is written to the assessor; the learner's
/// portfolio, activity page and activity CSV never show it (nor the quality section).
#[tokio::test]
async fn the_learner_never_sees_the_iqas_feedback_to_the_assessor() {
    let s = setup().await;
    let base = format!("/enrolments/{}", s.ben.id);
    let margaret = s.as_("iqa").await;
    let feedback = "Tom+rushed+unit+201%3B+recheck+the+observation";
    let form = format!(
        "target=unit%3A{}&verdict=action_required&feedback={feedback}",
        s.unit_201
    );
    let r = s.post(&margaret, &format!("{base}/iqa"), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let secret = "Tom rushed unit 201; recheck the observation";

    let read = |cookie: String, uri: String| {
        let pool = s.pool.clone();
        async move { send(AppState::new(pool), get(&uri, Some(&cookie))).await }
    };
    // The assessor reads it where they work: the portfolio and its log.
    let tom = s.as_("assessor").await;
    for uri in [base.clone(), format!("{base}/activity")] {
        let r = read(tom.clone(), uri.clone()).await;
        assert!(r.body.contains(secret), "the assessor reads it on {uri}");
    }
    let ben = s.as_("ben").await;
    for uri in [
        base.clone(),
        format!("{base}/activity"),
        format!("{base}/activity.csv"),
        format!("{base}/activity?kind=iqa"),
    ] {
        let r = read(ben.clone(), uri.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(
            !r.body.contains("Tom rushed"),
            "the learner reads it on {uri}"
        );
        assert!(!r.body.contains("recheck the observation"), "{uri}");
    }
    let page = read(ben, base).await.body;
    assert!(
        !page.contains("id=\"quality-heading\""),
        "no quality section for the learner"
    );
}

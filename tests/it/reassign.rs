//! Reassigning a caseload (issue 12 point 2): an admin moves all or chosen enrolments
//! from one person to another as assessor, trainee assessor or IQA, after a
//! confirmation that names the count; the move is all or nothing, logged per enrolment
//! and for the centre; pending countersignatures and open IQA actions follow the
//! enrolment; an IQA never takes an enrolment they assessed.
use attest::db::enrolments::{self, Enrolment, NewEnrolment};
use attest::db::evidence::{self, EvidenceKind, NewEvidence};
use attest::db::users::{self, NewUser, Role, UserKind};
use attest::db::{activity, centres, figures, iqa, qualifications};
use attest::domain::iqa::{Sampled, Verdict};
use attest::domain::reassign::digest;
use attest::domain::ticks::Layer;
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::tiny;
use crate::http::{form_post_as, get, send, signed_in, Reply};
use crate::ticking::tick;

const PASSWORD: &str = "reassign password 1";

/// A centre with its admin signed in, a small qualification, and a way to add people
/// and enrolments. One app state throughout, so kept pages live across requests.
struct Centre {
    pool: PgPool,
    state: AppState,
    id: Uuid,
    admin: Uuid,
    admin_cookie: String,
    version: Uuid,
    major: Uuid,
    criteria: Vec<Uuid>,
    units: Vec<Uuid>,
    hash: String,
}

async fn centre() -> Centre {
    let pool = test_pool().await;
    let c = centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let hash = password::hash(PASSWORD).expect("hash");
    let version = qualifications::import(&pool, c.id, &tiny("TINY/1"), None)
        .await
        .expect("import");
    let loaded = qualifications::load_version(&pool, version.version_id)
        .await
        .expect("version");
    let state = AppState::new(pool.clone());
    let mut centre = Centre {
        pool,
        state,
        id: c.id,
        admin: Uuid::nil(),
        admin_cookie: String::new(),
        version: version.version_id,
        major: loaded.major_ids[0],
        criteria: loaded.criterion_ids.clone(),
        units: loaded.unit_ids.clone(),
        hash,
    };
    centre.admin = centre.staff("ada", "Ada Admin", &[Role::Admin]).await;
    centre.admin_cookie = centre.sign_in("ada").await;
    centre
}

impl Centre {
    async fn person(&self, who: &str, name: &str, kind: UserKind, roles: &[Role]) -> Uuid {
        let email = format!("{who}@acme.test");
        users::create(
            &self.pool,
            &NewUser {
                centre_id: self.id,
                email: &email,
                display_name: name,
                password_hash: Some(&self.hash),
                kind,
                roles,
                employer_id: None,
            },
        )
        .await
        .expect("person")
        .id
    }

    async fn staff(&self, who: &str, name: &str, roles: &[Role]) -> Uuid {
        self.person(who, name, UserKind::Staff, roles).await
    }

    async fn learner(&self, who: &str, name: &str) -> Uuid {
        self.person(who, name, UserKind::Learner, &[Role::Learner])
            .await
    }

    async fn sign_in(&self, who: &str) -> String {
        signed_in(self.state.clone(), &format!("{who}@acme.test"), PASSWORD).await
    }

    async fn enrol(
        &self,
        learner: Uuid,
        assessor: Uuid,
        trainee: Option<Uuid>,
        iqa: Option<Uuid>,
    ) -> Enrolment {
        enrolments::create(
            &self.pool,
            &NewEnrolment {
                centre_id: self.id,
                learner_id: learner,
                version_id: self.version,
                major_id: self.major,
                assessor_id: assessor,
                trainee_assessor_id: trainee,
                iqa_id: iqa,
            },
            None,
        )
        .await
        .expect("enrolment")
    }

    async fn get(&self, cookie: &str, uri: &str) -> Reply {
        send(self.state.clone(), get(uri, Some(cookie))).await
    }

    async fn post(&self, cookie: &str, uri: &str, form: &str) -> Reply {
        send(self.state.clone(), form_post_as(cookie, uri, form)).await
    }

    /// The confirmation step, as the admin.
    async fn check(&self, from: Uuid, form: &str) -> Reply {
        let uri = format!("/admin/people/{from}/reassign");
        self.post(&self.admin_cookie, &uri, form).await
    }

    /// The move, as the admin.
    async fn confirm(&self, from: Uuid, form: &str) -> Reply {
        let uri = format!("/admin/people/{from}/reassign/confirm");
        self.post(&self.admin_cookie, &uri, form).await
    }

    async fn now(&self, id: Uuid) -> Enrolment {
        enrolments::get(&self.pool, id).await.expect("enrolment")
    }

    async fn item(&self, enrolment: Uuid, by: Uuid) -> Uuid {
        evidence::add(
            &self.pool,
            &NewEvidence {
                enrolment_id: enrolment,
                title: "Site log",
                description: "",
                kind: EvidenceKind::Document,
                added_by: by,
            },
        )
        .await
        .expect("evidence")
        .id
    }

    /// Everything a move changes, to show that a refused one changed nothing.
    async fn snapshot(&self) -> (String, i64) {
        sqlx::query_as(
            "SELECT (SELECT string_agg(concat_ws(':', id, assessor_id, trainee_assessor_id, iqa_id, revision, \
                                                 last_activity_at), ',' ORDER BY id) FROM enrolments), \
                    (SELECT count(*) FROM activity_log)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("snapshot")
    }
}

/// The confirming form's hidden fields, read from the confirmation page.
fn confirming_form(body: &str) -> String {
    let mut pairs = Vec::new();
    let form = body
        .split("/reassign/confirm\">")
        .nth(1)
        .expect("a confirming form");
    let form = form.split("</form>").next().expect("its end");
    for input in form.split("<input type=\"hidden\" ").skip(1) {
        let field = |name: &str| {
            input
                .split(&format!("{name}=\""))
                .nth(1)
                .and_then(|r| r.split('"').next())
                .expect("an attribute")
                .to_string()
        };
        pairs.push(format!("{}={}", field("name"), field("value")));
    }
    pairs.join("&")
}

fn entries<'a>(
    log: &'a [activity::ActivityEntry],
    action: &str,
) -> Vec<&'a activity::ActivityEntry> {
    log.iter().filter(|e| e.action == action).collect()
}

#[tokio::test]
async fn an_admin_moves_every_enrolment_of_a_leaving_assessor_after_a_confirmation_naming_the_count(
) {
    let c = centre().await;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    let abe = c.staff("abe", "Abe Assessor", &[Role::Assessor]).await;
    let ivy = c.staff("ivy", "Ivy Iqa", &[Role::Iqa]).await;
    let mut moved = Vec::new();
    for (who, name) in [
        ("lena", "Lena Learner"),
        ("leo", "Leo Learner"),
        ("lou", "Lou Learner"),
    ] {
        let l = c.learner(who, name).await;
        moved.push(c.enrol(l, ann, None, Some(ivy)).await);
    }
    let other = c.learner("otto", "Otto Other").await;
    let abes_own = c.enrol(other, abe, None, None).await;

    let page = c
        .get(&c.admin_cookie, &format!("/admin/people/{ann}/reassign"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("As assessor (3)"), "{}", page.body);
    assert!(page.body.contains("Lena Learner") && !page.body.contains("Otto Other"));
    assert!(
        page.body.contains("Abe Assessor (abe@acme.test)"),
        "Abe is offered"
    );
    assert!(
        !page.body.contains("Ivy Iqa (ivy@acme.test)"),
        "an IQA is not an assessor"
    );

    let r = c
        .check(ann, &format!("role=assessor&which=all&to={abe}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body
            .contains("Move 3 enrolments from Ann Assessor to Abe Assessor as assessor?"),
        "{}",
        r.body
    );
    assert_eq!(
        c.now(moved[0].id).await.assessor_id,
        ann,
        "a confirmation moves nothing"
    );

    let r = c.confirm(ann, &confirming_form(&r.body)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let back = r.location.expect("where to");
    let done = c.get(&c.admin_cookie, &back).await;
    assert!(
        done.body
            .contains("Moved 3 enrolments to Abe Assessor as assessor."),
        "{}",
        done.body
    );
    assert!(done.body.contains("As assessor (0)"));

    for e in &moved {
        let now = c.now(e.id).await;
        assert_eq!(now.assessor_id, abe);
        assert_eq!(now.iqa_id, Some(ivy), "only the assessor moved");
        assert!(
            now.revision > e.revision,
            "the revision moves, so kept pages are drawn anew"
        );
        assert_eq!(
            now.last_activity_at, e.last_activity_at,
            "no work on the portfolio"
        );
        let log = activity::for_enrolment(&c.pool, e.id).await.expect("log");
        let each = entries(&log, "assignments changed");
        assert_eq!(each.len(), 1);
        assert_eq!(each[0].actor_id, Some(c.admin));
        assert_eq!(each[0].detail["role"], "assessor");
        assert_eq!(each[0].detail["from"], ann.to_string());
        assert_eq!(each[0].detail["to"], abe.to_string());
        assert_eq!(each[0].detail["from_name"], "Ann Assessor");
        assert_eq!(each[0].detail["to_name"], "Abe Assessor");
    }
    assert_eq!(
        c.now(abes_own.id).await.revision,
        abes_own.revision,
        "Abe's own untouched"
    );
    let centre_log = activity::for_centre(&c.pool, c.id, None, 100)
        .await
        .expect("log");
    let whole = entries(&centre_log, "caseload reassigned");
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0].enrolment_id, None);
    assert_eq!(whole[0].actor_id, Some(c.admin));
    assert_eq!(whole[0].detail["count"], 3);
    let each = activity::for_enrolment(&c.pool, moved[0].id)
        .await
        .expect("log");
    assert_eq!(
        entries(&each, "assignments changed")[0].detail["reassignment"],
        whole[0].id
    );
}

#[tokio::test]
async fn only_the_enrolments_ticked_move() {
    let c = centre().await;
    let ivy = c.staff("ivy", "Ivy Iqa", &[Role::Iqa]).await;
    let ida = c
        .staff("ida", "Ida Iqa", &[Role::Iqa, Role::Assessor])
        .await;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    let mut es = Vec::new();
    for (who, name) in [
        ("lena", "Lena Learner"),
        ("leo", "Leo Learner"),
        ("lou", "Lou Learner"),
    ] {
        let l = c.learner(who, name).await;
        es.push(c.enrol(l, ann, None, Some(ivy)).await);
    }
    let form = format!(
        "role=iqa&which=chosen&enrolment={}&enrolment={}&to={ida}",
        es[0].id, es[2].id
    );
    let r = c.check(ivy, &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body
            .contains("Move 2 enrolments from Ivy Iqa to Ida Iqa as IQA?"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Lena Learner") && r.body.contains("Lou Learner"));
    assert!(!r.body.contains("Leo Learner"));
    let r = c.confirm(ivy, &confirming_form(&r.body)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(c.now(es[0].id).await.iqa_id, Some(ida));
    assert_eq!(
        c.now(es[1].id).await.iqa_id,
        Some(ivy),
        "not ticked, not moved"
    );
    assert_eq!(c.now(es[2].id).await.iqa_id, Some(ida));
    let log = activity::for_centre(&c.pool, c.id, None, 100)
        .await
        .expect("log");
    assert_eq!(entries(&log, "caseload reassigned")[0].detail["count"], 2);
    assert_eq!(entries(&log, "assignments changed").len(), 2);

    // Nothing ticked, no one chosen: said beside each field, what was typed kept.
    let r = c
        .check(ivy, &format!("role=iqa&which=chosen&to={ida}"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .body
        .contains("Select at least one enrolment, or choose all of them"));
    assert!(
        r.body.contains(&format!("value=\"{ida}\" selected")),
        "the choice is kept"
    );
    let form = format!("role=iqa&which=chosen&enrolment={}&to=", es[1].id);
    let r = c.check(ivy, &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Select who takes these enrolments over"));
    assert!(
        r.body.contains(&format!(
            "value=\"{}\" id=\"enrolment-{}\" checked",
            es[1].id, es[1].id
        )),
        "the tick is kept"
    );
    let before = c.snapshot().await;
    let r = c.check(ivy, "role=iqa&which=all&to=%00").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Select who takes these enrolments over"));
    let r = c
        .confirm(ivy, &format!("role=teacher&which=all&digest=x&to={ida}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no such role");
    assert_eq!(c.snapshot().await, before);
}

#[tokio::test]
async fn countersignatures_and_iqa_actions_follow_the_enrolment_to_its_new_people() {
    let c = centre().await;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    let abe = c.staff("abe", "Abe Assessor", &[Role::Assessor]).await;
    let tom = c
        .staff("tom", "Tom Trainee", &[Role::TraineeAssessor])
        .await;
    let tia = c
        .staff("tia", "Tia Trainee", &[Role::TraineeAssessor])
        .await;
    let ivy = c.staff("ivy", "Ivy Iqa", &[Role::Iqa]).await;
    let ida = c.staff("ida", "Ida Iqa", &[Role::Iqa]).await;
    let lena = c.learner("lena", "Lena Learner").await;
    let e = c.enrol(lena, ann, Some(tom), Some(ivy)).await;
    let item = c.item(e.id, lena).await;
    tick(&c.pool, item, c.criteria[0], Layer::TraineeAssessor, tom)
        .await
        .expect("tick");
    tick(&c.pool, item, c.criteria[1], Layer::TraineeAssessor, tom)
        .await
        .expect("tick");
    let open = iqa::record(
        &c.pool,
        e.id,
        c.version,
        ivy,
        Sampled::Unit(c.units[0]),
        Verdict::ActionRequired,
        "Add the witness statement",
    )
    .await
    .expect("decision");
    let addressed = iqa::record(
        &c.pool,
        e.id,
        c.version,
        ivy,
        Sampled::Unit(c.units[1]),
        Verdict::ActionRequired,
        "Date the log",
    )
    .await
    .expect("decision");
    assert!(iqa::address(&c.pool, addressed, ann)
        .await
        .expect("address"));
    let before = figures::kept(&c.pool, e.id).await.expect("figures");
    assert_eq!(
        (before.awaiting_countersignature, before.open_iqa_actions),
        (2, 2)
    );

    // The trainee leaves: Tom's ticks stay on the portfolio as his, still pending.
    let r = c
        .check(tom, &format!("role=trainee&which=all&to={tia}"))
        .await;
    assert!(
        r.body
            .contains("still awaiting the assessor’s countersignature (2 criteria in all)"),
        "{}",
        r.body
    );
    let r = c.confirm(tom, &confirming_form(&r.body)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(c.now(e.id).await.trainee_assessor_id, Some(tia));
    let by: Vec<Uuid> = sqlx::query_scalar(
        "SELECT ticked_by FROM ticks WHERE enrolment_id = $1 AND layer = 'trainee_assessor'",
    )
    .bind(e.id)
    .fetch_all(&c.pool)
    .await
    .expect("ticks");
    assert_eq!(by, [tom, tom]);
    assert_eq!(figures::kept(&c.pool, e.id).await.expect("figures"), before);
    let tia_cookie = c.sign_in("tia").await;
    let tom_cookie = c.sign_in("tom").await;
    let portfolio = format!("/enrolments/{}", e.id);
    assert_eq!(c.get(&tia_cookie, &portfolio).await.status, StatusCode::OK);
    assert_eq!(
        c.get(&tom_cookie, &portfolio).await.status,
        StatusCode::NOT_FOUND
    );

    // The assessor leaves: the pending ticks await Abe's countersignature, and the open
    // action is his to address.
    let r = c
        .check(ann, &format!("role=assessor&which=all&to={abe}"))
        .await;
    assert!(r.body.contains("2 criteria ticked by a trainee will await Abe Assessor’s countersignature, and 2 open IQA actions go with them to Abe Assessor"), "{}", r.body);
    let r = c.confirm(ann, &confirming_form(&r.body)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let abe_cookie = c.sign_in("abe").await;
    let ann_cookie = c.sign_in("ann").await;
    let accept = format!("/enrolments/{}/evidence/{item}/accept/trainee", e.id);
    assert_eq!(
        c.post(&ann_cookie, &accept, "").await.status,
        StatusCode::NOT_FOUND
    );
    let r = c.post(&abe_cookie, &accept, "").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "Abe countersigns: {}",
        r.body
    );
    let now = figures::kept(&c.pool, e.id).await.expect("figures");
    assert_eq!(
        (now.awaiting_countersignature, now.confirmed_criteria),
        (0, 2)
    );
    let address = format!("/enrolments/{}/iqa/{open}/addressed", e.id);
    assert_eq!(
        c.post(&ann_cookie, &address, "").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.post(&abe_cookie, &address, "").await.status,
        StatusCode::SEE_OTHER
    );

    // The IQA leaves: Ida closes the actions Ivy raised, which stay recorded as Ivy's.
    let r = c.check(ivy, &format!("role=iqa&which=all&to={ida}")).await;
    assert!(
        r.body
            .contains("2 open IQA actions go with them, for Ida Iqa to close once addressed"),
        "{}",
        r.body
    );
    let r = c.confirm(ivy, &confirming_form(&r.body)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let ida_cookie = c.sign_in("ida").await;
    let ivy_cookie = c.sign_in("ivy").await;
    let home = c.get(&ida_cookie, "/").await;
    assert!(
        home.body.contains("Lena Learner"),
        "in Ida's sample at once: {}",
        home.body
    );
    for d in [open, addressed] {
        let close = format!("/enrolments/{}/iqa/{d}/closed", e.id);
        assert_eq!(
            c.post(&ivy_cookie, &close, "").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            c.post(&ida_cookie, &close, "").await.status,
            StatusCode::SEE_OTHER
        );
    }
    let decisions = iqa::for_enrolment(&c.pool, e.id).await.expect("decisions");
    assert!(
        decisions.iter().all(|d| d.iqa == "Ivy Iqa"),
        "who decided stays on record"
    );
    assert_eq!(
        figures::kept(&c.pool, e.id)
            .await
            .expect("figures")
            .open_iqa_actions,
        0
    );
}

#[tokio::test]
async fn an_iqa_never_takes_enrolments_they_assessed_and_a_refused_move_changes_nothing() {
    let c = centre().await;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    let oscar = c
        .staff("oscar", "Oscar Both", &[Role::Assessor, Role::Iqa])
        .await;
    let ivy = c.staff("ivy", "Ivy Iqa", &[Role::Iqa]).await;
    let lena = c.learner("lena", "Lena Learner").await;
    let leo = c.learner("leo", "Leo Learner").await;
    // Oscar assessed Lena's portfolio, then handed it to Ann.
    let assessed = c.enrol(lena, oscar, None, Some(ivy)).await;
    let item = c.item(assessed.id, lena).await;
    tick(&c.pool, item, c.criteria[0], Layer::Assessor, oscar)
        .await
        .expect("tick");
    sqlx::query("UPDATE enrolments SET assessor_id = $2 WHERE id = $1")
        .bind(assessed.id)
        .bind(ann)
        .execute(&c.pool)
        .await
        .expect("handed over");
    let clean = c.enrol(leo, ann, None, Some(ivy)).await;
    let before = c.snapshot().await;

    let r = c
        .check(ivy, &format!("role=iqa&which=all&to={oscar}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("1 enrolment cannot move to Oscar Both"),
        "{}",
        r.body
    );
    assert!(r.body.contains(
        "<strong>Lena Learner</strong>, TINY/1: the new person ticked as assessor or trainee"
    ));
    assert!(
        !r.body.contains("/reassign/confirm"),
        "no way to confirm a refused move"
    );
    assert_eq!(c.snapshot().await, before);

    // Confirmed anyway (a form from before, or crafted): refused, naming Lena's.
    let form = format!(
        "role=iqa&which=all&digest={}&to={oscar}",
        digest(&[assessed.id, clean.id])
    );
    let r = c.confirm(ivy, &form).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("Oscar Both cannot take 1 enrolment as IQA: Lena Learner, TINY/1"),
        "{}",
        r.body
    );
    assert_eq!(c.snapshot().await, before, "nothing changed");

    // Leo's alone may go to Oscar.
    let r = c
        .confirm(
            ivy,
            &format!("role=iqa&which=chosen&enrolment={}&to={oscar}", clean.id),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(c.now(clean.id).await.iqa_id, Some(oscar));

    // Nor does an assessor's place go to the enrolment's own IQA: Oscar now IQAs Leo's.
    let before = c.snapshot().await;
    let r = c
        .check(ann, &format!("role=assessor&which=all&to={oscar}"))
        .await;
    assert!(
        r.body.contains("1 enrolment cannot move to Oscar Both"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<strong>Leo Learner</strong>, TINY/1: the new person is this learner’s IQA")
            || r.body.contains(
                "<strong>Leo Learner</strong>, TINY/1: the new person is this learner&#39;s IQA"
            ),
        "{}",
        r.body
    );
    let form = format!(
        "role=assessor&which=chosen&enrolment={}&enrolment={}&to={oscar}",
        assessed.id, clean.id
    );
    let r = c.confirm(ann, &form).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Leo Learner, TINY/1"), "{}", r.body);
    assert_eq!(
        c.snapshot().await,
        before,
        "nothing changed, not even Lena's"
    );
}

#[tokio::test]
async fn a_deactivated_or_wrong_role_taker_is_refused() {
    let c = centre().await;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    let abe = c.staff("abe", "Abe Assessor", &[Role::Assessor]).await;
    let ivy = c.staff("ivy", "Ivy Iqa", &[Role::Iqa]).await;
    let lena = c.learner("lena", "Lena Learner").await;
    let e = c.enrol(lena, ann, None, None).await;

    let r = c
        .check(ann, &format!("role=assessor&which=all&to={ivy}"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("This person is not an assessor: choose someone who is"),
        "{}",
        r.body
    );
    let r = c
        .check(ann, &format!("role=assessor&which=all&to={ann}"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .body
        .contains("Choose someone other than the person who is leaving"));
    let r = c
        .check(ann, &format!("role=assessor&which=all&to={lena}"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose a member of staff from the list"));

    // Confirmed, then Abe leaves before the admin clicks: refused, nothing changed.
    let r = c
        .check(ann, &format!("role=assessor&which=all&to={abe}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let form = confirming_form(&r.body);
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(abe)
        .execute(&c.pool)
        .await
        .expect("deactivating");
    let before = c.snapshot().await;
    let r = c.confirm(ann, &form).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("Nothing was moved: the person’s account is deactivated")
            || r.body
                .contains("Nothing was moved: the person&#39;s account is deactivated"),
        "{}",
        r.body
    );
    assert_eq!(c.snapshot().await, before);
    assert_eq!(c.now(e.id).await.assessor_id, ann);
    let page = c
        .get(&c.admin_cookie, &format!("/admin/people/{ann}/reassign"))
        .await;
    assert!(
        !page.body.contains("Abe Assessor (abe@acme.test)"),
        "no longer offered"
    );
    let r = c
        .check(ann, &format!("role=assessor&which=all&to={abe}"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("This person’s account is deactivated")
            || r.body.contains("This person&#39;s account is deactivated"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_caseload_changed_since_the_confirmation_is_not_moved_unseen() {
    let c = centre().await;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    let abe = c.staff("abe", "Abe Assessor", &[Role::Assessor]).await;
    let lena = c.learner("lena", "Lena Learner").await;
    let leo = c.learner("leo", "Leo Learner").await;
    c.enrol(lena, ann, None, None).await;
    let r = c
        .check(ann, &format!("role=assessor&which=all&to={abe}"))
        .await;
    assert!(
        r.body.contains("Move 1 enrolment from Ann Assessor"),
        "{}",
        r.body
    );
    let form = confirming_form(&r.body);
    let late = c.enrol(leo, ann, None, None).await;
    let before = c.snapshot().await;
    let r = c.confirm(ann, &form).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("the enrolments changed since the confirmation"),
        "{}",
        r.body
    );
    assert_eq!(c.snapshot().await, before);
    assert_eq!(c.now(late.id).await.assessor_id, ann);
}

#[tokio::test]
async fn the_new_assessor_sees_the_moved_learners_at_once_and_the_old_one_no_longer_does() {
    let c = centre().await;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    let abe = c.staff("abe", "Abe Assessor", &[Role::Assessor]).await;
    let lena = c.learner("lena", "Lena Learner").await;
    let leo = c.learner("leo", "Leo Learner").await;
    let e = c.enrol(lena, ann, None, None).await;
    c.enrol(leo, abe, None, None).await;
    let item = c.item(e.id, lena).await;
    tick(&c.pool, item, c.criteria[0], Layer::Learner, lena)
        .await
        .expect("claim");
    tick(&c.pool, item, c.criteria[1], Layer::Assessor, ann)
        .await
        .expect("confirmed");
    let ann_cookie = c.sign_in("ann").await;
    let abe_cookie = c.sign_in("abe").await;
    // Both home pages drawn, and kept, before the move.
    assert!(c.get(&ann_cookie, "/").await.body.contains("Lena Learner"));
    assert!(!c.get(&abe_cookie, "/").await.body.contains("Lena Learner"));
    assert!(c
        .get(&ann_cookie, "/caseload")
        .await
        .body
        .contains("Lena Learner"));
    let page = format!("/enrolments/{}", e.id);
    assert_eq!(c.get(&ann_cookie, &page).await.status, StatusCode::OK);

    let r = c
        .check(ann, &format!("role=assessor&which=all&to={abe}"))
        .await;
    let r = c.confirm(ann, &confirming_form(&r.body)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let home = c.get(&abe_cookie, "/").await;
    assert!(
        home.body.contains("Lena Learner") && home.body.contains("Leo Learner"),
        "{}",
        home.body
    );
    assert!(!c.get(&ann_cookie, "/").await.body.contains("Lena Learner"));
    let caseload = c.get(&abe_cookie, "/caseload").await;
    assert!(caseload.body.contains("Lena Learner"), "{}", caseload.body);
    assert!(!c
        .get(&ann_cookie, "/caseload")
        .await
        .body
        .contains("Lena Learner"));
    assert_eq!(
        c.get(&ann_cookie, &page).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(c.get(&abe_cookie, &page).await.status, StatusCode::OK);
}

#[tokio::test]
async fn kept_figures_equal_a_recount_after_a_move() {
    let c = centre().await;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    let abe = c.staff("abe", "Abe Assessor", &[Role::Assessor]).await;
    let tom = c
        .staff("tom", "Tom Trainee", &[Role::TraineeAssessor])
        .await;
    let ivy = c.staff("ivy", "Ivy Iqa", &[Role::Iqa]).await;
    let ida = c.staff("ida", "Ida Iqa", &[Role::Iqa]).await;
    let mut ids = Vec::new();
    for (n, (who, name)) in [("lena", "Lena Learner"), ("leo", "Leo Learner")]
        .into_iter()
        .enumerate()
    {
        let l = c.learner(who, name).await;
        let e = c.enrol(l, ann, Some(tom), Some(ivy)).await;
        let item = c.item(e.id, l).await;
        tick(&c.pool, item, c.criteria[0], Layer::Learner, l)
            .await
            .expect("claim");
        tick(&c.pool, item, c.criteria[1], Layer::TraineeAssessor, tom)
            .await
            .expect("trainee");
        tick(&c.pool, item, c.criteria[n + 2], Layer::Assessor, ann)
            .await
            .expect("assessor");
        iqa::record(
            &c.pool,
            e.id,
            c.version,
            ivy,
            Sampled::Unit(c.units[n]),
            Verdict::ActionRequired,
            "Say more",
        )
        .await
        .expect("decision");
        ids.push(e.id);
    }
    for (from, to, role) in [(ann, abe, "assessor"), (ivy, ida, "iqa")] {
        let r = c
            .check(from, &format!("role={role}&which=all&to={to}"))
            .await;
        let r = c.confirm(from, &confirming_form(&r.body)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    for id in &ids {
        let kept = figures::kept(&c.pool, *id).await.expect("kept");
        let mut tx = c.pool.begin().await.expect("tx");
        figures::recount(&mut *tx, &[*id]).await.expect("recount");
        let recounted = figures::kept(&mut *tx, *id).await.expect("recounted");
        tx.rollback().await.expect("rollback");
        assert_eq!(kept, recounted);
        assert_eq!(
            (
                kept.awaiting_countersignature,
                kept.claims_to_review,
                kept.confirmed_criteria,
                kept.open_iqa_actions
            ),
            (1, 1, 1, 1)
        );
    }
    // The caseloads' figures: Abe's and Ida's summaries hold both, Ann's and Ivy's none.
    use attest::db::report::Scope;
    use attest::db::report_tallies::summary;
    let abe_s = summary(&c.pool, c.id, Scope::Caseload(abe))
        .await
        .expect("summary");
    let ann_s = summary(&c.pool, c.id, Scope::Caseload(ann))
        .await
        .expect("summary");
    let ida_s = summary(&c.pool, c.id, Scope::Sample(ida))
        .await
        .expect("summary");
    let ivy_s = summary(&c.pool, c.id, Scope::Sample(ivy))
        .await
        .expect("summary");
    assert_eq!(
        (
            abe_s.total,
            abe_s.with_claims,
            abe_s.awaiting_countersignature
        ),
        (2, 2, 2)
    );
    assert_eq!((ida_s.total, ida_s.with_open_actions), (2, 2));
    assert_eq!((ann_s.total, ivy_s.total), (0, 0));
}

#[tokio::test]
async fn learners_and_other_centres_people_have_no_caseload_to_reassign() {
    let c = centre().await;
    let lena = c.learner("lena", "Lena Learner").await;
    let other = centres::create(&c.pool, "bravo", "Bravo College")
        .await
        .expect("centre");
    let bob = users::create(
        &c.pool,
        &NewUser {
            centre_id: other.id,
            email: "bob@bravo.test",
            display_name: "Bob Bravo",
            password_hash: None,
            kind: UserKind::Staff,
            roles: &[Role::Assessor],
            employer_id: None,
        },
    )
    .await
    .expect("bob")
    .id;
    let ann = c.staff("ann", "Ann Assessor", &[Role::Assessor]).await;
    for person in [lena, bob, Uuid::now_v7()] {
        let page = c
            .get(&c.admin_cookie, &format!("/admin/people/{person}/reassign"))
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let r = c
            .check(person, &format!("role=assessor&which=all&to={ann}"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // Another centre's person as the taker is no choice of this centre's.
    let lena_e = c.enrol(lena, ann, None, None).await;
    let r = c
        .check(ann, &format!("role=assessor&which=all&to={bob}"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose a member of staff from the list"));
    assert!(!r.body.contains("Bob Bravo"));
    // Another centre's enrolment among the ticked: not one of the list.
    let bravo_version = qualifications::import(&c.pool, other.id, &tiny("TINY/B"), None)
        .await
        .expect("import");
    let ben = users::create(
        &c.pool,
        &NewUser {
            centre_id: other.id,
            email: "ben@bravo.test",
            display_name: "Ben Bravo",
            password_hash: None,
            kind: UserKind::Learner,
            roles: &[Role::Learner],
            employer_id: None,
        },
    )
    .await
    .expect("ben");
    let major = qualifications::load_version(&c.pool, bravo_version.version_id)
        .await
        .expect("v")
        .major_ids[0];
    let theirs = enrolments::create(
        &c.pool,
        &NewEnrolment {
            centre_id: other.id,
            learner_id: ben.id,
            version_id: bravo_version.version_id,
            major_id: major,
            assessor_id: bob,
            trainee_assessor_id: None,
            iqa_id: None,
        },
        None,
    )
    .await
    .expect("enrolment");
    let abe = c.staff("abe", "Abe Assessor", &[Role::Assessor]).await;
    let form = format!(
        "role=assessor&which=chosen&enrolment={}&enrolment={}&to={abe}",
        lena_e.id, theirs.id
    );
    let r = c.check(ann, &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Select enrolments from the list") && !r.body.contains("Ben Bravo"));
    let before = c.snapshot().await;
    assert_eq!(c.confirm(ann, &form).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.snapshot().await, before);
}

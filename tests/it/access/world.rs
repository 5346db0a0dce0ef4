//! The world every access case runs in: two centres, their people signed in, three
//! enrolments with evidence, uploaded files, ticks and IQA actions. It is built once per
//! test process and saved as a database; each case runs in a copy of it, so a case's
//! changes never reach another case.
use std::collections::HashMap;
use std::path::PathBuf;

use attest::db::enrolments::{self, Enrolment, NewEnrolment};
use attest::db::users::{self, Role, User};
use attest::db::{centres, evidence, iqa, password_tokens, qualifications};
use attest::domain::iqa::{Sampled, Verdict};
use attest::domain::ticks::Layer;
use attest::web::files::{FileStore, DEFAULT_MAX_BYTES};
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::Viewer;
use crate::helpers::{learner, staff, tiny};
use crate::http::{multipart_as, send, signed_in};

pub const PASSWORD: &str = "access-matrix-2026";

/// In the learner's name, evidence title and file name: a viewer who may not see the
/// enrolment must never be shown it, on any page.
pub const SECRET: &str = "Quillfeather";

/// Ids the matrix's addresses are made of. "A" is the enrolment under test; "A2" is
/// another learner's enrolment in the same centre and version (its assessor is A's
/// assessor too, so mixed ids are tried by someone with rights on both); "B" is in
/// another centre.
/// The file uploaded for import at centre A: one new learner.
pub const IMPORT_FILE: &str = "name,email,roles\nImogen Ported,imogen@acme.test,learner\n";

pub struct World {
    /// The saved database each case copies.
    template: String,
    files: PathBuf,
    pub cookies: HashMap<Viewer, String>,
    pub a: Enrolment,
    pub a2: Enrolment,
    pub b: Enrolment,
    pub evidence_a: Uuid,
    pub file_a: Uuid,
    pub evidence_a2: Uuid,
    pub file_a2: Uuid,
    pub evidence_b: Uuid,
    /// Criteria of A's version: the learner's claim (the trainee ticked the next one),
    /// one nobody ticked; and one of B's.
    pub claimed: Uuid,
    pub untouched: Uuid,
    pub criterion_b: Uuid,
    pub unit_a: Uuid,
    pub unit_b: Uuid,
    pub major_a: Uuid,
    /// IQA actions on A: one open, one addressed; and the same on A2.
    pub open_a: Uuid,
    pub addressed_a: Uuid,
    pub open_a2: Uuid,
    pub addressed_a2: Uuid,
    /// A learner of centre A with no enrolment yet, for the enrol form.
    pub spare_learner: Uuid,
    /// B's assessor.
    pub foreign_assessor: Uuid,
    pub ids: HashMap<Viewer, Uuid>,
    /// A file uploaded for import at centre A, not yet imported.
    pub import_a: Uuid,
    /// An employer of centre A.
    pub employer_a: Uuid,
    /// A witness request on A, by email, still open, and its link's token.
    pub request_a: Uuid,
    pub witness_token: String,
    /// Resumable uploads A's learner started: one to read and send to, one to discard.
    pub upload_a: Uuid,
    pub upload_a_spare: Uuid,
    /// A's testimony, signed through its link, its evidence item and its signature;
    /// the used link's token.
    pub testimony_a: Uuid,
    pub signature_a: Uuid,
    pub testimony_item_a: Uuid,
    pub used_token: String,
    /// A witness request on A to Erin, A's employer's person.
    pub employer_request_a: Uuid,
    /// A is an apprenticeship: an entry of its OTJ log, logged by its learner and
    /// pending, a break in learning, and a day an entry may be logged on.
    pub otj_a: Uuid,
    pub break_a: Uuid,
    pub otj_day: String,
    /// A progress review of A, recorded by its assessor with every part written, and
    /// signed by no one yet.
    pub review_a: Uuid,
    /// The next review's day, as A's review gives it.
    pub next_review: String,
    /// The token of the one-time link A's review was emailed to its employer with.
    pub review_token: String,
    /// An unused set-password link of a new member of staff.
    pub token: String,
    pub learner_email: String,
}

static WORLD: OnceCell<World> = OnceCell::const_new();

/// The world, built on first use.
pub async fn world() -> &'static World {
    WORLD.get_or_init(build).await
}

impl World {
    /// A copy of the world's database, and the app state over it.
    pub async fn copy(&self) -> (PgPool, AppState) {
        let cluster = attest::testing::cluster();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = cluster
            .connect_options("postgres")
            .connect()
            .await
            .expect("connecting to the test cluster");
        sqlx::query(&format!(
            "CREATE DATABASE {name} TEMPLATE {} STRATEGY FILE_COPY",
            self.template
        ))
        .execute(&mut admin)
        .await
        .expect("copying the world's database");
        let _ = admin.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(3)
            .connect_with(cluster.connect_options(&name))
            .await
            .expect("connecting to the copy");
        let state = self.state(pool.clone());
        (pool, state)
    }

    fn state(&self, pool: PgPool) -> AppState {
        AppState::from(attest::web::Services {
            files: FileStore::new(self.files.clone(), DEFAULT_MAX_BYTES),
            ..attest::web::Services::new(pool)
        })
    }

    pub fn cookie(&self, viewer: Viewer) -> Option<&str> {
        self.cookies.get(&viewer).map(String::as_str)
    }
}

/// Who each signed-in viewer is: (viewer, centre 'a' (Acme, A's) or 'b' (Bravo, B's), email,
/// display name, roles).
const PEOPLE: [(Viewer, char, &str, &str, &[Role]); 13] = [
    (
        Viewer::Learner,
        'a',
        "lena@acme.test",
        "Lena Quillfeather",
        &[Role::Learner],
    ),
    (
        Viewer::OtherLearner,
        'a',
        "otto@acme.test",
        "Otto Other",
        &[Role::Learner],
    ),
    (
        Viewer::Assessor,
        'a',
        "ann@acme.test",
        "Ann Assessor",
        &[Role::Assessor],
    ),
    (
        Viewer::OtherAssessor,
        'a',
        "oscar@acme.test",
        "Oscar Otherassessor",
        &[Role::Assessor],
    ),
    (
        Viewer::Trainee,
        'a',
        "tom@acme.test",
        "Tom Trainee",
        &[Role::TraineeAssessor],
    ),
    (Viewer::Iqa, 'a', "ivy@acme.test", "Ivy Iqa", &[Role::Iqa]),
    (
        Viewer::OtherIqa,
        'a',
        "ida@acme.test",
        "Ida Otheriqa",
        &[Role::Iqa],
    ),
    (
        Viewer::Admin,
        'a',
        "ada@acme.test",
        "Ada Admin",
        &[Role::Admin],
    ),
    (
        Viewer::Deactivated,
        'a',
        "dee@acme.test",
        "Dee Departed",
        &[Role::Admin],
    ),
    (
        Viewer::ForeignAdmin,
        'b',
        "bea@bravo.test",
        "Bea Bravoadmin",
        &[Role::Admin],
    ),
    (
        Viewer::ForeignLearner,
        'b',
        "ben@bravo.test",
        "Ben Bravolearner",
        &[Role::Learner],
    ),
    (
        Viewer::Employer,
        'a',
        "erin@northwind.test",
        "Erin Mentor",
        &[Role::Employer],
    ),
    (
        Viewer::OtherEmployer,
        'a',
        "eddie@northwind.test",
        "Eddie Manager",
        &[Role::Employer],
    ),
];

async fn build() -> World {
    let pool = attest::testing::test_pool().await;
    let template = pool
        .connect_options()
        .get_database()
        .expect("database name")
        .to_string();
    let files = attest::testing::test_dir().join("access-files");
    let centre_a = centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let centre_b = centres::create(&pool, "bravo", "Bravo College")
        .await
        .expect("centre");
    let hash = attest::web::auth::password::hash(PASSWORD).expect("hash");

    // An employer of centre A, whose two people are viewers: one linked to A, one not.
    let employer_a = Uuid::new_v4();
    sqlx::query("INSERT INTO employers (id, centre_id, name) VALUES ($1, $2, 'Northwind Care')")
        .bind(employer_a)
        .bind(centre_a.id)
        .execute(&pool)
        .await
        .expect("an employer");

    let mut people: HashMap<Viewer, User> = HashMap::new();
    for (viewer, centre, email, name, roles) in PEOPLE {
        let centre = if centre == 'a' {
            centre_a.id
        } else {
            centre_b.id
        };
        let kind = if roles == [Role::Learner] {
            users::UserKind::Learner
        } else if roles == [Role::Employer] {
            users::UserKind::Employer
        } else {
            users::UserKind::Staff
        };
        let employer_id = (kind == users::UserKind::Employer).then_some(employer_a);
        let user = users::create(
            &pool,
            &users::NewUser {
                centre_id: centre,
                email,
                display_name: name,
                password_hash: Some(&hash),
                kind,
                roles,
                employer_id,
            },
        )
        .await
        .expect("a viewer");
        people.insert(viewer, user);
    }
    let spare = learner(&pool, centre_a.id, "sam@acme.test").await;
    let bob = staff(&pool, centre_b.id, "bob@bravo.test", &[Role::Assessor]).await;
    let nina = staff(&pool, centre_a.id, "nina@acme.test", &[Role::Assessor]).await;
    let token = password_tokens::create(&pool, nina.id)
        .await
        .expect("token");

    let version_a = qualifications::import(&pool, centre_a.id, &tiny("TINY/A"), None)
        .await
        .expect("import");
    let version_b = qualifications::import(&pool, centre_b.id, &tiny("TINY/B"), None)
        .await
        .expect("import");
    let loaded_a = qualifications::load_version(&pool, version_a.version_id)
        .await
        .expect("version");
    let loaded_b = qualifications::load_version(&pool, version_b.version_id)
        .await
        .expect("version");

    let id = |v: Viewer| people[&v].id;
    let enrol =
        |centre: Uuid, learner: Uuid, version: Uuid, major: Uuid, assessor: Uuid| NewEnrolment {
            centre_id: centre,
            learner_id: learner,
            version_id: version,
            major_id: major,
            assessor_id: assessor,
            trainee_assessor_id: None,
            iqa_id: None,
        };
    let major_a = loaded_a.major_ids[0];
    let a = enrolments::create(
        &pool,
        &NewEnrolment {
            trainee_assessor_id: Some(id(Viewer::Trainee)),
            iqa_id: Some(id(Viewer::Iqa)),
            ..enrol(
                centre_a.id,
                id(Viewer::Learner),
                version_a.version_id,
                major_a,
                id(Viewer::Assessor),
            )
        },
        None,
    )
    .await
    .expect("enrolment A");
    let a2 = enrolments::create(
        &pool,
        &NewEnrolment {
            iqa_id: Some(id(Viewer::OtherIqa)),
            ..enrol(
                centre_a.id,
                id(Viewer::OtherLearner),
                version_a.version_id,
                major_a,
                id(Viewer::Assessor),
            )
        },
        None,
    )
    .await
    .expect("enrolment A2");
    let b = enrolments::create(
        &pool,
        &enrol(
            centre_b.id,
            id(Viewer::ForeignLearner),
            version_b.version_id,
            loaded_b.major_ids[0],
            bob.id,
        ),
        None,
    )
    .await
    .expect("enrolment B");

    // Everyone signs in as a browser does; their sessions are part of the saved world.
    let state = AppState::from(attest::web::Services {
        files: FileStore::new(files.clone(), DEFAULT_MAX_BYTES),
        ..attest::web::Services::new(pool.clone())
    });
    let mut cookies = HashMap::new();
    for (viewer, _, email, _, _) in PEOPLE {
        cookies.insert(viewer, signed_in(state.clone(), email, PASSWORD).await);
    }

    // Dee leaves the centre; her session lives on in her browser.
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(people[&Viewer::Deactivated].id)
        .execute(&pool)
        .await
        .expect("deactivating");

    // Each learner uploads an item with a file, through the app.
    let upload = |viewer: Viewer, enrolment: Uuid, title: &'static str| {
        let state = state.clone();
        let cookie = cookies[&viewer].clone();
        let name = people[&viewer].display_name.clone();
        async move {
            let request = multipart_as(
                &cookie,
                &format!("/enrolments/{enrolment}/evidence"),
                &[
                    ("title", title),
                    ("description", ""),
                    ("kind", "document"),
                    ("declared", "yes"),
                    ("signed_name", &name),
                ],
                &[(&format!("{title}.txt"), title.as_bytes())],
            );
            let reply = send(state.clone(), request).await;
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "upload: {}",
                reply.body
            );
            let item = evidence::list_for_enrolment(&state.pool, enrolment)
                .await
                .expect("evidence")
                .remove(0)
                .id;
            let file = evidence::list_files(&state.pool, item)
                .await
                .expect("files")
                .remove(0)
                .id;
            (item, file)
        }
    };
    let (evidence_a, file_a) = upload(Viewer::Learner, a.id, "Quillfeather site log").await;
    let (evidence_a2, file_a2) = upload(Viewer::OtherLearner, a2.id, "Otto's log").await;
    let (evidence_b, _) = upload(Viewer::ForeignLearner, b.id, "Ben's log").await;
    let resumable = || {
        let (state, cookie) = (state.clone(), cookies[&Viewer::Learner].clone());
        async move {
            let request = axum::http::Request::post(format!("/enrolments/{}/uploads", a.id))
                .header(axum::http::header::COOKIE, cookie)
                .header("sec-fetch-site", "same-origin")
                .header("upload-length", "100")
                .body(axum::body::Body::empty())
                .expect("request");
            let reply = send(state, request).await;
            assert_eq!(reply.status, StatusCode::CREATED, "upload: {}", reply.body);
            let at = reply.location.expect("the upload's address");
            Uuid::parse_str(at.rsplit('/').next().expect("id")).expect("an upload id")
        }
    };
    let (upload_a, upload_a_spare) = (resumable().await, resumable().await);

    // A claim and a trainee tick on A's item, and a claim on A2's, for accept-all.
    let criteria = &loaded_a.criterion_ids;
    let tick = |item: Uuid, criterion: Uuid, layer: Layer, by: Uuid| {
        let pool = pool.clone();
        async move {
            crate::ticking::tick(&pool, item, criterion, layer, by)
                .await
                .expect("tick");
        }
    };
    tick(evidence_a, criteria[0], Layer::Learner, id(Viewer::Learner)).await;
    tick(
        evidence_a,
        criteria[1],
        Layer::TraineeAssessor,
        id(Viewer::Trainee),
    )
    .await;
    tick(
        evidence_a2,
        criteria[0],
        Layer::Learner,
        id(Viewer::OtherLearner),
    )
    .await;

    // IQA actions: open and addressed, on A and on A2.
    let action = |e: &Enrolment, iqa_id: Uuid, addressed: bool| {
        let pool = pool.clone();
        let (enrolment, version) = (e.id, e.version_id);
        let unit = loaded_a.unit_ids[0];
        let assessor = id(Viewer::Assessor);
        async move {
            let d = iqa::record(
                &pool,
                enrolment,
                version,
                iqa_id,
                Sampled::Unit(unit),
                Verdict::ActionRequired,
                "Add the witness statement",
            )
            .await
            .expect("decision");
            if addressed {
                assert!(iqa::address(&pool, d, assessor).await.expect("address"));
            }
            d
        }
    };
    let open_a = action(&a, id(Viewer::Iqa), false).await;
    let addressed_a = action(&a, id(Viewer::Iqa), true).await;
    let open_a2 = action(&a2, id(Viewer::OtherIqa), false).await;
    let addressed_a2 = action(&a2, id(Viewer::OtherIqa), true).await;

    let import_a = attest::db::onboarding::store(
        &pool,
        &people[&Viewer::Admin],
        "new-learner.csv",
        IMPORT_FILE.as_bytes(),
        1,
    )
    .await
    .expect("an upload");
    // A's learner works at Northwind; its Erin follows A (and Eddie, of the same
    // employer, does not).
    sqlx::query("UPDATE enrolments SET employer_id = $2 WHERE id = $1")
        .bind(a.id)
        .bind(employer_a)
        .execute(&pool)
        .await
        .expect("A's employer");
    sqlx::query("INSERT INTO enrolment_employer_people (enrolment_id, employer_id, user_id) VALUES ($1, $2, $3)")
        .bind(a.id)
        .bind(employer_a)
        .bind(people[&Viewer::Employer].id)
        .execute(&pool)
        .await
        .expect("Erin follows A");
    // Two witness requests on A, asked by its learner through the app; the second is
    // answered and signed by its witness, signed out.
    let ask = |name: &'static str| {
        let state = state.clone();
        let cookie = cookies[&Viewer::Learner].clone();
        let (a, criterion) = (a.id, criteria[0]);
        async move {
            let reply = send(
                state.clone(),
                crate::http::form_post_as(
                    &cookie,
                    &format!("/enrolments/{a}/witness"),
                    &format!("to=email&witness_name={name}&witness_email={name}%40northwind.test&criterion={criterion}"),
                ),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "asking: {}",
                reply.body
            );
            let (id, link): (Uuid, String) = sqlx::query_as(
                "SELECT r.id, m.link FROM witness_requests r JOIN mail_outbox m ON m.witness_request_id = r.id \
                  WHERE r.witness_name = $1",
            )
            .bind(name)
            .fetch_one(&state.pool)
            .await
            .expect("the request and its email");
            let token = link.rsplit('/').next().expect("a token").to_string();
            (id, token)
        }
    };
    let (request_a, witness_token) = ask("Wendy").await;
    let (_, used_token) = ask("Walter").await;
    let signed = send(
        state.clone(),
        crate::http::multipart_as(
            "",
            &format!("/witness/{used_token}"),
            &[
                ("account", "I saw Lena do it well."),
                ("role", "Supervisor"),
                ("relationship", "Her line manager"),
                ("agreed", "yes"),
                ("signed_name", "Walter"),
            ],
            &[],
        ),
    )
    .await;
    assert_eq!(
        signed.status,
        StatusCode::SEE_OTHER,
        "signing: {}",
        signed.body
    );
    // And one to Erin, who answers signed in.
    let to_erin = send(
        state.clone(),
        crate::http::form_post_as(
            &cookies[&Viewer::Learner],
            &format!("/enrolments/{}/witness", a.id),
            &format!(
                "to=employer&employer_person={}&criterion={}",
                people[&Viewer::Employer].id,
                criteria[0]
            ),
        ),
    )
    .await;
    assert_eq!(
        to_erin.status,
        StatusCode::SEE_OTHER,
        "asking Erin: {}",
        to_erin.body
    );
    let employer_request_a: Uuid =
        sqlx::query_scalar("SELECT id FROM witness_requests WHERE witness_user_id IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("Erin's request");
    let (testimony_a, signature_a, testimony_item_a): (Uuid, Uuid, Uuid) = sqlx::query_as(
        "SELECT i.evidence_id, s.id, i.id FROM signatures s JOIN signed_items i ON i.id = s.item_id \
          WHERE i.kind = 'witness_testimony'",
    )
    .fetch_one(&pool)
    .await
    .expect("the signed testimony");
    // A is an apprenticeship, set up by the admin; its learner logs an entry, and the
    // admin records a break in learning ahead.
    let today = time::OffsetDateTime::now_utc().date();
    let iso = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let otj_day = iso(today - time::Duration::days(1));
    let through_app = |cookie: &str, uri: String, body: String| {
        let (state, cookie) = (state.clone(), cookie.to_string());
        async move {
            let r = send(state, crate::http::form_post_as(&cookie, &uri, &body)).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{uri}: {}", r.body);
        }
    };
    through_app(
        &cookies[&Viewer::Admin],
        format!("/enrolments/{}/apprenticeship", a.id),
        format!(
            "start={}&planned_end={}&weekly_hours=30",
            iso(today - time::Duration::days(60)),
            iso(today + time::Duration::days(300))
        ),
    )
    .await;
    through_app(
        &cookies[&Viewer::Learner],
        format!("/enrolments/{}/otj", a.id),
        format!("day={otj_day}&hours=2&minutes=0&activity=Shadowing&what=Shadowed+the+ward+sister"),
    )
    .await;
    through_app(
        &cookies[&Viewer::Admin],
        format!("/enrolments/{}/apprenticeship/breaks", a.id),
        format!(
            "from={}&to={}&reason=Surgery",
            iso(today + time::Duration::days(30)),
            iso(today + time::Duration::days(40))
        ),
    )
    .await;
    let next_review = iso(today + time::Duration::weeks(8));
    through_app(
        &cookies[&Viewer::Assessor],
        format!("/enrolments/{}/reviews", a.id),
        format!(
            "held_on={otj_day}&attended=All+three&assessor_summary=Good+progress&targets=Unit+2\
             &next_review_on={next_review}&learner_reflection=I+learned&employer_comments=Doing+well"
        ),
    )
    .await;
    let review_a: Uuid = sqlx::query_scalar("SELECT id FROM progress_reviews")
        .fetch_one(&pool)
        .await
        .expect("A's review");
    through_app(
        &cookies[&Viewer::Assessor],
        format!("/enrolments/{}/reviews/{review_a}/employer-link", a.id),
        "signer_name=Owen+Owner&signer_email=owen%40northwind.test".into(),
    )
    .await;
    let review_link: String =
        sqlx::query_scalar("SELECT link FROM mail_outbox WHERE kind = 'review_signature'")
            .fetch_one(&pool)
            .await
            .expect("the review's link");
    let review_token = review_link.rsplit('/').next().expect("token").to_string();
    let otj_a: Uuid = sqlx::query_scalar("SELECT id FROM otj_entries")
        .fetch_one(&pool)
        .await
        .expect("A's OTJ entry");
    let break_a: Uuid = sqlx::query_scalar("SELECT id FROM learning_breaks")
        .fetch_one(&pool)
        .await
        .expect("A's break");
    let ids = people.iter().map(|(v, u)| (*v, u.id)).collect();
    let learner_email = people[&Viewer::Learner].email.clone();
    // Copying refuses while anyone is connected to the source database.
    pool.close().await;
    World {
        template,
        files,
        cookies,
        evidence_a,
        file_a,
        evidence_a2,
        file_a2,
        evidence_b,
        claimed: criteria[0],
        untouched: criteria[2],
        criterion_b: loaded_b.criterion_ids[0],
        unit_a: loaded_a.unit_ids[0],
        unit_b: loaded_b.unit_ids[0],
        major_a,
        open_a,
        addressed_a,
        open_a2,
        addressed_a2,
        spare_learner: spare.id,
        import_a,
        employer_a,
        request_a,
        witness_token,
        upload_a,
        upload_a_spare,
        testimony_a,
        signature_a,
        testimony_item_a,
        used_token,
        employer_request_a,
        otj_a,
        break_a,
        otj_day,
        review_a,
        next_review,
        review_token,
        foreign_assessor: bob.id,
        ids,
        token,
        learner_email,
        a,
        a2,
        b,
    }
}

//! The admin's qualification and enrolment pages.
use attest::db::{audits, centres, enrolments, qualifications, users};
use attest::demo::load::{load_if_empty, DEMO_CENTRE_SLUG, DEMO_PASSWORD};
use attest::demo::DEMO_QUALIFICATION;
use attest::domain::Status;
use attest::testing::test_pool;
use attest::web::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sqlx::PgPool;
use uuid::Uuid;

use crate::http::{form_post_as, get, send, signed_in, Reply};

async fn admin(pool: &PgPool) -> String {
    load_if_empty(pool).await.expect("demo");
    signed_in(
        AppState::new(pool.clone()),
        "admin@demo.attest.test",
        DEMO_PASSWORD,
    )
    .await
}

async fn upload(pool: &PgPool, cookie: &str, name: &str, contents: &str) -> Reply {
    let boundary = "attest-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{contents}\r\n--{boundary}--\r\n"
    );
    let request = Request::post("/admin/qualifications")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .expect("request");
    send(AppState::new(pool.clone()), request).await
}

async fn versions(pool: &PgPool) -> usize {
    let centre = centres::find_by_slug(pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    qualifications::list_versions(pool, centre.id)
        .await
        .expect("versions")
        .len()
}

#[tokio::test]
async fn an_admin_imports_a_file_and_browses_its_rules() {
    let pool = test_pool().await;
    let cookie = admin(&pool).await;
    let changed = DEMO_QUALIFICATION.replace("ATT/CS2/1", "ATT/CS2/2");
    let r = upload(&pool, &cookie, "cs2.toml", &changed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = send(
        AppState::new(pool.clone()),
        get(&r.location.expect("to the version"), Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .body
        .contains("Optional group B: at least 12 credits from 210, 211, 214, 215"));
    assert!(page
        .body
        .contains("Explain the relationship between customers"));
    let list = send(
        AppState::new(pool),
        get("/admin/qualifications", Some(&cookie)),
    )
    .await;
    assert!(list.body.contains("ATT/CS2/2") && list.body.contains("ATT/CS2/1"));
}

#[tokio::test]
async fn a_bad_file_lists_every_error_and_imports_nothing() {
    let pool = test_pool().await;
    let cookie = admin(&pool).await;
    let before = versions(&pool).await;
    let bad = DEMO_QUALIFICATION
        .replace("credits = 5", "credits = 0")
        .replace("ATT/CS2/1", "ATT/BAD/1");
    let r = upload(&pool, &cookie, "bad.toml", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Nothing was imported"));
    assert!(r.body.contains("There is a problem with bad.toml"));
    assert!(
        r.body.contains("<code>unit[1].credits</code>")
            && r.body.contains("<code>unit[2].credits</code>"),
        "each error listed"
    );
    assert!(r.body.contains("Line "), "with its line");
    let none = upload(&pool, &cookie, "", "").await;
    assert!(none.body.contains("Select a qualification file"));
    assert_eq!(versions(&pool).await, before);
}

#[tokio::test]
async fn an_admin_enrols_a_learner_and_the_form_refuses_bad_choices() {
    let pool = test_pool().await;
    let cookie = admin(&pool).await;
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let person = |email: &'static str| {
        let pool = pool.clone();
        async move {
            users::find_by_email(&pool, centre.id, email)
                .await
                .expect("q")
                .expect("person")
                .id
        }
    };
    let (amira, tom, margaret) = (
        person("amira@demo.attest.test").await,
        person("assessor@demo.attest.test").await,
        person("iqa@demo.attest.test").await,
    );
    let before = enrolments::list_for_centre(&pool, centre.id)
        .await
        .expect("list")
        .len();
    let page = send(
        AppState::new(pool.clone()),
        get("/admin/enrolments/new", Some(&cookie)),
    )
    .await;
    let team = page
        .body
        .split("<option value=\"")
        .find(|o| o.contains("TEAM Customer Service Team Leading"))
        .expect("TEAM offered");
    let team: Uuid = team[..36].parse().expect("major id");

    let r = send(
        AppState::new(pool.clone()),
        form_post_as(&cookie, "/admin/enrolments", "learner=&major=&assessor="),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "Select the learner",
        "Select the qualification and major",
        "Select the assessor",
    ] {
        assert!(r.body.contains(m), "{m}");
    }
    let own = format!("learner={amira}&major={team}&assessor={tom}&trainee=&iqa={tom}");
    let r = send(
        AppState::new(pool.clone()),
        form_post_as(&cookie, "/admin/enrolments", &own),
    )
    .await;
    assert!(r
        .body
        .contains("The IQA cannot sample their own assessment"));
    assert!(
        r.body
            .contains(&format!("<option value=\"{amira}\" selected>")),
        "choices are kept"
    );
    assert_eq!(
        enrolments::list_for_centre(&pool, centre.id)
            .await
            .expect("list")
            .len(),
        before
    );

    let ok = format!("learner={amira}&major={team}&assessor={tom}&trainee=&iqa={margaret}");
    let r = send(
        AppState::new(pool.clone()),
        form_post_as(&cookie, "/admin/enrolments", &ok),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id: Uuid = r
        .location
        .expect("to the portfolio")
        .trim_start_matches("/enrolments/")
        .parse()
        .expect("id");
    let e = enrolments::get(&pool, id).await.expect("enrolment");
    assert_eq!(
        (e.learner_id, e.major_id, e.status),
        (amira, team, Status::NotYetAchieved)
    );
    assert_eq!(
        audits::audit_history(&pool, id)
            .await
            .expect("audits")
            .len(),
        1,
        "audited on enrolment"
    );
}

#[tokio::test]
async fn admin_pages_are_404_for_everyone_else() {
    let pool = test_pool().await;
    admin(&pool).await;
    let tom = signed_in(
        AppState::new(pool.clone()),
        "assessor@demo.attest.test",
        DEMO_PASSWORD,
    )
    .await;
    for uri in [
        "/admin/qualifications",
        "/admin/enrolments/new",
        &format!("/admin/qualifications/{}", Uuid::new_v4()),
    ] {
        assert_eq!(
            send(AppState::new(pool.clone()), get(uri, Some(&tom)))
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let r = upload(&pool, &tom, "x.toml", DEMO_QUALIFICATION).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // An admin of another centre cannot open this centre's version.
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let version = qualifications::list_versions(&pool, centre.id)
        .await
        .expect("v")[0]
        .version_id;
    let other = centres::create(&pool, "other", "Other College")
        .await
        .expect("centre");
    let hash = attest::web::auth::password::hash("other admin pass").expect("hash");
    let new = users::NewUser {
        centre_id: other.id,
        email: "admin@other.ac.uk",
        display_name: "Other Admin",
        password_hash: Some(&hash),
        kind: users::UserKind::Staff,
        roles: &[users::Role::Admin],
        employer_id: None,
    };
    users::create(&pool, &new).await.expect("user");
    let theirs = signed_in(
        AppState::new(pool.clone()),
        "admin@other.ac.uk",
        "other admin pass",
    )
    .await;
    let r = send(
        AppState::new(pool),
        get(&format!("/admin/qualifications/{version}"), Some(&theirs)),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_admin_changes_who_assesses_and_quality_assures() {
    let pool = test_pool().await;
    let cookie = admin(&pool).await;
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let e = enrolments::list_for_centre(&pool, centre.id)
        .await
        .expect("list")
        .remove(0);
    let uri = format!("/admin/enrolments/{}/assignments", e.id);
    let form = send(AppState::new(pool.clone()), get(&uri, Some(&cookie))).await;
    assert!(
        form.body
            .contains(&format!("<option value=\"{}\" selected>", e.assessor_id)),
        "current assessor chosen"
    );

    let refused = format!("assessor={}&trainee=&iqa={}", e.assessor_id, e.assessor_id);
    let r = send(
        AppState::new(pool.clone()),
        form_post_as(&cookie, &uri, &refused),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .body
        .contains("The IQA cannot sample their own assessment"));

    let ok = format!("assessor={}&trainee=&iqa=", e.assessor_id);
    let r = send(
        AppState::new(pool.clone()),
        form_post_as(&cookie, &uri, &ok),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = enrolments::get(&pool, e.id).await.expect("enrolment");
    assert_eq!((after.iqa_id, after.trainee_assessor_id), (None, None));

    let tom = signed_in(
        AppState::new(pool.clone()),
        "assessor@demo.attest.test",
        DEMO_PASSWORD,
    )
    .await;
    assert_eq!(
        send(AppState::new(pool.clone()), get(&uri, Some(&tom)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = send(AppState::new(pool), form_post_as(&tom, &uri, &ok)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Regression (found in issue 12's review): the assignments form trusted its select
/// lists, so a forged POST could make a deactivated person, or someone without the role,
/// the assessor; and an IQA could be given an enrolment they had assessed.
#[tokio::test]
async fn a_forged_assignment_naming_someone_out_of_the_role_changes_nothing() {
    let pool = test_pool().await;
    let cookie = admin(&pool).await;
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let person = |email: &'static str| {
        let pool = pool.clone();
        async move {
            users::find_by_email(&pool, centre.id, email)
                .await
                .expect("q")
                .expect("a demo person")
        }
    };
    let (tom, lena, margaret) = (
        person("assessor@demo.attest.test").await,
        person("trainee@demo.attest.test").await,
        person("iqa@demo.attest.test").await,
    );
    let ben = person("ben@demo.attest.test").await;
    let e = enrolments::list_for_centre(&pool, centre.id)
        .await
        .expect("list")
        .into_iter()
        .find(|e| e.learner_id == ben.id)
        .expect("Ben's enrolment, ticked by Tom");
    // A second assessor who leaves, and Tom made an IQA too.
    let gone = attest::db::users::create(
        &pool,
        &users::NewUser {
            centre_id: centre.id,
            email: "gone@demo.attest.test",
            display_name: "Gone Assessor",
            password_hash: None,
            kind: users::UserKind::Staff,
            roles: &[users::Role::Assessor],
            employer_id: None,
        },
    )
    .await
    .expect("assessor");
    let deactivated = send(
        AppState::new(pool.clone()),
        form_post_as(
            &cookie,
            &format!("/admin/people/{}/deactivate", gone.id),
            "",
        ),
    )
    .await;
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    users::grant_role(&pool, tom.id, users::Role::Iqa)
        .await
        .expect("role");
    let uri = format!("/admin/enrolments/{}/assignments", e.id);
    let log = |pool: PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM activity_log")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    let before = log(pool.clone()).await;
    for (form, field, says) in [
        (
            format!("assessor={}&trainee=&iqa={}", gone.id, margaret.id),
            "assessor",
            "Select an active assessor of your centre",
        ),
        (
            format!("assessor={}&trainee=&iqa={}", lena.id, margaret.id),
            "assessor",
            "Select an active assessor of your centre",
        ),
        (
            format!("assessor={}&trainee={}&iqa=", tom.id, margaret.id),
            "trainee",
            "Select an active trainee assessor of your centre",
        ),
        (
            format!("assessor={}&trainee=&iqa={}", gone.id, tom.id),
            "assessor",
            "Select an active assessor of your centre",
        ),
        (
            format!("assessor={}&trainee=&iqa=", lena.id),
            "assessor",
            "Select an active assessor of your centre",
        ),
    ] {
        let r = send(
            AppState::new(pool.clone()),
            form_post_as(&cookie, &uri, &form),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
        assert!(r.body.contains(says), "{form}: {says:?}");
        assert!(
            r.body.contains(&format!("id=\"{field}-error\"")),
            "{form}: beside {field}"
        );
    }
    // Tom assessed Ben: he may not become Ben's IQA, whoever assesses now.
    let oscar = attest::db::users::create(
        &pool,
        &users::NewUser {
            centre_id: centre.id,
            email: "oscar@demo.attest.test",
            display_name: "Oscar Assessor",
            password_hash: None,
            kind: users::UserKind::Staff,
            roles: &[users::Role::Assessor],
            employer_id: None,
        },
    )
    .await
    .expect("assessor");
    let r = send(
        AppState::new(pool.clone()),
        form_post_as(
            &cookie,
            &uri,
            &format!("assessor={}&trainee=&iqa={}", oscar.id, tom.id),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("made assessment decisions on this enrolment"),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"iqa-error\""));
    assert_eq!(
        enrolments::get(&pool, e.id).await.expect("enrolment"),
        e,
        "nothing changed"
    );
    assert_eq!(log(pool.clone()).await, before, "nothing logged");
}

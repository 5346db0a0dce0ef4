//! Admins add people with roles; each sets their own password from a one-time link.
use attest::db::users::{self, NewUser, Role, UserKind};
use attest::db::{activity, centres};
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::http::{enc, form_post, form_post_as, get, send, signed_in};

const PASSWORD: &str = "admin password 1";

async fn person(
    pool: &PgPool,
    centre: Uuid,
    email: &str,
    kind: UserKind,
    roles: &[Role],
) -> users::User {
    let hash = password::hash(PASSWORD).expect("hash");
    let new = NewUser {
        centre_id: centre,
        email,
        display_name: email,
        password_hash: Some(&hash),
        kind,
        roles,
        employer_id: None,
    };
    users::create(pool, &new).await.expect("user")
}

/// A centre with an admin signed in; returns the admin's cookie.
pub(crate) async fn admin_session(pool: &PgPool) -> (Uuid, String) {
    let centre = centres::create(pool, "ngc", "Northgate College")
        .await
        .expect("centre");
    person(
        pool,
        centre.id,
        "admin@ngc.ac.uk",
        UserKind::Staff,
        &[Role::Admin],
    )
    .await;
    let cookie = signed_in(AppState::new(pool.clone()), "admin@ngc.ac.uk", PASSWORD).await;
    (centre.id, cookie)
}

pub(crate) fn link_in(body: &str) -> String {
    let start = body
        .find("/set-password/")
        .expect("a set-password link is shown");
    body[start..].split('"').next().expect("link").to_string()
}

#[tokio::test]
async fn an_admin_adds_a_learner_who_sets_a_password_from_the_link_once() {
    let pool = test_pool().await;
    let (centre, cookie) = admin_session(&pool).await;
    let form = format!(
        "display_name={}&email=zoe%40example.ac.nz&kind=learner",
        enc("Zoë Ōtaki-Ngata")
    );
    let r = send(
        AppState::new(pool.clone()),
        form_post_as(&cookie, "/admin/people", &form),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body.contains("Zoë Ōtaki-Ngata added"));
    assert!(
        r.body.contains("http://localhost/set-password/") || r.body.contains("://"),
        "an absolute link"
    );
    let link = link_in(&r.body);

    let zoe = users::find_by_email(&pool, centre, "zoe@example.ac.nz")
        .await
        .expect("query")
        .expect("created");
    assert_eq!(zoe.roles, vec![Role::Learner]);
    assert!(
        zoe.password_hash.is_none(),
        "no password until she sets one"
    );
    let log = activity::for_centre(&pool, centre, None, 10)
        .await
        .expect("log");
    assert!(
        log.iter().any(|e| e.action == "person added"),
        "the change is in the activity log"
    );

    // The link shows who it is for, then takes a new password and signs her in.
    let page = send(AppState::new(pool.clone()), get(&link, None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Welcome, Zoë Ōtaki-Ngata"));
    let short = send(
        AppState::new(pool.clone()),
        form_post(&link, "password=short&confirm=short", "192.0.2.9"),
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("at least 10 characters"));
    let set = send(
        AppState::new(pool.clone()),
        form_post(
            &link,
            "password=kia+ora+koutou&confirm=kia+ora+koutou",
            "192.0.2.9",
        ),
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert!(set.cookie.is_some(), "signed in straight away");
    signed_in(
        AppState::new(pool.clone()),
        "zoe@example.ac.nz",
        "kia ora koutou",
    )
    .await;

    // The link works once.
    let again = send(AppState::new(pool.clone()), get(&link, None)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let reuse = send(
        AppState::new(pool),
        form_post(
            &link,
            "password=another+password&confirm=another+password",
            "192.0.2.9",
        ),
    )
    .await;
    assert_eq!(reuse.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_are_added_with_their_roles() {
    let pool = test_pool().await;
    let (centre, cookie) = admin_session(&pool).await;
    let form = "display_name=Tom+Okafor&email=tom%40ngc.ac.uk&kind=staff&role=assessor&role=iqa";
    let r = send(
        AppState::new(pool.clone()),
        form_post_as(&cookie, "/admin/people", form),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let tom = users::find_by_email(&pool, centre, "tom@ngc.ac.uk")
        .await
        .expect("query")
        .expect("created");
    assert_eq!(tom.roles, vec![Role::Assessor, Role::Iqa]);
    let list = send(AppState::new(pool), get("/admin/people", Some(&cookie))).await;
    assert!(list.body.contains("Tom Okafor") && list.body.contains("Assessor, IQA"));
    assert!(list
        .body
        .contains("Waiting for the person to set a password"));
}

#[tokio::test]
async fn bad_input_is_named_beside_each_field_kept_and_changes_nothing() {
    let pool = test_pool().await;
    let (centre, cookie) = admin_session(&pool).await;
    let before = users::list_for_centre(&pool, centre)
        .await
        .expect("list")
        .len();
    let form = "display_name=&email=not-an-email&kind=staff&role=assessor&role=trainee_assessor";
    let r = send(
        AppState::new(pool.clone()),
        form_post_as(&cookie, "/admin/people", form),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (field, message) in [
        ("display_name", "Enter the person&#39;s full name"),
        ("email", "Enter an email address in the correct format"),
        ("roles", "Select assessor or trainee assessor, not both"),
    ] {
        assert!(
            r.body.contains(&format!("id=\"{field}-error\"")),
            "{field} has its message"
        );
        assert!(
            r.body.contains(message) || r.body.contains(&message.replace("&#39;", "'")),
            "{message}"
        );
    }
    assert!(
        r.body.contains(r#"value="not-an-email""#),
        "typed input is kept"
    );
    assert!(
        r.body.contains(r#"value="assessor" checked"#),
        "ticked roles stay ticked"
    );
    assert_eq!(
        users::list_for_centre(&pool, centre)
            .await
            .expect("list")
            .len(),
        before
    );
}

#[tokio::test]
async fn a_duplicate_email_is_refused_beside_the_field() {
    let pool = test_pool().await;
    let (_, cookie) = admin_session(&pool).await;
    let form = "display_name=Someone&email=ADMIN%40ngc.ac.uk&kind=learner";
    let r = send(
        AppState::new(pool),
        form_post_as(&cookie, "/admin/people", form),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .body
        .contains("Someone at this centre already has this email address"));
    assert!(r.body.contains(r#"value="ADMIN@ngc.ac.uk""#));
}

#[tokio::test]
async fn only_admins_see_the_people_pages() {
    let pool = test_pool().await;
    let centre = centres::create(&pool, "ngc", "Northgate College")
        .await
        .expect("centre");
    person(
        &pool,
        centre.id,
        "tom@ngc.ac.uk",
        UserKind::Staff,
        &[Role::Assessor, Role::Iqa],
    )
    .await;
    person(
        &pool,
        centre.id,
        "amira@ngc.ac.uk",
        UserKind::Learner,
        &[Role::Learner],
    )
    .await;
    for email in ["tom@ngc.ac.uk", "amira@ngc.ac.uk"] {
        let cookie = signed_in(AppState::new(pool.clone()), email, PASSWORD).await;
        for uri in ["/admin/people", "/admin/people/new"] {
            let r = send(AppState::new(pool.clone()), get(uri, Some(&cookie))).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{email} {uri}");
        }
        let post = form_post_as(
            &cookie,
            "/admin/people",
            "display_name=X&email=x%40y.com&kind=learner",
        );
        assert_eq!(
            send(AppState::new(pool.clone()), post).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let signed_out = send(AppState::new(pool), get("/admin/people", None)).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_unknown_link_is_404() {
    let pool = test_pool().await;
    let r = send(
        AppState::new(pool),
        get("/set-password/0123456789abcdef", None),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

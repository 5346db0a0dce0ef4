//! A centre's employers (issue 13 point 1, the admin's part): add, change, list in
//! pages; bad input kept beside its field with nothing changed; each change logged.
use attest::demo::load::{load_if_empty, DEMO_PASSWORD};
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::http::{form_post_as, get, send, signed_in, Reply};

async fn admin() -> (PgPool, AppState, String) {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let state = AppState::new(pool.clone());
    let cookie = signed_in(state.clone(), "admin@demo.attest.test", DEMO_PASSWORD).await;
    (pool, state, cookie)
}

/// The admin adds the centre's one employer, Northwind: its id.
async fn northwind(pool: &PgPool, state: &AppState, cookie: &str) -> uuid::Uuid {
    let added = send(
        state.clone(),
        form_post_as(cookie, "/admin/employers", "name=Northwind"),
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    sqlx::query_scalar("SELECT id FROM employers")
        .fetch_one(pool)
        .await
        .expect("employer")
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn an_admin_adds_and_changes_an_employer_and_each_is_logged() {
    let (pool, state, cookie) = admin().await;
    let post = |uri: &str, form: &str| send(state.clone(), form_post_as(&cookie, uri, form));
    let r: Reply = post(
        "/admin/employers",
        "name=Northwind+Care+Ltd&contact_name=Pat+Mentor&contact_email=pat%40northwind.example&contact_phone=0161+496+0000",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let list = send(state.clone(), get("/admin/employers", Some(&cookie))).await;
    assert!(list.body.contains("Northwind Care Ltd"), "{}", list.body);
    assert!(list.body.contains("pat@northwind.example"));
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM employers")
        .fetch_one(&pool)
        .await
        .expect("employer");
    let page = send(
        state.clone(),
        get(&format!("/admin/employers/{id}"), Some(&cookie)),
    )
    .await;
    assert!(
        page.body.contains("value=\"Pat Mentor\""),
        "the form holds the details"
    );
    let r = post(
        &format!("/admin/employers/{id}"),
        "name=Northwind+Care&contact_name=Pat+Mentor",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let name: String = sqlx::query_scalar("SELECT name FROM employers")
        .fetch_one(&pool)
        .await
        .expect("name");
    assert_eq!(name, "Northwind Care");
    let log = send(state.clone(), get("/admin/log?kind=people", Some(&cookie))).await;
    assert!(
        log.body.contains("Added the employer Northwind Care Ltd"),
        "{}",
        log.body
    );
    assert!(log
        .body
        .contains("Changed the employer Northwind Care Ltd, now named Northwind Care"));
}

#[tokio::test]
async fn bad_input_is_kept_beside_its_field_and_changes_nothing() {
    let (pool, state, cookie) = admin().await;
    let post = |uri: &str, form: &str| send(state.clone(), form_post_as(&cookie, uri, form));
    assert_eq!(
        post("/admin/employers", "name=Northwind").await.status,
        StatusCode::SEE_OTHER
    );
    let before = count(&pool, "SELECT count(*) FROM activity_log").await;
    for (form, field, says) in [
        (
            "name=&contact_name=Pat",
            "name",
            "Enter the employer&#39;s name",
        ),
        (
            "name=NORTHWIND",
            "name",
            "Your centre has an employer of this name already",
        ),
        (
            "name=Acme&contact_email=pat%40",
            "contact_email",
            "Enter an email address in the correct format",
        ),
        (
            "name=Acme&contact_phone=ring+me",
            "contact_phone",
            "Enter a phone number in digits",
        ),
    ] {
        let r = post("/admin/employers", form).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
        assert!(r.body.contains(says), "{form}: {says:?} in {}", r.body);
        assert!(
            r.body.contains(&format!("id=\"{field}-error\"")),
            "{form}: beside {field}"
        );
    }
    let r = post("/admin/employers", "name=Acme&contact_phone=ring+me").await;
    assert!(
        r.body.contains("value=\"ring me\""),
        "what was typed is kept"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM employers").await, 1);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM activity_log").await,
        before
    );
}

#[tokio::test]
async fn the_list_is_paged_by_name() {
    let (pool, state, cookie) = admin().await;
    let centre: uuid::Uuid = sqlx::query_scalar("SELECT id FROM centres LIMIT 1")
        .fetch_one(&pool)
        .await
        .expect("centre");
    sqlx::query(
        "INSERT INTO employers (id, centre_id, name) \
         SELECT gen_random_uuid(), $1, 'Employer ' || lpad(i::text, 3, '0') FROM generate_series(1, 120) AS i",
    )
    .bind(centre)
    .execute(&pool)
    .await
    .expect("employers");
    let first = send(state.clone(), get("/admin/employers", Some(&cookie))).await;
    assert!(first.body.contains("Employer 001") && first.body.contains("Employer 050"));
    assert!(!first.body.contains("Employer 051"));
    assert!(first.body.contains("href=\"/admin/employers?page=2\""));
    let third = send(state.clone(), get("/admin/employers?page=3", Some(&cookie))).await;
    assert!(third.body.contains("Employer 120") && !third.body.contains("Employer 100<"));
    assert!(!third.body.contains("page=4"));
}

#[tokio::test]
async fn an_enrolment_names_its_learners_employer_of_the_same_centre_only() {
    let (pool, state, cookie) = admin().await;
    let post = |uri: String, form: String| send(state.clone(), form_post_as(&cookie, &uri, &form));
    assert_eq!(
        post("/admin/employers".into(), "name=Northwind".into())
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let ours: uuid::Uuid = sqlx::query_scalar("SELECT id FROM employers")
        .fetch_one(&pool)
        .await
        .expect("employer");
    let other = attest::db::centres::create(&pool, "other", "Other College")
        .await
        .expect("centre");
    let theirs = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO employers (id, centre_id, name) VALUES ($1, $2, 'Theirs')")
        .bind(theirs)
        .bind(other.id)
        .execute(&pool)
        .await
        .expect("their employer");
    let (enrolment, assessor, iqa): (uuid::Uuid, uuid::Uuid, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT id, assessor_id, iqa_id FROM enrolments ORDER BY id LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("an enrolment");
    let uri = format!("/admin/enrolments/{enrolment}/assignments");
    let iqa = iqa.map(|i| i.to_string()).unwrap_or_default();
    let forged = post(
        uri.clone(),
        format!("assessor={assessor}&trainee=&iqa={iqa}&employer={theirs}"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(forged.body.contains("Select an employer of your centre"));
    assert!(forged.body.contains("id=\"employer-error\""));
    let linked = post(
        uri.clone(),
        format!("assessor={assessor}&trainee=&iqa={iqa}&employer={ours}"),
    )
    .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER);
    let stored: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT employer_id FROM enrolments WHERE id = $1")
            .bind(enrolment)
            .fetch_one(&pool)
            .await
            .expect("employer");
    assert_eq!(stored, Some(ours));
    let page = send(state.clone(), get(&uri, Some(&cookie))).await;
    assert!(
        page.body
            .contains(&format!("<option value=\"{ours}\" selected>")),
        "{}",
        page.body
    );
    let logged = count(&pool, "SELECT count(*) FROM activity_log WHERE action = 'assignments changed' AND detail ->> 'employer' IS NOT NULL").await;
    assert_eq!(logged, 1);
}

#[tokio::test]
async fn a_learner_is_enrolled_naming_their_employer_of_the_same_centre_only() {
    let (pool, state, cookie) = admin().await;
    let post = |uri: String, form: String| send(state.clone(), form_post_as(&cookie, &uri, &form));
    assert_eq!(
        post("/admin/employers".into(), "name=Northwind".into())
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let ours: uuid::Uuid = sqlx::query_scalar("SELECT id FROM employers")
        .fetch_one(&pool)
        .await
        .expect("employer");
    let id_of = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, uuid::Uuid>(sql)
                .fetch_one(&pool)
                .await
                .expect(sql)
        }
    };
    let learner = id_of("SELECT id FROM users WHERE email = 'amira@demo.attest.test'").await;
    let assessor = id_of("SELECT id FROM users WHERE email = 'assessor@demo.attest.test'").await;
    let major = id_of("SELECT id FROM majors WHERE code = 'TEAM'").await;
    let page = send(state.clone(), get("/admin/enrolments/new", Some(&cookie))).await;
    assert!(
        page.body.contains(&format!("<option value=\"{ours}\"")),
        "the employer is offered"
    );
    let form = |employer: uuid::Uuid| {
        format!(
            "learner={learner}&major={major}&assessor={assessor}&trainee=&iqa=&employer={employer}"
        )
    };
    let before = count(&pool, "SELECT count(*) FROM enrolments").await;
    let forged = post("/admin/enrolments".into(), form(uuid::Uuid::new_v4())).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(forged.body.contains("Select an employer of your centre"));
    assert!(forged.body.contains("id=\"employer-error\""));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM enrolments").await,
        before
    );
    let enrolled = post("/admin/enrolments".into(), form(ours)).await;
    assert_eq!(enrolled.status, StatusCode::SEE_OTHER, "{}", enrolled.body);
    let named = count(
        &pool,
        "SELECT count(*) FROM enrolments e JOIN employers w ON w.id = e.employer_id WHERE w.name = 'Northwind'",
    )
    .await;
    assert_eq!(named, 1);
}

/// An admin adds a person at an employer from its page, links them to one learner's
/// enrolment; the person sets a password from their link and sees exactly that learner,
/// read-only: their confirmed progress and evidence, never the portfolio or anyone else.
#[tokio::test]
async fn an_employers_person_is_added_linked_and_sees_exactly_their_learners() {
    let (pool, state, cookie) = admin().await;
    let post = |uri: String, form: String| send(state.clone(), form_post_as(&cookie, &uri, &form));
    let employer = northwind(&pool, &state, &cookie).await;
    let form = send(
        state.clone(),
        get(
            &format!("/admin/people/new?employer={employer}"),
            Some(&cookie),
        ),
    )
    .await;
    assert!(
        form.body.contains(
            "id=\"kind-employer\" name=\"kind\" type=\"radio\" value=\"employer\" checked"
        ),
        "{}",
        form.body
    );
    let missing = post(
        "/admin/people".into(),
        "display_name=Erin+Mentor&email=erin%40northwind.test&kind=employer&employer=".into(),
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing
        .body
        .contains("Select the employer this person works for"));
    let added = post(
        "/admin/people".into(),
        format!("display_name=Erin+Mentor&email=erin%40northwind.test&kind=employer&employer={employer}&role=admin"),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.email = 'erin@northwind.test'",
    )
    .fetch_all(&pool)
    .await
    .expect("roles");
    assert_eq!(
        roles,
        ["employer"],
        "an employer's person holds that role only"
    );
    let erin: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'erin@northwind.test'")
            .fetch_one(&pool)
            .await
            .expect("Erin");
    let page = send(
        state.clone(),
        get(&format!("/admin/employers/{employer}"), Some(&cookie)),
    )
    .await;
    assert!(
        page.body.contains("Erin Mentor"),
        "the employer's page lists its people"
    );

    // Erin sets her password from the link and signs in.
    let link = crate::people::link_in(&added.body);
    let set = send(
        state.clone(),
        crate::http::form_post(
            &link,
            "password=a-long-new-password&confirm=a-long-new-password",
            "192.0.2.9",
        ),
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let erin_cookie = signed_in(state.clone(), "erin@northwind.test", "a-long-new-password").await;

    // Two enrolments: Erin is linked to the first only.
    let rows: Vec<(uuid::Uuid, uuid::Uuid, Option<uuid::Uuid>, String)> = sqlx::query_as(
        "SELECT e.id, e.assessor_id, e.iqa_id, u.display_name FROM enrolments e JOIN users u ON u.id = e.learner_id \
          ORDER BY e.id LIMIT 2",
    )
    .fetch_all(&pool)
    .await
    .expect("enrolments");
    let (first, assessor, iqa, learner) = rows[0].clone();
    let (second, _, _, other) = rows[1].clone();
    let uri = format!("/admin/enrolments/{first}/assignments");
    let iqa = iqa.map(|i| i.to_string()).unwrap_or_default();
    // The employer first; then its people are offered.
    assert_eq!(
        post(
            uri.clone(),
            format!("assessor={assessor}&trainee=&iqa={iqa}&employer={employer}")
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let offered = send(state.clone(), get(&uri, Some(&cookie))).await;
    assert!(
        offered.body.contains(&format!("value=\"{erin}\"")),
        "{}",
        offered.body
    );
    let forged = post(
        uri.clone(),
        format!(
            "assessor={assessor}&trainee=&iqa={iqa}&employer={employer}&employer_person={assessor}"
        ),
    )
    .await;
    assert_eq!(
        forged.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "staff are no employer's people"
    );
    assert!(
        forged
            .body
            .contains("Select people of this learner&#39;s employer"),
        "{}",
        forged.body
    );
    assert_eq!(
        post(
            uri.clone(),
            format!(
                "assessor={assessor}&trainee=&iqa={iqa}&employer={employer}&employer_person={erin}"
            )
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );

    let home = send(state.clone(), get("/", Some(&erin_cookie))).await;
    assert!(home.body.contains(&learner), "{}", home.body);
    assert!(!home.body.contains(&other), "only her own learners");
    let theirs = send(
        state.clone(),
        get(&format!("/employer/learners/{first}"), Some(&erin_cookie)),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.body.contains("Progress confirmed by the assessor"));
    for refused in [
        format!("/employer/learners/{second}"),
        format!("/enrolments/{first}"),
        format!("/enrolments/{first}/activity"),
        "/caseload".to_string(),
        "/admin/people".to_string(),
    ] {
        let r = send(state.clone(), get(&refused, Some(&erin_cookie))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{refused}");
    }

    // Moving the learner to no employer unlinks her people in the same change.
    assert_eq!(
        post(
            uri.clone(),
            format!("assessor={assessor}&trainee=&iqa={iqa}&employer=&employer_person={erin}")
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let gone = send(
        state.clone(),
        get(&format!("/employer/learners/{first}"), Some(&erin_cookie)),
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

/// An employer's person's learners are read a page at a time in the learners' name
/// order from the links' own copy of the sort key (migration 0048): a new link takes
/// its enrolment's key whatever its writer sent, and a learner renamed moves on it.
#[tokio::test]
async fn an_employers_person_reads_their_learners_in_name_order_and_a_rename_moves_one() {
    let (pool, state, cookie) = admin().await;
    let post = |uri: &str, form: String| send(state.clone(), form_post_as(&cookie, uri, &form));
    let employer = northwind(&pool, &state, &cookie).await;
    let added = post(
        "/admin/people",
        format!("display_name=Erin+Mentor&email=erin%40northwind.test&kind=employer&employer={employer}"),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let erin: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'erin@northwind.test'")
            .fetch_one(&pool)
            .await
            .expect("Erin");
    // Every enrolment of the centre works at Northwind, and Erin follows each; the
    // writer sends a wrong key, which the link does not keep.
    sqlx::query("UPDATE enrolments SET employer_id = $1")
        .bind(employer)
        .execute(&pool)
        .await
        .expect("employer set");
    sqlx::query(
        "INSERT INTO enrolment_employer_people (enrolment_id, employer_id, user_id, learner_sort) \
         SELECT id, $1, $2, 'wrong' FROM enrolments",
    )
    .bind(employer)
    .bind(erin)
    .execute(&pool)
    .await
    .expect("linked");
    // The learners' order from their names, read afresh each time.
    let in_order = |pool: PgPool| async move {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT e.id FROM enrolments e JOIN users u ON u.id = e.learner_id \
              ORDER BY lower(u.display_name), e.id",
        )
        .fetch_all(&pool)
        .await
        .expect("names");
        ids
    };
    let page = |pool: PgPool, n: i64, per: i64| async move {
        attest::db::caseload::followed(&pool, erin, n, per)
            .await
            .expect("followed")
            .into_iter()
            .map(|r| r.enrolment_id)
            .collect::<Vec<_>>()
    };
    let ids = in_order(pool.clone()).await;
    assert!(ids.len() >= 3, "the demo centre has learners to order");
    // Pages of two, each read with one more to say whether another follows.
    assert_eq!(page(pool.clone(), 0, 2).await, ids[..3.min(ids.len())]);
    assert_eq!(
        page(pool.clone(), 1, 2).await,
        ids[2..5.min(ids.len())],
        "the second page starts where the first ended"
    );
    // The first learner renamed to sort last moves to the end of Erin's list.
    let first_learner: uuid::Uuid =
        sqlx::query_scalar("SELECT learner_id FROM enrolments WHERE id = $1")
            .bind(ids[0])
            .fetch_one(&pool)
            .await
            .expect("learner");
    sqlx::query("UPDATE users SET display_name = 'Zzyzx Renamed' WHERE id = $1")
        .bind(first_learner)
        .execute(&pool)
        .await
        .expect("renamed");
    let renamed = in_order(pool.clone()).await;
    assert_ne!(renamed, ids, "the rename moved the learner");
    let all = page(pool.clone(), 0, 1000).await;
    assert_eq!(all, renamed);
    let stale: i64 = count(
        &pool,
        "SELECT count(*) FROM enrolment_employer_people f JOIN enrolments e ON e.id = f.enrolment_id \
          WHERE f.learner_sort <> e.learner_sort",
    )
    .await;
    assert_eq!(stale, 0, "every link holds its enrolment's key");
}

//! One person's page for their centre's admin (issue 12): the account, and editing,
//! deactivating, reactivating and signing out a person, each logged; refusals keep
//! what was typed and change nothing.
use attest::db::activity::{self, ActivityEntry};
use attest::db::users::{self, Role};
use attest::db::{centres, password_tokens};
use attest::domain::ticks::Layer;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{add_evidence, criteria, person, world, World};
use crate::http::{enc, form_post, form_post_as, get, send, signed_in, Reply};

const PASSWORD: &str = "a long enough password";
const ADMIN: &str = "ada@acme.test";
const DEACTIVATED: &str = "This account has been deactivated. Ask your centre&#39;s administrator.";
const WRONG_DETAILS: &str = "The email address or password is not right.";

/// The helpers' world (Ann assesses Lee's enrolment), everyone with a password; Ada
/// is the centre's admin, signed in; Ann has ticked a criterion on Lee's evidence.
struct Centre {
    w: World,
    state: AppState,
    ada: Uuid,
    admin: String,
    item: Uuid,
}

async fn centre() -> Centre {
    let w = world().await;
    let hash = password::hash(PASSWORD).expect("hash");
    for id in [w.assessor.id, w.trainee.id, w.iqa.id, w.learner.id] {
        users::set_password_hash(&w.pool, id, &hash)
            .await
            .expect("password");
    }
    let ada = person(
        &w.pool,
        w.centre.id,
        ADMIN,
        "Ada Admin",
        &[Role::Admin],
        &hash,
    )
    .await;
    let state = AppState::new(w.pool.clone());
    let admin = signed_in(state.clone(), ADMIN, PASSWORD).await;
    let item = add_evidence(&w, "Site log").await;
    let criterion = criteria(&w.pool, w.version.version_id).await[0];
    crate::ticking::tick(&w.pool, item, criterion, Layer::Assessor, w.assessor.id)
        .await
        .expect("tick");
    Centre {
        w,
        state,
        ada,
        admin,
        item,
    }
}

impl Centre {
    async fn page(&self, person: Uuid) -> Reply {
        send(
            self.state.clone(),
            get(&format!("/admin/people/{person}"), Some(&self.admin)),
        )
        .await
    }

    async fn post(&self, uri: &str, form: &str) -> Reply {
        send(self.state.clone(), form_post_as(&self.admin, uri, form)).await
    }

    async fn act(&self, person: Uuid, action: &str) -> Reply {
        self.post(&format!("/admin/people/{person}/{action}"), "")
            .await
    }

    async fn log(&self) -> Vec<ActivityEntry> {
        activity::for_centre(&self.w.pool, self.w.centre.id, None, 100)
            .await
            .expect("log")
    }

    /// The centre's entries with this action, newest first.
    async fn logged(&self, action: &str) -> Vec<ActivityEntry> {
        self.log()
            .await
            .into_iter()
            .filter(|e| e.action == action)
            .collect()
    }
}

/// Everything an edit or a refused action could change: people, roles, the log.
async fn people_and_log(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|', \
           (SELECT string_agg(u::text, ',' ORDER BY u.id) FROM users u), \
           (SELECT string_agg(r.user_id::text || r.role, ',' ORDER BY r.user_id, r.role) FROM user_roles r), \
           (SELECT count(*)::text FROM activity_log), \
           (SELECT string_agg(t.used_at::text, ',' ORDER BY t.token_hash) FROM password_tokens t))",
    )
    .fetch_one(pool)
    .await
    .expect("fingerprint")
}

async fn stands(state: &AppState, cookie: &str) -> bool {
    let r = send(state.clone(), get("/", Some(cookie))).await;
    match r.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => false,
        other => panic!("home answered {other}: {}", r.body),
    }
}

async fn sign_in(state: &AppState, email: &str, password: &str) -> Reply {
    let body = format!("email={}&password={}", enc(email), enc(password));
    send(state.clone(), form_post("/login", &body, "192.0.2.44")).await
}

#[tokio::test]
async fn the_page_shows_the_account_and_offers_the_actions_it_allows() {
    let c = centre().await;
    let ann = c.w.assessor.id;
    let page = c.page(ann).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for shown in [
        "<h1>ann@acme.test</h1>",
        "Staff",
        "Assessor",
        "Active",
        "Last signed in</dt><dd>Not known",
        "No failed sign-ins",
        "None sent",
        "Enrolments name this person as Assessor",
        &format!(r#"action="/admin/people/{ann}/end-sessions""#),
        &format!(r#"action="/admin/people/{ann}/deactivate""#),
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(
        !page.body.contains("/unlock") && !page.body.contains("/password-link"),
        "nothing to clear, and she has a password"
    );

    // She signs in once, and someone guesses wrong once.
    signed_in(c.state.clone(), "ann@acme.test", PASSWORD).await;
    let wrong = sign_in(&c.state, "ann@acme.test", "not her password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let page = c.page(ann).await;
    assert!(
        !page.body.contains("Last signed in</dt><dd>Not known"),
        "her sign-in is known now"
    );
    assert!(page.body.contains("Failed sign-ins counted, the last at"));
    let unlock = format!("/admin/people/{ann}/unlock?back=person");
    assert!(
        page.body.contains(&unlock),
        "a failed sign-in can be cleared"
    );
    let r = c.post(&unlock, "").await;
    assert_eq!(
        r.location.as_deref(),
        Some(&*format!("/admin/people/{ann}?done=unlocked"))
    );
    let page = send(
        c.state.clone(),
        get(r.location.as_deref().expect("back"), Some(&c.admin)),
    )
    .await;
    assert!(page.body.contains("No failed sign-ins"));
    assert!(page.body.contains("Failed sign-ins cleared"));

    // Someone added without a password yet: the link's email, and a new link offered.
    let added = c
        .post(
            "/admin/people",
            "display_name=Nia+New&email=nia%40acme.test&kind=staff&role=iqa",
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let nia = users::find_by_email(&c.w.pool, c.w.centre.id, "nia@acme.test")
        .await
        .expect("query")
        .expect("added");
    let page = c.page(nia.id).await;
    assert!(page
        .body
        .contains("waiting for the person to set a password"));
    assert!(page.body.contains("Never: no password set yet"));
    assert!(page.body.contains("To nia@acme.test, queued"));
    assert!(page.body.contains("Queued; it will be sent in a moment"));
    assert!(page.body.contains(&format!(
        r#"action="/admin/people/{}/password-link""#,
        nia.id
    )));
}

#[tokio::test]
async fn a_person_of_another_centre_or_a_page_for_non_admins_is_not_there() {
    let c = centre().await;
    let other = centres::create(&c.w.pool, "bravo", "Bravo College")
        .await
        .expect("centre");
    let hash = password::hash(PASSWORD).expect("hash");
    let bea = person(
        &c.w.pool,
        other.id,
        "bea@bravo.test",
        "Bea",
        &[Role::Admin],
        &hash,
    )
    .await;
    let ann = signed_in(c.state.clone(), "ann@acme.test", PASSWORD).await;
    let before = people_and_log(&c.w.pool).await;
    let r = c.page(bea).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for action in ["deactivate", "reactivate", "end-sessions"] {
        assert_eq!(c.act(bea, action).await.status, StatusCode::NOT_FOUND);
    }
    let r = c
        .post(
            &format!("/admin/people/{bea}"),
            "display_name=Renamed&email=bea%40bravo.test&role=admin",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Ann, an assessor, has no such page even for herself.
    let r = send(
        c.state.clone(),
        get(&format!("/admin/people/{}", c.w.assessor.id), Some(&ann)),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(people_and_log(&c.w.pool).await, before, "nothing changed");
}

#[tokio::test]
async fn an_edit_changes_name_email_and_roles_at_once_everywhere_and_is_logged() {
    let c = centre().await;
    let ann = c.w.assessor.id;
    let evidence = format!("/enrolments/{}/evidence/{}", c.w.enrolment.id, c.item);
    // The evidence page names who ticked; it is kept once drawn.
    let before = send(c.state.clone(), get(&evidence, Some(&c.admin))).await;
    assert!(before.body.contains("ann@acme.test"));
    // A set-password link she has not used went to her old address.
    let token = password_tokens::create(&c.w.pool, ann)
        .await
        .expect("token");

    let r = c
        .post(
            &format!("/admin/people/{ann}"),
            "display_name=Ann+Ng%C3%B4&email=ann.ngo%40acme.test&role=assessor&role=iqa",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(&*format!("/admin/people/{ann}?done=saved"))
    );
    let now = users::get(&c.w.pool, ann).await.expect("ann");
    assert_eq!(
        (now.display_name.as_str(), now.email.as_str()),
        ("Ann Ngô", "ann.ngo@acme.test")
    );
    assert_eq!(now.roles, vec![Role::Assessor, Role::Iqa]);
    let entry = &c.logged("person changed").await[0];
    assert_eq!(entry.actor_id, Some(c.ada));
    assert_eq!(entry.detail["user"], serde_json::json!(ann));
    assert_eq!(
        entry.detail["changes"]["name"],
        serde_json::json!({ "from": "ann@acme.test", "to": "Ann Ngô" })
    );
    assert_eq!(
        entry.detail["changes"]["roles"]["to"],
        serde_json::json!(["assessor", "iqa"])
    );
    assert_eq!(entry.detail["links_revoked"], 1);
    let link = send(
        c.state.clone(),
        get(&format!("/set-password/{token}"), None),
    )
    .await;
    assert_eq!(
        link.status,
        StatusCode::NOT_FOUND,
        "the old address's link is dead"
    );

    // The kept page shows the new name at once; she signs in with the new address.
    let after = send(c.state.clone(), get(&evidence, Some(&c.admin))).await;
    assert!(after.body.contains("Ann Ngô"), "{}", after.body);
    assert!(!after.body.contains("ann@acme.test"));
    signed_in(c.state.clone(), "ann.ngo@acme.test", PASSWORD).await;

    // A learner renamed is found by the new name in the centre's report.
    let lee = c.w.learner.id;
    let r = c
        .post(
            &format!("/admin/people/{lee}"),
            "display_name=Lee+Quintero&email=lee%40acme.test",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let report = send(
        c.state.clone(),
        get("/admin/enrolments?q=quintero", Some(&c.admin)),
    )
    .await;
    assert!(report.body.contains("Lee Quintero"), "{}", report.body);

    // The same values again change nothing and log nothing.
    let entries = c.log().await.len();
    let r = c
        .post(
            &format!("/admin/people/{lee}"),
            "display_name=Lee+Quintero&email=lee%40acme.test",
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some(&*format!("/admin/people/{lee}?done=unchanged"))
    );
    assert_eq!(c.log().await.len(), entries);
}

#[tokio::test]
async fn refused_edits_say_why_beside_the_field_keep_the_input_and_change_nothing() {
    let c = centre().await;
    let (ann, lee, ivy) = (c.w.assessor.id, c.w.learner.id, c.w.iqa.id);
    let before = people_and_log(&c.w.pool).await;
    let cases: [(Uuid, &str, &str, &str, &str); 6] = [
        (
            ivy,
            "display_name=Ivy+Typed&email=ivy%40acme.test&role=iqa&role=learner",
            "roles",
            "A member of staff&#39;s account cannot hold the learner role",
            r#"value="Ivy Typed""#,
        ),
        (
            lee,
            "display_name=Lee+Typed&email=lee%40acme.test&role=assessor",
            "roles",
            "A learner&#39;s account holds the learner role only",
            r#"value="Lee Typed""#,
        ),
        (
            ivy,
            "display_name=Ivy+Typed&email=ADA%40acme.test&role=iqa",
            "email",
            "Someone at this centre already has this email address",
            r#"value="ADA@acme.test""#,
        ),
        (
            c.ada,
            "display_name=Ada+Typed&email=ada%40acme.test&role=iqa",
            "roles",
            "You cannot remove your own admin role: another admin must, so that your centre always keeps an admin who can sign in",
            r#"value="iqa" checked"#,
        ),
        (
            ann,
            "display_name=Ann+Typed&email=ann%40acme.test&role=iqa",
            "roles",
            "This person is the assessor of enrolments: reassign them before removing the assessor role",
            r#"value="Ann Typed""#,
        ),
        (
            ivy,
            "display_name=&email=not-an-email&role=iqa",
            "display_name",
            "Enter the person&#39;s full name",
            r#"value="not-an-email""#,
        ),
    ];
    for (who, form, field, message, kept) in cases {
        let r = c.post(&format!("/admin/people/{who}"), form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{form}: {}",
            r.body
        );
        assert!(
            r.body.contains(&format!(r#"id="{field}-error""#)),
            "{form}: the message is beside {field}"
        );
        assert!(r.body.contains(message), "{form}: {message}: {}", r.body);
        assert!(
            r.body.contains(&format!(r##"href="#{field}""##)),
            "summary links"
        );
        assert!(r.body.contains(kept), "{form}: what was typed is kept");
        assert_eq!(
            people_and_log(&c.w.pool).await,
            before,
            "{form}: nothing changed"
        );
    }
}

#[tokio::test]
async fn a_deactivated_assessor_is_signed_out_on_every_server_and_told_plainly_only_after_the_right_password(
) {
    let c = centre().await;
    let ann = c.w.assessor.id;
    // Ann works on another server: a second app over the same database.
    let elsewhere = AppState::new(c.w.pool.clone());
    let cookie = signed_in(elsewhere.clone(), "ann@acme.test", PASSWORD).await;
    assert!(stands(&elsewhere, &cookie).await);
    let token = password_tokens::create(&c.w.pool, ann)
        .await
        .expect("token");
    let ticks_before: i64 = sqlx::query_scalar("SELECT count(*) FROM ticks WHERE ticked_by = $1")
        .bind(ann)
        .fetch_one(&c.w.pool)
        .await
        .expect("ticks");
    assert_eq!(ticks_before, 1);

    let r = c.act(ann, "deactivate").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(&*format!("/admin/people/{ann}?done=deactivated"))
    );

    // Her next request, on her server, signs her out.
    let next = send(
        elsewhere.clone(),
        get(&format!("/enrolments/{}", c.w.enrolment.id), Some(&cookie)),
    )
    .await;
    assert_eq!(next.status, StatusCode::SEE_OTHER);
    assert!(next
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with("/login")));
    // The right password is told why; a wrong one is told nothing more than ever.
    let right = sign_in(&elsewhere, "ann@acme.test", PASSWORD).await;
    assert_eq!(right.status, StatusCode::FORBIDDEN, "{}", right.body);
    assert!(right.body.contains(DEACTIVATED), "{}", right.body);
    assert!(right.cookie.is_none(), "no session begins");
    let wrong = sign_in(&elsewhere, "ann@acme.test", "a guess at her password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains(WRONG_DETAILS));
    assert!(!wrong.body.contains("deactivated"));
    // Her unused set-password link went with her.
    let link = send(
        c.state.clone(),
        get(&format!("/set-password/{token}"), None),
    )
    .await;
    assert_eq!(link.status, StatusCode::NOT_FOUND);

    // Recorded: who, when; the page says so.
    let now = users::get(&c.w.pool, ann).await.expect("ann");
    assert!(!now.active);
    let entry = &c.logged("person deactivated").await[0];
    assert_eq!(entry.actor_id, Some(c.ada));
    assert_eq!(entry.detail["user"], serde_json::json!(ann));
    assert_eq!(entry.detail["links_revoked"], 1);
    let page = c.page(ann).await;
    assert!(page.body.contains("Deactivated on ") && page.body.contains(" by Ada Admin"));
    assert!(page
        .body
        .contains(&format!(r#"action="/admin/people/{ann}/reactivate""#)));
    assert!(!page.body.contains("/deactivate\""));

    // Everything she did stays, with her name on it.
    let evidence = format!("/enrolments/{}/evidence/{}", c.w.enrolment.id, c.item);
    let r = send(c.state.clone(), get(&evidence, Some(&c.admin))).await;
    assert!(r.body.contains("ann@acme.test"), "her tick names her");
    let ticks_after: i64 = sqlx::query_scalar("SELECT count(*) FROM ticks WHERE ticked_by = $1")
        .bind(ann)
        .fetch_one(&c.w.pool)
        .await
        .expect("ticks");
    assert_eq!(ticks_after, 1);
    let log = send(
        c.state.clone(),
        get(
            &format!("/enrolments/{}/activity", c.w.enrolment.id),
            Some(&c.admin),
        ),
    )
    .await;
    assert!(
        log.body.contains("ann@acme.test"),
        "her log entries name her"
    );
    // She is not offered to new enrolments.
    let enrol = send(
        c.state.clone(),
        get("/admin/enrolments/new", Some(&c.admin)),
    )
    .await;
    assert_eq!(enrol.status, StatusCode::OK);
    assert!(
        !enrol.body.contains(&ann.to_string()),
        "not offered: {}",
        enrol.body
    );
    assert!(
        enrol.body.contains(&c.w.iqa.id.to_string()),
        "active staff are"
    );
}

#[tokio::test]
async fn a_deactivation_stops_the_set_password_email_still_waiting() {
    let c = centre().await;
    let added = c
        .post(
            "/admin/people",
            "display_name=Nia+New&email=nia%40acme.test&kind=staff&role=iqa",
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let link = crate::people::link_in(&added.body);
    let nia = users::find_by_email(&c.w.pool, c.w.centre.id, "nia@acme.test")
        .await
        .expect("query")
        .expect("added");
    assert_eq!(
        c.act(nia.id, "deactivate").await.status,
        StatusCode::SEE_OTHER
    );
    let page = c.page(nia.id).await;
    assert!(
        page.body.contains("Not sent: the link was revoked"),
        "{}",
        page.body
    );
    let queued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs j JOIN mail_outbox m ON m.job_id = j.id \
         WHERE m.user_id = $1 AND j.state = 'queued'",
    )
    .bind(nia.id)
    .fetch_one(&c.w.pool)
    .await
    .expect("jobs");
    assert_eq!(queued, 0, "no email will carry a dead link");
    let r = send(c.state.clone(), get(&link, None)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn moves_that_make_no_sense_answer_409_with_the_reason_and_change_nothing() {
    let c = centre().await;
    let ann = c.w.assessor.id;
    let before = people_and_log(&c.w.pool).await;
    let r = c.act(ann, "reactivate").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r
        .body
        .contains("This account is active: there is nothing to reactivate"));
    // The refusal's page leads back to the person the action was on.
    assert!(
        r.body.contains(&format!(
            r#"href="/admin/people/{ann}">Back to {}"#,
            "the person"
        )),
        "{}",
        r.body
    );
    let r = c.act(c.ada, "deactivate").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains(
        "You cannot deactivate your own account: another admin of your centre must, so that the centre always keeps an admin who can sign in"
    ));
    assert_eq!(people_and_log(&c.w.pool).await, before);
    assert!(stands(&c.state, &c.admin).await, "still signed in");

    assert_eq!(c.act(ann, "deactivate").await.status, StatusCode::SEE_OTHER);
    let before = people_and_log(&c.w.pool).await;
    let r = c.act(ann, "deactivate").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("This account is already deactivated"));
    let r = c.act(ann, "end-sessions").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r
        .body
        .contains("This account is deactivated, so it has no sessions to end"));
    assert_eq!(people_and_log(&c.w.pool).await, before);
}

#[tokio::test]
async fn a_reactivated_person_signs_in_again_with_their_password() {
    let c = centre().await;
    let ann = c.w.assessor.id;
    assert_eq!(c.act(ann, "deactivate").await.status, StatusCode::SEE_OTHER);
    let r = c.act(ann, "reactivate").await;
    assert_eq!(
        r.location.as_deref(),
        Some(&*format!("/admin/people/{ann}?done=reactivated"))
    );
    let cookie = signed_in(c.state.clone(), "ann@acme.test", PASSWORD).await;
    assert!(stands(&c.state, &cookie).await);
    let entry = &c.logged("person reactivated").await[0];
    assert_eq!(
        (entry.actor_id, &entry.detail["user"]),
        (Some(c.ada), &serde_json::json!(ann))
    );
    let page = c.page(ann).await;
    assert!(
        page.body.contains("Account</dt><dd>Active"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn ending_a_persons_sessions_signs_them_out_everywhere_and_an_admin_keeps_this_browser() {
    let c = centre().await;
    let ann = c.w.assessor.id;
    let elsewhere = AppState::new(c.w.pool.clone());
    let phone = signed_in(c.state.clone(), "ann@acme.test", PASSWORD).await;
    let laptop = signed_in(elsewhere.clone(), "ann@acme.test", PASSWORD).await;

    let r = c.act(ann, "end-sessions").await;
    assert_eq!(
        r.location.as_deref(),
        Some(&*format!("/admin/people/{ann}?done=sessions-ended"))
    );
    assert!(!stands(&c.state, &phone).await && !stands(&elsewhere, &laptop).await);
    let entry = &c.logged("sessions ended").await[0];
    assert_eq!(
        (entry.actor_id, &entry.detail["user"]),
        (Some(c.ada), &serde_json::json!(ann))
    );
    let again = signed_in(elsewhere.clone(), "ann@acme.test", PASSWORD).await;
    assert!(stands(&elsewhere, &again).await, "she may sign in again");

    // Ada ends her own: her other browser is signed out, this one stays.
    let other = signed_in(elsewhere.clone(), ADMIN, PASSWORD).await;
    let r = c.act(c.ada, "end-sessions").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let this = crate::http::session_cookie(&r);
    assert!(stands(&c.state, &this).await, "this browser stays");
    assert!(!stands(&elsewhere, &other).await, "the other is out");
    assert!(!stands(&c.state, &c.admin).await, "the old id was cycled");
}

#[tokio::test]
async fn two_admins_deactivating_each_other_at_once_leave_the_centre_an_active_admin() {
    let c = centre().await;
    let hash = password::hash(PASSWORD).expect("hash");
    let bo = person(
        &c.w.pool,
        c.w.centre.id,
        "bo@acme.test",
        "Bo Admin",
        &[Role::Admin],
        &hash,
    )
    .await;
    let bo_cookie = signed_in(c.state.clone(), "bo@acme.test", PASSWORD).await;
    let (a, b) = tokio::join!(
        send(
            c.state.clone(),
            form_post_as(&c.admin, &format!("/admin/people/{bo}/deactivate"), "")
        ),
        send(
            AppState::new(c.w.pool.clone()),
            form_post_as(
                &bo_cookie,
                &format!("/admin/people/{}/deactivate", c.ada),
                ""
            )
        ),
    );
    // One acts; the other, no longer an admin by the time it may act (or already
    // signed out), does not.
    let done = |r: &Reply| {
        r.status == StatusCode::SEE_OTHER
            && r.location
                .as_deref()
                .is_some_and(|l| l.starts_with("/admin/people/"))
    };
    let refused = |r: &Reply| {
        r.status == StatusCode::NOT_FOUND
            || r.location
                .as_deref()
                .is_some_and(|l| l.starts_with("/login"))
    };
    assert!(
        (done(&a) && refused(&b)) || (done(&b) && refused(&a)),
        "{:?} {:?}",
        (a.status, &a.location),
        (b.status, &b.location)
    );
    let active_admins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE u.centre_id = $1 AND u.active AND r.role = 'admin'",
    )
    .bind(c.w.centre.id)
    .fetch_one(&c.w.pool)
    .await
    .expect("admins");
    assert_eq!(active_admins, 1);
    assert_eq!(c.logged("person deactivated").await.len(), 1);
}

/// The people list's kept counts (migration 0038) as a recount from scratch makes them.
async fn people_counts_hold(pool: &PgPool, centre: Uuid, after: &str) {
    let kept: Vec<(String, bool, i64)> = sqlx::query_as(
        "SELECT role, active, people FROM centre_people_counts \
          WHERE centre_id = $1 AND people > 0 ORDER BY role, active",
    )
    .bind(centre)
    .fetch_all(pool)
    .await
    .expect("kept");
    let recounted: Vec<(String, bool, i64)> = sqlx::query_as(
        "SELECT '' AS role, u.active, count(*) FROM users u WHERE u.centre_id = $1 GROUP BY u.active \
         UNION ALL \
         SELECT r.role, u.active, count(*) FROM user_roles r JOIN users u ON u.id = r.user_id \
          WHERE u.centre_id = $1 GROUP BY r.role, u.active \
         ORDER BY 1, 2",
    )
    .bind(centre)
    .fetch_all(pool)
    .await
    .expect("recounted");
    assert_eq!(kept, recounted, "after {after}");
}

/// Each write that moves the people list's total moves the kept counts with it: an
/// account added, roles changed, deactivated, reactivated, a learner erased; and the
/// list's totals are those counts.
#[tokio::test]
async fn the_people_counts_follow_every_change_to_accounts_and_roles() {
    let c = centre().await;
    let (pool, centre_id) = (&c.w.pool, c.w.centre.id);
    people_counts_hold(pool, centre_id, "the fixture").await;
    let ann = c.w.assessor.id;
    let r = c
        .post(
            &format!("/admin/people/{ann}"),
            "display_name=Ann&email=ann%40acme.test&role=assessor&role=iqa",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    people_counts_hold(pool, centre_id, "a role granted").await;
    let r = c
        .post(
            &format!("/admin/people/{ann}"),
            "display_name=Ann&email=ann%40acme.test&role=assessor",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    people_counts_hold(pool, centre_id, "a role taken away").await;
    assert_eq!(c.act(ann, "deactivate").await.status, StatusCode::SEE_OTHER);
    people_counts_hold(pool, centre_id, "deactivating").await;
    let assessors_deactivated: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id \
          WHERE u.centre_id = $1 AND r.role = 'assessor' AND NOT u.active",
    )
    .bind(centre_id)
    .fetch_one(pool)
    .await
    .expect("count");
    assert_eq!(assessors_deactivated, 1);
    let listed = send(
        c.state.clone(),
        get(
            "/admin/people?role=assessor&status=deactivated",
            Some(&c.admin),
        ),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(
        listed.body.contains("of <strong>1</strong> person<"),
        "the list's total is the kept count"
    );
    assert_eq!(c.act(ann, "reactivate").await.status, StatusCode::SEE_OTHER);
    people_counts_hold(pool, centre_id, "reactivating").await;
    let lee = c.w.learner.id;
    let r = c.post(&format!("/admin/people/{lee}/erase"), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    people_counts_hold(pool, centre_id, "erasing a learner").await;
    let r = c
        .post(
            "/admin/people",
            "kind=learner&display_name=Nia+New&email=nia%40acme.test",
        )
        .await;
    assert!(r.body.contains("Nia New added"), "{}", r.body);
    people_counts_hold(pool, centre_id, "a learner added").await;
}

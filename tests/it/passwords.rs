//! The account holder's side of passwords (issue 12): "Forgot your password?" emails a
//! one-time link through the job queue with the same answer whoever the email is, and
//! is rate-limited; a signed-in person changes their password with their current one,
//! which ends their other sessions; a common password is refused on every form.
//!
//! Mail is read from the .eml files the worker writes (lettre's file transport), and
//! every wait is for a state (the queue, the files), never for time.
use std::path::{Path, PathBuf};

use attest::db::{activity, centres, password_tokens};
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::person;
use crate::http::{enc, form_post, form_post_as, get, send, session_cookie, signed_in, Reply};
use crate::mail::eml_files;
use crate::mail_queue::{app, wait_until, Mail, PUBLIC, QUICK};

const PASSWORD: &str = "a long enough password";
const NEW_PASSWORD: &str = "rain on the estuary at dusk";
const LEE: &str = "lee@ngc.test";
const SENT: &str = "/forgot-password/sent";
const COMMON: &str =
    "This password is on a list of common passwords that attackers try first; choose another";

/// A centre and a learner of it with `PASSWORD`.
async fn centre_and_learner(pool: &PgPool, slug: &str, name: &str, email: &str) -> (Uuid, Uuid) {
    let centre = centres::create(pool, slug, name).await.expect("centre");
    let hash = password::hash(PASSWORD).expect("hash");
    let id = person(
        pool,
        centre.id,
        email,
        "Lee Quill",
        &[attest::db::users::Role::Learner],
        &hash,
    )
    .await;
    (centre.id, id)
}

fn forgot_form(email: &str) -> String {
    format!("email={}", enc(email))
}

async fn ask_for_link(state: &AppState, email: &str, from: &str) -> Reply {
    send(
        state.clone(),
        form_post("/forgot-password", &forgot_form(email), from),
    )
    .await
}

async fn reset_jobs(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs WHERE kind = 'password reset'")
        .fetch_one(pool)
        .await
        .expect("jobs")
}

/// Waits until the worker has done every job there is.
async fn queue_drained(pool: &PgPool) {
    wait_until("the job queue to drain", || async {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(pool)
                .await
                .expect("jobs");
        (left == 0).then_some(())
    })
    .await;
}

/// The reset messages queued for each account, by account.
async fn reset_messages(pool: &PgPool) -> Vec<(Uuid, String)> {
    sqlx::query_as(
        "SELECT user_id, to_address FROM mail_outbox WHERE kind = 'password_reset' \
         ORDER BY user_id",
    )
    .fetch_all(pool)
    .await
    .expect("outbox")
}

fn fresh_dir() -> PathBuf {
    attest::testing::test_dir().join(format!("mail-{}", Uuid::new_v4().simple()))
}

/// Waits for `n` .eml files in `dir`; answers them parsed: (to, subject, link).
async fn emails(dir: &Path, n: usize) -> Vec<(String, String, String)> {
    let raw = wait_until(&format!("{n} emails"), || async {
        let files = eml_files(dir);
        (files.len() >= n).then_some(files)
    })
    .await;
    raw.iter()
        .map(|bytes| {
            let parsed = mail_parser::MessageParser::default()
                .parse(bytes)
                .expect("parses");
            let to = parsed
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .expect("recipient")
                .to_string();
            let subject = parsed.subject().expect("subject").to_string();
            let text = parsed.body_text(0).expect("text").into_owned();
            let link = text
                .split_whitespace()
                .find(|w| w.contains("/set-password/"))
                .expect("a link in the email")
                .to_string();
            (to, subject, link)
        })
        .collect()
}

async fn stands(state: &AppState, cookie: &str) -> bool {
    let r = send(state.clone(), get("/", Some(cookie))).await;
    match r.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => false,
        other => panic!("home answered {other}: {}", r.body),
    }
}

async fn password_hash(pool: &PgPool, user: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .expect("user")
}

async fn generation(pool: &PgPool, user: Uuid) -> i32 {
    sqlx::query_scalar("SELECT session_generation FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .expect("user")
}

async fn actions(pool: &PgPool, centre: Uuid) -> Vec<activity::ActivityEntry> {
    activity::for_centre(pool, centre, None, 100)
        .await
        .expect("log")
}

fn sign_in_form(email: &str, password: &str) -> String {
    format!("email={}&password={}", enc(email), enc(password))
}

#[tokio::test]
async fn forgot_password_answers_alike_whoever_the_email_is_and_emails_each_active_account() {
    let pool = test_pool().await;
    let (ngc, lee) = centre_and_learner(&pool, "ngc", "Northgate College", LEE).await;
    // The same address has an account at a second centre, and someone has left.
    let (acme, lee_at_acme) = centre_and_learner(&pool, "acme", "Acme Training", LEE).await;
    let hash = password::hash(PASSWORD).expect("hash");
    let gone = person(
        &pool,
        ngc,
        "gone@ngc.test",
        "Gwen Gone",
        &[attest::db::users::Role::Learner],
        &hash,
    )
    .await;
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(gone)
        .execute(&pool)
        .await
        .expect("deactivated");
    let dir = fresh_dir();
    let app = app(&pool, Mail::Files(dir.clone()), QUICK).await;

    let mut answers = Vec::new();
    for (email, from) in [
        (LEE, "192.0.2.31"),
        ("nobody@ngc.test", "192.0.2.32"),
        ("gone@ngc.test", "192.0.2.33"),
    ] {
        let r = ask_for_link(&app.state, email, from).await;
        answers.push((r.status, r.location, r.body));
    }
    assert_eq!(answers[0].0, StatusCode::SEE_OTHER);
    assert_eq!(answers[0].1.as_deref(), Some(SENT));
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "the same answer for a known, an unknown and a deactivated email: {answers:?}"
    );
    let page = send(app.state.clone(), get(SENT, None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(
            "If an account uses that address, we have emailed it a link to choose a new password."
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains("The link works once, for 1 hour."));

    // Each request queued one job; the worker found the accounts and queued the mail.
    assert_eq!(reset_jobs(&pool).await, 3);
    queue_drained(&pool).await;
    let mut expected = vec![(lee, LEE.to_string()), (lee_at_acme, LEE.to_string())];
    expected.sort();
    assert_eq!(
        reset_messages(&pool).await,
        expected,
        "one email for each active account with the address, none for the deactivated one"
    );
    let mut sent = emails(&dir, 2).await;
    sent.sort();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(
        sent.iter()
            .map(|(to, subject, _)| (to.as_str(), subject.as_str()))
            .collect::<Vec<_>>(),
        [
            (LEE, "Choose a new password for Acme Training"),
            (LEE, "Choose a new password for Northgate College"),
        ]
    );
    for (_, _, link) in &sent {
        assert!(
            link.starts_with(&format!("{PUBLIC}/set-password/")),
            "built on the public address: {link}"
        );
    }

    // Each centre's log says a reset was asked for, and from where; nothing for Gwen.
    let ngc_log = actions(&pool, ngc).await;
    let asked: Vec<_> = ngc_log
        .iter()
        .filter(|e| e.action == "password reset requested")
        .collect();
    assert_eq!(asked.len(), 1, "{ngc_log:?}");
    assert_eq!(asked[0].detail["user"], lee.to_string());
    assert_eq!(asked[0].detail["from"], "192.0.2.31");
    assert!(!ngc_log
        .iter()
        .any(|e| e.detail.to_string().contains(&gone.to_string())));
    assert!(actions(&pool, acme)
        .await
        .iter()
        .any(|e| e.action == "password reset requested"));
    // The queue keeps nothing of what was typed, the outbox no link.
    let payloads: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'password reset'")
            .fetch_all(&pool)
            .await
            .expect("jobs");
    assert!(
        payloads.iter().all(|p| *p == serde_json::json!({})),
        "{payloads:?}"
    );
    wait_until("the sent links forgotten", || async {
        let kept: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM mail_outbox WHERE kind = 'password_reset' AND link IS NOT NULL",
        )
        .fetch_one(&pool)
        .await
        .expect("outbox");
        (kept == 0).then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn the_emailed_link_works_once_replaces_the_last_one_and_ends_other_sessions() {
    let pool = test_pool().await;
    let (ngc, lee) = centre_and_learner(&pool, "ngc", "Northgate College", LEE).await;
    let dir = fresh_dir();
    let app = app(&pool, Mail::Files(dir.clone()), QUICK).await;
    let elsewhere = signed_in(app.state.clone(), LEE, PASSWORD).await;

    ask_for_link(&app.state, LEE, "192.0.2.40").await;
    let first = emails(&dir, 1).await.remove(0).2;
    // Asked again: a new link, and the first one stops working.
    ask_for_link(&app.state, LEE, "192.0.2.40").await;
    let second = emails(&dir, 2)
        .await
        .into_iter()
        .map(|(_, _, link)| link)
        .find(|link| *link != first)
        .expect("a second link");
    let (first, second) = (
        first.trim_start_matches(PUBLIC).to_string(),
        second.trim_start_matches(PUBLIC).to_string(),
    );
    let r = send(app.state.clone(), get(&first, None)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "the replaced link");

    let page = send(app.state.clone(), get(&second, None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<h1>Choose a new password</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Hello, Lee Quill."));
    let form = format!(
        "password={}&confirm={}",
        enc(NEW_PASSWORD),
        enc(NEW_PASSWORD)
    );
    let set = send(app.state.clone(), form_post(&second, &form, "192.0.2.40")).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let here = session_cookie(&set);
    assert!(
        stands(&app.state, &here).await,
        "the reset signs this browser in"
    );
    assert!(
        !stands(&app.state, &elsewhere).await,
        "a session from before the reset has ended"
    );

    // Once only.
    let again = send(app.state.clone(), form_post(&second, &form, "192.0.2.40")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let old = send(
        app.state.clone(),
        form_post("/login", &sign_in_form(LEE, PASSWORD), "192.0.2.41"),
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "the old password");
    signed_in(app.state.clone(), LEE, NEW_PASSWORD).await;
    let log = actions(&pool, ngc).await;
    let reset = log
        .iter()
        .find(|e| e.action == "password reset")
        .expect("the reset is logged");
    assert_eq!(reset.actor_id, Some(lee));
    app.stop().await;
}

#[tokio::test]
async fn asking_too_often_gets_the_same_answer_and_queues_nothing_more() {
    let pool = test_pool().await;
    centre_and_learner(&pool, "ngc", "Northgate College", LEE).await;
    // No worker: what the requests queue is what is counted.
    let state = AppState::from(attest::web::Services {
        public_url: PUBLIC.into(),
        ..attest::web::Services::new(pool.clone())
    });
    for _ in 0..3 {
        let r = ask_for_link(&state, LEE, "192.0.2.50").await;
        assert_eq!(r.location.as_deref(), Some(SENT));
    }
    assert_eq!(reset_jobs(&pool).await, 3);
    // A fourth for the same email, even from elsewhere: the same answer, no job.
    let limited = ask_for_link(&state, LEE, "192.0.2.51").await;
    assert_eq!(
        (
            limited.status,
            limited.location.as_deref(),
            limited.body.as_str()
        ),
        (StatusCode::SEE_OTHER, Some(SENT), "")
    );
    assert_eq!(reset_jobs(&pool).await, 3, "no more mail queued for Lee");

    // One address asking for fifty addresses, then one more.
    for i in 0..50 {
        let r = ask_for_link(&state, &format!("person{i}@elsewhere.test"), "192.0.2.52").await;
        assert_eq!(r.location.as_deref(), Some(SENT));
    }
    assert_eq!(reset_jobs(&pool).await, 53);
    let limited = ask_for_link(&state, "fresh@ngc.test", "192.0.2.52").await;
    assert_eq!(limited.location.as_deref(), Some(SENT));
    assert_eq!(reset_jobs(&pool).await, 53, "no more from that address");
    assert_eq!(state.hashing.runs(), 0, "nothing is hashed");

    // An hour on, the counters are forgotten and Lee can ask again.
    sqlx::query("UPDATE password_reset_throttles SET window_start = now() - interval '61 minutes'")
        .execute(&pool)
        .await
        .expect("an hour on");
    let forgotten = attest::db::password_reset::forget_stale(&pool)
        .await
        .expect("forget");
    assert_eq!(forgotten, 55, "every counter: 52 emails and 3 addresses");
    ask_for_link(&state, LEE, "192.0.2.50").await;
    assert_eq!(reset_jobs(&pool).await, 54);
}

#[tokio::test]
async fn the_forgot_password_form_refuses_a_malformed_email_keeps_it_and_queues_nothing() {
    let pool = test_pool().await;
    let state = AppState::new(pool.clone());
    let page = send(state.clone(), get("/login", None)).await;
    assert!(page
        .body
        .contains(r#"<a href="/forgot-password">Forgot your password?</a>"#));
    let form = send(state.clone(), get("/forgot-password", None)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<h1>Reset your password</h1>"));

    let r = ask_for_link(&state, " ", "192.0.2.60").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(r#"id="email-error""#) && r.body.contains("Enter your email address"));
    let r = ask_for_link(&state, "lee@ngc", "192.0.2.60").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains(r#"value="lee@ngc""#),
        "what was typed is kept"
    );
    assert!(r
        .body
        .contains("Enter an email address in the correct format"));
    let counters: i64 = sqlx::query_scalar("SELECT count(*) FROM password_reset_throttles")
        .fetch_one(&pool)
        .await
        .expect("counters");
    assert_eq!((reset_jobs(&pool).await, counters), (0, 0));
}

fn change_form(current: &str, new: &str, confirm: &str) -> String {
    format!(
        "current={}&password={}&confirm={}",
        enc(current),
        enc(new),
        enc(confirm)
    )
}

async fn change(state: &AppState, cookie: &str, form: &str) -> Reply {
    send(
        state.clone(),
        form_post_as(cookie, "/account/password", form),
    )
    .await
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_beside_the_field_and_changes_nothing() {
    let pool = test_pool().await;
    let (_, lee) = centre_and_learner(&pool, "ngc", "Northgate College", LEE).await;
    let state = AppState::new(pool.clone());
    let here = signed_in(state.clone(), LEE, PASSWORD).await;
    let elsewhere = signed_in(state.clone(), LEE, PASSWORD).await;
    let home = send(state.clone(), get("/", Some(&here))).await;
    assert!(home
        .body
        .contains(r#"<a href="/account/password">Change password</a>"#));
    let page = send(state.clone(), get("/account/password", Some(&here))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Change your password</h1>"));
    let (hash, generation_before) = (
        password_hash(&pool, lee).await,
        generation(&pool, lee).await,
    );

    let r = change(
        &state,
        &here,
        &change_form("not my password", NEW_PASSWORD, NEW_PASSWORD),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains(r#"id="current-error""#), "{}", r.body);
    assert!(r.body.contains("Your current password is not right"));
    assert_eq!(
        password_hash(&pool, lee).await,
        hash,
        "the password is unchanged"
    );
    assert_eq!(generation(&pool, lee).await, generation_before);
    assert!(stands(&state, &here).await && stands(&state, &elsewhere).await);
    signed_in(state.clone(), LEE, PASSWORD).await;
}

#[tokio::test]
async fn wrong_current_passwords_are_held_back_as_sign_in_holds_them() {
    let pool = test_pool().await;
    let (_, lee) = centre_and_learner(&pool, "ngc", "Northgate College", LEE).await;
    let state = AppState::new(pool.clone());
    let here = signed_in(state.clone(), LEE, PASSWORD).await;
    let wrong = change_form("a wrong guess", NEW_PASSWORD, NEW_PASSWORD);
    for _ in 0..attest::domain::signin::PAIR_FREE_FAILURES {
        let r = change(&state, &here, &wrong).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let runs = state.hashing.runs();
    // The next, even with the right password, waits and is not checked.
    let right = change_form(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    let r = change(&state, &here, &right).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        r.body
            .contains("There have been too many wrong passwords for this account. Wait 1 minute"),
        "{}",
        r.body
    );
    assert_eq!(state.hashing.runs(), runs, "nothing was hashed");
    assert_eq!(generation(&pool, lee).await, 0, "nothing changed");
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_this_one() {
    let pool = test_pool().await;
    let (ngc, lee) = centre_and_learner(&pool, "ngc", "Northgate College", LEE).await;
    let state = AppState::new(pool.clone());
    let here = signed_in(state.clone(), LEE, PASSWORD).await;
    let elsewhere = signed_in(state.clone(), LEE, PASSWORD).await;
    // A link emailed earlier stops working with the change.
    let token = password_tokens::create(&pool, lee).await.expect("token");

    let r = change(
        &state,
        &here,
        &change_form(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/account/password?changed=1"));
    let still_here = session_cookie(&r);
    let shown = send(
        state.clone(),
        get("/account/password?changed=1", Some(&still_here)),
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(
        shown.body.contains("Your password has been changed."),
        "{}",
        shown.body
    );
    assert!(
        stands(&state, &still_here).await,
        "this browser stays signed in"
    );
    assert!(
        !stands(&state, &elsewhere).await,
        "the other session has ended"
    );
    let r = send(state.clone(), get(&format!("/set-password/{token}"), None)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "the unused link stopped");

    let old = send(
        state.clone(),
        form_post("/login", &sign_in_form(LEE, PASSWORD), "192.0.2.70"),
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    signed_in(state.clone(), LEE, NEW_PASSWORD).await;
    let log = actions(&pool, ngc).await;
    let changed = log
        .iter()
        .find(|e| e.action == "password changed")
        .expect("logged");
    assert_eq!(changed.actor_id, Some(lee));
}

#[tokio::test]
async fn a_common_password_is_refused_on_both_forms_with_the_reason() {
    let pool = test_pool().await;
    let (_, lee) = centre_and_learner(&pool, "ngc", "Northgate College", LEE).await;
    let state = AppState::new(pool.clone());
    let hash = password_hash(&pool, lee).await;

    // The link's form: refused, the link still works, nothing set.
    let token = password_tokens::create(&pool, lee).await.expect("token");
    let uri = format!("/set-password/{token}");
    let common = "QwertyUIOP";
    let form = format!("password={}&confirm={}", enc(common), enc(common));
    let r = send(state.clone(), form_post(&uri, &form, "192.0.2.80")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains(r#"id="password-error""#) && r.body.contains(COMMON),
        "{}",
        r.body
    );
    assert_eq!(
        send(state.clone(), get(&uri, None)).await.status,
        StatusCode::OK
    );

    // Changing one's own: refused before the current password is even checked.
    let here = signed_in(state.clone(), LEE, PASSWORD).await;
    let runs = state.hashing.runs();
    let r = change(
        &state,
        &here,
        &change_form(PASSWORD, "Password123", "Password123"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains(r#"id="password-error""#) && r.body.contains(COMMON),
        "{}",
        r.body
    );
    assert_eq!(state.hashing.runs(), runs);
    assert_eq!(password_hash(&pool, lee).await, hash, "nothing changed");
}

#[tokio::test]
async fn only_a_signed_in_person_has_the_change_password_page() {
    let pool = test_pool().await;
    let state = AppState::new(pool.clone());
    let r = send(state.clone(), get("/account/password", None)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/login?next=/account/password"));
}

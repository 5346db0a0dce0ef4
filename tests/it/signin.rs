//! Sign-in, sessions, sign-out, rate limiting and CSRF (SPEC §8), over HTTP.
use attest::db::users::{self, NewUser, Role, UserKind};
use attest::db::{centres, password_tokens};
use attest::domain::signin::{MAX_ACCOUNT_FAILURES, MAX_ADDRESS_FAILURES, PAIR_FREE_FAILURES};
use attest::testing::test_pool;
use attest::web::auth::password::{self, Hashing};
use attest::web::{AppState, SESSION_COOKIE};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::http::{form_post, get, send, session_cookie, sign_in};

const PASSWORD: &str = "correct horse battery";

async fn learner(pool: &PgPool) -> users::User {
    let centre = centres::create(pool, "ngc", "Northgate College")
        .await
        .expect("centre");
    let hash = password::hash(PASSWORD).expect("hash");
    let new = NewUser {
        centre_id: centre.id,
        email: "zoe@example.ac.nz",
        display_name: "Zoë Ōtaki-Ngata",
        password_hash: Some(&hash),
        kind: UserKind::Learner,
        roles: &[Role::Learner],
        employer_id: None,
    };
    users::create(pool, &new).await.expect("user")
}

#[tokio::test]
async fn the_sign_in_page_has_labelled_fields() {
    let pool = test_pool().await;
    let r = send(AppState::new(pool), get("/login", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .body
        .contains(r#"<label class="label" for="email">Email address</label>"#));
    assert!(r
        .body
        .contains(r#"<label class="label" for="password">Password</label>"#));
    assert_eq!(r.body.matches("<h1").count(), 1);
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let pool = test_pool().await;
    let r = send(AppState::new(pool), get("/?tab=units", None)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/login?next=/%3Ftab%3Dunits"));
}

#[tokio::test]
async fn blank_fields_are_named_next_to_the_field_and_in_the_summary() {
    let pool = test_pool().await;
    let r = send(
        AppState::new(pool.clone()),
        form_post("/login", "email=&password=", "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("There is a problem"));
    assert!(r
        .body
        .contains(r##"<a href="#email">Enter your email address</a>"##));
    assert!(r.body.contains(r#"id="email-error""#));
    assert!(r.body.contains(r#"aria-describedby="password-error""#));
    assert!(r.body.contains("<title>Error: Sign in"));
    assert!(r.cookie.is_none(), "no session for a failed sign-in");
    assert_eq!(
        checked_attempts(&pool).await,
        0,
        "a blank form is not an attempt"
    );
    let counted: i64 = sqlx::query_scalar("SELECT count(*) FROM login_throttles")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(counted, 0, "nor is it counted");
}

#[tokio::test]
async fn a_wrong_password_keeps_the_email_and_says_so_plainly() {
    let pool = test_pool().await;
    learner(&pool).await;
    let r = send(
        AppState::new(pool.clone()),
        sign_in("zoe@example.ac.nz", "wrong"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body.contains(r#"value="zoe@example.ac.nz""#),
        "what the user typed is kept"
    );
    assert!(r
        .body
        .contains("The email address or password is not right"));
    assert!(!r.body.contains("wrong"), "the password is never echoed");
    // An unknown email gets exactly the same answer.
    let unknown = send(AppState::new(pool), sign_in("nobody@example.com", "wrong")).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown
        .body
        .contains("The email address or password is not right"));
}

#[tokio::test]
async fn signing_in_sets_a_safe_cookie_and_the_session_survives_a_restart() {
    let pool = test_pool().await;
    learner(&pool).await;
    let r = send(
        AppState::new(pool.clone()),
        sign_in("ZOE@example.ac.nz", PASSWORD),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/"));
    let set = r.cookie.clone().expect("cookie");
    assert!(set.starts_with(&format!("{SESSION_COOKIE}=")));
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http in development: {set}");
    let cookie = session_cookie(&r);

    // A new router over the same database is a restarted server: the session is in PostgreSQL.
    let home = send(AppState::new(pool.clone()), get("/", Some(&cookie))).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home
        .body
        .contains("Signed in as <strong>Zoë Ōtaki-Ngata</strong>"));
    assert!(
        home.body.contains("You have no enrolments yet."),
        "her own (empty) home page"
    );
}

#[tokio::test]
async fn secure_cookies_when_served_over_https() {
    let pool = test_pool().await;
    learner(&pool).await;
    let state = AppState::from(attest::web::Services {
        secure_cookies: true,
        ..attest::web::Services::new(pool)
    });
    let r = send(state, sign_in("zoe@example.ac.nz", PASSWORD)).await;
    assert!(r.cookie.expect("cookie").contains("Secure"));
}

#[tokio::test]
async fn next_returns_to_the_page_but_never_to_another_site() {
    let pool = test_pool().await;
    learner(&pool).await;
    let body = format!(
        "email=zoe%40example.ac.nz&password={}&next=%2F%3Ftab%3Dunits",
        PASSWORD.replace(' ', "+")
    );
    let r = send(
        AppState::new(pool.clone()),
        form_post("/login", &body, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.location.as_deref(), Some("/?tab=units"));
    let body = format!(
        "email=zoe%40example.ac.nz&password={}&next=%2F%2Fevil.example",
        PASSWORD.replace(' ', "+")
    );
    let r = send(AppState::new(pool), form_post("/login", &body, "192.0.2.1")).await;
    assert_eq!(r.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let pool = test_pool().await;
    learner(&pool).await;
    let r = send(
        AppState::new(pool.clone()),
        sign_in("zoe@example.ac.nz", PASSWORD),
    )
    .await;
    let cookie = session_cookie(&r);
    let mut out = form_post("/logout", "", "192.0.2.1");
    out.headers_mut()
        .insert(header::COOKIE, cookie.parse().expect("header"));
    let r = send(AppState::new(pool.clone()), out).await;
    assert_eq!(r.location.as_deref(), Some("/login"));
    let home = send(AppState::new(pool), get("/", Some(&cookie))).await;
    assert_eq!(
        home.status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer signs in"
    );
}

/// Two servers on one database, each keeping session records in memory: signing out on
/// one ends the session on the other at once, though it still remembers the record.
#[tokio::test]
async fn signing_out_on_one_server_ends_the_session_on_every_server() {
    let pool = test_pool().await;
    learner(&pool).await;
    let (a, b) = (AppState::new(pool.clone()), AppState::new(pool.clone()));
    let r = send(a.clone(), sign_in("zoe@example.ac.nz", PASSWORD)).await;
    let cookie = session_cookie(&r);
    for server in [&a, &b] {
        let home = send(server.clone(), get("/", Some(&cookie))).await;
        assert_eq!(home.status, StatusCode::OK, "signed in on both");
    }
    let mut out = form_post("/logout", "", "192.0.2.1");
    out.headers_mut()
        .insert(header::COOKIE, cookie.parse().expect("header"));
    send(a.clone(), out).await;
    let home = send(b.clone(), get("/", Some(&cookie))).await;
    assert_eq!(
        home.status,
        StatusCode::SEE_OTHER,
        "the other server refuses it"
    );
    assert!(home.location.unwrap_or_default().starts_with("/login"));
}

/// Five wrong passwords from one address: that address waits before trying that
/// account again, even with the right password (tests below show that nobody else waits).
#[tokio::test]
async fn five_failures_from_an_address_make_it_wait_even_for_the_right_password() {
    let pool = test_pool().await;
    learner(&pool).await;
    for _ in 0..PAIR_FREE_FAILURES {
        let r = send(
            AppState::new(pool.clone()),
            sign_in("zoe@example.ac.nz", "guess"),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = send(
        AppState::new(pool.clone()),
        sign_in("zoe@example.ac.nz", PASSWORD),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains(
        "too many failed attempts to sign in to this account from your network. Wait 1 minute"
    ));
    assert!(r.body.contains(r#"value="zoe@example.ac.nz""#));
    assert!(r.cookie.is_none());
}

/// Sets a counter as if `failures` had just failed (a hundred real sign-ins would
/// only take longer to say the same).
async fn counted(pool: &PgPool, scope: &str, email: &str, address: &str, failures: u32) {
    sqlx::query(
        "INSERT INTO login_throttles (scope, email, address, failures, window_start, last_failure_at) \
         VALUES ($1, $2, $3, $4, now(), now()) \
         ON CONFLICT (scope, email, address) DO UPDATE \
           SET failures = $4, window_start = now(), last_failure_at = now()",
    )
    .bind(scope)
    .bind(email)
    .bind(address)
    .bind(failures as i32)
    .execute(pool)
    .await
    .expect("counter");
}

/// Many failures from one address hold back accounts not signed in from there before;
/// people who have signed in there carry on, and other addresses are not affected.
#[tokio::test]
async fn an_address_with_many_failures_holds_back_only_accounts_new_to_it() {
    let pool = test_pool().await;
    let zoe = learner(&pool).await;
    let hash = password::hash(PASSWORD).expect("hash");
    crate::helpers::person(
        &pool,
        zoe.centre_id,
        "ana@example.ac.nz",
        "Ana",
        &[Role::Learner],
        &hash,
    )
    .await;
    let college = "198.51.100.7";
    let r = send(
        AppState::new(pool.clone()),
        sign_in_from("zoe@example.ac.nz", PASSWORD, college),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "Zoë signs in at college");
    counted(&pool, "address", "", college, MAX_ADDRESS_FAILURES).await;

    let r = send(
        AppState::new(pool.clone()),
        sign_in_from("ana@example.ac.nz", PASSWORD, college),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("from your network. Wait 15 minutes"));
    let r = send(
        AppState::new(pool.clone()),
        sign_in_from("zoe@example.ac.nz", PASSWORD, college),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "known at this address");
    let r = send(
        AppState::new(pool.clone()),
        sign_in_from("ana@example.ac.nz", PASSWORD, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "another address");
}

/// Guesses spread over many addresses hold the account back from addresses it has
/// not signed in from; the owner's own carries on.
#[tokio::test]
async fn an_account_with_many_failures_is_held_back_only_where_it_is_new() {
    let pool = test_pool().await;
    learner(&pool).await;
    let r = send(
        AppState::new(pool.clone()),
        sign_in_from("zoe@example.ac.nz", PASSWORD, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    counted(
        &pool,
        "account",
        "zoe@example.ac.nz",
        "",
        MAX_ACCOUNT_FAILURES,
    )
    .await;
    let r = send(
        AppState::new(pool.clone()),
        sign_in_from("zoe@example.ac.nz", PASSWORD, "203.0.113.50"),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r
        .body
        .contains("too many failed attempts to sign in to this account. Wait 15 minutes"));
    let r = send(
        AppState::new(pool.clone()),
        sign_in_from("zoe@example.ac.nz", PASSWORD, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "from home");
}

/// A correct sign-in carrying the given fetch-metadata and origin headers.
fn sign_in_with(fetch_site: Option<&str>, origin: Option<&str>) -> Request<Body> {
    let mut r = sign_in("zoe@example.ac.nz", PASSWORD);
    let headers = r.headers_mut();
    headers.remove("sec-fetch-site");
    headers.insert(header::HOST, "attest.example".parse().expect("header"));
    if let Some(site) = fetch_site {
        headers.insert("sec-fetch-site", site.parse().expect("header"));
    }
    if let Some(origin) = origin {
        headers.insert(header::ORIGIN, origin.parse().expect("header"));
    }
    r
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let pool = test_pool().await;
    learner(&pool).await;
    let status = |r| {
        let pool = pool.clone();
        async move { send(AppState::new(pool), r).await.status }
    };
    assert_eq!(
        status(sign_in_with(Some("cross-site"), None)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(sign_in_with(None, Some("https://evil.example"))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(sign_in_with(None, Some("http://attest.example"))).await,
        StatusCode::SEE_OTHER,
        "same origin passes"
    );
}

/// When the database says the one session there is ends.
async fn session_ends(pool: &PgPool) -> time::OffsetDateTime {
    sqlx::query_scalar("SELECT expiry_date FROM tower_sessions.session")
        .fetch_one(pool)
        .await
        .expect("one session")
}

/// Sessions end after 8 idle hours, not 8 hours after sign-in: a request moves the
/// session's end, and the cookie's, to 8 hours from then. So as not to write on every
/// request, the end moves only once it is a few minutes old.
#[tokio::test]
async fn a_session_in_use_stays_open_and_an_idle_one_ends() {
    let pool = test_pool().await;
    learner(&pool).await;
    let server = AppState::new(pool.clone());
    let r = send(server.clone(), sign_in("zoe@example.ac.nz", PASSWORD)).await;
    let cookie = session_cookie(&r);
    let signed_in_until = session_ends(&pool).await;

    let home = send(server.clone(), get("/", Some(&cookie))).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.cookie.is_none(),
        "a fresh session is not written again"
    );
    assert_eq!(session_ends(&pool).await, signed_in_until);

    // Seven hours on, as the database sees it: an hour of the session is left.
    sqlx::query("UPDATE tower_sessions.session SET expiry_date = now() + interval '1 hour'")
        .execute(&pool)
        .await
        .expect("age the session");
    let home = send(server.clone(), get("/", Some(&cookie))).await;
    assert_eq!(home.status, StatusCode::OK);
    let set = home.cookie.expect("the cookie is sent again");
    assert!(set.contains("Max-Age=28800"), "8 hours from now: {set}");
    let ends = session_ends(&pool).await;
    let from_now = ends - time::OffsetDateTime::now_utc();
    assert!(
        from_now > time::Duration::minutes(479) && from_now <= time::Duration::hours(8),
        "the session now ends {from_now} from now"
    );
    // The same goes for portfolio pages, which check the session in their own query.
    sqlx::query("UPDATE tower_sessions.session SET expiry_date = now() + interval '1 hour'")
        .execute(&pool)
        .await
        .expect("age the session");
    let page = send(
        server.clone(),
        get(
            &format!("/enrolments/{}/progress", Uuid::nil()),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "no such enrolment");
    assert!(
        page.cookie.is_some(),
        "the 404 still keeps the session open"
    );
    assert!(
        session_ends(&pool).await - time::OffsetDateTime::now_utc() > time::Duration::minutes(479)
    );

    // Left idle past its end: the server sends the browser to sign in, though it still
    // remembers the session's record.
    sqlx::query("UPDATE tower_sessions.session SET expiry_date = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("end the session");
    let home = send(server.clone(), get("/", Some(&cookie))).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(home.location.unwrap_or_default().starts_with("/login"));
}

// ---- Issue 11, point 1: sign-in under attack. ----

/// Attempts an attacker may have checked for one account from one address before
/// waiting (the pair's free failures).
const FREE_FAILURES: usize = PAIR_FREE_FAILURES as usize;

/// A sign-in form from `from`.
fn sign_in_from(email: &str, password: &str, from: &str) -> Request<Body> {
    form_post(
        "/login",
        &format!(
            "email={}&password={}",
            crate::http::enc(email),
            crate::http::enc(password)
        ),
        from,
    )
}

/// Sign-in attempts whose password was checked, as the database recorded them.
async fn checked_attempts(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM login_attempts")
        .fetch_one(pool)
        .await
        .expect("count attempts")
}

/// Finding 1: the limit holds when the guesses arrive together, not one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_simultaneous_wrong_passwords_check_no_more_than_the_limit() {
    let pool = attest::testing::test_pool_with(10).await;
    learner(&pool).await;
    // A long wait for a hashing permit: every admitted guess is checked, however slow
    // this machine is today.
    let server = AppState::from(attest::web::Services {
        hashing: Hashing::new(2, std::time::Duration::from_secs(600)),
        ..attest::web::Services::new(pool.clone())
    });
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let server = server.clone();
        let guess = sign_in_from("zoe@example.ac.nz", "guess", "203.0.113.9");
        guesses.spawn(async move {
            let reply = attest::web::router(server).oneshot(guess).await;
            reply.expect("an answer").status()
        });
    }
    let statuses = guesses.join_all().await;
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(wrong + refused, 40, "{statuses:?}");
    assert_eq!(
        checked_attempts(&pool).await,
        wrong as i64,
        "each 401 is one checked password"
    );
    assert_eq!(
        wrong, FREE_FAILURES,
        "only the allowed attempts were checked"
    );
}

/// Finding 2: an attacker's failures from their address do not lock the owner out of
/// their account from their own.
#[tokio::test]
async fn the_owner_signs_in_from_home_while_an_attacker_is_throttled() {
    let pool = test_pool().await;
    learner(&pool).await;
    let server = AppState::new(pool.clone());
    for i in 0..FREE_FAILURES + 3 {
        let r = send(
            server.clone(),
            sign_in_from("zoe@example.ac.nz", "guess", "203.0.113.9"),
        )
        .await;
        let expected = if i < FREE_FAILURES {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(r.status, expected, "attempt {i}");
    }
    let r = send(
        server.clone(),
        sign_in_from("zoe@example.ac.nz", PASSWORD, "203.0.113.9"),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker's address waits, whatever the password"
    );
    assert!(r.body.contains("Wait 1 minute and try again"), "{}", r.body);
    let r = send(
        server,
        sign_in_from("zoe@example.ac.nz", PASSWORD, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "the owner, from home");
}

/// Finding 2: twenty people behind one college address mistyping their passwords do
/// not lock out everyone else behind it.
#[tokio::test]
async fn another_account_behind_the_same_address_signs_in_after_twenty_failures() {
    let pool = test_pool().await;
    learner(&pool).await;
    let server = AppState::new(pool.clone());
    for i in 0..20 {
        let r = send(
            server.clone(),
            sign_in_from(&format!("student{i}@example.ac.nz"), "typo", "198.51.100.7"),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = send(
        server,
        sign_in_from("zoe@example.ac.nz", PASSWORD, "198.51.100.7"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

/// Finding 2: an admin unlocks an account from the people page; the unlock is in the
/// activity log.
#[tokio::test]
async fn an_admin_unlocks_an_account_and_the_log_says_who() {
    let pool = test_pool().await;
    let zoe = learner(&pool).await;
    let hash = password::hash("an admin password").expect("hash");
    let admin = crate::helpers::person(
        &pool,
        zoe.centre_id,
        "ada@example.ac.nz",
        "Ada Admin",
        &[Role::Admin],
        &hash,
    )
    .await;
    let server = AppState::new(pool.clone());
    for _ in 0..FREE_FAILURES {
        send(
            server.clone(),
            sign_in_from("zoe@example.ac.nz", "guess", "203.0.113.9"),
        )
        .await;
    }
    let r = send(
        server.clone(),
        sign_in_from("zoe@example.ac.nz", PASSWORD, "203.0.113.9"),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);

    let cookie =
        crate::http::signed_in(server.clone(), "ada@example.ac.nz", "an admin password").await;
    let people = send(server.clone(), get("/admin/people", Some(&cookie))).await;
    let unlock = format!("/admin/people/{}/unlock", zoe.id);
    assert!(
        people.body.contains(&format!(r#"action="{unlock}""#)),
        "the people page offers to unlock Zoë: {}",
        people.body
    );
    let r = send(
        server.clone(),
        crate::http::form_post_as(&cookie, &unlock, ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/admin/people"));

    let r = send(
        server,
        sign_in_from("zoe@example.ac.nz", PASSWORD, "203.0.113.9"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "unlocked");
    let logged: Vec<(Option<Uuid>, serde_json::Value)> = sqlx::query_as(
        "SELECT actor_id, detail FROM activity_log WHERE action = 'sign-in unlocked'",
    )
    .fetch_all(&pool)
    .await
    .expect("log");
    assert_eq!(
        logged,
        [(
            Some(admin),
            serde_json::json!({ "user": zoe.id, "email": "zoe@example.ac.nz" })
        )]
    );
}

/// Finding 6: browsers drop tabs and line breaks inside an address, so `/\t/evil` is
/// `//evil`, another site; a line break must not break the answer either.
#[tokio::test]
async fn a_next_with_a_tab_or_line_break_goes_home() {
    let pool = test_pool().await;
    learner(&pool).await;
    for next in [
        "%2F%0D%0ASet-Cookie%3A+x%3D1",
        "%2F%09%2Fevil.example%2F",
        "%2F%0A%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let body = format!(
            "email=zoe%40example.ac.nz&password={}&next={next}",
            PASSWORD.replace(' ', "+")
        );
        let r = send(
            AppState::new(pool.clone()),
            form_post("/login", &body, "192.0.2.1"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "next={next}");
        assert_eq!(r.location.as_deref(), Some("/"), "next={next}");
    }
}

/// Finding 3: a known email with a wrong password, an unknown email and the right
/// password each cost exactly one Argon2 run, so time does not tell which emails have
/// accounts.
#[tokio::test]
async fn a_wrong_password_an_unknown_email_and_the_right_password_each_cost_one_argon2_run() {
    let pool = test_pool().await;
    learner(&pool).await;
    let server = AppState::new(pool.clone());
    let r = send(server.clone(), sign_in("zoe@example.ac.nz", "wrong")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.hashing.runs(), 1, "known email, wrong password");
    let r = send(server.clone(), sign_in("nobody@example.ac.nz", "wrong")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.hashing.runs(), 2, "unknown email");
    let r = send(server.clone(), sign_in("zoe@example.ac.nz", PASSWORD)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(server.hashing.runs(), 3, "the right password");
}

/// A staff member with an unused set-password link.
async fn newcomer(pool: &PgPool) -> String {
    let zoe = learner(pool).await;
    let new = NewUser {
        centre_id: zoe.centre_id,
        email: "new@example.ac.nz",
        display_name: "Nia New",
        password_hash: None,
        kind: UserKind::Staff,
        roles: &[Role::Assessor],
        employer_id: None,
    };
    let person = users::create(pool, &new).await.expect("user");
    password_tokens::create(pool, person.id)
        .await
        .expect("token")
}

const NEW_PASSWORD: &str = "password=a-long-new-password&confirm=a-long-new-password";

/// Finding 4: with every hashing permit taken, sign-in and set-password say the server
/// is busy, keep what was typed, hash nothing and count nothing against anyone.
#[tokio::test]
async fn with_hashing_at_capacity_the_forms_say_the_server_is_busy() {
    let pool = test_pool().await;
    let token = newcomer(&pool).await;
    let server = AppState::from(attest::web::Services {
        hashing: Hashing::new(2, std::time::Duration::from_millis(100)),
        ..attest::web::Services::new(pool.clone())
    });
    let held = server.hashing.hold_all().await.expect("permits");

    let r = send(server.clone(), sign_in("zoe@example.ac.nz", PASSWORD)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r
        .body
        .contains("The server is busy; try again in a moment."));
    assert!(
        r.body.contains(r#"value="zoe@example.ac.nz""#),
        "the email is kept"
    );
    assert!(r.cookie.is_none());
    let r = send(
        server.clone(),
        form_post(&format!("/set-password/{token}"), NEW_PASSWORD, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r
        .body
        .contains("The server is busy; try again in a moment."));
    assert!(r.body.contains("Welcome, Nia New"), "the same form again");
    assert_eq!(server.hashing.runs(), 0, "nothing was hashed");
    let failures: i64 =
        sqlx::query_scalar("SELECT coalesce(sum(failures), 0) FROM login_throttles")
            .fetch_one(&pool)
            .await
            .expect("failures");
    assert_eq!(failures, 0, "an unchecked attempt is not a failure");

    drop(held);
    let r = send(server.clone(), sign_in("zoe@example.ac.nz", PASSWORD)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = send(
        server.clone(),
        form_post(&format!("/set-password/{token}"), NEW_PASSWORD, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "the link still works");
}

/// Finding 5: a made-up, used or unknown set-password link is looked up before
/// anything is hashed.
#[tokio::test]
async fn a_made_up_or_used_set_password_link_is_refused_before_any_hashing() {
    let pool = test_pool().await;
    let token = newcomer(&pool).await;
    let server = AppState::new(pool.clone());
    let made_up = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let r = send(
        server.clone(),
        form_post(
            &format!("/set-password/{made_up}"),
            NEW_PASSWORD,
            "192.0.2.1",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(server.hashing.runs(), 0, "no Argon2 run for a made-up link");

    let r = send(
        server.clone(),
        form_post(&format!("/set-password/{token}"), NEW_PASSWORD, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(server.hashing.runs(), 1);
    let r = send(
        server.clone(),
        form_post(&format!("/set-password/{token}"), NEW_PASSWORD, "192.0.2.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "used");
    assert_eq!(server.hashing.runs(), 1, "no Argon2 run for a used link");
}

/// Counters that no longer count are forgotten (an attacker inventing emails would
/// otherwise grow the table without end); counters that still judge an attempt stay.
#[tokio::test]
async fn sign_in_counters_that_no_longer_count_are_forgotten() {
    let pool = attest::testing::test_pool().await;
    let rows = [
        // (scope, email, failures, window start, last failure, success), ages in hours.
        ("pair", "invented-1@x.test", 9, None, Some(30), None, false),
        (
            "account",
            "invented-1@x.test",
            9,
            Some(30),
            Some(30),
            None,
            false,
        ),
        (
            "pair",
            "old-friend@x.test",
            0,
            None,
            None,
            Some(24 * 40),
            false,
        ),
        (
            "pair",
            "recent-failure@x.test",
            6,
            None,
            Some(20),
            None,
            true,
        ),
        ("pair", "known@x.test", 0, None, None, Some(24 * 20), true),
        (
            "account",
            "window-open@x.test",
            3,
            Some(0),
            Some(0),
            None,
            true,
        ),
    ];
    for (scope, email, failures, window, last, success, _) in rows {
        let ago = |h: Option<i32>| h.map(|h| format!("now() - interval '{h} hours'"));
        sqlx::query(&format!(
            "INSERT INTO login_throttles (scope, email, address, failures, window_start, \
             last_failure_at, succeeded_at) VALUES ($1, $2, $3, $4, {}, {}, {})",
            ago(window).unwrap_or("NULL".into()),
            ago(last).unwrap_or("NULL".into()),
            ago(success).unwrap_or("NULL".into()),
        ))
        .bind(scope)
        .bind(if scope == "address" { "" } else { email })
        .bind(if scope == "account" { "" } else { "10.0.0.1" })
        .bind(failures)
        .execute(&pool)
        .await
        .expect("counter");
    }
    let forgotten = attest::db::logins::forget_stale(&pool)
        .await
        .expect("forget");
    assert_eq!(forgotten, 3);
    let mut left: Vec<(String, String)> =
        sqlx::query_as("SELECT scope, email FROM login_throttles")
            .fetch_all(&pool)
            .await
            .expect("left");
    left.sort();
    let mut kept: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r.6)
        .map(|r| (r.0.to_string(), r.1.to_string()))
        .collect();
    kept.sort();
    assert_eq!(left, kept);
}

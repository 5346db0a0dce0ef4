//! Progress reviews (issue 14, point 4) through the app: the schedule flags a review
//! overdue until one is held; the assessor records a review with what the system knows
//! since the last; the learner, the employer and the assessor each write their part and
//! sign in any order; a change after signing is a new version that needs signing again;
//! signed by all three, the review is locked and prints; a review left unsigned for 14
//! days is flagged; bad input is refused field by field and changes nothing.
use axum::http::StatusCode;
use time::{Date, Duration};
use uuid::Uuid;

use crate::apprenticeship::{iso, scene, Scene};
use crate::http::{form_post_as, get, send, Reply};

fn review_form(held: Date, next: Date) -> String {
    format!(
        "held_on={}&attended=Amira%2C+Erin+Mentor%2C+the+assessor&assessor_summary=Steady+progress+on+unit+201\
         &targets=Finish+unit+202&next_review_on={}",
        iso(held),
        iso(next)
    )
}

async fn record(s: &Scene, held: Date) -> Uuid {
    let r = s
        .post(
            &s.assessor,
            "/reviews",
            &review_form(held, held + Duration::weeks(10)),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = r
        .location
        .as_deref()
        .and_then(|l| l.rsplit('/').next())
        .and_then(|i| Uuid::parse_str(i).ok())
        .expect("the review's page");
    id
}

async fn employer_post(s: &Scene, cookie: &str, path: &str, body: &str) -> Reply {
    send(
        s.state.clone(),
        form_post_as(
            cookie,
            &format!("/employer/learners/{}{path}", s.enrolment),
            body,
        ),
    )
    .await
}

async fn standing(s: &Scene, review: Uuid) -> (Option<String>, i32) {
    let fully: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT fully_signed_at FROM progress_reviews WHERE id = $1")
            .bind(review)
            .fetch_one(&s.pool)
            .await
            .expect("review");
    let version: i32 = sqlx::query_scalar("SELECT current_version FROM signed_items WHERE id = $1")
        .bind(review)
        .fetch_one(&s.pool)
        .await
        .expect("item");
    (fully.map(|_| "signed".to_string()), version)
}

#[tokio::test]
async fn a_review_is_written_and_signed_by_all_three_then_locked_and_printed() {
    let s = scene().await;
    s.plan().await;
    // Started 20 weeks ago with no review: overdue since week 12.
    let before = s.page(&s.assessor, "/reviews").await;
    assert!(before.contains("Review overdue"), "{before}");

    let review = record(&s, s.today - Duration::days(2)).await;
    let after = s.page(&s.assessor, "/reviews").await;
    assert!(!after.contains("Review overdue"), "a review held clears it");
    let due: Date = sqlx::query_scalar("SELECT next_review_due FROM apprenticeships")
        .fetch_one(&s.pool)
        .await
        .expect("due");
    assert_eq!(
        due,
        s.today - Duration::days(2) + Duration::weeks(12),
        "kept: 12 weeks on"
    );
    let page = s.page(&s.learner, &format!("/reviews/{review}")).await;
    assert!(
        page.contains("criteria confirmed") || page.contains("criterion confirmed"),
        "{page}"
    );
    assert!(page.contains("of off-the-job training approved"));

    // The learner cannot sign before writing their reflection.
    let early = s
        .post(
            &s.learner,
            &format!("/reviews/{review}/sign"),
            "signed_name=Amira+Khan",
        )
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early
        .body
        .contains("Write your part of the review before you sign it"));
    let learner_name: String =
        sqlx::query_scalar("SELECT display_name FROM users WHERE email = 'amira@demo.attest.test'")
            .fetch_one(&s.pool)
            .await
            .expect("name");
    let assessor_name: String = sqlx::query_scalar(
        "SELECT display_name FROM users WHERE email = 'assessor@demo.attest.test'",
    )
    .fetch_one(&s.pool)
    .await
    .expect("name");
    let sign_as = |name: &str| format!("signed_name={}", name.replace(' ', "+"));

    let r = s
        .post(
            &s.learner,
            &format!("/reviews/{review}/part"),
            "learner_reflection=I+can+now+handle+complaints+alone",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = s
        .post(
            &s.learner,
            &format!("/reviews/{review}/sign"),
            &sign_as(&learner_name),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = s
        .post(
            &s.assessor,
            &format!("/reviews/{review}/sign"),
            &sign_as(&assessor_name),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        standing(&s, review).await,
        (None, 2),
        "the employer has not signed"
    );

    // The employer writes their comments: a new version, which the others sign again.
    let employer = s.employer_following().await;
    let shown = send(
        s.state.clone(),
        get(
            &format!("/employer/learners/{}", s.enrolment),
            Some(&employer),
        ),
    )
    .await;
    assert!(
        shown.body.contains(&format!("/reviews/{review}")),
        "listed for the employer"
    );
    let r = employer_post(
        &s,
        &employer,
        &format!("/reviews/{review}/part"),
        "employer_comments=Much+more+confident",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = employer_post(
        &s,
        &employer,
        &format!("/reviews/{review}/sign"),
        "signed_name=Erin+Mentor",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(standing(&s, review).await, (None, 3));
    let page = s.page(&s.learner, &format!("/reviews/{review}")).await;
    assert!(page.contains("Changed since it was signed"), "{page}");
    assert!(page.contains("Much more confident"));
    let pdf_early = send(
        s.state.clone(),
        get(
            &format!("/enrolments/{}/reviews/{review}/review.pdf", s.enrolment),
            Some(&s.learner),
        ),
    )
    .await;
    assert_eq!(
        pdf_early.status,
        StatusCode::CONFLICT,
        "not printed before all three sign"
    );

    for (cookie, name) in [(&s.assessor, &assessor_name), (&s.learner, &learner_name)] {
        let r = s
            .post(cookie, &format!("/reviews/{review}/sign"), &sign_as(name))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    assert_eq!(
        standing(&s, review).await,
        (Some("signed".into()), 3),
        "locked"
    );
    let locked = s
        .post(
            &s.learner,
            &format!("/reviews/{review}/part"),
            "learner_reflection=Rewritten",
        )
        .await;
    assert_eq!(locked.status, StatusCode::CONFLICT);
    let again = employer_post(
        &s,
        &employer,
        &format!("/reviews/{review}/part"),
        "employer_comments=Again",
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let pdf = send(
        s.state.clone(),
        get(
            &format!("/enrolments/{}/reviews/{review}/review.pdf", s.enrolment),
            Some(&s.assessor),
        ),
    )
    .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with("%PDF"), "a PDF");
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM activity_log WHERE action LIKE 'progress review%' ORDER BY id",
    )
    .fetch_all(&s.pool)
    .await
    .expect("log");
    assert_eq!(
        actions,
        [
            "progress review recorded",
            "progress review changed",
            "progress review signed",
            "progress review signed",
            "progress review changed",
            "progress review signed",
            "progress review signed",
            "progress review signed",
        ]
    );
}

#[tokio::test]
async fn a_review_unsigned_for_14_days_is_flagged_and_bad_input_changes_nothing() {
    let s = scene().await;
    s.plan().await;
    let blank = s
        .post(
            &s.assessor,
            "/reviews",
            "held_on=&attended=&assessor_summary=&targets=&next_review_on=",
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Enter the day the review was held",
        "Enter the day of the next review",
        "Say who attended the review",
        "Write a summary of the learner",
        "Set the targets for the next period",
    ] {
        assert!(blank.body.contains(message), "{message}");
    }
    let future = s
        .post(
            &s.assessor,
            "/reviews",
            &review_form(s.today + Duration::days(1), s.today + Duration::weeks(2)),
        )
        .await;
    assert!(future.body.contains("the day cannot be in the future"));
    let far = s
        .post(
            &s.assessor,
            "/reviews",
            &review_form(s.today, s.today + Duration::weeks(13)),
        )
        .await;
    assert!(far.body.contains("within the centre"), "{}", far.body);
    assert!(
        far.body.contains("Steady progress on unit 201"),
        "what was typed is kept"
    );
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM progress_reviews")
        .fetch_one(&s.pool)
        .await
        .expect("count");
    assert_eq!(none, 0, "nothing refused was stored");

    record(&s, s.today - Duration::days(20)).await;
    let page = s.page(&s.assessor, "/reviews").await;
    assert!(
        page.contains("Not signed:"),
        "held 20 days ago, unsigned: {page}"
    );
    let fresh = record(&s, s.today - Duration::days(1)).await;
    assert_ne!(fresh, Uuid::nil());
    let oldest: Option<Date> =
        sqlx::query_scalar("SELECT oldest_unsigned_review_on FROM apprenticeships")
            .fetch_one(&s.pool)
            .await
            .expect("kept");
    assert_eq!(
        oldest,
        Some(s.today - Duration::days(20)),
        "the oldest unsigned is kept"
    );
}

#[tokio::test]
async fn the_next_review_counts_what_happened_since_the_last() {
    let s = scene().await;
    s.plan().await;
    let first = record(&s, s.today - Duration::days(10)).await;
    let r = s
        .log(&s.learner, 5, 2, "Mentoring session on complaints")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let e = s.entry("Mentoring session on complaints").await;
    s.post(
        &s.assessor,
        &format!("/otj/{e}/decision"),
        "decision=approve",
    )
    .await;
    let second = record(&s, s.today - Duration::days(1)).await;
    let first_page = s.page(&s.assessor, &format!("/reviews/{first}")).await;
    assert!(
        first_page.contains("0 hours of off-the-job training approved"),
        "{first_page}"
    );
    let second_page = s.page(&s.assessor, &format!("/reviews/{second}")).await;
    assert!(
        second_page.contains("2 hours of off-the-job training approved"),
        "{second_page}"
    );
}

/// An employer without an account signs through the one-time link: the worker emails it
/// to a real SMTP server on the public address; signed out, the holder comments and signs
/// in the name the link was sent to; the link is then used up, and a newer link
/// withdraws an older one.
#[tokio::test]
async fn the_employer_signs_through_the_emailed_one_time_link() {
    use crate::mail_queue::{app, wait_until, Mail, PUBLIC, QUICK};
    use crate::smtp::{Answer, SmtpServer};
    let s = scene().await;
    s.plan().await;
    let review = record(&s, s.today - Duration::days(1)).await;
    let server = SmtpServer::start(Answer::Accept).await;
    let running = app(&s.pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let ask = |name: &'static str, email: &'static str| {
        let state = running.state.clone();
        let (cookie, enrolment) = (s.assessor.clone(), s.enrolment);
        async move {
            send(
                state,
                form_post_as(
                    &cookie,
                    &format!("/enrolments/{enrolment}/reviews/{review}/employer-link"),
                    &format!("signer_name={name}&signer_email={email}"),
                ),
            )
            .await
        }
    };
    // The form starts with the employer's contact, when the learner's employer has one.
    let employer = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO employers (id, centre_id, name, contact_name, contact_email) \
         SELECT $1, centre_id, 'Riverside Care', 'Owen Owner', 'owen@riverside.test' FROM enrolments WHERE id = $2",
    )
    .bind(employer)
    .bind(s.enrolment)
    .execute(&s.pool)
    .await
    .expect("employer");
    sqlx::query("UPDATE enrolments SET employer_id = $1 WHERE id = $2")
        .bind(employer)
        .bind(s.enrolment)
        .execute(&s.pool)
        .await
        .expect("the learner's employer");
    let page = s.page(&s.assessor, &format!("/reviews/{review}")).await;
    assert!(page.contains("value=\"owen@riverside.test\""), "{page}");
    let bad = ask("", "not-an-address").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad
        .body
        .contains("Enter the name of the person at the employer"));
    assert!(
        bad.body.contains("not-an-address"),
        "what was typed is kept"
    );
    let asked = ask("Owen+Owner", "owen%40riverside.test").await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);

    let message = wait_until("the employer's email", || async {
        server.received().into_iter().next()
    })
    .await;
    assert_eq!(message.rcpt_to, ["owen@riverside.test"]);
    let parsed = mail_parser::MessageParser::default()
        .parse(&message.data)
        .expect("parses");
    let text = parsed.body_text(0).expect("text").into_owned();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/review-sign/"))
        .expect("a link in the email")
        .to_string();
    assert!(
        link.starts_with(&format!("{PUBLIC}/review-sign/")),
        "{link}"
    );
    let path = link.trim_start_matches(PUBLIC).to_string();
    let open = send(running.state.clone(), get(&path, None)).await;
    assert_eq!(open.status, StatusCode::OK, "opens signed out");
    assert!(open.body.contains("For Owen Owner, as the learner"));

    let post = |suffix: &'static str, body: &'static str| {
        let (state, path) = (running.state.clone(), path.clone());
        async move {
            send(
                state,
                crate::http::form_post(&format!("{path}{suffix}"), body, "192.0.2.44"),
            )
            .await
        }
    };
    let r = post("/part", "employer_comments=Reliable+and+keen").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let wrong = post("/sign", "signed_name=Someone+Else").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong
        .body
        .contains("Type your full name as it is shown above to sign"));
    let r = post("/sign", "signed_name=owen+owner").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let signer: (Option<String>, String) =
        sqlx::query_as("SELECT s.signer_email, s.capacity FROM signatures s WHERE s.item_id = $1")
            .bind(review)
            .fetch_one(&s.pool)
            .await
            .expect("the signature");
    assert_eq!(
        signer,
        (Some("owen@riverside.test".into()), "employer".into())
    );
    let used = send(running.state.clone(), get(&path, None)).await;
    assert_eq!(used.status, StatusCode::GONE);
    assert!(used.body.contains("Progress review signed"));

    // A newer link withdraws an older one. The employer signed this version already, so
    // the assessor changes the review first (a new version wants their signature again).
    let r = send(
        running.state.clone(),
        form_post_as(
            &s.assessor,
            &format!("/enrolments/{}/reviews/{review}/part", s.enrolment),
            &format!(
                "{}&employer_comments=Reliable+and+keen",
                review_form(s.today - Duration::days(1), s.today + Duration::weeks(4))
            ),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for _ in 0..2 {
        let r = ask("Owen+Owner", "owen%40riverside.test").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let open_links: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM review_sign_links WHERE used_at IS NULL AND revoked_at IS NULL",
    )
    .fetch_one(&s.pool)
    .await
    .expect("links");
    assert_eq!(open_links, 1, "only the newest link opens");
    running.stop().await;
}

/// The assessor's kept home page follows a review's flag: overdue until the review is
/// recorded, then not, with no other change to the enrolment between.
#[tokio::test]
async fn the_kept_home_page_shows_a_review_overdue_until_one_is_held() {
    let s = scene().await;
    s.plan().await;
    let home = || async {
        send(s.state.clone(), get("/", Some(&s.assessor)))
            .await
            .body
    };
    assert!(
        home().await.contains("Review overdue"),
        "flagged on the caseload"
    );
    assert!(
        home().await.contains("Review overdue"),
        "and on the kept page"
    );
    record(&s, s.today).await;
    assert!(!home().await.contains("Review overdue"), "cleared at once");
}

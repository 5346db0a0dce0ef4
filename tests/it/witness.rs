//! Witness testimony (issue 13, point 3) through the app: a learner asks a witness by
//! email; the link in the email opens signed out; the witness writes and signs; the
//! testimony becomes an evidence item with its signature; the link is single-use; an
//! assessor's correction is a new version that stands unsigned until the witness signs
//! it through a new link; a withdrawn or expired link says so plainly; the check page
//! tells a signature valid, or changed when the stored record was tampered with.
use attest::demo::load::{load_if_empty, DEMO_PASSWORD};
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::http::{form_post_as, get, multipart_as, send, signed_in};

struct Scene {
    pool: PgPool,
    state: AppState,
    learner: String,
    assessor: String,
    enrolment: Uuid,
    criterion: Uuid,
}

async fn scene() -> Scene {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let state = AppState::new(pool.clone());
    let learner = signed_in(state.clone(), "amira@demo.attest.test", DEMO_PASSWORD).await;
    let assessor = signed_in(state.clone(), "assessor@demo.attest.test", DEMO_PASSWORD).await;
    let (enrolment, version): (Uuid, Uuid) = sqlx::query_as(
        "SELECT e.id, e.version_id FROM enrolments e JOIN users u ON u.id = e.learner_id \
          WHERE u.email = 'amira@demo.attest.test' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("Amira's enrolment");
    let criterion: Uuid =
        sqlx::query_scalar("SELECT id FROM criteria WHERE version_id = $1 ORDER BY id LIMIT 1")
            .bind(version)
            .fetch_one(&pool)
            .await
            .expect("a criterion");
    Scene {
        pool,
        state,
        learner,
        assessor,
        enrolment,
        criterion,
    }
}

impl Scene {
    /// Asks Wendy by email as the learner; returns the request and the link's token,
    /// read from the email waiting in the outbox.
    async fn ask(&self) -> (Uuid, String) {
        let r = send(
            self.state.clone(),
            form_post_as(
                &self.learner,
                &format!("/enrolments/{}/witness", self.enrolment),
                &format!(
                    "to=email&witness_name=Wendy+Witness&witness_email=wendy%40northwind.test&criterion={}&occasion=Moving+a+patient",
                    self.criterion
                ),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        self.latest_link().await
    }

    async fn latest_link(&self) -> (Uuid, String) {
        let (id, link): (Uuid, String) = sqlx::query_as(
            "SELECT witness_request_id, link FROM mail_outbox WHERE kind = 'witness_request' \
              AND link IS NOT NULL ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_one(&self.pool)
        .await
        .expect("the witness's email");
        assert!(
            link.starts_with("http"),
            "a link on the public address: {link}"
        );
        (id, link.rsplit('/').next().expect("token").to_string())
    }

    async fn sign(&self, token: &str, account: &str, name: &str) -> crate::http::Reply {
        send(
            self.state.clone(),
            multipart_as(
                "",
                &format!("/witness/{token}"),
                &[
                    ("account", account),
                    ("role", "Ward sister"),
                    ("relationship", "Her supervisor on placement"),
                    ("agreed", "yes"),
                    ("signed_name", name),
                ],
                &[("hoist-check.txt", b"checked".as_slice())],
            ),
        )
        .await
    }

    async fn page(&self, cookie: &str, uri: &str) -> String {
        let r = send(self.state.clone(), get(uri, Some(cookie))).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        r.body
    }
}

#[tokio::test]
async fn a_witness_signs_through_the_emailed_link_and_the_testimony_becomes_evidence() {
    let s = scene().await;
    let (_, token) = s.ask().await;
    let open = send(s.state.clone(), get(&format!("/witness/{token}"), None)).await;
    assert_eq!(open.status, StatusCode::OK);
    assert!(
        open.body.contains("Witness testimony for Amira"),
        "{}",
        open.body
    );
    assert!(
        open.body.contains("Moving a patient"),
        "the occasion is shown"
    );
    assert!(
        open.body
            .contains(attest::domain::signature::SignedKind::WitnessTestimony.statement()),
        "the statement, word for word"
    );

    // A name other than the witness's is refused beside the field; nothing is kept.
    let wrong = s.sign(&token, "I saw her use the hoist.", "Amira").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("I saw her use the hoist."),
        "what was typed is kept"
    );
    let items: i64 =
        sqlx::query_scalar("SELECT count(*) FROM evidence WHERE kind = 'witness_testimony'")
            .fetch_one(&s.pool)
            .await
            .expect("count");
    assert_eq!(items, 0);

    let signed = s
        .sign(&token, "I saw her use the hoist safely.", "wendy  witness")
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let done = send(
        s.state.clone(),
        get(signed.location.as_deref().expect("to"), None),
    )
    .await;
    assert!(done.body.contains("Testimony signed"), "{}", done.body);

    let (evidence, digest, agent): (Uuid, Vec<u8>, Option<String>) = sqlx::query_as(
        "SELECT i.evidence_id, s.digest, s.user_agent FROM signatures s JOIN signed_items i ON i.id = s.item_id",
    )
    .fetch_one(&s.pool)
    .await
    .expect("one signature");
    assert_eq!(digest.len(), 32, "a SHA-256");
    assert_eq!(agent, None, "this request named no browser");
    let item = s
        .page(
            &s.learner,
            &format!("/enrolments/{}/evidence/{evidence}", s.enrolment),
        )
        .await;
    assert!(item.contains("Witness testimony: Wendy Witness"), "{item}");
    assert!(
        item.contains("Signed by wendy  witness (witness)"),
        "the name as typed: {item}"
    );
    assert!(
        item.contains("hoist-check.txt"),
        "the witness's file is on the item"
    );

    // The link worked once.
    let again = s.sign(&token, "Another go.", "Wendy Witness").await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("has been used"), "{}", again.body);
    let log = s
        .page(
            &s.assessor,
            &format!("/enrolments/{}/activity", s.enrolment),
        )
        .await;
    assert!(log.to_lowercase().contains("witness"), "the log names it");
}

#[tokio::test]
async fn a_correction_is_a_new_version_unsigned_until_the_witness_signs_it() {
    let s = scene().await;
    let (_, token) = s.ask().await;
    assert_eq!(
        s.sign(&token, "I saw her use the hoist.", "Wendy Witness")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let (evidence, signature): (Uuid, Uuid) = sqlx::query_as(
        "SELECT i.evidence_id, s.id FROM signatures s JOIN signed_items i ON i.id = s.item_id",
    )
    .fetch_one(&s.pool)
    .await
    .expect("signed");
    let item_uri = format!("/enrolments/{}/evidence/{evidence}", s.enrolment);

    // The signed version itself can never be changed: the database refuses.
    let changed = sqlx::query("UPDATE signed_item_versions SET content = '{}'::jsonb")
        .execute(&s.pool)
        .await;
    assert!(changed.is_err(), "versions are append-only");

    // The learner may not correct a witness's words; the assessor makes a new version.
    let post = |cookie: &str, uri: String, form: &str| {
        send(s.state.clone(), form_post_as(cookie, &uri, form))
    };
    let refused = post(
        &s.learner,
        format!("{item_uri}/testimony"),
        "version=1&account=Mine",
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let stale = post(
        &s.assessor,
        format!("{item_uri}/testimony"),
        "version=3&account=Fixed",
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let fixed = post(
        &s.assessor,
        format!("{item_uri}/testimony"),
        "version=1&account=I+saw+her+use+the+ceiling+hoist.",
    )
    .await;
    assert_eq!(fixed.status, StatusCode::SEE_OTHER, "{}", fixed.body);
    let page = s.page(&s.assessor, &item_uri).await;
    assert!(page.contains("Changed since it was signed"), "{page}");
    assert!(page.contains("ceiling hoist"));
    // The old signature still checks out against what it signed, and says it is not
    // of the current version.
    let check = s
        .page(&s.assessor, &format!("/signatures/{signature}"))
        .await;
    assert!(check.contains("Valid."), "{check}");
    assert!(
        check.contains("a later version has been made since"),
        "{check}"
    );

    // The witness is asked to sign the new version through a new link, and does.
    let asked = post(&s.assessor, format!("{item_uri}/testimony/ask"), "").await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let (_, token2) = s.latest_link().await;
    assert_ne!(token, token2);
    let open = send(s.state.clone(), get(&format!("/witness/{token2}"), None)).await;
    assert!(
        open.body.contains("ceiling hoist"),
        "the form opens on the version to sign"
    );
    assert_eq!(
        s.sign(&token2, "I saw her use the ceiling hoist.", "Wendy Witness")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let page = s.page(&s.assessor, &item_uri).await;
    assert!(page.contains("Signed by Wendy Witness (witness)"), "{page}");
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM signed_item_versions")
        .fetch_one(&s.pool)
        .await
        .expect("count");
    assert_eq!(
        versions, 2,
        "signing the corrected text made no third version"
    );
}

#[tokio::test]
async fn withdrawn_expired_and_forged_links_say_so_and_a_new_link_replaces_the_old() {
    let s = scene().await;
    let (request, token) = s.ask().await;
    let withdraw = send(
        s.state.clone(),
        form_post_as(
            &s.learner,
            &format!("/enrolments/{}/witness/{request}/withdraw", s.enrolment),
            "",
        ),
    )
    .await;
    assert_eq!(withdraw.status, StatusCode::SEE_OTHER);
    let gone = send(s.state.clone(), get(&format!("/witness/{token}"), None)).await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert!(gone.body.contains("withdrawn"), "{}", gone.body);

    let resend = send(
        s.state.clone(),
        form_post_as(
            &s.learner,
            &format!("/enrolments/{}/witness/{request}/resend", s.enrolment),
            "",
        ),
    )
    .await;
    assert_eq!(resend.status, StatusCode::SEE_OTHER);
    let (_, fresh) = s.latest_link().await;
    assert_ne!(fresh, token);
    let old = send(s.state.clone(), get(&format!("/witness/{token}"), None)).await;
    assert_eq!(
        old.status,
        StatusCode::NOT_FOUND,
        "the old link is no link any more"
    );
    let open = send(s.state.clone(), get(&format!("/witness/{fresh}"), None)).await;
    assert_eq!(open.status, StatusCode::OK);

    sqlx::query("UPDATE witness_requests SET expires_at = asked_at WHERE id = $1")
        .bind(request)
        .execute(&s.pool)
        .await
        .expect("expiring");
    let expired = send(s.state.clone(), get(&format!("/witness/{fresh}"), None)).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.body.contains("has expired"), "{}", expired.body);
    let late = s.sign(&fresh, "Too late.", "Wendy Witness").await;
    assert_eq!(late.status, StatusCode::GONE);

    let forged = send(
        s.state.clone(),
        get(&format!("/witness/{}", "a".repeat(64)), None),
    )
    .await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    let malformed = send(s.state.clone(), get("/witness/not-a-token", None)).await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_tampered_record_shows_as_changed_on_the_check_page() {
    let s = scene().await;
    let (_, token) = s.ask().await;
    assert_eq!(
        s.sign(&token, "I saw her use the hoist.", "Wendy Witness")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let signature: Uuid = sqlx::query_scalar("SELECT id FROM signatures")
        .fetch_one(&s.pool)
        .await
        .expect("signed");
    // Someone with the database's keys edits the record behind the app's back.
    sqlx::raw_sql(
        "ALTER TABLE signed_item_versions DISABLE TRIGGER signed_item_versions_append_only; \
         UPDATE signed_item_versions SET content = jsonb_set(content, '{account}', '\"I saw nothing.\"'); \
         ALTER TABLE signed_item_versions ENABLE TRIGGER signed_item_versions_append_only;",
    )
    .execute(&s.pool)
    .await
    .expect("tampering");
    let check = send(
        s.state.clone(),
        get(&format!("/signatures/{signature}"), None),
    )
    .await;
    assert_eq!(check.status, StatusCode::OK);
    assert!(check.body.contains("Changed."), "{}", check.body);
}

/// A 60-unit qualification (1,500 criteria) lists its units first: only the criteria of
/// the units chosen are on the page, and a refused form keeps them shown.
#[tokio::test]
async fn a_big_qualification_shows_the_criteria_of_the_units_chosen() {
    let w = crate::helpers::world_with(&crate::helpers::big("BIG/1")).await;
    let hash = attest::web::auth::password::hash("a-long-witness-pass").expect("hash");
    attest::db::users::set_password_hash(&w.pool, w.learner.id, &hash)
        .await
        .expect("password");
    let state = AppState::new(w.pool.clone());
    let cookie = signed_in(state.clone(), &w.learner.email, "a-long-witness-pass").await;
    let loaded = attest::db::qualifications::load_version(&w.pool, w.version.version_id)
        .await
        .expect("version");
    let uri = format!("/enrolments/{}/witness", w.enrolment.id);
    let first = send(state.clone(), get(&uri, Some(&cookie))).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("Which units did the witness see?"));
    assert_eq!(
        first.body.matches("name=\"criterion\"").count(),
        0,
        "no criteria yet"
    );
    assert!(
        first.body.len() < 60_000,
        "a page of units: {} bytes",
        first.body.len()
    );

    let (unit, other) = (loaded.unit_ids[3], loaded.unit_ids[4]);
    let chosen = send(
        state.clone(),
        get(&format!("{uri}?unit={unit}"), Some(&cookie)),
    )
    .await;
    assert_eq!(
        chosen.body.matches("name=\"criterion\"").count(),
        25,
        "one unit's criteria"
    );
    assert!(chosen.body.contains(&format!(
        "id=\"unit-{unit}\" name=\"unit\" type=\"checkbox\" value=\"{unit}\" checked"
    )));
    assert!(!chosen.body.contains(&format!("value=\"{other}\" checked")));

    // Refused for want of a witness: the unit stays shown with its tick kept.
    let criterion = loaded.criterion_ids[3 * 25];
    let refused = send(
        state.clone(),
        form_post_as(
            &cookie,
            &uri,
            &format!("to=&unit={unit}&criterion={criterion}"),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body.matches("name=\"criterion\"").count(), 25);
    assert!(refused
        .body
        .contains(&format!("value=\"{criterion}\" checked")));
}

/// The request's email goes out through the worker to a real SMTP server: to the
/// witness, with the link on the public address (the asker is never shown it); once
/// sent, the outbox forgets the link and the log says it was emailed.
#[tokio::test]
async fn the_worker_emails_the_witness_their_link_on_the_public_address() {
    use crate::mail_queue::{app, wait_until, Mail, PUBLIC, QUICK};
    use crate::smtp::{Answer, SmtpServer};
    let s = scene().await;
    let server = SmtpServer::start(Answer::Accept).await;
    let running = app(&s.pool, Mail::Smtp(server.url.clone()), QUICK).await;
    let asked = send(
        running.state.clone(),
        form_post_as(
            &s.learner,
            &format!("/enrolments/{}/witness", s.enrolment),
            &format!(
                "to=email&witness_name=Wendy+Witness&witness_email=wendy%40northwind.test&criterion={}",
                s.criterion
            ),
        ),
    )
    .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let page = send(
        running.state.clone(),
        get(
            asked.location.as_deref().expect("back to the list"),
            Some(&s.learner),
        ),
    )
    .await;

    let message = wait_until("the witness's email", || async {
        server.received().into_iter().next()
    })
    .await;
    assert_eq!(message.rcpt_to, ["wendy@northwind.test"]);
    let parsed = mail_parser::MessageParser::default()
        .parse(&message.data)
        .expect("parses");
    assert_eq!(
        parsed.subject(),
        Some("Please confirm what you saw Amira Hassan do")
    );
    let text = parsed.body_text(0).expect("text").into_owned();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/witness/"))
        .expect("a link in the email")
        .to_string();
    assert!(link.starts_with(&format!("{PUBLIC}/witness/")), "{link}");
    assert!(text.contains("works once, for 14 days"), "{text}");
    let token = link.rsplit('/').next().expect("token");
    assert!(!page.body.contains(token), "the asker never sees the link");
    let path = link.trim_start_matches(PUBLIC);
    let open = send(running.state.clone(), get(path, None)).await;
    assert_eq!(
        open.status,
        StatusCode::OK,
        "the emailed link opens the page"
    );

    wait_until("the link forgotten and the sending logged", || async {
        let kept: Option<String> =
            sqlx::query_scalar("SELECT link FROM mail_outbox WHERE kind = 'witness_request'")
                .fetch_one(&s.pool)
                .await
                .expect("the message");
        let logged: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM activity_log WHERE action = 'witness request emailed'",
        )
        .fetch_one(&s.pool)
        .await
        .expect("log");
        (kept.is_none() && logged == 1).then_some(())
    })
    .await;
    running.stop().await;
}

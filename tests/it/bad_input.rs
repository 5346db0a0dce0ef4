//! Bad input never gives a 500 (SPEC §9, issue 11 point 4): every form's text field
//! refuses control characters (a NUL reached PostgreSQL, which answered with an error
//! page), names its length limit and, for names and emails, refuses line breaks; each
//! refusal answers 422 with the field's message beside it, keeps what was typed and
//! writes nothing. Download names lose direction-changing characters, and a malformed
//! id in an address is the site's 404 page.
use std::sync::Arc;

use attest::db::{centres, credentials, evidence, password_tokens, qualifications, users};
use attest::demo::load::DEMO_PASSWORD;
use attest::domain::Status;
use attest::jobs::spawn;
use attest::web::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sqlx::PgPool;
use uuid::Uuid;

use crate::credentials::{fast, number, wait_for};
use crate::http::{enc, form_post, form_post_as, get, multipart_as, send, Reply};
use crate::portfolio::{demo, Demo};

/// The tables a form could write to. Each is read whole (as text, in order), so a
/// changed value shows as well as a new row.
const TABLES: [&str; 14] = [
    "users",
    "user_roles",
    "password_tokens",
    "enrolments",
    "enrolment_status_history",
    "evidence",
    "evidence_files",
    "ticks",
    "iqa_decisions",
    "credentials",
    "audits",
    "activity_log",
    "qualification_versions",
    "bulk_audits",
];

/// What the tables hold: equal before and after means nothing was written.
async fn snapshot(pool: &PgPool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for table in TABLES {
        let digest: String = sqlx::query_scalar(&format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .expect("snapshot");
        out.push((table, digest));
    }
    out
}

fn state(pool: &PgPool) -> AppState {
    AppState::new(pool.clone())
}

async fn page(pool: &PgPool, cookie: &str, uri: &str) -> Reply {
    send(state(pool), get(uri, Some(cookie))).await
}

async fn post(pool: &PgPool, cookie: &str, uri: &str, form: &str) -> Reply {
    send(state(pool), form_post_as(cookie, uri, form)).await
}

/// One bad value for one field, and the message that field must show for it.
struct Case {
    field: &'static str,
    value: String,
    message: &'static str,
}

fn case(field: &'static str, value: impl Into<String>, message: &'static str) -> Case {
    Case {
        field,
        value: value.into(),
        message,
    }
}

/// The answer to a refused form: 422, the message beside its field, the value kept,
/// and the database as it was.
async fn refused(pool: &PgPool, before: &[(&str, String)], c: &Case, r: &Reply, kept: bool) {
    let what = format!(
        "{} = {:?}",
        c.field,
        c.value.chars().take(40).collect::<String>()
    );
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {}",
        r.body
    );
    assert!(
        r.body.contains(&format!(
            "id=\"{}-error\" class=\"error-message\"><span class=\"visually-hidden\">Error:</span> {}",
            c.field, c.message
        )),
        "{what}: the message {:?} beside the field in {}",
        c.message,
        r.body
    );
    if kept {
        assert!(r.body.contains(&c.value), "{what}: what was typed is kept");
    }
    assert_eq!(snapshot(pool).await, before, "{what}: nothing was written");
}

const NAME_NUL: &str = "The name cannot contain control characters";
const NAME_LONG: &str = "The name must be 200 characters or fewer";
const NAME_LINES: &str = "The name cannot contain line breaks";
const EMAIL_NUL: &str = "The email address cannot contain control characters";
const EMAIL_LONG: &str = "The email address must be 254 characters or fewer";
const EMAIL_LINES: &str = "The email address cannot contain line breaks";

/// An address of `n` characters.
fn long_email(n: usize) -> String {
    format!("{}@example.org", "a".repeat(n - "@example.org".len()))
}

#[tokio::test]
async fn adding_a_person_refuses_control_characters_line_breaks_and_overlong_names_and_emails() {
    let d = demo().await;
    let admin = d.as_("admin").await;
    let cases = [
        case("display_name", "Ann\0Smith", NAME_NUL),
        case("display_name", "Ann\u{1b}Smith", NAME_NUL),
        case("display_name", "a".repeat(201), NAME_LONG),
        case("display_name", "Ann\nSmith", NAME_LINES),
        case("display_name", "Ann\r\nSmith", NAME_LINES),
        case("email", "ann\0@example.org", EMAIL_NUL),
        case("email", "ann@example.org\0", EMAIL_NUL),
        case("email", long_email(255), EMAIL_LONG),
        case("email", "ann@example.org\nBcc: b@example.org", EMAIL_LINES),
    ];
    let before = snapshot(&d.pool).await;
    for c in &cases {
        let (mut name, mut email) = ("Ann Smith".to_string(), "ann@example.org".to_string());
        match c.field {
            "display_name" => name = c.value.clone(),
            _ => email = c.value.clone(),
        }
        let form = format!(
            "display_name={}&email={}&kind=learner",
            enc(&name),
            enc(&email)
        );
        let r = post(&d.pool, &admin, "/admin/people", &form).await;
        refused(&d.pool, &before, c, &r, true).await;
    }
    // At the limits, in any script, the person is added.
    let form = format!(
        "display_name={}&email={}&kind=learner",
        enc(&"ō".repeat(200)),
        enc(&long_email(254))
    );
    let r = post(&d.pool, &admin, "/admin/people", &form).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn signing_in_with_a_control_character_or_line_break_in_the_email_names_the_field() {
    let d = demo().await;
    let cases = [
        case("email", "ben@demo.attest.test\0", EMAIL_NUL),
        case("email", "ben\u{7f}@demo.attest.test", EMAIL_NUL),
        case("email", "ben@demo.attest.test\nx", EMAIL_LINES),
        case("email", long_email(255), EMAIL_LONG),
    ];
    let before = snapshot(&d.pool).await;
    for c in &cases {
        let form = format!("email={}&password={}", enc(&c.value), enc(DEMO_PASSWORD));
        let r = send(state(&d.pool), form_post("/login", &form, "192.0.2.7")).await;
        refused(&d.pool, &before, c, &r, true).await;
    }
    // A NUL in the password is only a wrong password.
    let form = format!(
        "email={}&password={}",
        enc("ben@demo.attest.test"),
        enc("wrong\0password")
    );
    let r = send(state(&d.pool), form_post("/login", &form, "192.0.2.7")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

/// Ben's evidence form, posted with these fields (and a kind).
async fn add_evidence(d: &Demo, cookie: &str, title: &str, description: &str) -> Reply {
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let fields = [
        ("title", title),
        ("description", description),
        ("kind", "document"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    send(state(&d.pool), multipart_as(cookie, &uri, &fields, &[])).await
}

#[tokio::test]
async fn adding_evidence_refuses_control_characters_line_breaks_in_the_title_and_overlong_text() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let cases = [
        case(
            "title",
            "Feedback\0log",
            "The title cannot contain control characters",
        ),
        case(
            "title",
            "a".repeat(201),
            "The title must be 200 characters or fewer",
        ),
        case(
            "title",
            "Feedback\nlog",
            "The title cannot contain line breaks",
        ),
        case(
            "description",
            "What I did\0",
            "The description cannot contain control characters",
        ),
        case(
            "description",
            "a\u{8}b",
            "The description cannot contain control characters",
        ),
        case(
            "description",
            "a".repeat(10_001),
            "The description must be 10,000 characters or fewer",
        ),
    ];
    let before = snapshot(&d.pool).await;
    for c in &cases {
        let r = match c.field {
            "title" => add_evidence(&d, &ben, &c.value, "").await,
            _ => add_evidence(&d, &ben, "Feedback log", &c.value).await,
        };
        refused(&d.pool, &before, c, &r, true).await;
    }
    // A description keeps its tabs and line ends.
    let r = add_evidence(
        &d,
        &ben,
        "Feedback log",
        "Monday:\tcalls\r\nTuesday:\temails",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let items = evidence::list_for_enrolment(&d.pool, d.ben.id)
        .await
        .expect("list");
    assert!(items
        .iter()
        .any(|e| e.description == "Monday:\tcalls\r\nTuesday:\temails"));
}

/// Ben's unit 201, as the IQA's form names it.
async fn unit_201(d: &Demo) -> String {
    let v = qualifications::load_version(&d.pool, d.ben.version_id)
        .await
        .expect("version");
    let ix = v.qualification.unit_index("201").expect("unit 201");
    format!("unit:{}", v.unit_ids[ix])
}

#[tokio::test]
async fn iqa_feedback_refuses_control_characters_and_overlong_text() {
    let d = demo().await;
    let iqa = d.as_("iqa").await;
    let target = unit_201(&d).await;
    let uri = format!("/enrolments/{}/iqa", d.ben.id);
    let cases = [
        case(
            "feedback",
            "Check 1.2\0",
            "Feedback cannot contain control characters",
        ),
        case(
            "feedback",
            "a".repeat(5_001),
            "Feedback must be 5,000 characters or fewer",
        ),
    ];
    let before = snapshot(&d.pool).await;
    for c in &cases {
        for verdict in ["agreed", "action_required"] {
            let form = format!(
                "target={}&verdict={verdict}&feedback={}",
                enc(&target),
                enc(&c.value)
            );
            let r = post(&d.pool, &iqa, &uri, &form).await;
            refused(&d.pool, &before, c, &r, true).await;
        }
    }
    let form = format!(
        "target={}&verdict=action_required&feedback={}",
        enc(&target),
        enc("Please check:\r\n\t1.2 has no witness statement")
    );
    let r = post(&d.pool, &iqa, &uri, &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// Zoë's credential, requested and generated: it awaits issue and can be cancelled.
async fn awaiting_issue(d: &Demo) -> Uuid {
    let centre = centres::find_by_slug(&d.pool, attest::demo::load::DEMO_CENTRE_SLUG)
        .await
        .expect("query")
        .expect("centre");
    let person = |email: &'static str| {
        let pool = d.pool.clone();
        async move {
            users::find_by_email(&pool, centre.id, email)
                .await
                .expect("query")
                .expect("person")
                .id
        }
    };
    let (admin, zoe) = (
        person("admin@demo.attest.test").await,
        person("zoe@demo.attest.test").await,
    );
    let enrolment = attest::db::enrolments::list_for_centre(&d.pool, centre.id)
        .await
        .expect("enrolments")
        .into_iter()
        .find(|e| e.learner_id == zoe)
        .expect("Zoë's enrolment")
        .id;
    credentials::request(&d.pool, enrolment, admin, &number())
        .await
        .expect("requested");
    // A stand-in certificate: only the register entry matters here.
    let worker = spawn(d.pool.clone(), Arc::new(|_| Ok(b"%PDF".to_vec())), fast());
    wait_for(&d.pool, enrolment, Status::AwaitingIssue).await;
    worker.shutdown().await;
    enrolment
}

#[tokio::test]
async fn a_cancel_reason_refuses_control_characters_and_overlong_text() {
    let d = demo().await;
    let admin = d.as_("admin").await;
    let id = awaiting_issue(&d).await;
    let uri = format!("/enrolments/{id}/credential/cancel");
    let cases = [
        case(
            "reason",
            "Wrong learner\0",
            "The reason cannot contain control characters",
        ),
        case(
            "reason",
            "Wrong\u{1b}[2J learner",
            "The reason cannot contain control characters",
        ),
        case(
            "reason",
            "a".repeat(100_000),
            "The reason must be 5,000 characters or fewer",
        ),
        case(
            "reason",
            "a".repeat(5_001),
            "The reason must be 5,000 characters or fewer",
        ),
    ];
    let before = snapshot(&d.pool).await;
    for c in &cases {
        let r = post(&d.pool, &admin, &uri, &format!("reason={}", enc(&c.value))).await;
        refused(&d.pool, &before, c, &r, true).await;
    }
    let reason = "Issued to the wrong learner.\r\n\tSee the centre's log.";
    let r = post(&d.pool, &admin, &uri, &format!("reason={}", enc(reason))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let register = credentials::list_for_enrolment(&d.pool, id)
        .await
        .expect("register");
    assert_eq!(register[0].cancel_reason.as_deref(), Some(reason));
}

#[tokio::test]
async fn a_new_password_refuses_control_characters_and_counts_characters_not_bytes() {
    let d = demo().await;
    let user = d.ben.learner_id;
    let token = password_tokens::create(&d.pool, user).await.expect("token");
    let uri = format!("/set-password/{token}");
    let cases = [
        case(
            "password",
            "long enough\0password",
            "Your password cannot contain control characters",
        ),
        case(
            "password",
            "a".repeat(1_025),
            "Your password must be 1,024 characters or fewer",
        ),
    ];
    let before = snapshot(&d.pool).await;
    for c in &cases {
        let form = format!("password={}&confirm={}", enc(&c.value), enc(&c.value));
        let r = send(state(&d.pool), form_post(&uri, &form, "192.0.2.8")).await;
        // A password is never shown again.
        refused(&d.pool, &before, c, &r, false).await;
    }
    // 1,024 characters of two bytes each are within the limit.
    let long = "ō".repeat(1_024);
    let form = format!("password={}&confirm={}", enc(&long), enc(&long));
    let r = send(state(&d.pool), form_post(&uri, &form, "192.0.2.8")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn an_imported_qualification_with_a_control_character_is_refused_at_its_path() {
    let d = demo().await;
    let admin = d.as_("admin").await;
    let toml = attest::demo::DEMO_QUALIFICATION
        .replace("ATT/CS2/1", "ATT/CS2/9")
        .replacen("title = \"", "title = \"\\u0000", 1);
    assert!(toml.contains("\\u0000"));
    let boundary = "attest-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.toml\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{toml}\r\n--{boundary}--\r\n"
    );
    let request = Request::post("/admin/qualifications")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, &admin)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .expect("request");
    let before = snapshot(&d.pool).await;
    let r = send(state(&d.pool), request).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("<code>qualification.title</code>: must not contain control characters"),
        "{}",
        r.body
    );
    assert_eq!(snapshot(&d.pool).await, before, "nothing was imported");
}

#[tokio::test]
async fn choices_filters_and_searches_with_a_nul_are_only_not_a_choice() {
    let d = demo().await;
    let admin = d.as_("admin").await;
    let ben = d.as_("ben").await;
    let e = d.ben.id;
    let before = snapshot(&d.pool).await;
    for (cookie, uri, form) in [
        (
            &admin,
            "/admin/enrolments".to_string(),
            "learner=%00&major=%00&assessor=%00",
        ),
        (
            &admin,
            format!("/admin/enrolments/{e}/assignments"),
            "assessor=%00&iqa=%00",
        ),
        (
            &admin,
            "/admin/audits".to_string(),
            "scope=%00&qualification=%00",
        ),
        (
            &admin,
            "/admin/audits".to_string(),
            "scope=chosen&enrolment=%00",
        ),
        (&admin, format!("/enrolments/{e}/major"), "major=%00"),
        (
            &admin,
            "/admin/people".to_string(),
            "display_name=A&email=a%40b.org&kind=%00&role=%00",
        ),
        (
            &ben,
            format!("/enrolments/{e}/evidence/{e}/ticks"),
            "criterion=%00&action=%00",
        ),
    ] {
        let r = post(&d.pool, cookie, &uri, form).await;
        assert!(
            r.status.is_client_error(),
            "POST {uri} {form}: {} {}",
            r.status,
            r.body
        );
    }
    assert_eq!(snapshot(&d.pool).await, before, "nothing was written");
    for (cookie, uri) in [
        (
            &admin,
            "/admin/enrolments?q=%00&status=%00&sort=%00".to_string(),
        ),
        (
            &admin,
            format!("/enrolments/{e}/activity?kind=%00&who=%00&from=%00&to=%00"),
        ),
        (&admin, "/verify?number=%00".to_string()),
        (&admin, "/login?next=%00".to_string()),
    ] {
        let r = page(&d.pool, cookie, &uri).await;
        assert_ne!(
            r.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "GET {uri}: {}",
            r.body
        );
    }
}

/// A file name that shows as "reportexe.pdf" but is "report\u{202E}fdp.exe".
const REVERSED: &str = "report\u{202E}fdp.exe";

fn disposition(r: &Reply) -> String {
    r.headers
        .get(header::CONTENT_DISPOSITION)
        .expect("a download")
        .to_str()
        .expect("ASCII")
        .to_string()
}

#[tokio::test]
async fn download_names_drop_direction_and_control_characters() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let base = format!("/enrolments/{}/evidence", d.ben.id);

    // Uploaded now: the name is cleaned as it is kept.
    let fields = [
        ("title", "Report"),
        ("kind", "document"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    let files: [(&str, &[u8]); 1] = [(REVERSED, b"%PDF-1.4 a report")];
    let r = send(state(&d.pool), multipart_as(&ben, &base, &fields, &files)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let item = r.location.expect("to the item");
    let evidence_id: Uuid = item.rsplit('/').next().expect("id").parse().expect("uuid");
    let kept = evidence::list_files(&d.pool, evidence_id)
        .await
        .expect("files");
    assert_eq!(kept[0].file_name, "reportfdp.exe", "kept cleaned");

    // Kept before names were cleaned: cleaned as it is shown and served.
    let key = Uuid::new_v4().simple().to_string();
    let files = state(&d.pool).files.clone();
    std::fs::create_dir_all(files.dir()).expect("the file store");
    std::fs::write(files.dir().join(&key), b"MZ").expect("an old file's bytes");
    let stored = evidence::add_file(
        &d.pool,
        &evidence::NewFile {
            evidence_id,
            file_name: "\u{2066}invoice\u{200F}\u{202D}gpj.js\u{2069}",
            content_type: "application/octet-stream",
            size_bytes: 2,
            storage_key: &key,
            sha256: None,
            uploaded_by: d.ben.learner_id,
        },
    )
    .await
    .expect("an old file");

    let shown = page(&d.pool, &ben, &item).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains(">reportfdp.exe</a>"), "{}", shown.body);
    assert!(shown.body.contains(">invoicegpj.js</a>"), "{}", shown.body);
    for c in ['\u{202E}', '\u{202D}', '\u{2066}', '\u{2069}', '\u{200F}'] {
        assert!(!shown.body.contains(c), "{c:?} is not shown");
    }

    for (file, name) in [(kept[0].id, "reportfdp.exe"), (stored.id, "invoicegpj.js")] {
        let r = page(&d.pool, &ben, &format!("{item}/files/{file}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            disposition(&r),
            format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}")
        );
    }
}

#[tokio::test]
async fn a_malformed_id_in_an_address_is_the_not_found_page() {
    let d = demo().await;
    let admin = d.as_("admin").await;
    let e = d.ben.id;
    let bad = [
        "not-a-uuid",
        "%FF",
        "00000000-0000-0000-0000-00000000000g",
        "%00",
    ];
    for id in bad {
        for uri in [
            format!("/enrolments/{id}"),
            format!("/enrolments/{id}/progress"),
            format!("/enrolments/{id}/matrix"),
            format!("/enrolments/{id}/activity.csv"),
            format!("/enrolments/{e}/evidence/{id}"),
            format!("/enrolments/{e}/evidence/{id}/files/{id}"),
            format!("/enrolments/{e}/evidence/{id}/accept/learner"),
            format!("/admin/enrolments/{id}/assignments"),
            format!("/admin/qualifications/{id}"),
            format!("/admin/audits/{id}"),
            format!("/.well-known/attest/centres/{id}"),
        ] {
            let r = page(&d.pool, &admin, &uri).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {uri}: {}", r.body);
            assert!(r.body.contains("Page not found"), "GET {uri}: {}", r.body);
        }
        for uri in [
            format!("/enrolments/{id}/credential/cancel"),
            format!("/enrolments/{id}/major"),
            format!("/enrolments/{e}/iqa/{id}/closed"),
            format!("/enrolments/{e}/evidence/{id}/ticks"),
        ] {
            let r = post(&d.pool, &admin, &uri, "reason=x").await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "POST {uri}: {}", r.body);
            assert!(r.body.contains("Page not found"), "POST {uri}: {}", r.body);
        }
    }
    // Segments that are not UTF-8 once decoded: numbers, keys and file names too.
    for uri in ["/verify/%FF", "/verify/%FF/status", "/static/%FF"] {
        let r = page(&d.pool, &admin, uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {uri}: {}", r.body);
        assert!(r.body.contains("Page not found"), "GET {uri}: {}", r.body);
    }
}

/// A tick no page sends: a criterion that is no id, a field left out, an action or a
/// layer that is none. Each answers the site's 400 page with what was wrong (it was
/// axum's plain-text 422 for a bad field and the not-found page for a bad action), in
/// place too, and nothing is written.
#[tokio::test]
async fn a_tick_no_page_sends_is_refused_with_its_reason_and_writes_nothing() {
    let d = demo().await;
    let assessor = d.as_("assessor").await;
    let item: Uuid =
        sqlx::query_scalar("SELECT id FROM evidence WHERE enrolment_id = $1 ORDER BY id LIMIT 1")
            .bind(d.ben.id)
            .fetch_one(&d.pool)
            .await
            .expect("an item");
    let criterion: Uuid =
        sqlx::query_scalar("SELECT id FROM criteria WHERE version_id = $1 ORDER BY id LIMIT 1")
            .bind(d.ben.version_id)
            .fetch_one(&d.pool)
            .await
            .expect("a criterion");
    let uri = format!("/enrolments/{}/evidence/{item}/ticks", d.ben.id);
    let before = snapshot(&d.pool).await;
    let cases = [
        (
            "criterion=nonsense&action=tick".to_string(),
            "The value sent for “criterion” was not understood.",
        ),
        (
            format!("criterion={criterion}"),
            "The value sent for “action” was not understood.",
        ),
        (
            format!("criterion={criterion}&action=explode"),
            "The action must be “tick” or “untick”.",
        ),
        (
            format!("criterion={criterion}&action=tick&layer=boss"),
            "The layer must be “learner”, “trainee_assessor” or “assessor”.",
        ),
    ];
    for (form, reason) in &cases {
        for in_place in [false, true] {
            let mut request = form_post_as(&assessor, &uri, form);
            if in_place {
                request
                    .headers_mut()
                    .insert("hx-request", "true".parse().expect("header"));
            }
            let r = send(state(&d.pool), request).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{form}: {}", r.body);
            assert!(
                r.body.contains("That request could not be read") && r.body.contains(reason),
                "{form}: the reason {reason:?} in {}",
                r.body
            );
        }
    }
    assert_eq!(snapshot(&d.pool).await, before, "nothing was written");
    // The same form, well made, ticks: the refusals were about the values alone.
    let r = post(
        &d.pool,
        &assessor,
        &uri,
        &format!("criterion={criterion}&action=tick"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

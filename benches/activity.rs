//! The activity log of one enrolment with 100,000 entries, through the whole handler
//! (`Router::oneshot`, signed in as the assessor): the newest page, a page from the
//! middle of the log (`?before=`), a filtered page, and the CSV export of every entry,
//! streamed. Reports each page's size, and the CSV's size and how much the process's
//! resident memory grew while it streamed (its peak, from /proc/self/status).
//!
//! `cargo test --benches` runs this once as a smoke test; then (no `--bench` argument)
//! the log has 2,000 entries so that the set-up stays short.
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use attest::db::{centres, enrolments, users};
use attest::demo::load::{load_if_empty, DEMO_CENTRE_SLUG, DEMO_PASSWORD};
use attest::web::{router, AppState};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use futures_util::StreamExt;
use tower::ServiceExt;
use uuid::Uuid;

const ENTRIES: i64 = 100_000;
const SMOKE_ENTRIES: i64 = 2_000;

struct Fixture {
    app: Router,
    cookie: String,
    enrolment: Uuid,
    assessor: Uuid,
    /// An entry in the middle of the log, where an older page starts.
    middle: i64,
}

/// The demo centre, and `n` entries on Ben's enrolment in one statement: every kind of
/// change, by attest, the learner and the assessor in turn, a minute apart.
async fn fixture(n: i64) -> Fixture {
    let pool = attest::testing::test_pool_with(4).await;
    load_if_empty(&pool).await.expect("demo centre");
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("query")
        .expect("demo centre");
    let person = |email: &'static str| {
        let pool = pool.clone();
        async move {
            users::find_by_email(&pool, centre.id, email)
                .await
                .expect("query")
                .expect("person")
                .id
        }
    };
    let (ben, assessor) = (
        person("ben@demo.attest.test").await,
        person("assessor@demo.attest.test").await,
    );
    let enrolment = enrolments::list_for_centre(&pool, centre.id)
        .await
        .expect("enrolments")
        .into_iter()
        .find(|e| e.learner_id == ben)
        .expect("Ben's enrolment")
        .id;
    let start = Instant::now();
    sqlx::query(
        "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, at, action, detail) \
         SELECT $1, $2, CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN $3 ELSE $4 END, \
                now() - ($5 - i) * interval '1 minute', \
                (ARRAY['tick', 'untick', 'accept all', 'evidence added', 'audit', \
                       'credential issued', 'IQA decision', 'tick'])[1 + i % 8], \
                jsonb_build_object('evidence', gen_random_uuid(), 'criterion', gen_random_uuid(), \
                                   'layer', 'assessor') \
         FROM generate_series(1, $5) AS i",
    )
    .bind(centre.id)
    .bind(enrolment)
    .bind(ben)
    .bind(assessor)
    .bind(n)
    .execute(&pool)
    .await
    .expect("seeding the log");
    // As autovacuum would have by the time anyone reads the log: statistics for the planner.
    sqlx::query("VACUUM (ANALYZE) activity_log")
        .execute(&pool)
        .await
        .expect("vacuum");
    let middle: i64 = sqlx::query_scalar(
        "SELECT id FROM activity_log WHERE enrolment_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1",
    )
    .bind(enrolment)
    .bind(n / 2)
    .fetch_one(&pool)
    .await
    .expect("an entry in the middle");
    eprintln!(
        "fixture: {n} activity entries on one enrolment in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let app = router(AppState::new(pool));
    let cookie = sign_in(&app, "assessor@demo.attest.test").await;
    Fixture {
        app,
        cookie,
        enrolment,
        assessor,
        middle,
    }
}

async fn sign_in(app: &Router, email: &str) -> String {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("password", DEMO_PASSWORD)
        .finish();
    let mut request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .expect("request");
    let addr: SocketAddr = "192.0.2.1:40000".parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(addr));
    let response = app.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed in");
    response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string()
}

/// The body's size, read to its end as a browser would.
async fn fetch(f: &Fixture, uri: &str) -> usize {
    let request = Request::get(uri)
        .header(header::COOKIE, &f.cookie)
        .body(Body::empty())
        .expect("request");
    let response = f.app.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    let mut body = response.into_body().into_data_stream();
    let mut bytes = 0;
    while let Some(chunk) = body.next().await {
        bytes += chunk.expect("a chunk").len();
    }
    bytes
}

/// Resident memory, and its peak since the last `reset_peak`, in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak resident memory the kernel reports (VmHWM) to the current size.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn bench(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { ENTRIES } else { SMOKE_ENTRIES };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let f = rt.block_on(fixture(n));
    let base = format!("/enrolments/{}/activity", f.enrolment);
    let pages = [
        ("newest page", base.clone()),
        (
            "older page (middle of the log)",
            format!("{base}?before={}", f.middle),
        ),
        (
            "filtered page (one person's unticks)",
            format!("{base}?kind=untick&who={}", f.assessor),
        ),
        ("filtered page (attest's entries, one week)", {
            let today = time::OffsetDateTime::now_utc().date();
            format!(
                "{base}?who=attest&from={}&to={today}",
                today - time::Duration::days(6)
            )
        }),
        // The worst case: nothing matches, so the whole log is read to say so.
        ("filtered page (no match)", format!("{base}?kind=email")),
    ];
    for (name, uri) in &pages {
        let start = Instant::now();
        let bytes = rt.block_on(fetch(&f, uri));
        eprintln!(
            "{name}: {bytes} bytes of HTML, first request {:.1} ms",
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
    let csv = format!("/enrolments/{}/activity.csv", f.enrolment);
    let (before, _) = memory();
    reset_peak();
    let start = Instant::now();
    let bytes = rt.block_on(fetch(&f, &csv));
    let wall = start.elapsed().as_secs_f64();
    let (after, peak) = memory();
    eprintln!(
        "CSV of {n} entries: {bytes} bytes in {wall:.2} s; resident memory {before} KiB before, \
         peak {peak} KiB while streaming (+{} KiB), {after} KiB after",
        peak.saturating_sub(before)
    );

    let mut group = c.benchmark_group(format!("activity log of {n} entries"));
    group
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for (name, uri) in &pages {
        group.bench_function(*name, |b| b.iter(|| rt.block_on(fetch(&f, uri))));
    }
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("CSV of every entry", |b| {
        b.iter(|| rt.block_on(fetch(&f, &csv)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

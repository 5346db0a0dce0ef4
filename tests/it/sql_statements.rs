//! The SQL statements a page runs do not grow with the size of the qualification, the
//! number of evidence items or the number of learners: each page is asked for against a
//! small centre and a much bigger one, counting every statement sqlx runs, and the
//! counts must be equal.
//!
//! sqlx reports each statement it runs as one `sqlx::query` tracing event (its
//! `QueryLogger`, on every path: pool, connection or transaction, and the session
//! store's own queries; COMMIT and RELEASE SAVEPOINT count, BEGIN is queued without it)
//! when the connection's statement logging is on. The counting subscriber is this thread's default, and `#[tokio::test]` runs
//! the router and the pool's work on this thread.
use std::sync::{Arc, Mutex};

use attest::db::version_cache::VersionCache;
use attest::demo::bench::{self, BenchFixture, BENCH_PASSWORD};
use attest::domain::qualification::{Major, Qualification};
use attest::testing::test_pool;
use attest::web::AppState;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions, PgPool};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use crate::helpers::{group, major, units};
use crate::http::{form_post_as, get, send, signed_in};

/// Collects the statements sqlx reports.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        if let Ok(mut all) = self.0.lock() {
            all.push(text.0);
        }
    }
}

/// The event's summary (its first words) and, when that is not all of it, the whole
/// statement.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "summary" | "db.statement") {
            self.0.push_str(&format!("{value:?} ").replace("\\n", " "));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if matches!(field.name(), "summary" | "db.statement") {
            self.0.push_str(value.trim());
            self.0.push(' ');
        }
    }
}

impl Statements {
    fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut all| std::mem::take(&mut *all))
            .unwrap_or_default()
    }
}

/// `n` units of `criteria` criteria, and `majors` majors over overlapping units.
fn qualification(n: usize, criteria: usize, majors: usize) -> Qualification {
    let majors: Vec<Major> = (0..majors)
        .map(|m| {
            let first = m * n / (majors + 1);
            major(&format!("M{m}"), vec![group("Core", (first..n).collect())])
        })
        .collect();
    Qualification {
        code: format!("Q/{n}"),
        title: format!("{n}-unit certificate"),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(n, criteria),
        majors,
    }
}

struct Portfolio {
    pool: PgPool,
    fixture: BenchFixture,
    /// Session cookies by role.
    cookies: Vec<(&'static str, String)>,
}

async fn portfolio(q: &Qualification, items: usize, learners: usize) -> Portfolio {
    let pool = test_pool().await;
    let fixture = bench::load(&pool, q, items).await.expect("fixture");
    // The rest of the assessor's caseload (and the IQA's sample, and the centre).
    bench::load_caseload(&pool, &fixture, learners - 1)
        .await
        .expect("caseload");
    // The harness turns statement logging off; the counter needs it on (sqlx's defaults:
    // every statement at DEBUG, a slow one at WARN instead, one event either way).
    let options = (*pool.connect_options())
        .clone()
        .log_statements(log::LevelFilter::Debug)
        .log_slow_statements(log::LevelFilter::Warn, std::time::Duration::from_secs(1));
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("a pool that reports its statements");
    let mut cookies = Vec::new();
    for (role, email) in bench::ACCOUNTS {
        let cookie = signed_in(AppState::new(pool.clone()), email, BENCH_PASSWORD).await;
        cookies.push((role, cookie));
    }
    Portfolio {
        pool,
        fixture,
        cookies,
    }
}

impl Portfolio {
    fn cookie(&self, role: &str) -> &str {
        self.cookies
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, c)| c.as_str())
            .expect("a cookie for every role")
    }

    /// (name, request) for every request measured, in a fixed order.
    fn requests(&self) -> Vec<(String, Request<Body>)> {
        let e = format!("/enrolments/{}", self.fixture.enrolment_id);
        let item = format!("{e}/evidence/{}", self.fixture.evidence_id);
        let mut out: Vec<(String, Request<Body>)> = Vec::new();
        for (role, _) in bench::ACCOUNTS {
            out.push((format!("home as {role}"), get("/", Some(self.cookie(role)))));
        }
        for role in ["learner", "assessor", "iqa", "admin"] {
            out.push((
                format!("enrolment page as {role}"),
                get(&e, Some(self.cookie(role))),
            ));
        }
        for role in ["learner", "assessor", "trainee"] {
            out.push((
                format!("evidence page as {role}"),
                get(&item, Some(self.cookie(role))),
            ));
        }
        for (page, path) in [
            ("progress", format!("{e}/progress")),
            ("matrix", format!("{e}/matrix")),
            ("activity", format!("{e}/activity")),
            (
                "activity filtered",
                format!("{e}/activity?kind=tick&who=attest&from=2026-01-01&before=999999999"),
            ),
            ("audit", format!("{e}/audit")),
        ] {
            for role in ["learner", "assessor"] {
                out.push((
                    format!("{page} as {role}"),
                    get(&path, Some(self.cookie(role))),
                ));
            }
        }
        // The reports and dashboards, plain and filtered, sorted by a kept figure, and
        // their CSV (streamed by a task of its own, whose statements count too).
        for (name, role, path) in [
            ("caseload", "assessor", "/caseload"),
            (
                "caseload filtered",
                "assessor",
                "/caseload?q=Bench&claims=1&sort=claims&size=25",
            ),
            ("caseload CSV", "assessor", "/caseload.csv?sort=progress"),
            ("sample", "iqa", "/sample?sort=activity"),
            ("sample dashboard", "iqa", "/sample/dashboard"),
            (
                "centre enrolments",
                "admin",
                "/admin/enrolments?status=not_yet_achieved&page=2&size=25",
            ),
            ("centre CSV", "admin", "/admin/enrolments.csv"),
            ("centre dashboard", "admin", "/admin/dashboard"),
            // The people list and the centre's log, plain, filtered and as CSV: the
            // same statements for 3 people as for 31.
            ("people", "admin", "/admin/people"),
            (
                "people filtered",
                "admin",
                "/admin/people?q=bench&role=learner&status=active&sort=roles&size=25&page=2",
            ),
            (
                "people CSV",
                "admin",
                "/admin/people.csv?sort=added&dir=asc",
            ),
            ("centre log", "admin", "/admin/log"),
            (
                "centre log filtered",
                "admin",
                "/admin/log?kind=people&who=attest&from=2026-01-01&before=999999999",
            ),
            ("centre log CSV", "admin", "/admin/log.csv?kind=other"),
        ] {
            out.push((
                format!("{name} as {role}"),
                get(path, Some(self.cookie(role))),
            ));
        }
        let criterion = self.fixture.free_criteria[0];
        for role in ["learner", "assessor"] {
            for action in ["tick", "untick"] {
                out.push((
                    format!("{action} POST as {role}"),
                    form_post_as(
                        self.cookie(role),
                        &format!("{item}/ticks"),
                        &format!("criterion={criterion}&action={action}"),
                    ),
                ));
            }
        }
        out
    }

    /// Each request's statements, as rendered by a server that kept no page yet, then
    /// again as served once kept. Every request runs once before on another server (the
    /// same pool), so that a connection opened for the first time does not count its
    /// set-up, and so that the qualification version is loaded already. The servers keep
    /// versions in their own cache: in the process's, the tests running beside this one
    /// could push the version out between two requests, and the count would include its
    /// load.
    async fn count(&self, statements: &Statements) -> Vec<(String, StatusCode, Vec<String>)> {
        let versions: &'static VersionCache = Box::leak(Box::default());
        let server = || {
            AppState::from(attest::web::Services {
                versions,
                ..attest::web::Services::new(self.pool.clone())
            })
        };
        for (_, request) in self.requests() {
            send(server(), request).await;
        }
        let state = server();
        let mut counted = Vec::new();
        for (name, request) in self.requests() {
            statements.take();
            let reply = send(state.clone(), request).await;
            counted.push((name, reply.status, statements.take()));
        }
        // The same again, each request asked twice in a row and counted the second time:
        // a page as served once kept (a tick between two asks would render it again).
        let again = self.requests().into_iter().zip(self.requests());
        for ((name, first), (_, second)) in again {
            send(state.clone(), first).await;
            statements.take();
            let reply = send(state.clone(), second).await;
            counted.push((format!("{name} (kept)"), reply.status, statements.take()));
        }
        counted
    }
}

#[tokio::test]
async fn pages_run_as_many_statements_for_a_big_portfolio_as_for_a_small_one() {
    let statements = Statements::default();
    let subscriber = tracing_subscriber::registry().with(statements.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    // 2 units of 5 criteria, 1 major, 2 items, 2 learners; against 24 units of 25
    // criteria (600 criteria in 5 outcomes each), 3 majors, 40 items, 30 learners.
    let small = portfolio(&qualification(2, 5, 1), 2, 2).await;
    let big = portfolio(&qualification(24, 25, 3), 40, 30).await;
    assert!(big.fixture.tick_count > 20 * small.fixture.tick_count);

    let small_counts = small.count(&statements).await;
    let big_counts = big.count(&statements).await;
    println!("statements per request (small / big portfolio):");
    for ((name, status, s), (_, big_status, b)) in small_counts.iter().zip(&big_counts) {
        println!("  {name:<28} {:>3} / {:>3}", s.len(), b.len());
        let expected = if name.contains("POST") {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::OK
        };
        assert_eq!((*status, *big_status), (expected, expected), "{name}");
        assert!(
            s.iter().any(|q| q.contains("tower_sessions")),
            "{name}: the session's check is counted: {s:#?}"
        );
        assert_eq!(
            s.len(),
            b.len(),
            "{name}: the big portfolio ran other statements.\nsmall: {s:#?}\nbig: {b:#?}"
        );
    }
    let of = |name: &str| {
        small_counts
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, s)| s.len())
            .expect("measured")
    };
    // A kept page costs the one query that checks the session and reads the enrolment
    // (its revision); rendering it took more, which shows the counter sees them all.
    for page in [
        "evidence page as learner",
        "progress as learner",
        "matrix as assessor",
    ] {
        assert_eq!(of(&format!("{page} (kept)")), 1, "{page}");
        assert!(of(page) > 1, "{page}");
    }
    // A tick after the viewer's pages is one statement that checks the session, ticks,
    // logs and marks the audit due (`web::portfolio::remembered`).
    assert_eq!(of("tick POST as assessor"), 1);
}

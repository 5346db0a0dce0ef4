//! Database outages (issue 11, point 9): while PostgreSQL is down `/readyz` and the
//! pages answer 503 with a clear page; once it is back, the first writes succeed on
//! new connections instead of failing on the ones the restart closed.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use attest::db::{centres, enrolments, evidence, qualifications, users};
use attest::demo::load::DEMO_CENTRE_SLUG;
use attest::pg::{ClusterOptions, LocalCluster};
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

use crate::serve::{free_port, interrupt_and_wait, start_with};

/// One request on its own connection; the answer, or `None` if there was none within
/// the guard.
fn request(port: u16, text: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    s.write_all(text.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn get(port: u16, path: &str, cookie: &str) -> String {
    request(
        port,
        &format!("GET {path} HTTP/1.0\r\nHost: localhost\r\nCookie: {cookie}\r\n\r\n"),
    )
    .unwrap_or_default()
}

fn post(port: u16, path: &str, cookie: &str, form: &str) -> String {
    request(
        port,
        &format!(
            "POST {path} HTTP/1.0\r\nHost: localhost\r\nCookie: {cookie}\r\nSec-Fetch-Site: same-origin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
    .unwrap_or_default()
}

fn sign_in(port: u16, email: &str) -> String {
    let body = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        attest::demo::load::DEMO_PASSWORD
    );
    let reply = post(port, "/login", "", &body);
    assert!(reply.starts_with("HTTP/1.0 303"), "{reply}");
    reply
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string()
}

fn status_of(reply: &str) -> &str {
    reply.get(9..12).unwrap_or("none")
}

/// An item of Ben's and a criterion of his qualification, for a tick.
async fn tick_target(cluster: &LocalCluster) -> (Uuid, Uuid, Uuid) {
    let pool = sqlx::PgPool::connect_with(cluster.connect_options("attest"))
        .await
        .expect("pool");
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("q")
        .expect("centre");
    let ben = users::find_by_email(&pool, centre.id, "ben@demo.attest.test")
        .await
        .expect("q")
        .expect("ben");
    let enrolment = enrolments::list_for_centre(&pool, centre.id)
        .await
        .expect("enrolments")
        .into_iter()
        .find(|e| e.learner_id == ben.id)
        .expect("ben's enrolment");
    let item = evidence::list_for_enrolment(&pool, enrolment.id)
        .await
        .expect("evidence")
        .remove(0)
        .id;
    let criterion = qualifications::load_version(&pool, enrolment.version_id)
        .await
        .expect("version")
        .criterion_ids[0];
    pool.close().await;
    (enrolment.id, item, criterion)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_down_pages_answer_503_and_the_first_writes_after_it_returns_succeed()
{
    let root = attest::testing::test_dir().join(format!("outage-{}", Uuid::new_v4().simple()));
    let dir = root.join("pg");
    let opts = ClusterOptions::for_tests();
    let mut cluster = tokio::task::block_in_place(|| LocalCluster::start(&dir, &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    cluster.ensure_database("attest").await.expect("database");
    let url = format!(
        "postgres://{}@localhost/attest?host={}&port={}",
        attest::pg::SUPERUSER,
        cluster.socket_dir().display(),
        cluster.port()
    );
    let data = root.join("data");
    let port = free_port();
    let (mut child, _) = tokio::task::block_in_place(|| {
        start_with(
            &[
                "--data-dir",
                data.to_str().expect("utf-8"),
                "serve",
                "--demo",
                "--addr",
                &format!("127.0.0.1:{port}"),
            ],
            Some(&url),
            &[],
        )
    });
    let (enrolment, item, criterion) = tick_target(&cluster).await;
    let ticks = format!("/enrolments/{enrolment}/evidence/{item}/ticks");
    let tick = |action: &str| format!("criterion={criterion}&action={action}");

    tokio::task::block_in_place(|| {
        let admin = sign_in(port, "admin@demo.attest.test");
        let assessor = sign_in(port, "assessor@demo.attest.test");
        // Connections in use before the outage: several of the pool's (pages read
        // together) and the tick writer's.
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    let page = get(port, "/admin/qualifications", &admin);
                    assert_eq!(status_of(&page), "200", "{page}");
                });
            }
        });
        let r = post(port, &ticks, &assessor, &tick("tick"));
        assert!(matches!(status_of(&r), "200" | "303"), "{r}");

        // Down: readiness says so, and a page says so plainly.
        cluster.stop().expect("stopping PostgreSQL");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut ready = String::new();
        while Instant::now() < deadline {
            ready = request(port, "GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .unwrap_or_default();
            if status_of(&ready) == "503" {
                break;
            }
        }
        assert_eq!(status_of(&ready), "503", "{ready}");
        let page = get(port, "/admin/qualifications", &admin);
        assert_eq!(status_of(&page), "503", "{page}");
        assert!(
            page.contains("The service is unavailable for a moment; try again shortly."),
            "{page}"
        );

        // Back: the first writes of each kind succeed.
        cluster = LocalCluster::start(&dir, &opts).unwrap_or_else(|e| panic!("{e}"));
        let r = post(port, "/admin/settings", &admin, "auto_audit=on");
        assert_eq!(status_of(&r), "303", "a centre setting: {r}");
        let r = post(port, &ticks, &assessor, &tick("untick"));
        assert!(matches!(status_of(&r), "200" | "303"), "a tick: {r}");
        let ready =
            request(port, "GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap_or_default();
        assert_eq!(status_of(&ready), "200", "{ready}");
        interrupt_and_wait(&mut child);
    });
    let mut conn = cluster
        .connect_options("attest")
        .connect()
        .await
        .expect("connect");
    let changes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activity_log WHERE action = 'centre settings changed'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("activity");
    assert_eq!(changes, 1, "the setting was saved once");
    conn.close().await.expect("close");
    tokio::task::block_in_place(|| cluster.stop()).expect("stop");
    let _ = std::fs::remove_dir_all(&root);
}

/// The app's pool on its own: connections opened before a restart are not lent out
/// dead once the app has seen the database fail (as `/readyz` or any statement does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_connections_from_before_a_restart_are_replaced_before_a_write() {
    let root = attest::testing::test_dir().join(format!("restart-{}", Uuid::new_v4().simple()));
    let dir = root.join("pg");
    let opts = ClusterOptions::for_tests();
    let mut cluster = tokio::task::block_in_place(|| LocalCluster::start(&dir, &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    let pool = attest::startup::pool_options()
        .max_connections(3)
        .connect_with(cluster.connect_options("postgres"))
        .await
        .expect("pool");
    sqlx::query("CREATE TABLE marks (n int)")
        .execute(&pool)
        .await
        .expect("table");
    // Three connections, all idle in the pool.
    let held = futures_util::future::try_join_all((0..3).map(|_| pool.acquire()))
        .await
        .expect("connections");
    drop(held);
    // They go back to the pool in the background (sqlx checks each on its way). While
    // they do, sqlx's idle count can read as usize::MAX (its size less those in use,
    // counted apart), so wait for exactly three rather than for "at least".
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.num_idle() != 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(pool.num_idle(), 3);

    tokio::task::block_in_place(|| cluster.stop()).expect("stop");
    let failed = sqlx::query("SELECT 1").execute(&pool).await;
    let failed = attest::db::DbError::from(failed.expect_err("the database is down"));
    assert!(failed.is_unavailable(), "{failed}");

    cluster = tokio::task::block_in_place(|| LocalCluster::start(&dir, &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    for n in 0..3 {
        sqlx::query("INSERT INTO marks VALUES ($1)")
            .bind(n)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("write {n} after the restart: {e}"));
    }
    pool.close().await;
    tokio::task::block_in_place(|| cluster.stop()).expect("stop");
    let _ = std::fs::remove_dir_all(&root);
}

//! `attest serve` as the README runs it: with no DATABASE_URL it starts and stops its
//! own PostgreSQL under the data folder; with one, it starts nothing.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use attest::testing::{test_dir, test_pool};

use crate::helpers::database_url;

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn http_get(port: u16, path: &str) -> Option<String> {
    http_request(
        port,
        &format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n"),
    )
}

pub(crate) fn http_request(port: u16, request: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Signs in with the printed demo login; returns the session cookie.
/// Signs in as the demo admin of the server on `port` and adds the learner Ana Pérez
/// (ana@example.es), whose set-password email is queued; returns the reply.
pub(crate) fn add_ana_as_demo_admin(port: u16) -> String {
    let cookie = sign_in_as_demo_admin(port);
    let body = "display_name=Ana+P%C3%A9rez&email=ana%40example.es&kind=learner";
    http_request(
        port,
        &format!(
            "POST /admin/people HTTP/1.0\r\nHost: localhost\r\nSec-Fetch-Site: same-origin\r\n\
             Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .expect("a reply")
}

pub(crate) fn sign_in_as_demo_admin(port: u16) -> String {
    let body = format!(
        "email=admin%40demo.attest.test&password={}",
        attest::demo::load::DEMO_PASSWORD
    );
    let request = format!(
        "POST /login HTTP/1.0\r\nHost: localhost\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = http_request(port, &request).expect("sign in");
    assert!(reply.starts_with("HTTP/1.0 303"), "{reply}");
    reply
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string()
}

/// Starts serve and waits for its "serving" line (the cluster and migrations come first).
fn start(args: &[&str], database_url: Option<&str>) -> (Child, Vec<String>) {
    start_with(args, database_url, &[])
}

/// `start` with extra environment variables for the process.
pub(crate) fn start_with(
    args: &[&str],
    database_url: Option<&str>,
    env: &[(&str, &str)],
) -> (Child, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_attest"));
    cmd.args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let mut child = cmd.spawn().expect("start attest serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let done = line.starts_with("attest is serving on");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

pub(crate) fn interrupt_and_wait(child: &mut Child) {
    // SAFETY: kill(2) with a pid we spawned; no memory is involved.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "serve exits cleanly on Ctrl-C: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("serve did not stop within 20 s of Ctrl-C");
}

fn postmaster_running(data: &Path) -> bool {
    std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        // SAFETY: signal 0 only checks that the process exists.
        .is_some_and(|pid| unsafe { libc::kill(pid, 0) } == 0)
}

/// The roles the server's connections to its own cluster use (read as the superuser,
/// through the socket and port its `postmaster.pid` names).
fn server_roles(pg: &Path) -> Vec<String> {
    use sqlx::{ConnectOptions, Connection};
    let pid_file = std::fs::read_to_string(pg.join("postmaster.pid")).expect("postmaster.pid");
    let port: u16 = pid_file
        .lines()
        .nth(3)
        .and_then(|l| l.trim().parse().ok())
        .expect("the port on line 4");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut conn = sqlx::postgres::PgConnectOptions::new_without_pgpass()
            .socket(pg)
            .port(port)
            .username(attest::pg::SUPERUSER)
            .database("postgres")
            .connect()
            .await
            .expect("connect as the superuser");
        let roles: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT usename::text FROM pg_stat_activity \
             WHERE datname = 'attest' AND backend_type = 'client backend' ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .expect("who is connected");
        let _ = conn.close().await;
        roles
    })
}

#[test]
fn serve_without_database_url_runs_its_own_cluster_and_stops_it() {
    let data = test_dir().join(format!("serve-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let data_arg = data.to_str().expect("utf-8 path");
    let (mut child, lines) = start(
        &["--data-dir", data_arg, "serve", "--demo", "--addr", &addr],
        None,
    );
    assert!(
        lines.iter().any(|l| l == "Loaded the demo centre."),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("admin@demo.attest.test")),
        "logins printed: {lines:?}"
    );
    let health = http_get(port, "/healthz").expect("healthz answers");
    assert!(
        health.starts_with("HTTP/1.0 200") && health.ends_with("ok"),
        "{health}"
    );
    let ready = http_get(port, "/readyz").expect("readyz answers");
    assert!(ready.ends_with("ready"), "{ready}");
    let signed_out = http_get(port, "/").expect("home answers");
    assert!(signed_out.starts_with("HTTP/1.0 303"), "{signed_out}");
    let cookie = sign_in_as_demo_admin(port);
    let home = http_request(
        port,
        &format!("GET / HTTP/1.0\r\nHost: localhost\r\nCookie: {cookie}\r\n\r\n"),
    )
    .expect("home");
    assert!(home.contains("Northgate College (demo)"), "{home}");
    let pg = data.join("postgres");
    assert!(
        postmaster_running(&pg),
        "the cluster runs under the data folder"
    );
    assert_eq!(
        server_roles(&pg),
        [attest::startup::APP_ROLE],
        "the server works as its own role, not as the superuser"
    );
    interrupt_and_wait(&mut child);
    assert!(
        !postmaster_running(&pg),
        "Ctrl-C stops the cluster it started"
    );

    // The next run reuses the data.
    let (mut child, lines) = start(
        &["--data-dir", data_arg, "serve", "--demo", "--addr", &addr],
        None,
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "The demo centre is already loaded."),
        "{lines:?}"
    );
    interrupt_and_wait(&mut child);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn serve_with_database_url_starts_no_cluster() {
    let pool = test_pool().await;
    let url = database_url(&pool);
    let data = test_dir().join(format!("serve-url-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let data_arg = data.to_str().expect("utf-8").to_string();
    let (mut child, _) = tokio::task::spawn_blocking(move || {
        start(
            &["--data-dir", &data_arg, "serve", "--addr", &addr],
            Some(&url),
        )
    })
    .await
    .expect("join");
    let ready = tokio::task::spawn_blocking(move || http_get(port, "/readyz"))
        .await
        .expect("join");
    assert!(ready.expect("readyz").ends_with("ready"));
    assert!(!data.join("postgres").exists(), "no local cluster was made");
    tokio::task::spawn_blocking(move || interrupt_and_wait(&mut child))
        .await
        .expect("join");
}

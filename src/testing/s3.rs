//! A real S3-compatible server for the storage tests: moto's standalone server (PyPI
//! `moto[s3]` with flask), installed by `scripts/test` into `target/moto`, started once per test
//! process like the PostgreSQL cluster, and tied to the process so that it cannot
//! outlive it. Each test gets a bucket of its own.
//!
//! Panics instead of returning errors: a harness that cannot start has nothing to test.
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::storage::{Bucket, BucketAddress};

/// Any key works with moto; these are what the servers under test get from their
/// environment.
pub const ACCESS_KEY: &str = "attest-test";
pub const SECRET_KEY: &str = "attest-test-secret";

struct Server {
    endpoint: url::Url,
    // Kept so that the child is not reaped early; it dies with us (death signal).
    _child: std::process::Child,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The moto server's program: `ATTEST_MOTO_SERVER`, or the one `scripts/test` installs.
fn program() -> PathBuf {
    std::env::var_os("ATTEST_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/moto/bin/moto_server")
        })
}

fn start() -> Server {
    let program = program();
    assert!(
        program.exists(),
        "{} is missing: the storage tests need moto's S3 server. `scripts/test` installs it \
         (python3 -m venv target/moto && target/moto/bin/pip install -r tests/storage/requirements.txt), \
         or set ATTEST_MOTO_SERVER",
        program.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut cmd = Command::new(&program);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = crate::pg::spawn::spawn_tied(cmd, libc::SIGKILL)
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
    // Ready once it takes connections (a Python start takes a second or two).
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "moto's S3 server did not start on port {port} within a minute"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        endpoint: format!("http://127.0.0.1:{port}")
            .parse()
            .expect("an address"),
        _child: child,
    }
}

/// The test server's address (started on first use).
pub fn endpoint() -> url::Url {
    SERVER.get_or_init(start).endpoint.clone()
}

/// A new, empty bucket of this test's own, and its address.
pub async fn bucket() -> (Bucket, BucketAddress) {
    let address = BucketAddress {
        name: format!("t-{}", uuid::Uuid::new_v4().simple()),
        endpoint: endpoint(),
        region: "eu-west-2".into(),
        path_style: true,
    };
    let bucket =
        Bucket::with_credentials(&address, rusty_s3::Credentials::new(ACCESS_KEY, SECRET_KEY))
            .expect("a bucket address");
    bucket.create_if_missing().await.expect("a test bucket");
    (bucket, address)
}

/// The storage setting that names `address` (`--storage`).
pub fn setting(address: &BucketAddress) -> String {
    format!(
        "s3://{}?endpoint={}&region={}",
        address.name,
        address.endpoint.as_str().trim_end_matches('/'),
        address.region
    )
}

//! Test harness for the integration tests and benches: one throw-away PostgreSQL
//! cluster per process, a template database with every migration applied, and a fresh
//! database cloned from it for each `test_pool()` call, so tests never share state.
//!
//! Panics instead of returning errors: a harness that cannot start has nothing to test.
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

use crate::pg::{ClusterOptions, LocalCluster};

pub mod s3;

const TEMPLATE: &str = "attest_template";
const DIR_PREFIX: &str = "attest-test-";

struct Harness {
    cluster: LocalCluster,
    dir: PathBuf,
    // Held (with its flock) for the life of the process: marks `dir` as in use.
    _lock: File,
}

static HARNESS: OnceLock<Harness> = OnceLock::new();

/// A pool to a new, fully migrated database of its own.
pub async fn test_pool() -> PgPool {
    test_pool_with(5).await
}

/// `test_pool` with a chosen pool size (for tests that need many connections at once).
pub async fn test_pool_with(max_connections: u32) -> PgPool {
    let cluster = cluster();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = cluster
        .connect_options("postgres")
        .connect()
        .await
        .expect("connecting to the test cluster");
    sqlx::query(&format!(
        "CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY"
    ))
    .execute(&mut admin)
    .await
    .expect("cloning the template database");
    let _ = admin.close().await;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .connect_with(crate::db::tuned(cluster.connect_options(&name)))
        .await
        .expect("connecting to the test database")
}

/// A new, empty database on the test cluster (no migration applied): its name.
pub async fn empty_database() -> String {
    let name = format!("m_{}", uuid::Uuid::new_v4().simple());
    let mut admin = cluster()
        .connect_options("postgres")
        .connect()
        .await
        .expect("connecting to the test cluster");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("an empty database");
    let _ = admin.close().await;
    name
}

/// The process's test cluster, started (with its template) on first use.
pub fn cluster() -> &'static LocalCluster {
    &HARNESS.get_or_init(start).cluster
}

/// Starting needs async work (migrations) but callers may be on any runtime, or
/// several at once (each `#[tokio::test]` has its own); a private thread and runtime
/// keep the one-time set-up independent of them. `OnceLock` makes concurrent first
/// callers wait for it.
fn start() -> Harness {
    std::thread::spawn(|| {
        let root = test_root();
        remove_stale_dirs(&root);
        let dir = root.join(format!("{DIR_PREFIX}{}", std::process::id()));
        // A dead process with our pid may have left this behind, unlocked.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the test cluster folder");
        let lock = File::create(dir.join("lock")).expect("creating the lock file");
        // SAFETY: flock on an fd we own.
        let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        assert!(locked, "could not lock {}", dir.display());

        let cluster = LocalCluster::start(&dir.join("pg"), &ClusterOptions::for_tests())
            .unwrap_or_else(|e| panic!("starting the test PostgreSQL cluster: {e}"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building a runtime for the test set-up");
        rt.block_on(create_template(&cluster));
        register_cleanup(&cluster, &dir);
        Harness {
            cluster,
            dir,
            _lock: lock,
        }
    })
    .join()
    .unwrap_or_else(|_| panic!("the test database set-up failed (see the panic above)"))
}

/// Overrides where test clusters live.
pub const TEST_DIR_ENV: &str = "ATTEST_TEST_TMPDIR";

/// Every test database is a ~300-file copy of the template, and on some virtual disks
/// creating a file costs most of a millisecond: on tmpfs a clone takes a tenth of the
/// time. So prefer /dev/shm when it has room (containers often give it only 64 MB),
/// else the temporary folder.
fn test_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(TEST_DIR_ENV) {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    if free_bytes(shm).is_some_and(|free| free >= 2 << 30) {
        return shm.to_path_buf();
    }
    std::env::temp_dir()
}

fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we pass; the path is NUL-terminated.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut st) != 0 || libc::access(c.as_ptr(), libc::W_OK) != 0 {
            return None;
        }
        Some(st.f_bavail as u64 * st.f_frsize as u64)
    }
}

async fn create_template(cluster: &LocalCluster) {
    let mut admin = cluster
        .connect_options("postgres")
        .connect()
        .await
        .expect("connecting");
    sqlx::query(&format!("CREATE DATABASE {TEMPLATE}"))
        .execute(&mut admin)
        .await
        .expect("creating the template database");
    let mut conn = cluster
        .connect_options(TEMPLATE)
        .connect()
        .await
        .expect("connecting");
    crate::db::migrate(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("applying migrations to the template: {e}"));
    // Cloning refuses while anyone is connected to the source database.
    conn.close().await.expect("closing");
    admin.close().await.expect("closing");
}

/// Test folders of processes that have gone: their lock is free and their pid dead.
/// Both checks, because pids are reused quickly in containers.
fn remove_stale_dirs(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() as i32 || crate::pg::pid_alive(pid) {
            continue;
        }
        let dir = entry.path();
        let free = File::open(dir.join("lock"))
            // SAFETY: flock on an fd we own; closing it releases the lock.
            .map(|f| unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0)
            .unwrap_or(true);
        if free {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

static CLEANUP: OnceLock<(i32, PathBuf)> = OnceLock::new();

/// The cluster lives in a static and is never dropped; at exit, stop it and remove its
/// folder so that test runs do not fill the disk. (If we are killed instead, the death
/// signal stops the server and the next run removes the folder.)
fn register_cleanup(cluster: &LocalCluster, dir: &Path) {
    let Some(pid) = cluster.pid() else { return };
    if CLEANUP.set((pid as i32, dir.to_path_buf())).is_ok() {
        // SAFETY: registering a plain extern "C" function.
        unsafe {
            libc::atexit(cleanup_at_exit);
        }
    }
}

extern "C" fn cleanup_at_exit() {
    let Some((pid, dir)) = CLEANUP.get() else {
        return;
    };
    // SAFETY: signalling and reaping our own child.
    unsafe {
        libc::kill(*pid, libc::SIGINT);
        let mut status = 0;
        for _ in 0..2000 {
            if libc::waitpid(*pid, &mut status, libc::WNOHANG) != 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Where this process's test cluster lives.
pub fn test_dir() -> &'static Path {
    &HARNESS.get_or_init(start).dir
}

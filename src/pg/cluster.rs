//! Starting, reusing and stopping a local cluster.
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection};

use super::os::{is_postgres_on, pid_alive, RunAs};
use super::spawn::spawn_tied;
use super::{ClusterOptions, PgBinaries, PgError};

/// The cluster's superuser; with `trust` auth on a private socket it needs no password.
pub const SUPERUSER: &str = "attest";

/// `sun_path` is 108 bytes including the terminating NUL.
const SOCKET_PATH_MAX: usize = 107;

/// A running server. Stopped (fast shutdown) by `stop` or on drop.
#[derive(Debug)]
pub struct LocalCluster {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

/// Gives the role named by the setting `app.role` what the superuser owns in the app's
/// schemas (objects of extensions stay theirs).
const HAND_OVER: &str = r#"
DO $$
DECLARE
    app text := current_setting('app.role');
    r record;
BEGIN
    FOR r IN SELECT n.nspname FROM pg_namespace n
             WHERE n.nspname IN ('public', 'tower_sessions') AND n.nspowner <> (SELECT oid FROM pg_roles WHERE rolname = app)
    LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, app);
    END LOOP;
    FOR r IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('public', 'tower_sessions')
               AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
               AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = app)
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e')
               -- A sequence owned by a column moves with its table.
               AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
                               WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %I.%I OWNER TO %I',
            CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                           WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
            r.nspname, r.relname, app);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname IN ('public', 'tower_sessions')
               AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = app)
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                               AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.f, app);
    END LOOP;
END;
$$
"#;

/// `value` as an SQL string literal.
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The socket file for `port` in `dir` must fit in a unix socket address.
pub fn check_socket_path(dir: &Path, port: u16) -> Result<PathBuf, PgError> {
    let path = dir.join(format!(".s.PGSQL.{port}"));
    let len = path.as_os_str().len();
    if len > SOCKET_PATH_MAX {
        return Err(PgError::SocketPathTooLong {
            path: path.display().to_string(),
            len,
            max: SOCKET_PATH_MAX,
        });
    }
    Ok(path)
}

impl LocalCluster {
    /// Start the cluster in `dir` (its data folder, which also holds the socket and
    /// `postgres.log`), creating it first if the folder is empty or missing.
    pub fn start(dir: &Path, opts: &ClusterOptions) -> Result<LocalCluster, PgError> {
        let bins = PgBinaries::find()?;
        let run_as = RunAs::detect()?;
        std::fs::create_dir_all(dir).map_err(PgError::io(format!("creating {}", dir.display())))?;
        let dir = dir
            .canonicalize()
            .map_err(PgError::io(format!("resolving {}", dir.display())))?;
        check_socket_path(&dir, opts.port)?;
        run_as.prepare_dir(&dir)?;

        if dir.join("PG_VERSION").is_file() {
            check_version(&bins, &dir)?;
        } else {
            let mut entries = std::fs::read_dir(&dir)
                .map_err(PgError::io(format!("reading {}", dir.display())))?;
            if entries.next().is_some() {
                return Err(PgError::NotACluster { dir });
            }
            initdb(&bins, &dir, &run_as, opts)?;
        }
        clear_stale_lock(&dir, opts.port)?;
        if opts.durable {
            super::tuning::ensure_write_settings(&bins, &dir, &run_as)?;
        }

        let log_path = dir.join("postgres.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(PgError::io(format!("opening {}", log_path.display())))?;
        run_as.chown(&log_path)?;
        let log_err = log
            .try_clone()
            .map_err(PgError::io("duplicating the log handle"))?;

        let mut cmd = Command::new(&bins.postgres);
        cmd.arg("-D").arg(&dir).arg("-k").arg(&dir);
        cmd.arg("-p").arg(opts.port.to_string());
        for (name, value) in opts.server_settings() {
            cmd.arg("-c").arg(format!("{name}={value}"));
        }
        cmd.stdin(Stdio::null()).stdout(log).stderr(log_err);
        prepare(&mut cmd, &run_as);
        // SIGINT is PostgreSQL's fast shutdown: sessions end, and it shuts down cleanly.
        let child = spawn_tied(cmd, libc::SIGINT)
            .map_err(PgError::io(format!("starting {}", bins.postgres.display())))?;

        let mut cluster = LocalCluster {
            dir,
            port: opts.port,
            child: Some(child),
        };
        cluster.wait_ready(opts.start_timeout)?;
        Ok(cluster)
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.dir)
            .port(self.port)
            .username(SUPERUSER)
            .database(database)
            .ssl_mode(PgSslMode::Disable)
            .application_name("attest")
            // Statement logging at INFO floods test output and the server log alike.
            .disable_statement_logging()
    }

    /// `connect_options` as `role` instead of the superuser.
    pub fn connect_options_as(&self, database: &str, role: &str) -> PgConnectOptions {
        self.connect_options(database).username(role)
    }

    /// The database `name` for the app, owned by `role`, a login role that is not a
    /// superuser and may create neither roles nor databases: made if missing. A database
    /// made by an earlier version (owned, with everything in it, by the superuser) is
    /// handed over: the database, its schemas `public` and `tower_sessions`, and every
    /// table, sequence, view and function in them that no extension owns.
    pub async fn ensure_app_database(&self, name: &str, role: &str) -> Result<(), PgError> {
        let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut conn = self.connect_options("postgres").connect().await?;
        let role_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(role)
                .fetch_one(&mut conn)
                .await?;
        if !role_exists {
            let sql = format!(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION",
                quoted(role)
            );
            sqlx::query(&sql).execute(&mut conn).await?;
        }
        let db_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        let sql = if db_exists {
            format!("ALTER DATABASE {} OWNER TO {}", quoted(name), quoted(role))
        } else {
            format!("CREATE DATABASE {} OWNER {}", quoted(name), quoted(role))
        };
        sqlx::query(&sql).execute(&mut conn).await?;
        conn.close().await?;

        let mut db = self.connect_options(name).connect().await?;
        sqlx::query(&format!("SET app.role = {}", quote_literal(role)))
            .execute(&mut db)
            .await?;
        sqlx::query(HAND_OVER).execute(&mut db).await?;
        db.close().await?;
        Ok(())
    }

    /// Create `name` unless it exists; returns whether it was created.
    pub async fn ensure_database(&self, name: &str) -> Result<bool, PgError> {
        let mut conn = self.connect_options("postgres").connect().await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
            sqlx::query(&sql).execute(&mut conn).await?;
        }
        conn.close().await?;
        Ok(!exists)
    }

    /// Fast shutdown, waiting for the server to exit.
    pub fn stop(&mut self) -> Result<(), PgError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if child.try_wait().ok().flatten().is_some() {
            return Ok(());
        }
        signal(&child, libc::SIGINT);
        if wait_timeout(&mut child, Duration::from_secs(60)).is_none() {
            // Immediate shutdown: the server recovers on its next start.
            signal(&child, libc::SIGQUIT);
            child
                .wait()
                .map_err(PgError::io("waiting for PostgreSQL to stop"))?;
        }
        Ok(())
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), PgError> {
        let deadline = Instant::now() + timeout;
        let pid_file = self.dir.join("postmaster.pid");
        loop {
            let Some(child) = self.child.as_mut() else {
                return Err(self.start_failed("the server is gone".into()));
            };
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(self.start_failed(format!("it exited: {status}")));
            }
            if is_ready(&pid_file, child.id()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let reason = format!("not ready after {} s", timeout.as_secs());
                let _ = self.stop();
                return Err(self.start_failed(reason));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn start_failed(&self, reason: String) -> PgError {
        PgError::StartFailed {
            reason,
            log: log_tail(&self.log_path()),
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!("stopping PostgreSQL: {e}");
        }
    }
}

/// The postmaster writes "ready" on line 8 of its pid file once it accepts connections
/// (the signal `pg_ctl` waits for).
fn is_ready(pid_file: &Path, pid: u32) -> bool {
    let Ok(text) = std::fs::read_to_string(pid_file) else {
        return false;
    };
    let lines: Vec<&str> = text.lines().collect();
    lines.len() >= 8 && lines[0].trim() == pid.to_string() && lines[7].trim() == "ready"
}

/// The server's programs read no PG* variables we did not choose, and run from `/`
/// because the postgres user may not be able to enter our working directory.
pub(super) fn prepare(cmd: &mut Command, run_as: &RunAs) {
    for var in [
        "PGDATA",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGOPTIONS",
        "PGPASSWORD",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C").current_dir("/");
    run_as.apply(cmd);
}

fn initdb(
    bins: &PgBinaries,
    dir: &Path,
    run_as: &RunAs,
    opts: &ClusterOptions,
) -> Result<(), PgError> {
    let mut cmd = Command::new(&bins.initdb);
    cmd.arg("-D").arg(dir);
    cmd.args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C"]);
    if !opts.durable {
        cmd.arg("--no-sync");
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    prepare(&mut cmd, run_as);
    let child = spawn_tied(cmd, libc::SIGTERM)
        .map_err(PgError::io(format!("running {}", bins.initdb.display())))?;
    let out = child
        .wait_with_output()
        .map_err(PgError::io("waiting for initdb"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(PgError::InitdbFailed {
        status: out.status.to_string(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    })
}

/// A cluster made by another major version cannot be started by these programs.
fn check_version(bins: &PgBinaries, dir: &Path) -> Result<(), PgError> {
    let found = std::fs::read_to_string(dir.join("PG_VERSION"))
        .map_err(PgError::io("reading PG_VERSION"))?
        .trim()
        .to_string();
    let out = Command::new(&bins.postgres)
        .arg("--version")
        .output()
        .map_err(PgError::io(format!(
            "running {} --version",
            bins.postgres.display()
        )))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "postgres (PostgreSQL) 15.18 (Debian ...)": the major version is the first number.
    let have = text
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.split('.').next())
        .unwrap_or("")
        .to_string();
    if !have.is_empty() && have != found {
        return Err(PgError::VersionMismatch {
            dir: dir.to_path_buf(),
            found,
            have,
        });
    }
    Ok(())
}

/// PostgreSQL ignores a pid file whose process is dead, but in containers a dead
/// server's pid is often reused by an unrelated process; then it would refuse to start.
fn clear_stale_lock(dir: &Path, port: u16) -> Result<(), PgError> {
    let pid_file = dir.join("postmaster.pid");
    let Ok(text) = std::fs::read_to_string(&pid_file) else {
        return Ok(());
    };
    let pid: i32 = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    if pid_alive(pid) && is_postgres_on(pid, dir) {
        return Err(PgError::AlreadyRunning {
            dir: dir.to_path_buf(),
            pid,
        });
    }
    if pid_alive(pid) {
        let socket_lock = dir.join(format!(".s.PGSQL.{port}.lock"));
        for f in [pid_file, socket_lock] {
            match std::fs::remove_file(&f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(PgError::io(format!("removing stale {}", f.display()))(e)),
            }
        }
    }
    Ok(())
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: signalling our own child, whose pid cannot be reused before we reap it.
    unsafe {
        libc::kill(child.id() as libc::pid_t, sig);
    }
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn log_tail(path: &Path) -> String {
    const TAIL: u64 = 4000;
    let Ok(mut f) = File::open(path) else {
        return String::from("(no log)");
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_path_limit_is_107_bytes() {
        // "/.s.PGSQL.5432" is 14 bytes, so a 93-byte folder is the longest that fits.
        let fits = PathBuf::from(format!("/{}", "a".repeat(92)));
        assert_eq!(fits.as_os_str().len(), 93);
        let p = check_socket_path(&fits, 5432).unwrap();
        assert_eq!(p.as_os_str().len(), 107);

        let too_long = PathBuf::from(format!("/{}", "a".repeat(93)));
        match check_socket_path(&too_long, 5432) {
            Err(PgError::SocketPathTooLong { len, max, .. }) => assert_eq!((len, max), (108, 107)),
            other => panic!("expected SocketPathTooLong, got {other:?}"),
        }
    }

    #[test]
    fn ready_needs_our_pid_and_the_ready_status() {
        let dir = std::env::temp_dir().join(format!(
            "attest-unit-pidfile-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("postmaster.pid");
        let body = |pid: &str, status: &str| format!("{pid}\n/d\n1\n5432\n/d\n\n  1 2\n{status}\n");
        std::fs::write(&f, body("42", "starting")).unwrap();
        assert!(!is_ready(&f, 42));
        std::fs::write(&f, body("42", "ready   ")).unwrap();
        assert!(is_ready(&f, 42));
        assert!(!is_ready(&f, 43));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

//! A PostgreSQL cluster managed by this process: `attest serve` without a configured
//! database, the integration tests and the benches all run against one of these.
//!
//! The server listens on a unix socket inside its data folder only (no TCP), runs as the
//! `postgres` OS user when we are root (PostgreSQL refuses to run as root), and is tied
//! to our process so that it never outlives it.
use std::path::PathBuf;
use std::time::Duration;

mod binaries;
mod cluster;
mod os;
pub(crate) mod spawn;
mod tuning;

pub use binaries::{find_in, versioned_bin_dirs, PgBinaries, BINDIR_ENV};
pub use cluster::{check_socket_path, LocalCluster, SUPERUSER};
pub use os::{pid_alive, RunAs};

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(
        "the PostgreSQL server programs (initdb, postgres) were not found on PATH nor in \
         /usr/lib/postgresql/*/bin: install the PostgreSQL server \
         (for example `apt-get install postgresql`) or set {BINDIR_ENV}"
    )]
    NoBinaries,
    #[error(
        "the socket path {path} is {len} bytes, more than the {max} a unix socket allows: \
         use a shorter folder for the database"
    )]
    SocketPathTooLong {
        path: String,
        len: usize,
        max: usize,
    },
    #[error(
        "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` \
         OS user to run it as: install the PostgreSQL server package, which creates it"
    )]
    NoPostgresUser,
    #[error(
        "the `postgres` OS user cannot reach {dir}: the folder {blocked} does not let others \
         enter it (it needs o+x, e.g. `chmod o+x {blocked}`), or choose a folder elsewhere"
    )]
    Untraversable { dir: PathBuf, blocked: PathBuf },
    #[error("{dir} is not empty and is not a PostgreSQL data folder")]
    NotACluster { dir: PathBuf },
    #[error(
        "{dir} holds a PostgreSQL {found} cluster, but the server programs are version {have}"
    )]
    VersionMismatch {
        dir: PathBuf,
        found: String,
        have: String,
    },
    #[error("a PostgreSQL server (pid {pid}) is already running on {dir}; stop it first")]
    AlreadyRunning { dir: PathBuf, pid: i32 },
    #[error("initdb failed ({status}):\n{output}")]
    InitdbFailed { status: String, output: String },
    #[error("PostgreSQL did not start ({reason}); its log ends with:\n{log}")]
    StartFailed { reason: String, log: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database command failed: {0}")]
    Sql(#[from] sqlx::Error),
}

impl PgError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> PgError {
        let context = context.into();
        move |source| PgError::Io { context, source }
    }
}

/// How the cluster is set up and run.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Only names the socket file (`.s.PGSQL.<port>`): there is no TCP listener.
    pub port: u16,
    pub max_connections: u32,
    /// False trades crash safety for speed (fsync, synchronous commit and full page
    /// writes off; initdb without sync): right for throw-away test clusters only.
    pub durable: bool,
    /// Extra `-c name=value` settings.
    pub settings: Vec<(String, String)>,
    pub start_timeout: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            port: 5432,
            max_connections: 100,
            durable: true,
            settings: Vec::new(),
            start_timeout: Duration::from_secs(60),
        }
    }
}

impl ClusterOptions {
    pub fn for_tests() -> Self {
        ClusterOptions {
            max_connections: 200,
            durable: false,
            ..ClusterOptions::default()
        }
    }

    fn server_settings(&self) -> Vec<(String, String)> {
        let mut s = vec![
            ("listen_addresses".to_string(), String::new()),
            (
                "max_connections".to_string(),
                self.max_connections.to_string(),
            ),
            // Our stderr file is the log; a collector would write inside the data folder.
            ("logging_collector".to_string(), "off".to_string()),
        ];
        if !self.durable {
            for name in ["fsync", "synchronous_commit", "full_page_writes"] {
                s.push((name.to_string(), "off".to_string()));
            }
        }
        s.extend(self.settings.iter().cloned());
        s
    }
}

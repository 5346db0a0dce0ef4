//! Opening the database the app runs on: `DATABASE_URL` when set, otherwise a
//! project-local PostgreSQL cluster under the data folder that this process starts
//! and stops.
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::db::liveness;
use crate::pg::{ClusterOptions, LocalCluster};

pub(crate) const LOCAL_DATABASE: &str = "attest";
/// The role the app connects to its own cluster as (not a superuser).
pub const APP_ROLE: &str = "attest_app";

/// Connections to PostgreSQL in all, the kept ones (`db::leased`: session checks and
/// the tick writer) included: ATTEST_DB_CONNECTIONS, else twice this machine's cores and
/// one (at least 4) for everything else, plus the kept ones. More connections than cores
/// to run them only make the database's processes take turns: on 2 cores, 5 connections
/// served a portfolio page at 32 concurrent requests a fifth faster than 20 did. A limit
/// that leaves fewer than two beside the kept ones is raised to that, with a warning.
fn pool_size() -> u32 {
    let kept = crate::web::kept_connections();
    let least = kept + 2;
    match std::env::var("ATTEST_DB_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| *n > 0)
    {
        Some(n) if n < least => {
            tracing::warn!(
                asked = n,
                used = least,
                "ATTEST_DB_CONNECTIONS is below what the server keeps open; using {least}"
            );
            least
        }
        Some(n) => n,
        None => {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            u32::try_from(2 * cores + 1).unwrap_or(u32::MAX).max(4) + kept
        }
    }
}

/// How long a request waits for a connection before it answers 503: long enough to
/// ride out a burst, short enough that an outage is reported rather than waited out.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The app's pool. sqlx pings every connection before lending it out unless told not
/// to: a second round trip on every query. Instead a connection is pinged only when it
/// may have died unseen (idle a while, or from before the database last failed; see
/// `db::liveness`), so the first request after PostgreSQL restarts does not fail on a
/// connection the restart closed.
pub fn pool_options() -> PgPoolOptions {
    pool_options_for(pool_size())
}

/// `pool_options` for a server that may open `total` connections in all: the pool gets
/// what the kept connections (`web::kept_connections`, outside the pool) leave.
pub fn pool_options_for(total: u32) -> PgPoolOptions {
    let kept = crate::web::kept_connections();
    PgPoolOptions::new()
        .max_connections(total.saturating_sub(kept).max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if !liveness::should_check(meta.idle_for) {
                    return Ok(true);
                }
                match connection.ping().await {
                    Ok(()) => Ok(true),
                    Err(_) => {
                        liveness::failed();
                        // Closed; the pool opens another.
                        Ok(false)
                    }
                }
            })
        })
}

pub struct Database {
    pub pool: PgPool,
    /// The migrations this start applied (none when another process had).
    pub migrated: Vec<i64>,
    /// The cluster this process started, if any; stopped by `close`.
    cluster: Option<LocalCluster>,
}

impl Database {
    pub async fn open(data_dir: &Path) -> anyhow::Result<Database> {
        let (options, cluster) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => {
                let options: PgConnectOptions = url
                    .parse()
                    .context("DATABASE_URL is not a valid PostgreSQL address")?;
                (options, None)
            }
            _ => {
                let dir = data_dir.join("postgres");
                let cluster = tokio::task::spawn_blocking(move || {
                    LocalCluster::start(&dir, &ClusterOptions::default())
                })
                .await
                .context("starting the local PostgreSQL cluster")??;
                tracing::info!(dir = %cluster.data_dir().display(), "local PostgreSQL cluster running (unix socket only)");
                // The app works as a role of its own, never as the superuser: it owns
                // its database and schema and nothing else of the cluster.
                cluster
                    .ensure_app_database(LOCAL_DATABASE, APP_ROLE)
                    .await?;
                (
                    cluster.connect_options_as(LOCAL_DATABASE, APP_ROLE),
                    Some(cluster),
                )
            }
        };
        let pool = pool_options()
            .connect_with(crate::db::tuned(options))
            .await
            .context("connecting to PostgreSQL")?;
        let mut conn = pool.acquire().await.context("connecting to PostgreSQL")?;
        let migrated = crate::db::migrate(&mut conn)
            .await
            .context("running database migrations")?;
        drop(conn);
        Ok(Database {
            pool,
            migrated,
            cluster,
        })
    }

    /// A pool connected as the local cluster's superuser, or None when the database is
    /// DATABASE_URL's: for tools that load in bulk with triggers off (the bench
    /// fixture), which only a superuser may do. Never for serving.
    pub async fn superuser_pool(&self) -> anyhow::Result<Option<PgPool>> {
        let Some(cluster) = &self.cluster else {
            return Ok(None);
        };
        let pool = pool_options()
            .connect_with(crate::db::tuned(cluster.connect_options(LOCAL_DATABASE)))
            .await
            .context("connecting to PostgreSQL as its superuser")?;
        Ok(Some(pool))
    }

    /// Closes the pool, then stops the cluster this process started.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(mut cluster) = self.cluster {
            let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await;
            match stopped {
                Ok(Ok(())) => tracing::info!("local PostgreSQL cluster stopped"),
                Ok(Err(e)) => tracing::warn!("stopping PostgreSQL: {e}"),
                Err(e) => tracing::warn!("stopping PostgreSQL: {e}"),
            }
        }
    }
}

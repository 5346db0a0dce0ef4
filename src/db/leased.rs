//! A few connections kept out of sqlx's pool for the statements every request makes
//! (the session check) and for the tick writer. sqlx's pool sends each connection a
//! round trip of its own (a Sync, waiting for ReadyForQuery) every time it is given
//! back, so that a query abandoned half-way cannot leave it dirty: on a busy server that
//! was one wasted round trip per page, a tenth of the server's CPU and as much again in
//! PostgreSQL (perf, `benches/load.sh`). Here a connection goes back only when its
//! statement ran to its end (an error from the database included); one whose future
//! was dropped mid-statement, or whose connection broke, is closed instead, so what the
//! ping guarded against cannot happen.
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{liveness, DbError, DbResult};

/// Connections waiting to be used again, each with when it was given back.
type Idle = Arc<Mutex<Vec<(PgConnection, Instant)>>>;

#[derive(Clone)]
pub struct Leased {
    pool: PgPool,
    idle: Idle,
    permits: Arc<Semaphore>,
}

/// One connection, held for one statement. Dropped without `keep`, it is closed.
pub struct Lease {
    connection: PgConnection,
    idle: Idle,
    _permit: OwnedSemaphorePermit,
}

impl Leased {
    /// At most `size` connections, opened when first needed through `pool` (so with its
    /// settings) and then no longer counted in it.
    pub fn new(pool: PgPool, size: usize) -> Leased {
        Leased {
            pool,
            idle: Arc::default(),
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    /// A connection, waiting while all `size` are in use.
    pub async fn take(&self) -> DbResult<Lease> {
        self.lease(true).await
    }

    async fn lease(&self, kept: bool) -> DbResult<Lease> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| DbError::Corrupt("the connections were closed".into()))?;
        let mut kept = if kept {
            self.idle_connections().pop()
        } else {
            None
        };
        // One that sat idle, or from before the database last failed, may have died
        // with a restart: a round trip finds out before a write is sent on it (a read
        // could go again; a write must not be half-known).
        if let Some((connection, returned)) = kept.as_mut() {
            if liveness::should_check(returned.elapsed()) {
                use sqlx::Connection;
                if connection.ping().await.is_err() {
                    liveness::failed();
                    kept = None;
                }
            }
        }
        let connection = match kept {
            Some((connection, _)) => connection,
            None => self.pool.acquire().await?.detach(),
        };
        Ok(Lease {
            connection,
            idle: Arc::clone(&self.idle),
            _permit: permit,
        })
    }

    /// Runs `read`, a statement that changes nothing. A kept connection may have died
    /// since it was last used (the database restarted): then `read` runs once more, on
    /// a new connection.
    pub async fn read<T, F>(&self, read: F) -> DbResult<T>
    where
        F: for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, DbResult<T>>,
    {
        let mut lease = self.take().await?;
        match read(&mut lease).await {
            Err(e) if is_broken(&e) => {
                drop(lease);
                let mut lease = self.lease(false).await?;
                let result = read(&mut lease).await;
                lease.finish(result)
            }
            result => lease.finish(result),
        }
    }

    /// How many connections wait to be used again.
    pub fn idle(&self) -> usize {
        self.idle_connections().len()
    }

    fn idle_connections(&self) -> std::sync::MutexGuard<'_, Vec<(PgConnection, Instant)>> {
        // The lock only guards pushes and pops, which leave the list whole.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Lease {
    /// The statement finished well: the connection is clean and can be used again.
    pub fn keep(self) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((self.connection, Instant::now()));
    }

    /// Gives `result` back, keeping the connection unless it broke. After an error
    /// from the database the connection is sound: sqlx reads up to the end of the
    /// failed statement before it sends the next one.
    pub fn finish<T>(self, result: DbResult<T>) -> DbResult<T> {
        match &result {
            Err(e) if is_broken(e) => drop(self),
            _ => self.keep(),
        }
        result
    }
}

impl Deref for Lease {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.connection
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.connection
    }
}

/// The connection itself failed (closed, reset, out of step), not the statement.
pub fn is_broken(e: &DbError) -> bool {
    matches!(e, DbError::Sqlx(e) if super::connection_broke(e))
}

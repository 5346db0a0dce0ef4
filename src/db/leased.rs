//! A few connections kept out of sqlx's pool for the statements every request makes
//! (the session check) and for the tick writer. sqlx's pool sends each connection a
//! round trip of its own (a Sync, waiting for ReadyForQuery) every time it is given
//! back, so that a query abandoned half-way cannot leave it dirty: on a busy server that
//! was one wasted round trip per page, a tenth of the server's CPU and as much again in
//! PostgreSQL (perf, `benches/load.sh`). Here a connection goes back only when its
//! statement ran to its end (an error from the database included); one whose future
//! was dropped mid-statement, or whose connection broke, is closed instead, so what the
//! ping guarded against cannot happen.
//!
//! They are opened through the pool (with its settings) and then detached from it, so
//! the pool's own limit leaves room for them: the server's pool is sized to the one
//! connection limit an operator sets less what `Leased`s may keep
//! (`startup::pool_options`). Each lives at most `LIFETIME` (PostgreSQL backends grow with
//! what they cache), and `close` ends them all at shutdown.
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{liveness, DbError, DbResult};

/// How long a kept connection is used before it is closed and replaced.
pub(crate) const LIFETIME: Duration = Duration::from_secs(30 * 60);

/// A kept connection: when it was opened, and when it was last given back.
struct Kept {
    connection: PgConnection,
    opened: Instant,
    returned: Instant,
}

/// Connections waiting to be used again.
type Idle = Arc<Mutex<Vec<Kept>>>;

#[derive(Clone)]
pub struct Leased {
    pool: PgPool,
    idle: Idle,
    permits: Arc<Semaphore>,
    lifetime: Duration,
}

/// One connection, held for one statement. Dropped without `keep`, it is closed.
pub struct Lease {
    connection: PgConnection,
    opened: Instant,
    idle: Idle,
    permit: OwnedSemaphorePermit,
    lifetime: Duration,
}

impl Leased {
    /// At most `size` connections, opened through `pool` when first needed and then no
    /// longer counted in it (its limit must leave room for them).
    pub fn new(pool: PgPool, size: usize) -> Leased {
        Leased::with_lifetime(pool, size, LIFETIME)
    }

    /// `new`, with each connection replaced once it is `lifetime` old.
    pub fn with_lifetime(pool: PgPool, size: usize, lifetime: Duration) -> Leased {
        Leased {
            pool,
            idle: Arc::default(),
            permits: Arc::new(Semaphore::new(size.max(1))),
            lifetime,
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
        let mut kept = if kept { self.idle_one() } else { None };
        // One that sat idle, or from before the database last failed, may have died
        // with a restart: a round trip finds out before a write is sent on it (a read
        // could go again; a write must not be half-known).
        if let Some(k) = kept.as_mut() {
            if liveness::should_check(k.returned.elapsed()) {
                use sqlx::Connection;
                if k.connection.ping().await.is_err() {
                    liveness::failed();
                    kept = None;
                }
            }
        }
        let (connection, opened) = match kept {
            Some(k) => (k.connection, k.opened),
            None => (self.pool.acquire().await?.detach(), Instant::now()),
        };
        Ok(Lease {
            connection,
            opened,
            idle: Arc::clone(&self.idle),
            permit,
            lifetime: self.lifetime,
        })
    }

    /// The most recently returned idle connection still within its lifetime; older
    /// ones are closed on the way.
    fn idle_one(&self) -> Option<Kept> {
        let mut idle = self.idle_connections();
        // Those past their lifetime are dropped here, which closes them.
        while let Some(k) = idle.pop() {
            if k.opened.elapsed() < self.lifetime {
                return Some(k);
            }
        }
        None
    }

    /// Ends every connection and refuses new leases (at shutdown). Leases still out
    /// close their connection when they are done.
    pub async fn close(&self) {
        self.permits.close();
        let idle: Vec<Kept> = std::mem::take(&mut *self.idle_connections());
        for k in idle {
            use sqlx::Connection;
            let _ = k.connection.close().await;
        }
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

    fn idle_connections(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        // The lock only guards pushes and pops, which leave the list whole.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Lease {
    /// The statement finished well: the connection is clean and can be used again
    /// (unless it has lived its time, or the connections are closing).
    pub fn keep(self) {
        if self.permit.semaphore().is_closed() || self.opened.elapsed() >= self.lifetime {
            return; // dropped: closed
        }
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Kept {
                connection: self.connection,
                opened: self.opened,
                returned: Instant::now(),
            });
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
pub(crate) fn is_broken(e: &DbError) -> bool {
    matches!(e, DbError::Sqlx(e) if super::connection_broke(e))
}

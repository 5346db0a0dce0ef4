//! Argon2id password hashes (PHC strings), and the process's budget for computing them.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// False for a wrong password and for a malformed stored hash alike.
pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash made with the same parameters as every new hash, of a password nobody has:
/// sign-ins for emails with no account verify against it, so that they cost what a
/// real check costs. Made once per process (`cli::serve` makes it at start-up).
pub(crate) fn dummy() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash("not a password anyone has").ok())
        .as_deref()
}

/// How long a request waits for its turn to hash before the server says it is busy.
pub(crate) const BUSY_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every permit stayed taken for `BUSY_AFTER`.
    #[error("The server is busy; try again in a moment.")]
    Busy,
    #[error("hashing failed: {0}")]
    Failed(String),
}

/// The process's budget for Argon2: each hash or verification takes a permit (about
/// 19 MiB and a core for tens of milliseconds), so that however many requests arrive,
/// at most as many run at once as there are permits. Cloned with the app state; every
/// clone shares the permits and the count.
#[derive(Debug, Clone)]
pub struct Hashing {
    permits: Arc<Semaphore>,
    size: u32,
    wait: Duration,
    runs: Arc<AtomicU64>,
}

impl Hashing {
    pub fn new(permits: u32, wait: Duration) -> Hashing {
        let size = permits.max(1);
        Hashing {
            permits: Arc::new(Semaphore::new(size as usize)),
            size,
            wait,
            runs: Arc::new(AtomicU64::new(0)),
        }
    }

    /// One permit per core, waiting `BUSY_AFTER` for one.
    pub(crate) fn per_core() -> Hashing {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hashing::new(u32::try_from(cores).unwrap_or(u32::MAX), BUSY_AFTER)
    }

    /// Argon2 runs (hashes and verifications) made for requests so far: what the tests
    /// count, since time proves nothing.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }

    /// Takes every permit until the guard is dropped, as a burst of sign-ins would
    /// (for tests). `None` only if the semaphore were closed, which it never is.
    pub async fn hold_all(&self) -> Option<OwnedSemaphorePermit> {
        self.permits
            .clone()
            .acquire_many_owned(self.size)
            .await
            .ok()
    }

    /// Runs `work` on a blocking thread with a permit, or `Busy` when none came free
    /// within the wait.
    async fn with_permit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AtomicU64) -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| HashingError::Busy)?
            .map_err(|e| HashingError::Failed(e.to_string()))?;
        let runs = self.runs.clone();
        tokio::task::spawn_blocking(move || {
            let out = work(&runs);
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashingError::Failed(e.to_string()))
    }

    /// The index of the first of `hashes` that `password` matches. Each hash costs one
    /// Argon2 run; no hashes at all (no such account) costs one run against `dummy`, so
    /// a known email with a wrong password and an unknown one cost the same.
    pub(crate) async fn verify_any(
        &self,
        password: String,
        hashes: Vec<String>,
    ) -> Result<Option<usize>, HashingError> {
        self.with_permit(move |runs| {
            if hashes.is_empty() {
                if let Some(dummy) = dummy() {
                    runs.fetch_add(1, Ordering::SeqCst);
                    let _ = verify(&password, dummy);
                }
                return None;
            }
            hashes.iter().position(|h| {
                runs.fetch_add(1, Ordering::SeqCst);
                verify(&password, h)
            })
        })
        .await
    }

    /// A new hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String, HashingError> {
        self.with_permit(move |runs| {
            runs.fetch_add(1, Ordering::SeqCst);
            hash(&password)
        })
        .await?
        .map_err(|e| HashingError::Failed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("correct horse").expect("hash");
        let b = hash("correct horse").expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse", &a));
        assert!(!verify("wrong horse", &a));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[test]
    fn the_dummy_costs_what_a_new_hash_costs() {
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).map(str::to_string);
        let dummy = dummy().expect("dummy");
        assert_eq!(params(dummy), params(&hash("x").expect("hash")));
    }

    #[tokio::test]
    async fn every_verification_is_one_run_and_no_account_is_one_too() {
        let hashing = Hashing::new(1, BUSY_AFTER);
        let h = hash("right").expect("hash");
        assert_eq!(
            hashing
                .verify_any("wrong".into(), vec![h.clone()])
                .await
                .ok(),
            Some(None)
        );
        assert_eq!(hashing.runs(), 1);
        assert_eq!(
            hashing.verify_any("wrong".into(), Vec::new()).await.ok(),
            Some(None)
        );
        assert_eq!(hashing.runs(), 2);
        assert_eq!(
            hashing.verify_any("right".into(), vec![h]).await.ok(),
            Some(Some(0))
        );
        assert_eq!(hashing.runs(), 3);
    }

    #[tokio::test]
    async fn with_every_permit_taken_the_answer_is_busy_and_nothing_runs() {
        let hashing = Hashing::new(2, Duration::from_millis(20));
        let held = hashing.hold_all().await.expect("permits");
        assert!(matches!(
            hashing.hash("a password".into()).await,
            Err(HashingError::Busy)
        ));
        assert_eq!(hashing.runs(), 0);
        drop(held);
        assert!(hashing.hash("a password".into()).await.is_ok());
        assert_eq!(hashing.runs(), 1);
    }
}

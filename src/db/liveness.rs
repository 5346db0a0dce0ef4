//! Connections kept between statements die when PostgreSQL restarts, and nothing
//! tells them until they are next used: the first statement on each then fails. A
//! connection is therefore checked (one round trip) before it is used again when it
//! has sat idle for a while, or when it was last used before the app last saw the
//! database fail. A busy server reuses each connection within milliseconds and pays
//! nothing; a quiet one pays a round trip it does not notice. (The same bargain as
//! HikariCP's `aliveBypassWindowMs`.)
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Idle at least this long, a connection is checked before use.
pub(crate) const CHECK_AFTER_IDLE: Duration = Duration::from_millis(500);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds after `epoch` at which the database was last seen failing, plus one
/// (zero: never).
static LAST_FAILURE: AtomicU64 = AtomicU64::new(0);

fn since_epoch(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX)
}

/// The database could not be reached, or a connection to it broke.
pub fn failed() {
    let now = since_epoch(Instant::now()).saturating_add(1);
    LAST_FAILURE.fetch_max(now, Ordering::Relaxed);
}

/// Whether a connection given back `idle_for` ago should be checked before use.
pub(crate) fn should_check(idle_for: Duration) -> bool {
    let returned = Instant::now().checked_sub(idle_for).map_or(0, since_epoch);
    judged(idle_for, returned, LAST_FAILURE.load(Ordering::Relaxed))
}

/// The rule on given moments: a connection idle `idle_for`, given back at `returned`,
/// with the last failure seen at `failure` (nanoseconds after `epoch`, plus one; zero:
/// never).
fn judged(idle_for: Duration, returned: u64, failure: u64) -> bool {
    idle_for >= CHECK_AFTER_IDLE || (failure != 0 && returned.saturating_add(1) <= failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(1);

    #[test]
    fn a_connection_idle_long_is_checked_whatever_the_failures() {
        assert!(judged(CHECK_AFTER_IDLE, 1_000, 0));
        assert!(judged(CHECK_AFTER_IDLE * 3, 1_000, 0));
        assert!(!judged(CHECK_AFTER_IDLE - SHORT, 1_000, 0));
    }

    #[test]
    fn a_connection_from_before_the_last_failure_is_checked_and_one_from_after_is_not() {
        // The failure was seen at 2,000 ns (stored as 2,001).
        let failure = 2_001;
        assert!(judged(SHORT, 1_000, failure), "given back before it");
        assert!(
            judged(SHORT, 2_000, failure),
            "given back at the same moment"
        );
        assert!(!judged(SHORT, 2_001, failure), "given back after it");
        assert!(!judged(SHORT, 1_000, 0), "no failure seen");
    }
}

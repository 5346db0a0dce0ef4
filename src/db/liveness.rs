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
pub const CHECK_AFTER_IDLE: Duration = Duration::from_millis(500);

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
pub fn should_check(idle_for: Duration) -> bool {
    if idle_for >= CHECK_AFTER_IDLE {
        return true;
    }
    let failure = LAST_FAILURE.load(Ordering::Relaxed);
    if failure == 0 {
        return false;
    }
    let returned = Instant::now()
        .checked_sub(idle_for)
        .map_or(0, since_epoch)
        .saturating_add(1);
    returned <= failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_idle_long_or_from_before_a_failure_are_checked() {
        assert!(should_check(CHECK_AFTER_IDLE));
        let before = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        failed();
        // Given back before the failure: checked; after it: not.
        assert!(should_check(before.elapsed()));
        std::thread::sleep(Duration::from_millis(2));
        let after = Instant::now();
        assert!(!should_check(after.elapsed()));
    }
}

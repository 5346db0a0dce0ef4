//! Signing in: what a valid sign-in form is, when failed attempts make the next one
//! wait, and where to go afterwards (SPEC §8: "Login is rate-limited per account and
//! per address").
//!
//! Three counters judge an attempt, all kept by the database and updated under a row
//! lock, so that attempts arriving together are counted one after another:
//! - the **pair** (the email typed, the address it came from): 5 failures are free,
//!   then each attempt waits 1, 2, 4, … minutes after the last failure, at most an
//!   hour. A right password from that address clears the pair. This is the limit that
//!   stops guessing, and it locks nobody else out.
//! - the **account** (the email, from any address): at most 50 failures per 15
//!   minutes, against guessing spread over many addresses.
//! - the **address** (whatever the email): at most 100 failures per 15 minutes,
//!   against one address trying many accounts.
//!
//! An attempt is counted as a failure *before* its password is checked (its place is
//! reserved), and given back when the password was right or never checked; so no more
//! attempts reach the password check than the counters allow, however many arrive at
//! once. A pair that signed in successfully in the last 30 days is not held back by the
//! account or address limits (people at a college behind one address who have signed
//! in there before keep signing in while someone at the next desk sprays guesses), only
//! by its own.
use time::{Duration, OffsetDateTime};

pub use super::form::FieldError;

/// Failures of one pair (email, address) checked without waiting.
pub const PAIR_FREE_FAILURES: u32 = 5;
/// The wait after the last free failure; each further failure doubles it.
pub(crate) const PAIR_FIRST_DELAY: Duration = Duration::minutes(1);
/// The longest wait between two attempts of one pair.
pub(crate) const PAIR_MAX_DELAY: Duration = Duration::hours(1);
/// A pair's failures are forgotten this long after its last one.
pub(crate) const PAIR_FORGET_AFTER: Duration = Duration::hours(24);
/// The account and address limits count failures over windows of this length.
pub(crate) const WINDOW: Duration = Duration::minutes(15);
/// Failures for one account, from every address, in one window.
pub const MAX_ACCOUNT_FAILURES: u32 = 50;
/// Failures from one address, for every account, in one window.
pub const MAX_ADDRESS_FAILURES: u32 = 100;
/// A pair that signed in successfully this recently is not held back by the account
/// or address limits.
pub(crate) const KNOWN_FOR: Duration = Duration::days(30);

/// Plain-words checks before anything is looked up.
pub(crate) fn validate(email: &str, password: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(mut e) = super::form::email_error("email", email) {
        if email.trim().is_empty() {
            e.message = "Enter your email address";
        }
        errors.push(e);
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password"));
    }
    errors
}

/// Which counter a tally is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Account,
    Address,
    Pair,
}

impl Scope {
    /// As stored; the stored order is the order rows are locked in.
    pub fn key(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Address => "address",
            Scope::Pair => "pair",
        }
    }
}

/// One counter's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// A pair's failures since its last success; an account's or address's failures
    /// in the window that opened at `window_start`.
    pub failures: u32,
    pub window_start: Option<OffsetDateTime>,
    pub last_failure_at: Option<OffsetDateTime>,
    /// A pair's last successful sign-in.
    pub succeeded_at: Option<OffsetDateTime>,
}

/// The counters one attempt is judged by (no address counter when the address is not
/// known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tallies {
    pub pair: Tally,
    pub account: Tally,
    pub address: Option<Tally>,
}

/// Why an attempt may not be made now, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Throttled {
    #[error("There have been too many failed attempts to sign in to this account from your network. Wait {} and try again, or ask your centre admin to unlock your account.", minutes(*wait))]
    Pair { wait: Duration },
    #[error("There have been too many failed attempts to sign in to this account. Wait {} and try again, or ask your centre admin to unlock your account.", minutes(*wait))]
    Account { wait: Duration },
    #[error("There have been too many failed attempts to sign in from your network. Wait {} and try again.", minutes(*wait))]
    Address { wait: Duration },
}

/// "1 minute", "15 minutes": a wait in whole minutes, rounded up.
pub(crate) fn minutes(wait: Duration) -> String {
    let n = (wait.whole_seconds() + 59).div_euclid(60).max(1);
    if n == 1 {
        "1 minute".to_string()
    } else {
        format!("{n} minutes")
    }
}

/// How long a pair with `failures` failures waits after the last one: nothing for the
/// free ones, then 1, 2, 4, … minutes, at most `PAIR_MAX_DELAY`.
pub(crate) fn pair_delay(failures: u32) -> Duration {
    if failures < PAIR_FREE_FAILURES {
        return Duration::ZERO;
    }
    // 2^6 minutes is already past the cap; a small shift cannot overflow.
    let doublings = (failures - PAIR_FREE_FAILURES).min(6);
    (PAIR_FIRST_DELAY * (1i32 << doublings)).min(PAIR_MAX_DELAY)
}

/// A pair's failures still remembered at `now`.
fn pair_failures(pair: &Tally, now: OffsetDateTime) -> u32 {
    match pair.last_failure_at {
        Some(last) if now - last < PAIR_FORGET_AFTER => pair.failures,
        _ => 0,
    }
}

/// An account's or address's failures in the window still open at `now`.
fn window_failures(t: &Tally, now: OffsetDateTime) -> u32 {
    match t.window_start {
        Some(start) if now - start < WINDOW => t.failures,
        _ => 0,
    }
}

/// Whether the pair signed in successfully recently enough to pass the account and
/// address limits.
fn known(pair: &Tally, now: OffsetDateTime) -> bool {
    pair.succeeded_at.is_some_and(|s| now - s < KNOWN_FOR)
}

/// Whether a counter no longer counts at `now`, nor ever will again: no pair failure
/// remembered, no window open, no success recent enough to make the pair known. Such a
/// counter judges exactly as a counter never made, so it may be deleted (an attacker
/// inventing emails would otherwise grow the table without end).
pub fn forgotten(t: &Tally, now: OffsetDateTime) -> bool {
    pair_failures(t, now) == 0 && window_failures(t, now) == 0 && !known(t, now)
}

/// Whether an attempt may be made at `now`.
pub(crate) fn admit(now: OffsetDateTime, t: &Tallies) -> Result<(), Throttled> {
    let failures = pair_failures(&t.pair, now);
    if let Some(last) = t
        .pair
        .last_failure_at
        .filter(|_| failures >= PAIR_FREE_FAILURES)
    {
        let wait = last + pair_delay(failures) - now;
        if wait > Duration::ZERO {
            return Err(Throttled::Pair { wait });
        }
    }
    if known(&t.pair, now) {
        return Ok(());
    }
    let window_wait = |tally: &Tally| tally.window_start.map_or(WINDOW, |s| s + WINDOW - now);
    if window_failures(&t.account, now) >= MAX_ACCOUNT_FAILURES {
        return Err(Throttled::Account {
            wait: window_wait(&t.account),
        });
    }
    if let Some(address) = &t.address {
        if window_failures(address, now) >= MAX_ADDRESS_FAILURES {
            return Err(Throttled::Address {
                wait: window_wait(address),
            });
        }
    }
    Ok(())
}

/// One more failure in a window counter, opening a new window if the last has closed.
fn count_in_window(t: Tally, now: OffsetDateTime) -> Tally {
    let open = window_failures(&t, now) > 0;
    Tally {
        failures: if open { t.failures + 1 } else { 1 },
        window_start: if open { t.window_start } else { Some(now) },
        last_failure_at: Some(now),
        ..t
    }
}

/// Admits an attempt at `now` and counts it as a failure until its password is
/// checked (`settle`), or says why it must wait.
pub(crate) fn reserve(now: OffsetDateTime, t: &Tallies) -> Result<Tallies, Throttled> {
    admit(now, t)?;
    Ok(Tallies {
        pair: Tally {
            failures: pair_failures(&t.pair, now) + 1,
            last_failure_at: Some(now),
            ..t.pair
        },
        account: count_in_window(t.account, now),
        address: t.address.map(|a| count_in_window(a, now)),
    })
}

/// What became of an admitted attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password was right: the pair starts again and is known.
    Right,
    /// The password was wrong (or no such account): the reserved failure stands.
    Wrong,
    /// The password was never checked (the server was busy): the failure is given back.
    NotChecked,
}

/// The counters once an admitted attempt's password has been checked, or not.
pub fn settle(now: OffsetDateTime, t: &Tallies, verdict: Verdict) -> Tallies {
    let give_back = |tally: Tally| Tally {
        failures: tally.failures.saturating_sub(1),
        ..tally
    };
    match verdict {
        Verdict::Wrong => *t,
        Verdict::NotChecked => Tallies {
            pair: give_back(t.pair),
            account: give_back(t.account),
            address: t.address.map(give_back),
        },
        Verdict::Right => Tallies {
            pair: Tally {
                failures: 0,
                window_start: None,
                last_failure_at: None,
                succeeded_at: Some(now),
            },
            account: give_back(t.account),
            address: t.address.map(give_back),
        },
    }
}

/// Where to go after signing in: only a path on this site, never another site. The
/// path must start with one `/` followed by something other than `/` or `\`
/// (`//evil.example` and `/\evil.example` are other sites to a browser), and hold no
/// backslash and no control character: browsers drop tabs and line breaks inside an
/// address, so `/<tab>/evil.example` is `//evil.example`, and a line break cannot be
/// put in a `Location` header at all.
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    let Some(n) = next else { return "/" };
    let mut chars = n.chars();
    let starts_well = chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'));
    if starts_well && !n.chars().any(|c| c.is_control() || c == '\\') {
        n
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests;

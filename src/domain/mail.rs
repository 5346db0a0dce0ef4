//! Email leaving through the job queue: when to try again, what an admin is told of a
//! message, and who may be sent a new set-password link. Pure: times come in as values.
use std::time::Duration;

use time::OffsetDateTime;

/// The pause before attempt `attempt + 1`, after attempt `attempt` (1-based) failed:
/// `base`, then four times longer each time. With the default base of one minute and
/// five attempts: 1, 4, 16 and 64 minutes, so a mail server that is down for about an
/// hour and a half still gets the message.
pub(crate) fn retry_pause(base: Duration, attempt: i32) -> Duration {
    let steps = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(8);
    base.saturating_mul(4u32.pow(steps))
}

/// Where a queued message has got to, as admins are shown it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Not tried yet: the worker takes it in a moment.
    Queued,
    /// The mail server took it.
    Sent { at: OffsetDateTime },
    /// `failures` attempts failed; the next is at `retry_at` (None: being tried now).
    Retrying {
        failures: i64,
        error: String,
        retry_at: Option<OffsetDateTime>,
    },
    /// No more attempts will be made.
    GaveUp { attempts: i64, error: String },
    /// Never sent: a newer set-password link took its place.
    Replaced,
    /// Never sent: its link was revoked (the account was deactivated or its email
    /// address changed).
    Revoked,
}

/// What the queue and the attempts table say of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeliveryFacts<'a> {
    /// The job's state: queued, running, succeeded or failed.
    pub job_state: &'a str,
    pub job_run_at: OffsetDateTime,
    pub job_error: Option<&'a str>,
    pub attempts: i64,
    pub last_at: Option<OffsetDateTime>,
    pub last_error: Option<&'a str>,
}

/// The reason the queue gives a job it stopped because a newer link replaced it.
pub(crate) const REPLACED: &str = "replaced by a newer set-password link";
/// The reason the queue gives a job it stopped because its link was revoked.
pub(crate) const REVOKED: &str = "its set-password link was revoked";

impl Delivery {
    pub(crate) fn from_facts(f: &DeliveryFacts<'_>) -> Delivery {
        let error = || {
            f.last_error
                .or(f.job_error)
                .unwrap_or("unknown error")
                .to_string()
        };
        match (f.job_state, f.last_at) {
            ("succeeded", Some(at)) => Delivery::Sent { at },
            ("succeeded", None) => Delivery::Sent { at: f.job_run_at },
            ("failed", _) if f.job_error == Some(REPLACED) => Delivery::Replaced,
            ("failed", _) if f.job_error == Some(REVOKED) => Delivery::Revoked,
            ("failed", _) => Delivery::GaveUp {
                attempts: f.attempts,
                error: error(),
            },
            (_, None) => Delivery::Queued,
            (state, Some(_)) => Delivery::Retrying {
                failures: f.attempts,
                error: error(),
                retry_at: (state == "queued").then_some(f.job_run_at),
            },
        }
    }

    /// One line for a page: "Sent 12:03 UTC on 2 Dec", "Failed 3 times: connection
    /// timed out; retrying at 12:10 UTC", "Gave up after 5 attempts: …".
    pub(crate) fn describe(&self) -> String {
        match self {
            Delivery::Queued => "Queued; it will be sent in a moment".to_string(),
            Delivery::Sent { at } => format!("Sent {}", clock(at)),
            Delivery::Retrying {
                failures,
                error,
                retry_at,
            } => {
                let next = match retry_at {
                    Some(at) => format!("retrying at {}", clock(at)),
                    None => "trying again now".to_string(),
                };
                format!("Failed {}: {error}; {next}", times(*failures))
            }
            Delivery::GaveUp { attempts, error } => format!(
                "Gave up after {attempts} attempt{}: {error}",
                if *attempts == 1 { "" } else { "s" }
            ),
            Delivery::Replaced => "Not sent: replaced by a newer link".to_string(),
            Delivery::Revoked => "Not sent: the link was revoked".to_string(),
        }
    }
}

fn times(n: i64) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    }
}

/// "12:03 UTC on 2 Dec 2026".
fn clock(at: &OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[hour]:[minute] UTC on [day padding:none] [month repr:short] [year]"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// Why an admin may not send someone a new set-password link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("this person has already set a password")]
    HasPassword,
    #[error("this account is deactivated")]
    Deactivated,
}

/// A new set-password link is for an active account still waiting for its password:
/// the one whose first email never arrived, or whose link expired.
pub(crate) fn may_send_password_link(active: bool, has_password: bool) -> Result<(), LinkRefusal> {
    if !active {
        Err(LinkRefusal::Deactivated)
    } else if has_password {
        Err(LinkRefusal::HasPassword)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_pause_grows_fourfold_from_the_base() {
        let m = Duration::from_secs(60);
        let pauses: Vec<u64> = (1..=4).map(|a| retry_pause(m, a).as_secs() / 60).collect();
        assert_eq!(pauses, [1, 4, 16, 64]);
        assert_eq!(retry_pause(m, 0), m);
        assert_eq!(retry_pause(m, 1000), m * 4u32.pow(8), "capped");
    }

    fn facts(state: &str, attempts: i64, last_error: Option<&'static str>) -> Delivery {
        let at = datetime!(2026-12-02 12:03 UTC);
        Delivery::from_facts(&DeliveryFacts {
            job_state: state,
            job_run_at: datetime!(2026-12-02 12:10 UTC),
            job_error: last_error,
            attempts,
            last_at: (attempts > 0).then_some(at),
            last_error,
        })
    }

    #[test]
    fn each_state_reads_as_a_person_would_say_it() {
        assert_eq!(
            facts("queued", 0, None).describe(),
            "Queued; it will be sent in a moment"
        );
        assert_eq!(
            facts("succeeded", 1, None).describe(),
            "Sent 12:03 UTC on 2 Dec 2026"
        );
        assert_eq!(
            facts("queued", 3, Some("connection timed out")).describe(),
            "Failed 3 times: connection timed out; retrying at 12:10 UTC on 2 Dec 2026"
        );
        assert_eq!(
            facts("running", 1, Some("451 busy")).describe(),
            "Failed once: 451 busy; trying again now"
        );
        assert_eq!(
            facts("failed", 5, Some("451 busy")).describe(),
            "Gave up after 5 attempts: 451 busy"
        );
        assert_eq!(
            facts("failed", 1, Some("550 no such mailbox")).describe(),
            "Gave up after 1 attempt: 550 no such mailbox"
        );
        assert_eq!(facts("failed", 0, Some(REPLACED)), Delivery::Replaced);
        let replaced_after_a_failure = Delivery::from_facts(&DeliveryFacts {
            job_state: "failed",
            job_run_at: datetime!(2026-12-02 12:10 UTC),
            job_error: Some(REPLACED),
            attempts: 1,
            last_at: Some(datetime!(2026-12-02 12:03 UTC)),
            last_error: Some("451 busy"),
        });
        assert_eq!(replaced_after_a_failure, Delivery::Replaced);
        assert_eq!(facts("failed", 0, Some(REVOKED)), Delivery::Revoked);
        assert_eq!(
            facts("failed", 0, Some(REVOKED)).describe(),
            "Not sent: the link was revoked"
        );
    }

    #[test]
    fn a_new_link_is_only_for_active_accounts_without_a_password() {
        assert_eq!(may_send_password_link(true, false), Ok(()));
        assert_eq!(
            may_send_password_link(true, true),
            Err(LinkRefusal::HasPassword)
        );
        assert_eq!(
            may_send_password_link(false, false),
            Err(LinkRefusal::Deactivated)
        );
    }
}

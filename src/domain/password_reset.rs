//! Asking for a link to choose a new password (SPEC §8; issue 12). Anyone may ask, for
//! any email, without signing in: the answer never says whether an account uses the
//! address, and the asking is limited before any work is done.
//!
//! Two counters judge a request, each over a fixed window of an hour that opens with
//! the counter's first request and closes an hour later (the next request opens a new
//! one). Every request counts, admitted or not:
//! - the **email** (as typed, trimmed and lower-cased): 3 an hour. A person whose first
//!   email is slow can ask twice more (each new link replaces the last); beyond that it
//!   is someone filling the form with another person's address, and their inbox is
//!   spared.
//! - the **address** the request comes from: 50 an hour. The limit that bounds what one
//!   client can make the server do (a job and a lookup each) while a college's learners
//!   behind one address at the start of term still get their links.
//!
//! A refused request gets the same answer as any other, so the limits reveal nothing.
use time::Duration;

use super::form::FieldError;

/// The length of each counter's window.
pub(crate) const WINDOW: Duration = Duration::hours(1);
/// Requests for one email in one window.
pub(crate) const PER_EMAIL: u32 = 3;
/// Requests from one address in one window.
pub(crate) const PER_ADDRESS: u32 = 50;

/// How long an emailed reset link works. Short, because the person asked for it just
/// now and is waiting for it, and because the link is as good as the password to
/// whoever reads the email: a forwarded, shared or later-breached mailbox holds a dead
/// link. (The link a new account gets works for days: an admin sends it ahead.)
pub(crate) const LINK_VALID_MINUTES: i32 = 60;

/// The form's one field.
pub(crate) fn validate(email: &str) -> Option<FieldError> {
    super::form::email_error("email", email).map(|mut e| {
        if email.trim().is_empty() {
            e.message = "Enter your email address";
        }
        e
    })
}

/// The requests each counter holds in its window, this request included (`None`: the
/// address is not known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counted {
    pub email: u32,
    pub address: Option<u32>,
}

/// Whether a request counted so is acted on.
pub(crate) fn admit(counted: Counted) -> bool {
    counted.email <= PER_EMAIL && counted.address.is_none_or(|a| a <= PER_ADDRESS)
}

/// "1 hour", "2 hours", "90 minutes": how long a link works, in the email.
pub(crate) fn duration_words(minutes: i32) -> String {
    match (minutes / 60, minutes % 60) {
        (1, 0) => "1 hour".to_string(),
        (h, 0) if h > 1 => format!("{h} hours"),
        _ if minutes == 1 => "1 minute".to_string(),
        _ => format!("{minutes} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_third_request_for_an_email_is_admitted_and_the_fourth_is_not() {
        let at = |email| Counted {
            email,
            address: Some(1),
        };
        assert!(admit(at(1)) && admit(at(3)));
        assert!(!admit(at(4)));
        assert!(admit(Counted {
            email: 1,
            address: None
        }));
        assert!(admit(Counted {
            email: 1,
            address: Some(50)
        }));
        assert!(!admit(Counted {
            email: 1,
            address: Some(51)
        }));
    }

    #[test]
    fn the_email_field_says_what_is_wrong() {
        assert_eq!(
            validate("  ").map(|e| e.message),
            Some("Enter your email address")
        );
        assert_eq!(
            validate("ann").map(|e| (e.field, e.message)),
            Some((
                "email",
                "Enter an email address in the correct format, like name@example.com"
            ))
        );
        assert_eq!(validate(" ann@example.org "), None);
    }

    #[test]
    fn the_links_life_is_worded_plainly() {
        assert_eq!(duration_words(LINK_VALID_MINUTES), "1 hour");
        assert_eq!(duration_words(120), "2 hours");
        assert_eq!(duration_words(90), "90 minutes");
        assert_eq!(duration_words(1), "1 minute");
    }

    proptest! {
        /// Admitted exactly when neither counter is over its limit.
        #[test]
        fn admitted_exactly_within_both_limits(email in 1u32..200, address in proptest::option::of(1u32..200)) {
            let admitted = admit(Counted { email, address });
            prop_assert_eq!(
                admitted,
                email <= PER_EMAIL && address.is_none_or(|a| a <= PER_ADDRESS)
            );
            // One more request never turns a refusal into an admission.
            if !admitted {
                let next = Counted { email: email + 1, address: address.map(|a| a + 1) };
                prop_assert!(!admit(next));
            }
        }
    }
}

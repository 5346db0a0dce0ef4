//! Signing in: what a valid sign-in form is, and when too many failures lock it
//! (SPEC §8: "Login is rate-limited per account and per address").

/// Failures are counted over this many minutes.
pub const WINDOW_MINUTES: i32 = 15;
/// Failed sign-ins for one account (since its last success) before it is locked.
pub const MAX_ACCOUNT_FAILURES: u32 = 5;
/// Failed sign-ins from one network address, whatever the account, before it is locked.
pub const MAX_ADDRESS_FAILURES: u32 = 20;

pub use super::form::FieldError;

/// Plain-words checks before anything is looked up.
pub fn validate(email: &str, password: &str) -> Vec<FieldError> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Throttled {
    #[error("There have been too many failed attempts to sign in to this account. Wait 15 minutes and try again, or ask your centre admin to reset your password.")]
    Account,
    #[error("There have been too many failed attempts to sign in from your network. Wait 15 minutes and try again.")]
    Address,
}

/// Whether another attempt may be made, given the recent failures.
pub fn throttle(account_failures: u32, address_failures: u32) -> Result<(), Throttled> {
    if account_failures >= MAX_ACCOUNT_FAILURES {
        Err(Throttled::Account)
    } else if address_failures >= MAX_ADDRESS_FAILURES {
        Err(Throttled::Address)
    } else {
        Ok(())
    }
}

/// Where to go after signing in: only a path on this site, never another site. The
/// path must start with one `/` followed by something other than `/` or `\`
/// (`//evil.example` and `/\evil.example` are other sites to a browser), and hold no
/// backslash and no control character: browsers drop tabs and line breaks inside an
/// address, so `/<tab>/evil.example` is `//evil.example`, and a line break cannot be
/// put in a `Location` header at all.
pub fn safe_next(next: Option<&str>) -> &str {
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
mod tests {
    use super::*;

    #[test]
    fn blank_and_malformed_fields_are_named() {
        let e = validate("  ", "");
        assert_eq!(
            e.iter().map(|e| e.field).collect::<Vec<_>>(),
            ["email", "password"]
        );
        assert_eq!(
            validate("name.example.com", "x")[0].message,
            "Enter an email address in the correct format, like name@example.com"
        );
        assert!(validate("a b@example.com", "x").len() == 1);
        assert!(validate("zoë@example.ac.nz", "x").is_empty());
    }

    #[test]
    fn throttle_locks_at_the_limits() {
        assert_eq!(
            throttle(MAX_ACCOUNT_FAILURES - 1, MAX_ADDRESS_FAILURES - 1),
            Ok(())
        );
        assert_eq!(throttle(MAX_ACCOUNT_FAILURES, 0), Err(Throttled::Account));
        assert_eq!(throttle(0, MAX_ADDRESS_FAILURES), Err(Throttled::Address));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/enrolments/1")), "/enrolments/1");
        assert_eq!(safe_next(Some("/?tab=units")), "/?tab=units");
        assert_eq!(safe_next(Some("/")), "/");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example/")), "/");
        assert_eq!(safe_next(Some("/\r\n/evil.example/")), "/");
        assert_eq!(safe_next(Some("/a\r\nSet-Cookie: x=1")), "/");
        assert_eq!(safe_next(Some("/a\\b")), "/");
        assert_eq!(safe_next(Some("/a\u{7f}")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("")), "/");
        assert_eq!(safe_next(None), "/");
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn next_is_home_or_a_plain_path_on_this_site(next in any::<String>()) {
            let out = safe_next(Some(&next));
            prop_assert!(out == "/" || out == next);
            prop_assert!(out.starts_with('/'));
            prop_assert!(!out.chars().any(|c| c.is_control() || c == '\\'));
            prop_assert!(!matches!(out.chars().nth(1), Some('/' | '\\')));
        }

        #[test]
        fn next_keeps_plain_paths(path in "/[a-z0-9][a-z0-9/?=&_-]{0,40}") {
            prop_assert_eq!(safe_next(Some(&path)), path.as_str());
        }
    }
}

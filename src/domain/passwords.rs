//! What a new password must be (SPEC §8), on every form that sets one: the one-time link
//! (a new account, a forgotten password) and changing one's own.
//!
//! Length over composition (NCSC and NIST SP 800-63B): at least 10 characters, no rules
//! about digits or symbols, and not one of the passwords attackers try first. That list
//! is `common_passwords.txt`, compiled into the binary: the "passwords" frequency list
//! of the zxcvbn package 4.4.2 on npm (© Dan Wheeler and Dropbox, MIT licence), which
//! is the 30,000 most frequent passwords of Mark Burnett's ten million password corpus
//! (2015, released into the public domain), keeping the 1,090 entries of 10 characters
//! or more (shorter ones are refused by length already), lower-cased.
//! `scripts/common-passwords` remakes the file from the package.
use std::collections::HashSet;
use std::sync::OnceLock;

use super::form::FieldError;
use super::signin::{minutes, Throttled};
use super::text;

/// The shortest password accepted.
pub(crate) const MIN_PASSWORD_CHARS: usize = 10;

/// One password a line, lower-case, most frequent first.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Why a listed password is refused, beside the field.
pub(crate) const COMMON: &str =
    "This password is on a list of common passwords that attackers try first; choose another";

/// The message beside "current password" when it is not the account's.
pub(crate) const WRONG_CURRENT: FieldError =
    FieldError::new("current", "Your current password is not right");

/// Why the current password cannot be checked now: too many wrong passwords, counted
/// with sign-in's (a wrong current password is a guess like any other).
pub(crate) fn too_many_wrong(throttled: &Throttled) -> String {
    match throttled {
        Throttled::Pair { wait } | Throttled::Account { wait } => format!(
            "There have been too many wrong passwords for this account. Wait {} and try again.",
            minutes(*wait)
        ),
        Throttled::Address { wait } => format!(
            "There have been too many wrong passwords from your network. Wait {} and try again.",
            minutes(*wait)
        ),
    }
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().filter(|l| !l.is_empty()).collect())
}

/// Whether `password`, in any mix of upper and lower case, is on the list.
pub(crate) fn is_common(password: &str) -> bool {
    common_passwords().contains(password.to_lowercase().as_str())
}

/// The problem with a new password itself, if any: blank, short, a control character or
/// a line break, too long, or common.
fn password_error(password: &str) -> Option<FieldError> {
    if password.is_empty() {
        Some(FieldError::new("password", "Enter a password"))
    } else if password.chars().count() < MIN_PASSWORD_CHARS {
        Some(FieldError::new(
            "password",
            "Your password must be at least 10 characters",
        ))
    } else if let Err(e) = text::NEW_PASSWORD.check(password) {
        Some(e)
    } else if is_common(password) {
        Some(FieldError::new("password", COMMON))
    } else {
        None
    }
}

/// A new password and its confirmation (fields `password` and `confirm`).
pub(crate) fn validate_new_password(password: &str, confirm: &str) -> Vec<FieldError> {
    match password_error(password) {
        Some(e) => vec![e],
        None if password != confirm => {
            vec![FieldError::new("confirm", "The passwords do not match")]
        }
        None => Vec::new(),
    }
}

/// Changing one's own password: the current one (checked against the account later, by
/// the caller), then the new one as any new password, and different from the current.
pub(crate) fn validate_change(current: &str, password: &str, confirm: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if current.is_empty() {
        errors.push(FieldError::new("current", "Enter your current password"));
    }
    match password_error(password) {
        Some(e) => errors.push(e),
        None if password == current => errors.push(FieldError::new(
            "password",
            "Your new password must be different from your current one",
        )),
        None if password != confirm => {
            errors.push(FieldError::new("confirm", "The passwords do not match"))
        }
        None => {}
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_list_holds_only_lower_case_entries_of_ten_characters_or_more() {
        let entries: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert_eq!(entries.len(), 1_090);
        assert_eq!(common_passwords().len(), entries.len(), "each once");
        for e in entries {
            assert!(e.chars().count() >= MIN_PASSWORD_CHARS, "{e:?}");
            assert_eq!(e, e.to_lowercase(), "{e:?}");
            assert!(!e.chars().any(char::is_whitespace), "{e:?}");
        }
    }

    #[test]
    fn a_common_password_is_refused_in_any_case_and_the_message_says_why() {
        for p in [
            "qwertyuiop",
            "Password123",
            "PASSWORD123",
            "1q2w3e4r5t",
            "Manchester",
        ] {
            let errors = validate_new_password(p, p);
            assert_eq!(errors, vec![FieldError::new("password", COMMON)], "{p}");
        }
        assert!(COMMON.contains("common passwords that attackers try first"));
        assert!(validate_new_password("manchester rain", "manchester rain").is_empty());
    }

    #[test]
    fn passwords_are_long_enough_plain_text_and_confirmed() {
        assert_eq!(
            validate_new_password("", ""),
            vec![FieldError::new("password", "Enter a password")]
        );
        assert_eq!(
            fields(&validate_new_password("short", "short")),
            ["password"]
        );
        assert_eq!(
            fields(&validate_new_password(
                "long enough\0pass",
                "long enough\0pass"
            )),
            ["password"]
        );
        assert_eq!(
            fields(&validate_new_password(
                "long enough pass",
                "long enough pasS"
            )),
            ["confirm"]
        );
        assert!(validate_new_password("long enough pass", "long enough pass").is_empty());
    }

    #[test]
    fn too_many_wrong_passwords_says_how_long_to_wait() {
        let wait = time::Duration::seconds(61);
        assert_eq!(
            too_many_wrong(&Throttled::Pair { wait }),
            "There have been too many wrong passwords for this account. Wait 2 minutes and try again."
        );
        assert!(too_many_wrong(&Throttled::Address { wait }).contains("from your network"));
    }

    #[test]
    fn a_change_needs_the_current_password_and_a_different_new_one() {
        assert_eq!(
            fields(&validate_change("", "", "")),
            ["current", "password"]
        );
        assert_eq!(
            fields(&validate_change(
                "old password 1",
                "old password 1",
                "old password 1"
            )),
            ["password"]
        );
        assert_eq!(
            fields(&validate_change(
                "old",
                "new long password",
                "new long pass"
            )),
            ["confirm"]
        );
        assert_eq!(
            fields(&validate_change("old", "Qwertyuiop", "Qwertyuiop")),
            ["password"]
        );
        assert!(validate_change("old", "new long password", "new long password").is_empty());
    }

    /// A listed password with each letter's case chosen at random.
    fn listed_in_any_case() -> impl Strategy<Value = String> {
        let entries: Vec<&'static str> = COMMON_PASSWORDS.lines().collect();
        (prop::sample::select(entries), any::<u64>()).prop_map(|(p, bits)| {
            p.chars()
                .enumerate()
                .map(|(i, c)| {
                    if bits >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn every_listed_password_is_refused_whatever_its_case(p in listed_in_any_case()) {
            prop_assert_eq!(
                validate_new_password(&p, &p),
                vec![FieldError::new("password", COMMON)]
            );
            let errors = validate_change("the current one", &p, &p);
            prop_assert_eq!(fields(&errors), vec!["password"]);
            prop_assert_eq!(errors[0].message, COMMON);
        }

        /// Anything of 10 to 1,024 printable characters that is not listed is accepted
        /// once confirmed, and refused (on `confirm`) when the confirmation differs.
        #[test]
        fn an_unlisted_long_enough_password_is_accepted(p in "[^\\p{Cc}\\p{Zl}\\p{Zp}]{10,60}") {
            prop_assume!(!is_common(&p));
            prop_assert!(validate_new_password(&p, &p).is_empty());
            let other = format!("{p}x");
            prop_assert_eq!(fields(&validate_new_password(&p, &other)), vec!["confirm"]);
        }

        /// Whatever is typed, the rules answer at most one message per field.
        #[test]
        fn at_most_one_message_per_field(current in ".{0,12}", p in ".{0,14}", c in ".{0,14}") {
            let errors = validate_change(&current, &p, &c);
            let mut seen = fields(&errors);
            seen.dedup();
            prop_assert_eq!(seen.len(), errors.len());
            prop_assert!(validate_new_password(&p, &c).len() <= 1);
        }
    }
}

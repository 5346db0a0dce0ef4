//! Form errors shared by every form: a message in plain words against a field.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field's name, which is also its id on the page.
    pub field: &'static str,
    pub message: &'static str,
}

impl FieldError {
    pub const fn new(field: &'static str, message: &'static str) -> Self {
        FieldError { field, message }
    }
}

/// The message for a blank or malformed email address, if it is one.
pub(crate) fn email_error(field: &'static str, email: &str) -> Option<FieldError> {
    let email = email.trim();
    if email.is_empty() {
        Some(FieldError::new(field, "Enter an email address"))
    } else if let Err(e) = super::text::EMAIL.check(email) {
        Some(FieldError::new(field, e.message))
    } else if !looks_like_email(email) {
        Some(FieldError::new(
            field,
            "Enter an email address in the correct format, like name@example.com",
        ))
    } else {
        None
    }
}

fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The message for `field`, if it has one (pages show it beside the field).
pub(crate) fn message_for(errors: &[FieldError], field: &str) -> Option<&'static str> {
    errors.iter().find(|e| e.field == field).map(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::email_error;

    fn message(email: &str) -> Option<&'static str> {
        email_error("email", email).map(|e| e.message)
    }

    #[test]
    fn an_email_refuses_control_characters_line_breaks_and_more_than_254_characters() {
        assert_eq!(
            message("ann@example.org\0"),
            Some("The email address cannot contain control characters")
        );
        assert_eq!(
            message("ann@example.org\nBcc: b@example.org"),
            Some("The email address cannot contain line breaks")
        );
        let at_most = format!("{}@example.org", "ō".repeat(254 - 12));
        assert_eq!(message(&at_most), None, "254 characters, more bytes");
        assert_eq!(
            message(&format!("o{at_most}")),
            Some("The email address must be 254 characters or fewer")
        );
        assert_eq!(message(" ann@example.org\n"), None, "trimmed first");
    }
}

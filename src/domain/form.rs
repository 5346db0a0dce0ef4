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
pub fn email_error(field: &'static str, email: &str) -> Option<FieldError> {
    let email = email.trim();
    if email.is_empty() {
        Some(FieldError::new(field, "Enter an email address"))
    } else if !looks_like_email(email) || email.len() > 254 {
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
pub fn message_for(errors: &[FieldError], field: &str) -> Option<&'static str> {
    errors.iter().find(|e| e.field == field).map(|e| e.message)
}

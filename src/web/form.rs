//! Forms the app's own pages send, read with a refusal the app draws: a body that does
//! not parse (a field missing, an id that is not one, a number that is not a number)
//! can only come from a request made by hand or a page from before a release, and it
//! answers the site's 400 page naming the field, never axum's plain-text rejection.
use axum::extract::rejection::FormRejection;
use axum::extract::FromRequest;

use super::AppError;

/// `axum::Form`, refused as `AppError::BadRequest`.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(AppError))]
pub struct Form<T>(pub T);

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> Self {
        tracing::debug!(%rejection, "a form was refused");
        AppError::BadRequest(match rejection {
            FormRejection::FailedToDeserializeFormBody(e) => match field_of(&e.body_text()) {
                Some(field) => format!(
                    "The value sent for “{field}” was not understood. Reload the page and try again."
                ),
                None => "The form was not understood. Reload the page and try again.".to_string(),
            },
            _ => "The form could not be read. Reload the page and try again.".to_string(),
        })
    }
}

/// The field a deserialisation error names: axum's text is "Failed to deserialize form
/// body: {field}: {why}", or "…: missing field `{field}`".
fn field_of(text: &str) -> Option<String> {
    let rest = text.split_once(": ")?.1;
    let name = match rest.strip_prefix("missing field `") {
        Some(missing) => missing.split('`').next()?,
        None => rest.split_once(": ")?.0,
    };
    let plain = !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn the_field_is_named_from_axums_text_and_nothing_else_is_echoed() {
        assert_eq!(
            field_of("Failed to deserialize form body: criterion: UUID parsing failed: x")
                .as_deref(),
            Some("criterion")
        );
        assert_eq!(
            field_of("Failed to deserialize form body: missing field `action`").as_deref(),
            Some("action")
        );
        // A name that is not a plain field name (a forged key) is not repeated back.
        assert_eq!(
            field_of("Failed to deserialize form body: <b>x</b>: no"),
            None
        );
        assert_eq!(field_of("Failed to deserialize form body"), None);
    }
}

//! Rendering the big pages (an evidence item's 1,500 criteria, the matrix) into a buffer
//! sized for them up front: askama's own sizing starts small, and growing a string of a
//! megabyte by doubling copies it many times over.
use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use super::AppError;

pub fn sized_page<T: Template>(page: &T, capacity: usize) -> Response {
    let mut html = String::with_capacity(capacity);
    match page.render_into(&mut html) {
        Ok(()) => Html(html).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

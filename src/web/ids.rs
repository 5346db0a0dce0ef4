//! Ids in addresses: one that does not parse is as unknown as one that does not exist
//! (SPEC §9: unknown ids answer 404), never a 400 that confirms the route.
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppError;

/// Like `Path`, but a value that does not parse answers 404: a malformed id, or any
/// segment that is not UTF-8 once decoded (`%FF`), which `Path` answers with a 400.
pub struct Ids<T>(pub T);

impl<T, S> FromRequestParts<S> for Ids<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Ids(v))
            .map_err(|_| AppError::NotFound)
    }
}

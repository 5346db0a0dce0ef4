use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// A load balancer's probe must learn of an outage in time to act on it: the check
/// gives up after this, whatever the pool's own wait for a connection.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(1);

/// The database answers.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let check = sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&state.pool);
    let failure = match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(_)) => return (StatusCode::OK, "ready"),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {READY_TIMEOUT:?}"),
    };
    // Connections kept from before are checked before their next use.
    crate::db::liveness::failed();
    tracing::warn!(error = %failure, "readiness check failed");
    (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
}

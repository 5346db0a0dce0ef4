use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::demo::load::{self, DemoState, DEMO_PASSWORD};
use crate::startup::Database;
use crate::web::{self, AppState};

pub async fn serve(data_dir: &Path, addr: SocketAddr, demo: bool) -> anyhow::Result<ExitCode> {
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
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        println!("attest is serving on http://{}", listener.local_addr()?);
        let app = web::router(AppState {
            pool: database.pool.clone(),
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving HTTP")
    }
    .await;
    database.close().await;
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM (what `docker stop` sends).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

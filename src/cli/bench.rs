//! `attest bench-fixture`: the load-test centre, for `benches/load.sh`.
use std::path::Path;
use std::process::ExitCode;

use crate::demo::bench::{self, ACCOUNTS, BENCH_PASSWORD};
use crate::demo::bench_centre;
use crate::demo::large::large_qualification;
use crate::startup::Database;

/// The assessor's learners, each with a portfolio like the first: as many as the load
/// test's connections, so that each tick in flight is on its own learner.
const CASELOAD: usize = 32;

/// Prints one `KEY=VALUE` line per fact (ids and emails only, so a shell can read them
/// with `IFS== read`).
pub async fn load(
    data_dir: &Path,
    evidence: usize,
    enrolments: usize,
    mix: bench_centre::Mix,
) -> anyhow::Result<ExitCode> {
    let database = Database::open(data_dir).await?;
    let loaded = async {
        let f = bench::load(&database.pool, &large_qualification("BENCH/60"), evidence).await?;
        let caseload = bench::load_caseload(&database.pool, &f, CASELOAD - 1).await?;
        let centre = if enrolments > CASELOAD {
            // Growing copies millions of ticks: with the triggers on (as the app's own
            // role must) it takes hours, so the local cluster's superuser does it.
            let loader = database.superuser_pool().await?;
            let pool = loader.as_ref().unwrap_or(&database.pool);
            let grown = bench_centre::grow(pool, &f, enrolments, mix).await;
            if let Some(loader) = loader {
                loader.close().await;
            }
            Some(grown?)
        } else {
            None
        };
        let files = crate::web::files::FileStore::new(
            data_dir.join("files"),
            crate::web::files::DEFAULT_MAX_BYTES,
        );
        // The model only when it is already there: a fixture never fetches it.
        let model = crate::embedding::Embedder::load(&crate::embedding::model_dir(data_dir))
            .ok()
            .map(std::sync::Arc::new);
        bench::texts_read(&database.pool, &files, model.as_ref(), &f).await?;
        // As autovacuum would have by the time anyone looks: statistics and visibility.
        sqlx::query!("VACUUM ANALYZE")
            .execute(&database.pool)
            .await?;
        anyhow::Ok((f, caseload, centre))
    }
    .await;
    database.close().await;
    let (f, caseload, centre) = loaded?;
    if let Some(c) = centre {
        println!("centre_enrolments={}", c.enrolments);
        println!("big_assessor={}", c.big_assessor);
        println!("big_assessor_learners={}", c.big_assessor_learners);
        println!("big_iqa={}", c.big_iqa);
        println!("big_iqa_enrolments={}", c.big_iqa_enrolments);
        println!("big_employer={}", c.big_employer);
        println!("big_employer_learners={}", c.big_employer_learners);
    }
    println!("password={BENCH_PASSWORD}");
    for (role, email) in ACCOUNTS {
        println!("{role}={email}");
    }
    println!("enrolment={}", f.enrolment_id);
    println!("evidence={}", f.evidence_id);
    println!("evidence_items={}", f.evidence_ids.len());
    println!("ticks={}", f.tick_count);
    let free: Vec<String> = f.free_criteria.iter().map(|c| c.to_string()).collect();
    println!("free_criteria={}", free.join(","));
    // The whole caseload, the first enrolment included: `enrolment:item` pairs.
    let pairs: Vec<String> = std::iter::once((f.enrolment_id, f.evidence_id))
        .chain(caseload)
        .map(|(e, i)| format!("{e}:{i}"))
        .collect();
    println!("caseload={}", pairs.join(","));
    Ok(ExitCode::SUCCESS)
}

/// `attest bench-apprenticeships`: prints `apprenticeships=N`.
pub async fn apprenticeships(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let database = Database::open(data_dir).await?;
    let grown = async {
        let loader = database.superuser_pool().await?;
        let n = crate::demo::bench_apprenticeships::grow(
            &database.pool,
            loader.as_ref().unwrap_or(&database.pool),
        )
        .await;
        if let Some(loader) = loader {
            loader.close().await;
        }
        n
    }
    .await;
    database.close().await;
    println!("apprenticeships={}", grown?);
    Ok(ExitCode::SUCCESS)
}

//! `attest bench-fixture`: the load-test centre, for `benches/load.sh`.
use std::path::Path;
use std::process::ExitCode;

use crate::demo::bench::{self, ACCOUNTS, BENCH_PASSWORD};
use crate::demo::large::large_qualification;
use crate::startup::Database;

/// Prints one `KEY=VALUE` line per fact (ids and emails only, so a shell can read them
/// with `IFS== read`).
pub async fn load(data_dir: &Path, evidence: usize) -> anyhow::Result<ExitCode> {
    let database = Database::open(data_dir).await?;
    let loaded = bench::load(&database.pool, &large_qualification("BENCH/60"), evidence).await;
    database.close().await;
    let f = loaded?;
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
    Ok(ExitCode::SUCCESS)
}

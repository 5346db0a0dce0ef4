//! `attest keys rotate`: a centre's signing key rotated from the command line, as the
//! admin's settings page does — for operators who rotate on a schedule or after a
//! suspected leak, without signing in.
use std::path::Path;
use std::process::ExitCode;

use crate::db::{centre_keys, centres};
use crate::startup::Database;

pub async fn rotate(data_dir: &Path, centre: Option<&str>) -> anyhow::Result<ExitCode> {
    let database = Database::open(data_dir).await?;
    let rotated = async {
        let kek = super::serve::signing_kek(data_dir, &database.pool).await?;
        let centre = choose(&database.pool, centre).await?;
        let key = centre_keys::rotate(&database.pool, &kek, centre.id, None).await?;
        anyhow::Ok((centre, key))
    }
    .await;
    database.close().await;
    let (centre, key) = rotated?;
    println!(
        "{}: {} signs from now on; earlier keys stay published, so what they signed still verifies.",
        centre.name,
        key.key_id()
    );
    Ok(ExitCode::SUCCESS)
}

/// The centre named (by short name or name), or the only one. Never made here: a key
/// for a centre nobody uses would be noise in its published keys.
async fn choose(pool: &sqlx::PgPool, name: Option<&str>) -> anyhow::Result<centres::Centre> {
    let all = centres::list(pool).await?;
    match name {
        Some(name) => all
            .into_iter()
            .find(|c| c.slug.eq_ignore_ascii_case(name) || c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| anyhow::anyhow!("no centre is called \"{name}\"")),
        None if all.len() == 1 => all
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("the centre disappeared")),
        None if all.is_empty() => anyhow::bail!("there is no centre yet"),
        None => {
            let names: Vec<String> = all.iter().map(|c| c.slug.clone()).collect();
            anyhow::bail!(
                "there are several centres; choose one with --centre ({})",
                names.join(", ")
            )
        }
    }
}

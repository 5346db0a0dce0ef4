//! Settings a cluster the app runs for itself starts with, written once into its
//! `postgresql.conf` (where an operator's `ALTER SYSTEM` still overrides them, which
//! `-c` on the command line would not allow).
//!
//! Every tick writes a row and several index entries of tables holding millions of
//! rows, each on a page of its own, and the first change of a page after a checkpoint
//! writes the whole page to the WAL. With PostgreSQL's defaults (WAL uncompressed, a
//! checkpoint every 1 GB of it) those full pages were most of a tick's WAL; compressing
//! them and checkpointing less often took the 100,000-enrolment centre's tick POST from
//! about 3,100 to 3,600 a second at 32 connections, and its p99 from 22–27 ms to 19–22
//! (benches/reports.sh; figures in the issue 16 note).
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::cluster::prepare;
use super::{PgBinaries, PgError, RunAs};

/// Marks the block as written, so that a restart leaves the file as it is.
const MARKER: &str = "# attest: settings for a server that many ticks write to";

/// Appends the settings to the data folder's `postgresql.conf` unless they are there.
pub(super) fn ensure_write_settings(
    bins: &PgBinaries,
    dir: &Path,
    run_as: &RunAs,
) -> Result<(), PgError> {
    let conf = dir.join("postgresql.conf");
    let text = std::fs::read_to_string(&conf)
        .map_err(PgError::io(format!("reading {}", conf.display())))?;
    if text.contains(MARKER) {
        return Ok(());
    }
    // lz4 costs the least CPU; a server built without it takes its own pglz.
    let compression = if accepts(bins, dir, run_as, "wal_compression", "lz4") {
        "lz4"
    } else {
        "on"
    };
    let block = format!(
        "\n{MARKER}\n# (written once by attest; change them here or with ALTER SYSTEM)\n\
         wal_compression = {compression}\nmax_wal_size = '4GB'\n"
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(&conf)
        .and_then(|mut f| f.write_all(block.as_bytes()))
        .map_err(PgError::io(format!("writing {}", conf.display())))
}

/// Whether this server accepts `name = value` (`postgres -C` reads the configuration
/// with it and prints the value, or fails on a value the build does not know).
fn accepts(bins: &PgBinaries, dir: &Path, run_as: &RunAs, name: &str, value: &str) -> bool {
    let mut cmd = Command::new(&bins.postgres);
    cmd.arg("-D").arg(dir).arg("-C").arg(name);
    cmd.arg("-c").arg(format!("{name}={value}"));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    prepare(&mut cmd, run_as);
    cmd.status().is_ok_and(|s| s.success())
}

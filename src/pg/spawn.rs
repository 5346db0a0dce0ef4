//! Spawning server processes that cannot outlive us.
//!
//! `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits, not the
//! process. Tokio workers and test threads come and go, so every child is forked by one
//! dedicated thread that lives as long as the process.
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::OnceLock;

type Request = (Command, mpsc::Sender<io::Result<Child>>);

static SPAWNER: OnceLock<Option<mpsc::Sender<Request>>> = OnceLock::new();

/// Spawn `cmd` so that it receives `signal` when this process dies.
/// `uid`/`gid` set on `cmd` are applied by std before `pre_exec` hooks run, and the
/// kernel clears the death signal on credential changes, so setting it here survives.
pub(crate) fn spawn_tied(mut cmd: Command, signal: libc::c_int) -> io::Result<Child> {
    let parent = std::process::id();
    // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // We may have died between fork and prctl; then nobody would signal us.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::other("parent exited during spawn"));
            }
            Ok(())
        });
    }
    let spawner = SPAWNER
        .get_or_init(start_spawner)
        .as_ref()
        .ok_or_else(|| io::Error::other("could not start the thread that spawns PostgreSQL"))?;
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("the PostgreSQL spawner thread has stopped"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the PostgreSQL spawner thread has stopped"))?
}

fn start_spawner() -> Option<mpsc::Sender<Request>> {
    let (tx, rx) = mpsc::channel::<Request>();
    std::thread::Builder::new()
        .name("attest-pg-spawner".into())
        .spawn(move || {
            // The sender lives in a static, so this loop (and the thread) never ends.
            for (mut cmd, reply) in rx {
                let _ = reply.send(cmd.spawn());
            }
        })
        .ok()?;
    Some(tx)
}

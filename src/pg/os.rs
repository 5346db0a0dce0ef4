//! Which OS user runs the server, and making the data folder usable by it.
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use super::PgError;

/// The account the server programs run as: ourselves, or `postgres` when we are root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    CurrentUser,
    Other { name: String, uid: u32, gid: u32 },
}

impl RunAs {
    pub(crate) fn detect() -> Result<RunAs, PgError> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(RunAs::CurrentUser);
        }
        lookup_user("postgres").ok_or(PgError::NoPostgresUser)
    }

    pub fn apply(&self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        if let RunAs::Other { uid, gid, .. } = self {
            cmd.uid(*uid).gid(*gid);
        }
    }

    /// Give `dir` to the server's user and check it can reach it from `/`.
    pub(crate) fn prepare_dir(&self, dir: &Path) -> Result<(), PgError> {
        let RunAs::Other { uid, gid, .. } = self else {
            return Ok(());
        };
        check_traversable(dir, *uid, *gid)?;
        chown(dir, *uid, *gid)
    }

    pub(crate) fn chown(&self, path: &Path) -> Result<(), PgError> {
        match self {
            RunAs::CurrentUser => Ok(()),
            RunAs::Other { uid, gid, .. } => chown(path, *uid, *gid),
        }
    }
}

fn lookup_user(name: &str) -> Option<RunAs> {
    let cname = CString::new(name).ok()?;
    // SAFETY: getpwnam returns a pointer into static storage or null; we copy what we
    // need before any other call could overwrite it. Only start-up code calls this.
    unsafe {
        let pw = libc::getpwnam(cname.as_ptr());
        if pw.is_null() {
            return None;
        }
        let name = CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned();
        Some(RunAs::Other {
            name,
            uid: (*pw).pw_uid,
            gid: (*pw).pw_gid,
        })
    }
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), PgError> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(PgError::io(format!(
        "giving {} to the postgres user",
        path.display()
    )))
}

/// Every ancestor of `dir` must be enterable by `uid`/`gid`: the server resolves the
/// data and socket paths from `/`.
fn check_traversable(dir: &Path, uid: u32, gid: u32) -> Result<(), PgError> {
    for parent in dir.ancestors().skip(1) {
        let meta = parent
            .metadata()
            .map_err(PgError::io(format!("reading {}", parent.display())))?;
        if !can_enter(meta.mode(), meta.uid(), meta.gid(), uid, gid) {
            return Err(PgError::Untraversable {
                dir: dir.to_path_buf(),
                blocked: parent.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Owner bits for the owner, group bits for the group, other bits for everyone else
/// (supplementary groups are ignored: a false "no" only costs a clear error).
pub(crate) fn can_enter(mode: u32, owner: u32, group: u32, uid: u32, gid: u32) -> bool {
    if owner == uid {
        mode & 0o100 != 0
    } else if group == gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Whether a process exists (EPERM means it exists but belongs to someone else).
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether `pid` is a PostgreSQL server whose command line names `data_dir`.
pub(crate) fn is_postgres_on(pid: i32, data_dir: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let is_pg = args
        .first()
        .and_then(|a| Path::new(std::ffi::OsStr::from_bytes(a)).file_name())
        .is_some_and(|n| n.as_bytes().starts_with(b"postgres"));
    is_pg && args.iter().any(|a| *a == data_dir.as_os_str().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entering_uses_the_matching_class_of_bits() {
        assert!(can_enter(0o700, 5, 5, 5, 9));
        assert!(!can_enter(0o700, 1, 5, 5, 5));
        assert!(can_enter(0o710, 1, 5, 7, 5));
        assert!(!can_enter(0o770, 1, 2, 7, 5));
        assert!(can_enter(0o711, 1, 2, 7, 5));
        assert!(can_enter(0o1777, 0, 0, 101, 104));
    }

    #[test]
    fn a_closed_parent_folder_is_named_in_the_error() {
        use std::os::unix::fs::PermissionsExt;
        let closed = std::env::temp_dir().join(format!(
            "attest-unit-closed-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let inner = closed.join("cluster");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
        // A uid and gid that own nothing here, as the postgres user would be.
        match check_traversable(&inner, 4_000_000, 4_000_000) {
            Err(PgError::Untraversable { blocked, .. }) => assert_eq!(blocked, closed),
            other => panic!("expected Untraversable, got {other:?}"),
        }
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_traversable(&inner, 4_000_000, 4_000_000).is_ok());
        std::fs::remove_dir_all(closed).unwrap();
    }

    #[test]
    fn our_own_pid_is_alive_and_absurd_pids_are_not() {
        assert!(pid_alive(std::process::id() as i32));
        assert!(!pid_alive(0));
        assert!(!pid_alive(-5));
    }
}

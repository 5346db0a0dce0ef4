//! Locating the PostgreSQL server programs.
use std::path::{Path, PathBuf};

use super::PgError;

/// Directories searched after `PATH`, newest version first: Debian/Ubuntu keep the
/// server programs off `PATH`, and RHEL-like systems use `/usr/pgsql-N`.
const VERSIONED_ROOTS: &[(&str, &str)] = &[("/usr/lib/postgresql", "bin"), ("/usr", "")];

/// An override for machines where the programs live somewhere unusual.
pub const BINDIR_ENV: &str = "ATTEST_PG_BINDIR";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    pub initdb: PathBuf,
    pub postgres: PathBuf,
}

impl PgBinaries {
    pub fn find() -> Result<PgBinaries, PgError> {
        if let Some(dir) = std::env::var_os(BINDIR_ENV) {
            return in_dir(Path::new(&dir)).ok_or(PgError::NoBinaries);
        }
        let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        let mut versioned = Vec::new();
        for (root, sub) in VERSIONED_ROOTS {
            versioned.extend(versioned_bin_dirs(Path::new(root), sub));
        }
        find_in(&path_dirs, &versioned).ok_or(PgError::NoBinaries)
    }

    /// The directory `initdb` was found in.
    #[cfg(test)]
    fn bin_dir(&self) -> Option<&Path> {
        self.initdb.parent()
    }
}

/// `PATH` wins over versioned directories, so that a user's choice is respected.
/// Both programs must come from one directory: mixing versions breaks `initdb`.
pub fn find_in(path_dirs: &[PathBuf], versioned_dirs: &[PathBuf]) -> Option<PgBinaries> {
    path_dirs
        .iter()
        .chain(versioned_dirs)
        .find_map(|d| in_dir(d))
}

fn in_dir(dir: &Path) -> Option<PgBinaries> {
    let initdb = dir.join("initdb");
    let postgres = dir.join("postgres");
    (is_executable(&initdb) && is_executable(&postgres)).then(|| PgBinaries {
        // Resolve symlinks (e.g. /usr/local/bin/initdb) so that initdb finds its
        // sibling `postgres` and share directory.
        initdb: initdb.canonicalize().unwrap_or(initdb),
        postgres: postgres.canonicalize().unwrap_or(postgres),
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// `<root>/<version>/<sub>` for every numeric version under `root`, newest first.
/// For `/usr` the entries are `pgsql-<version>`.
pub fn versioned_bin_dirs(root: &Path, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version = if sub.is_empty() {
                name.strip_prefix("pgsql-")?
            } else {
                name.as_str()
            };
            let key = parse_version(version)?;
            let dir = if sub.is_empty() {
                e.path().join("bin")
            } else {
                e.path().join(sub)
            };
            Some((key, dir))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, d)| d).collect()
}

fn parse_version(s: &str) -> Option<Vec<u32>> {
    s.split('.').map(|p| p.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn fake_bin(dir: &Path, names: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        for n in names {
            let p = dir.join(n);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "attest-unit-{}-{}-{}",
            name,
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn newest_version_first_numerically() {
        let root = scratch("versions");
        for v in ["9.6", "15", "10", "16"] {
            fake_bin(&root.join(v).join("bin"), &["initdb", "postgres"]);
        }
        std::fs::create_dir_all(root.join("notaversion/bin")).unwrap();
        let dirs = versioned_bin_dirs(&root, "bin");
        let names: Vec<_> = dirs
            .iter()
            .map(|d| d.parent().unwrap().file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["16", "15", "10", "9.6"]);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn path_wins_and_both_programs_must_share_a_dir() {
        let root = scratch("lookup");
        let only_initdb = root.join("a");
        let on_path = root.join("b");
        let versioned = root.join("lib/16/bin");
        fake_bin(&only_initdb, &["initdb"]);
        fake_bin(&on_path, &["initdb", "postgres"]);
        fake_bin(&versioned, &["initdb", "postgres"]);

        let versioned_dirs = vec![versioned.clone()];
        let found = find_in(&[only_initdb.clone(), on_path.clone()], &versioned_dirs).unwrap();
        assert_eq!(found.bin_dir().unwrap(), on_path.canonicalize().unwrap());

        let found = find_in(std::slice::from_ref(&only_initdb), &versioned_dirs).unwrap();
        assert_eq!(found.bin_dir().unwrap(), versioned.canonicalize().unwrap());

        assert_eq!(find_in(&[only_initdb], &[]), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn non_executable_files_do_not_count() {
        let root = scratch("noexec");
        std::fs::write(root.join("initdb"), "").unwrap();
        std::fs::write(root.join("postgres"), "").unwrap();
        assert_eq!(find_in(std::slice::from_ref(&root), &[]), None);
        std::fs::remove_dir_all(root).unwrap();
    }
}

//! Uploads when things go wrong (issue 11, point 6): on a really full disk the user is
//! told the server's storage is full and nothing is left behind; a change that fails after
//! its files were moved into place takes them away again; partial uploads a crash left are
//! swept when the server starts; evidence and stored emails are the server's alone.
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use attest::db::evidence;
use attest::web::files::FileStore;
use attest::web::AppState;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::database_url;
use crate::http::{multipart_as, send};
use crate::portfolio::demo;
use crate::serve::{free_port, interrupt_and_wait, start_with};

/// A real, small filesystem (tmpfs) mounted for one test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(bytes: u64) -> SmallDisk {
        let dir =
            std::env::temp_dir().join(format!("attest-small-disk-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("mount point");
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={bytes},mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .status()
            .expect("running mount");
        assert!(
            mounted.success(),
            "mounting a small tmpfs needs root (the test suite runs as root in CI)"
        );
        SmallDisk { dir }
    }

    /// Fills the disk but for `left` bytes, with a file the test keeps.
    fn fill_leaving(&self, left: u64) {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.dir)
            .output()
            .expect("df");
        let avail: u64 = String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .expect("available bytes");
        let fill = avail.saturating_sub(left);
        std::fs::write(self.dir.join("ballast"), vec![0u8; fill as usize]).expect("ballast");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The files in `dir` and in its folder of partial uploads (which is not listed).
fn names_in(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for folder in [dir.to_path_buf(), dir.join("partial")] {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for e in entries {
            let e = e.expect("entry");
            if e.file_type().expect("type").is_file() {
                names.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names
}

#[tokio::test]
async fn on_a_full_disk_the_user_is_told_the_storage_is_full_and_nothing_is_left() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let disk = SmallDisk::mount(1024 * 1024);
    disk.fill_leaving(64 * 1024);
    let store = disk.dir.join("files");
    let state = AppState::from(attest::web::Services {
        files: FileStore::new(store.clone(), 25 * 1024 * 1024),
        ..attest::web::Services::new(d.pool.clone())
    });
    let before = evidence::list_for_enrolment(&d.pool, d.ben.id)
        .await
        .expect("list")
        .len();
    // A JPEG's signature, then its (here made-up) data.
    let mut photo = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec();
    photo.resize(512 * 1024, 7);
    let fields = [
        ("title", "Site photos, week 3"),
        ("description", "The finished stud wall"),
        ("kind", "photo"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let r = send(
        state.clone(),
        multipart_as(&ben, &uri, &fields, &[("wall.jpg", &photo)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.body);
    assert!(
        r.body.contains("storage is full"),
        "said as the server's problem: {}",
        r.body
    );
    assert!(!r.body.contains("larger than"), "not blamed on the file");
    assert!(
        r.body.contains("Site photos, week 3") && r.body.contains("The finished stud wall"),
        "what was typed is kept"
    );
    assert_eq!(
        names_in(&store),
        Vec::<String>::new(),
        "no partial file left"
    );
    assert_eq!(
        evidence::list_for_enrolment(&d.pool, d.ben.id)
            .await
            .expect("list")
            .len(),
        before,
        "nothing saved"
    );

    // Room again: the same form goes through, its file the server's alone.
    std::fs::remove_file(disk.dir.join("ballast")).expect("free the disk");
    let r = send(
        state,
        multipart_as(&ben, &uri, &fields, &[("wall.jpg", &photo)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let kept = names_in(&store);
    assert_eq!(kept.len(), 1, "{kept:?}");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&store.join(&kept[0])), 0o600, "the file");
    assert_eq!(mode(&store), 0o700, "its folder");
}

/// A change that fails after its files were moved into place (here: the database refuses
/// the file's row) leaves no file behind.
#[tokio::test]
async fn files_of_a_change_that_does_not_commit_are_removed() {
    let d = demo().await;
    let ben = d.as_("ben").await;
    let store = std::env::temp_dir().join(format!("attest-files-{}", Uuid::new_v4().simple()));
    let state = AppState::from(attest::web::Services {
        files: FileStore::new(store.clone(), 1024 * 1024),
        ..attest::web::Services::new(d.pool.clone())
    });
    sqlx::query(
        "CREATE FUNCTION refuse_files() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'injected fault'; END; $$",
    )
    .execute(&d.pool)
    .await
    .expect("function");
    sqlx::query(
        "CREATE TRIGGER refuse_files BEFORE INSERT ON evidence_files \
         FOR EACH ROW EXECUTE FUNCTION refuse_files()",
    )
    .execute(&d.pool)
    .await
    .expect("trigger");
    let uri = format!("/enrolments/{}/evidence", d.ben.id);
    let fields = [
        ("title", "Receipts"),
        ("description", ""),
        ("kind", "document"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    let r = send(
        state,
        multipart_as(&ben, &uri, &fields, &[("a.txt", b"one"), ("b.txt", b"two")]),
    )
    .await;
    assert!(r.status.is_server_error(), "{} {}", r.status, r.body);
    assert_eq!(names_in(&store), Vec::<String>::new(), "no file left");
    let _ = std::fs::remove_dir_all(&store);
}

/// The server sweeps partial uploads an earlier stop left, keeps every kept file, and
/// closes its evidence and mail folders to other users.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_sweeps_partial_uploads_and_closes_the_folders() {
    let d = demo().await;
    let data = std::env::temp_dir().join(format!("attest-start-{}", Uuid::new_v4().simple()));
    let files = data.join("files");
    let mail = data.join("mail");
    for dir in [&files, &mail] {
        std::fs::create_dir_all(dir).expect("dir");
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("0755");
    }
    std::fs::create_dir_all(files.join("partial")).expect("partial folder");
    std::fs::write(
        files.join("partial").join("upload-0123abcd.part"),
        b"half a photo",
    )
    .expect("partial");
    std::fs::write(files.join("0123456789abcdef"), b"a kept file").expect("kept");

    let url = database_url(&d.pool);
    let addr = format!("127.0.0.1:{}", free_port());
    let data_arg = data.to_str().expect("utf-8").to_string();
    let mut server = tokio::task::spawn_blocking(move || {
        start_with(
            &["--data-dir", &data_arg, "serve", "--addr", &addr],
            Some(&url),
            &[],
        )
        .0
    })
    .await
    .expect("join");
    // `start_with` returns once the server says it is serving: the sweep came before.
    let left = names_in(&files);
    tokio::task::spawn_blocking(move || interrupt_and_wait(&mut server))
        .await
        .expect("join");
    assert_eq!(left, ["0123456789abcdef"], "the partial upload is gone");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&files), 0o700);
    assert_eq!(mode(&mail), 0o700);
    let _ = std::fs::remove_dir_all(&data);
}

//! Evidence files on disk under the data folder. Uploads are streamed to a temporary file
//! (never held whole in memory), checked against the size limit as they arrive, and
//! kept under a random name: nothing a user types ever becomes part of a path.
//!
//! Nothing is left behind by a failure: a received file not kept is removed when it is
//! dropped, whatever the path out (an error, a refusal, a panic); files moved into place
//! for a change that does not commit are removed with it; and partial uploads a crash left
//! are swept at start. The folder and its files are the server's alone (0700 and 0600).
//!
//! With a bucket configured (issue 16), a kept file goes to the bucket as
//! `files/<key>` instead, streamed from its temporary file; the temporary and partial
//! files of uploads still live in this server's folder.
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use axum::extract::multipart::Field;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::domain::file_type::{self, FileType};
use crate::domain::text::clean_file_name;
use crate::storage::Bucket;

/// 25 MB, the default limit per file.
pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;

/// Said beside a file field when a file's content is not on the allow-list.
pub(crate) const NOT_ALLOWED_FIELD: &str =
    "Select photos, videos, audio recordings or documents (PDF, Word, OpenDocument, text)";

/// How much of a file's start its format is judged from: enough for an office
/// document's first entries (`infer` finds "word/" among them).
pub(crate) const HEAD_BYTES: usize = 64 * 1024;

/// Enough of a file's start to read a signature, and so the file's limit.
pub(crate) const KIND_BYTES: usize = 4096;

/// What a file's start says it is: its signature, judged against the allow-list.
pub(crate) fn judge(head: &[u8]) -> Result<FileType, file_type::NotAllowed> {
    file_type::judge(infer::get(head).map(|t| t.mime_type()), head)
}

/// The kind whose size limit a file is held to: a file with no signature on the list
/// (text, or one refused once it has all arrived) has the photo and document limit.
pub(crate) fn family_of(head: &[u8]) -> file_type::Family {
    judge(head).map_or(file_type::Family::Document, |t| t.family)
}

/// Refuses a file grown past `most` bytes, naming the limit.
fn within(received: &Received, most: u64) -> Result<(), UploadError> {
    if received.size > most {
        return Err(UploadError::TooBig {
            name: received.file_name.clone(),
            limit_mb: most.div_ceil(1024 * 1024),
        });
    }
    Ok(())
}

/// The start of a kept file, to judge it again as it is served.
pub(crate) async fn head_of(path: &Path) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path).await?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    file.take(HEAD_BYTES as u64).read_to_end(&mut head).await?;
    Ok(head)
}

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    /// Where kept files go when not under `dir`.
    bucket: Option<Bucket>,
    /// The limit for a photo or a document.
    pub max_bytes: u64,
    /// The limit for a video or an audio recording (`with_media_limit`; the same as
    /// `max_bytes` unless set).
    pub max_media_bytes: u64,
}

/// A file received but not yet kept; removed when dropped unless `FileStore::keep` moved
/// it into place.
#[derive(Debug)]
pub struct Received {
    temp: PathBuf,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

impl Received {
    /// A received file at `temp`, which is the store's to remove: how a finished
    /// resumable upload joins the files of a form (`web::resumable`).
    pub(crate) fn at(
        temp: PathBuf,
        file_name: String,
        content_type: String,
        size: u64,
        sha256: String,
    ) -> Received {
        Received {
            temp,
            file_name,
            content_type,
            size,
            sha256,
        }
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        // Gone already once kept (renamed away); otherwise it is a partial or refused file.
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// Files moved into place for a change not yet committed: removed when dropped, unless
/// `committed` says the change that names them is in the database.
#[derive(Debug, Default)]
pub(crate) struct Placed {
    paths: Vec<PathBuf>,
    objects: Vec<(Bucket, String)>,
    committed: bool,
}

impl Placed {
    /// The change naming these files committed: keep them.
    pub fn committed(mut self) {
        self.committed = true;
    }
}

impl Drop for Placed {
    fn drop(&mut self) {
        if !self.committed {
            for p in &self.paths {
                let _ = std::fs::remove_file(p);
            }
            // Removed in the background (a drop cannot wait); one left behind is named
            // by no row, so it is never served.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                for (bucket, key) in std::mem::take(&mut self.objects) {
                    runtime.spawn(async move {
                        if let Err(e) = bucket.delete(&key).await {
                            tracing::warn!(key, error = %e, "an object of a change that did not commit was not removed");
                        }
                    });
                }
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    #[error("“{name}” is larger than the {limit_mb} MB limit")]
    TooBig { name: String, limit_mb: u64 },
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// Its content is not a format evidence may hold, whatever its name says.
    #[error("“{name}” {why}")]
    NotAllowed {
        name: String,
        why: crate::domain::file_type::NotAllowed,
    },
    /// The disk (or the account's quota) is full: not the file's fault.
    #[error("the server's storage is full")]
    StorageFull,
    /// The bucket did not take the file: not the file's fault either.
    #[error("the file store is unavailable: {0}")]
    Store(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Io(std::io::Error),
}

impl From<std::io::Error> for UploadError {
    fn from(e: std::io::Error) -> Self {
        if is_storage_full(&e) {
            UploadError::StorageFull
        } else {
            UploadError::Io(e)
        }
    }
}

/// No space left on the device, or over a disk quota.
pub(crate) fn is_storage_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// A kept file that could not be kept: the store, not the request, is at fault, and a
/// later try may work.
pub(crate) fn not_kept(e: UploadError) -> crate::web::error::AppError {
    tracing::error!(error = %e, "a received file could not be kept");
    crate::web::error::AppError::Unavailable
}

/// Where a kept file is.
#[derive(Debug)]
pub enum Kept {
    Disk(PathBuf),
    Object(Bucket, String),
}

/// A kept file's name in the bucket.
fn object_key(storage_key: &str) -> String {
    format!("files/{storage_key}")
}

/// The folder, under the store's, that received files wait in until kept: sweeping it
/// at start reads only what a crash left, never the kept files beside it (a centre's
/// evidence can be hundreds of thousands of files). Not hex, so never a storage key.
pub(crate) const PARTIAL_DIR: &str = "partial";

/// Makes `dir` if missing and leaves it readable by this user alone (0700): evidence and
/// stored emails are personal data, and a folder closed to others closes its files too.
pub(crate) fn restrict_folder(dir: &Path) -> std::io::Result<()> {
    // Only the folder itself is closed: folders above it are made as usual (the data
    // folder must stay enterable by the `postgres` user when run as root).
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

impl FileStore {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        FileStore {
            dir,
            bucket: None,
            max_bytes,
            max_media_bytes: max_bytes,
        }
    }

    /// Kept files go to `bucket` rather than under the folder.
    pub fn with_bucket(mut self, bucket: Option<Bucket>) -> Self {
        self.bucket = bucket;
        self
    }

    /// Video and audio may be larger than photos and documents (a phone films 100 MB
    /// in a minute or two).
    pub fn with_media_limit(mut self, max_media_bytes: u64) -> Self {
        self.max_media_bytes = max_media_bytes;
        self
    }

    /// The larger of the two limits: what any one file may be before its kind is known.
    pub fn largest_bytes(&self) -> u64 {
        self.max_bytes.max(self.max_media_bytes)
    }

    /// The limit for a file of this family.
    pub(crate) fn limit_for(&self, family: file_type::Family) -> u64 {
        match family {
            file_type::Family::Video | file_type::Family::Audio => self.max_media_bytes,
            file_type::Family::Photo | file_type::Family::Document => self.max_bytes,
        }
    }

    pub(crate) fn limit_mb(&self) -> u64 {
        self.max_bytes.div_ceil(1024 * 1024)
    }

    /// The folder and its partial folder, made if missing, readable by the server alone.
    pub(crate) async fn folder(&self) -> std::io::Result<()> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            restrict_folder(&dir)?;
            restrict_folder(&dir.join(PARTIAL_DIR))
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Streams one multipart file field to a temporary file.
    pub(crate) async fn receive(&self, mut field: Field<'_>) -> Result<Received, UploadError> {
        self.folder().await?;
        let file_name = clean_file_name(field.file_name().unwrap_or("file"));
        // Set from the content once it has arrived; the browser's claim is not used.
        let content_type = String::new();
        let temp = self
            .dir
            .join(PARTIAL_DIR)
            .join(format!("upload-{}.part", Uuid::new_v4().simple()));
        let mut out = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .await?;
        // From here every way out removes the partial file (`Received`'s drop).
        let mut received = Received {
            temp,
            file_name,
            content_type,
            size: 0,
            sha256: String::new(),
        };
        let mut hash = Sha256::new();
        let mut head = Vec::new();
        let mut limit = None;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Err(UploadError::Interrupted(e.to_string())),
            };
            received.size += chunk.len() as u64;
            if head.len() < HEAD_BYTES {
                let wanted = (HEAD_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..wanted]);
                // Its kind, and so its limit, once the start is in: a signature needs
                // a few bytes; what has none (text, an office file found later in
                // the start) has the photo and document limit.
                if head.len() >= KIND_BYTES && limit.is_none() {
                    limit = Some(self.limit_for(family_of(&head)));
                }
            }
            within(&received, limit.unwrap_or_else(|| self.largest_bytes()))?;
            hash.update(&chunk);
            out.write_all(&chunk).await?;
        }
        // A file shorter than the start judged above: held to its kind's limit now.
        if limit.is_none() {
            within(&received, self.limit_for(family_of(&head)))?;
        }
        // Written through to the disk before it is kept: a full disk shows here, not later.
        out.flush().await?;
        out.sync_all().await?;
        received.sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        // Kept as what it is; refused (and removed, as it drops) if not on the list.
        match judge(&head) {
            Ok(t) => received.content_type = t.mime.to_string(),
            Err(why) => {
                return Err(UploadError::NotAllowed {
                    name: received.file_name.clone(),
                    why,
                })
            }
        }
        Ok(received)
    }

    /// Moves received files to their permanent places; returns their storage keys, in
    /// order, and the guard that removes them again unless the change commits.
    pub(crate) async fn keep_all(
        &self,
        received: &[Received],
    ) -> Result<(Vec<String>, Placed), UploadError> {
        let mut placed = Placed::default();
        let mut keys = Vec::with_capacity(received.len());
        for r in received {
            let key = Uuid::new_v4().simple().to_string();
            match &self.bucket {
                Some(bucket) => {
                    let object = object_key(&key);
                    bucket.put_file(&object, &r.temp).await?;
                    placed.objects.push((bucket.clone(), object));
                }
                None => {
                    let path = self.dir.join(&key);
                    tokio::fs::rename(&r.temp, &path).await?;
                    placed.paths.push(path);
                }
            }
            keys.push(key);
        }
        Ok((keys, placed))
    }

    /// Removes partial uploads a crash left behind (run at start, before serving).
    pub(crate) fn sweep_partials(&self) -> std::io::Result<usize> {
        let entries = match std::fs::read_dir(self.dir.join(PARTIAL_DIR)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut swept = 0;
        for entry in entries {
            std::fs::remove_file(entry?.path())?;
            swept += 1;
        }
        Ok(swept)
    }

    /// A kept file's bytes, for a job that reads them (its text). The caller bounds the
    /// size by the size kept with the file; the bucket's requests have their deadline.
    pub(crate) async fn read_kept(&self, storage_key: &str) -> Result<Vec<u8>, UploadError> {
        match self.locate(storage_key) {
            None => Err(UploadError::Interrupted(format!(
                "no kept file is called {storage_key:?}"
            ))),
            Some(Kept::Object(bucket, key)) => Ok(bucket.get_bytes(&key).await?),
            Some(Kept::Disk(path)) => Ok(tokio::fs::read(&path).await?),
        }
    }

    /// Removes a kept file (archived or erased); gone already is fine, so a job that
    /// removes a list of files may run again.
    pub(crate) async fn remove_kept(&self, storage_key: &str) -> Result<(), UploadError> {
        match self.locate(storage_key) {
            None => Ok(()),
            Some(Kept::Object(bucket, key)) => Ok(bucket.delete(&key).await?),
            Some(Kept::Disk(path)) => match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
        }
    }

    /// The origin that serves kept files to browsers, when it is not this site.
    pub(crate) fn served_from(&self) -> Option<String> {
        self.bucket.as_ref().map(Bucket::origin)
    }

    /// Where a kept file is. Keys are ours (hex), never a user's text.
    pub fn locate(&self, storage_key: &str) -> Option<Kept> {
        if storage_key.is_empty() || !storage_key.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some(match &self.bucket {
            Some(bucket) => Kept::Object(bucket.clone(), object_key(storage_key)),
            None => Kept::Disk(self.dir.join(storage_key)),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

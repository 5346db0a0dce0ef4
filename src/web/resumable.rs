//! The bytes of resumable uploads (`db::uploads`): a file per upload in the store's
//! `resumable` folder, appended to piece by piece. How many bytes have arrived is the
//! file's length, so a piece cut off half-way keeps what arrived and the next piece
//! starts there: a resumed upload sends again only what never arrived.
//!
//! The folder is not swept at start as `partial` is: an upload resumes across restarts,
//! and lives until it is used or expires.
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use axum::body::Body;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::files::{
    family_of, head_of, judge, restrict_folder, FileStore, Received, UploadError, KIND_BYTES,
    PARTIAL_DIR,
};
use crate::db::uploads::Upload;

const RESUMABLE_DIR: &str = "resumable";

/// Why a piece was not appended.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppendError {
    /// The piece does not start where the upload stands: the client asks where that is
    /// (HEAD) and goes on from there.
    #[error("the upload stands at byte {0}; send from there")]
    NotAt(u64),
    /// Another request is appending to this upload now.
    #[error("another request is sending this upload now; wait for it or try again shortly")]
    Busy,
    /// More bytes than the upload said it would have.
    #[error("the piece goes past the upload's length of {0} bytes")]
    PastLength(u64),
    #[error(transparent)]
    Upload(#[from] UploadError),
}

impl From<std::io::Error> for AppendError {
    fn from(e: std::io::Error) -> Self {
        AppendError::Upload(e.into())
    }
}

/// Where an upload stands after a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Appended {
    /// Bytes in, from the start.
    pub offset: u64,
    /// True when the piece ended before its body did (the connection dropped).
    pub cut_short: bool,
}

impl FileStore {
    fn resumable_path(&self, id: Uuid) -> PathBuf {
        self.dir()
            .join(RESUMABLE_DIR)
            .join(format!("{}.part", id.simple()))
    }

    /// Makes upload `id`'s empty file.
    pub(crate) async fn start_resumable(&self, id: Uuid) -> Result<(), UploadError> {
        let (dir, path) = (self.dir().join(RESUMABLE_DIR), self.resumable_path(id));
        tokio::task::spawn_blocking(move || {
            restrict_folder(&dir)?;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map(drop)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(())
    }

    /// How many bytes of upload `id` have arrived.
    pub(crate) async fn resumable_offset(&self, id: Uuid) -> std::io::Result<u64> {
        Ok(tokio::fs::metadata(self.resumable_path(id)).await?.len())
    }

    /// Appends `body` to upload `id` of `length` bytes, if it stands at `offset`: as the
    /// bytes arrive, so memory stays flat whatever the size. Once the start is in, a file
    /// larger than its kind's limit is refused.
    pub(crate) async fn append_resumable(
        &self,
        upload: &Upload,
        offset: u64,
        body: Body,
    ) -> Result<Appended, AppendError> {
        let length = u64::try_from(upload.length).unwrap_or_default();
        let path = self.resumable_path(upload.id);
        let opened = tokio::task::spawn_blocking({
            let path = path.clone();
            move || -> Result<(std::fs::File, u64), AppendError> {
                let file = std::fs::OpenOptions::new().append(true).open(&path)?;
                // Held until the file closes: two pieces of one upload never interleave.
                file.try_lock().map_err(|e| match e {
                    std::fs::TryLockError::WouldBlock => AppendError::Busy,
                    std::fs::TryLockError::Error(e) => e.into(),
                })?;
                let at = file.metadata()?.len();
                Ok((file, at))
            }
        })
        .await
        .map_err(std::io::Error::other)??;
        let (file, at) = opened;
        if at != offset {
            return Err(AppendError::NotAt(at));
        }
        let mut out = tokio::fs::File::from_std(file);
        let mut written = at;
        let mut cut_short = false;
        let mut stream = body.into_data_stream();
        while let Some(piece) = stream.next().await {
            let Ok(bytes) = piece else {
                cut_short = true;
                break;
            };
            let end = written + bytes.len() as u64;
            if end > length {
                out.flush().await?;
                return Err(AppendError::PastLength(length));
            }
            out.write_all(&bytes).await?;
            written = end;
        }
        out.flush().await?;
        // The start has just come in (or the whole of a short file): its kind, and so
        // its limit, is known now.
        let judged_now =
            at < KIND_BYTES as u64 && (written >= KIND_BYTES as u64 || written == length);
        if judged_now {
            let limit = self.limit_for(family_of(&head_of(&path).await?));
            if length > limit {
                return Err(AppendError::Upload(UploadError::TooBig {
                    name: upload.file_name.clone(),
                    limit_mb: limit.div_ceil(1024 * 1024),
                }));
            }
        }
        Ok(Appended {
            offset: written,
            cut_short,
        })
    }

    /// Judges a complete upload by its content and digests it: (its type, its SHA-256).
    pub(crate) async fn finish_resumable(
        &self,
        id: Uuid,
        file_name: &str,
    ) -> Result<(String, String), UploadError> {
        let path = self.resumable_path(id);
        let kind = judge(&head_of(&path).await?).map_err(|why| UploadError::NotAllowed {
            name: file_name.to_string(),
            why,
        })?;
        let digest = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            let mut file = std::fs::File::open(&path)?;
            file.sync_all()?;
            let mut hash = Sha256::new();
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                hash.update(&buffer[..n]);
            }
            Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok((kind.mime.to_string(), digest))
    }

    /// A complete upload as a received file of a form. It is a second name for the
    /// upload's bytes, so a form refused for another reason leaves the upload whole for
    /// the next try.
    pub(crate) async fn received_from(&self, upload: &Upload) -> Result<Received, UploadError> {
        self.folder().await?;
        let (content_type, sha256) = match (&upload.content_type, &upload.sha256) {
            (Some(t), Some(d)) => (t.clone(), d.clone()),
            _ => {
                return Err(UploadError::Interrupted(
                    "the upload has not finished".into(),
                ))
            }
        };
        let temp = self
            .dir()
            .join(PARTIAL_DIR)
            .join(format!("upload-{}.part", Uuid::new_v4().simple()));
        tokio::fs::hard_link(self.resumable_path(upload.id), &temp).await?;
        Ok(Received::at(
            temp,
            upload.file_name.clone(),
            content_type,
            u64::try_from(upload.length).unwrap_or_default(),
            sha256,
        ))
    }

    /// Removes upload `id`'s bytes (used, discarded or expired); gone already is fine.
    pub(crate) async fn remove_resumable(&self, id: Uuid) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.resumable_path(id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

//! Evidence files on disk under the data folder. Uploads are streamed to a temporary file
//! (never held whole in memory), checked against the size limit as they arrive, and
//! kept under a random name: nothing a user types ever becomes part of a path.
use std::path::{Path, PathBuf};

use axum::extract::multipart::Field;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::domain::text::clean_file_name;

/// 25 MB, the default limit per file.
pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    pub max_bytes: u64,
}

/// A file received but not yet kept.
#[derive(Debug)]
pub struct Received {
    temp: PathBuf,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("“{name}” is larger than the {limit_mb} MB limit")]
    TooBig { name: String, limit_mb: u64 },
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl FileStore {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        FileStore { dir, max_bytes }
    }

    pub fn limit_mb(&self) -> u64 {
        self.max_bytes.div_ceil(1024 * 1024)
    }

    /// Streams one multipart file field to a temporary file.
    pub async fn receive(&self, mut field: Field<'_>) -> Result<Received, UploadError> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let file_name = clean_file_name(field.file_name().unwrap_or("file"));
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let temp = self
            .dir
            .join(format!("upload-{}.part", Uuid::new_v4().simple()));
        let mut out = tokio::fs::File::create(&temp).await?;
        let mut hash = Sha256::new();
        let mut size = 0u64;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    drop(out);
                    let _ = tokio::fs::remove_file(&temp).await;
                    return Err(UploadError::Interrupted(e.to_string()));
                }
            };
            size += chunk.len() as u64;
            if size > self.max_bytes {
                drop(out);
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(UploadError::TooBig {
                    name: file_name,
                    limit_mb: self.limit_mb(),
                });
            }
            hash.update(&chunk);
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Received {
            temp,
            file_name,
            content_type,
            size,
            sha256,
        })
    }

    /// Moves a received file to its permanent place; returns its storage key.
    pub async fn keep(&self, received: &Received) -> std::io::Result<String> {
        let key = Uuid::new_v4().simple().to_string();
        tokio::fs::rename(&received.temp, self.dir.join(&key)).await?;
        Ok(key)
    }

    pub async fn discard(&self, received: &Received) {
        let _ = tokio::fs::remove_file(&received.temp).await;
    }

    /// Where a kept file is. Keys are ours (hex), never a user's text.
    pub fn path(&self, storage_key: &str) -> Option<PathBuf> {
        storage_key
            .chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| self.dir.join(storage_key))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

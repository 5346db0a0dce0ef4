//! Where the register's documents are kept (issue 11 point 8): one folder under the data
//! folder (`<data>/credentials`), a file per document named by the credential's id,
//! the document and the SHA-256 of its bytes, e.g.
//! `0190…0001.issued.3f2a….pdf`. A name therefore never holds two different contents:
//! two processes making the same document at once cannot overwrite what the other
//! kept, and the register's hash says which file is the one.
//!
//! Files are written whole or not at all (a temporary file, flushed to disk, renamed
//! into place, the folder flushed), readable by the owner and group only. Reading
//! checks the size and the SHA-256 against what the register kept: a mismatch or a
//! missing file is an error, never a reason to make the document again.
//!
//! With a bucket configured (issue 16) the same names are objects under `credentials/`,
//! written whole by one request (S3 never shows half an object) and checked the same
//! way when read.
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::credential::KeptFile;
use crate::storage::{Bucket, StorageError};

/// The register's documents of one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The PDF the worker generated, shown before the credential is issued.
    DraftPdf,
    /// The PDF as issued, with the date of issue.
    IssuedPdf,
    /// The signed Open Badges / W3C Verifiable Credential, as issued.
    SignedJson,
}

impl Document {
    /// The document a stem names (`stem`'s inverse).
    pub fn from_stem(stem: &str) -> Option<Document> {
        [
            Document::DraftPdf,
            Document::IssuedPdf,
            Document::SignedJson,
        ]
        .into_iter()
        .find(|d| d.stem() == stem)
    }

    pub fn stem(self) -> &'static str {
        match self {
            Document::DraftPdf => "draft",
            Document::IssuedPdf => "issued",
            Document::SignedJson => "signed",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Document::DraftPdf | Document::IssuedPdf => "pdf",
            Document::SignedJson => "json",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the kept document {path} cannot be written: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the kept document {path} cannot be read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the kept document {path} does not match the register: {found_size} bytes with SHA-256 \
         {found_sha256}, the register says {kept_size} bytes with SHA-256 {kept_sha256}"
    )]
    Mismatch {
        path: PathBuf,
        kept_sha256: String,
        kept_size: u64,
        found_sha256: String,
        found_size: u64,
    },
    #[error("the kept document {key} is unavailable: {source}")]
    Bucket { key: String, source: StorageError },
    #[error("a document task failed: {0}")]
    Task(String),
}

/// The folder (or bucket) of kept documents.
#[derive(Debug, Clone)]
pub struct DocumentStore {
    dir: PathBuf,
    bucket: Option<Bucket>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl DocumentStore {
    pub fn new(dir: PathBuf) -> Self {
        DocumentStore { dir, bucket: None }
    }

    /// Documents go to `bucket` rather than under the folder.
    pub fn with_bucket(mut self, bucket: Option<Bucket>) -> Self {
        self.bucket = bucket;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the document with this hash is (or would be) kept. The hash is the
    /// register's, hex only, so it cannot leave the folder.
    pub fn path(&self, credential: Uuid, document: Document, sha256: &str) -> PathBuf {
        self.dir.join(file_name(credential, document, sha256))
    }

    /// Keeps `bytes` as the credential's document; returns what the register records.
    pub async fn write(
        &self,
        credential: Uuid,
        document: Document,
        bytes: Vec<u8>,
    ) -> Result<KeptFile, StoreError> {
        let Some(bucket) = &self.bucket else {
            let store = self.clone();
            return tokio::task::spawn_blocking(move || {
                store.write_file(credential, document, &bytes)
            })
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        };
        let kept = KeptFile {
            sha256: sha256_hex(&bytes),
            size: bytes.len() as u64,
        };
        let key = object_key(credential, document, &kept.sha256);
        bucket
            .put_bytes(&key, bytes)
            .await
            .map_err(|source| StoreError::Bucket { key, source })?;
        Ok(kept)
    }

    /// The kept document's bytes, checked against the register.
    pub async fn read(
        &self,
        credential: Uuid,
        document: Document,
        kept: &KeptFile,
    ) -> Result<Vec<u8>, StoreError> {
        let Some(bucket) = &self.bucket else {
            let (store, kept) = (self.clone(), kept.clone());
            return tokio::task::spawn_blocking(move || {
                store.read_file(credential, document, &kept)
            })
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        };
        let key = object_key(credential, document, &kept.sha256);
        let bytes = bucket
            .get_bytes(&key)
            .await
            .map_err(|source| StoreError::Bucket {
                key: key.clone(),
                source,
            })?;
        checked(PathBuf::from(key), bytes, kept)
    }

    /// Removes a document that was made but not kept (another process kept its own
    /// first). Best effort: a leftover file is never served.
    pub(crate) async fn discard(&self, credential: Uuid, document: Document, made: &KeptFile) {
        if let Err(e) = self.remove(credential, document, &made.sha256).await {
            tracing::warn!(error = %e, "an unkept document was not removed");
        }
    }

    /// Removes a kept document (its learner's data was erased); gone already is fine.
    pub(crate) async fn remove(
        &self,
        credential: Uuid,
        document: Document,
        sha256: &str,
    ) -> Result<(), StoreError> {
        match &self.bucket {
            Some(bucket) => {
                let key = object_key(credential, document, sha256);
                bucket
                    .delete(&key)
                    .await
                    .map_err(|source| StoreError::Bucket { key, source })
            }
            None => {
                let path = self.path(credential, document, sha256);
                match fs::remove_file(&path) {
                    Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                        Err(StoreError::Write { path, source })
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    fn write_file(
        &self,
        credential: Uuid,
        document: Document,
        bytes: &[u8],
    ) -> Result<KeptFile, StoreError> {
        let kept = KeptFile {
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
        };
        let path = self.path(credential, document, &kept.sha256);
        let failed = |source| StoreError::Write {
            path: path.clone(),
            source,
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(&self.dir)
            .map_err(failed)?;
        let temp = self.dir.join(format!(".{}.part", Uuid::new_v4().simple()));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o640)
                .open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&temp, &path)?;
            // The rename itself is on disk once the folder is.
            File::open(&self.dir)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(failed(e));
        }
        Ok(kept)
    }

    fn read_file(
        &self,
        credential: Uuid,
        document: Document,
        kept: &KeptFile,
    ) -> Result<Vec<u8>, StoreError> {
        let path = self.path(credential, document, &kept.sha256);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| StoreError::Read {
                path: path.clone(),
                source,
            })?;
        checked(path, bytes, kept)
    }
}

fn file_name(credential: Uuid, document: Document, sha256: &str) -> String {
    let hash: String = sha256.chars().filter(char::is_ascii_hexdigit).collect();
    format!(
        "{}.{}.{hash}.{}",
        credential.simple(),
        document.stem(),
        document.extension()
    )
}

fn object_key(credential: Uuid, document: Document, sha256: &str) -> String {
    format!("credentials/{}", file_name(credential, document, sha256))
}

/// The bytes, if they are the register's: the same size and SHA-256.
fn checked(path: PathBuf, bytes: Vec<u8>, kept: &KeptFile) -> Result<Vec<u8>, StoreError> {
    let found_sha256 = sha256_hex(&bytes);
    if found_sha256 != kept.sha256 || bytes.len() as u64 != kept.size {
        return Err(StoreError::Mismatch {
            path,
            kept_sha256: kept.sha256.clone(),
            kept_size: kept.size,
            found_sha256,
            found_size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn scratch() -> DocumentStore {
        DocumentStore::new(
            std::env::temp_dir().join(format!("attest-store-test-{}", Uuid::new_v4().simple())),
        )
    }

    #[tokio::test]
    async fn a_kept_document_reads_back_as_written_and_is_not_world_readable() {
        let store = scratch();
        let id = Uuid::new_v4();
        let kept = store
            .write(id, Document::IssuedPdf, b"%PDF-1.7 x".to_vec())
            .await
            .unwrap();
        assert_eq!(kept.size, 10);
        assert_eq!(
            store.read(id, Document::IssuedPdf, &kept).await.unwrap(),
            b"%PDF-1.7 x"
        );
        let path = store.path(id, Document::IssuedPdf, &kept.sha256);
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o007, 0, "{mode:o}");
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(store.dir()).unwrap().collect();
        assert_eq!(names.len(), 1);
        let _ = fs::remove_dir_all(store.dir());
    }

    #[tokio::test]
    async fn a_changed_or_missing_document_is_an_error() {
        let store = scratch();
        let id = Uuid::new_v4();
        let kept = store
            .write(id, Document::SignedJson, b"{}".to_vec())
            .await
            .unwrap();
        let path = store.path(id, Document::SignedJson, &kept.sha256);
        fs::write(&path, b"{ }").unwrap();
        assert!(matches!(
            store.read(id, Document::SignedJson, &kept).await,
            Err(StoreError::Mismatch { .. })
        ));
        fs::remove_file(&path).unwrap();
        assert!(matches!(
            store.read(id, Document::SignedJson, &kept).await,
            Err(StoreError::Read { .. })
        ));
        let _ = fs::remove_dir_all(store.dir());
    }
}

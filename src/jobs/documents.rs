//! The register's documents, made once and kept (issue 11 point 8): the PDF the worker
//! generated, and at issue the issued PDF (with its date of issue) and the signed
//! credential. Each is kept under the data folder (`credentials::store`) with its
//! SHA-256 and size in the register, and every later download serves exactly those
//! bytes, checked against the register; a new font, template or `--public-url` never
//! changes what was issued.
//!
//! A credential issued (or generated) before documents were kept has none: its
//! documents are made once, on their first download, with the renderer, address and
//! key of that day, and kept like any other from then on.
use sqlx::PgPool;

use super::{RenderError, Renderer};
use crate::credentials::sealing::Kek;
use crate::credentials::store::{Document, DocumentStore, StoreError};
use crate::credentials::vc::{self, AchievedUnit, CredentialInput, IssuerKey, VcError};
use crate::db::credentials::{self, Credential};
use crate::db::{centre_keys, DbError};
use crate::domain::credential::KeptFile;
use crate::domain::credential_number::CredentialNumber;

/// The store tests and tools use when no data folder is given.
pub fn default_store() -> DocumentStore {
    DocumentStore::new(std::env::temp_dir().join("attest-credentials"))
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("rendering the credential: {0}")]
    Render(#[from] RenderError),
    #[error("signing the credential: {0}")]
    Sign(#[from] VcError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the credential {0} has no such document yet")]
    NotYet(uuid::Uuid),
    #[error("the credential's documents could not be made: {0}")]
    Making(String),
}

/// What making and reading the documents needs.
pub struct Documents<'a> {
    pub pool: &'a PgPool,
    pub render: &'a Renderer,
    pub public_url: &'a str,
    pub store: &'a DocumentStore,
    /// Opens the centre's sealed signing key.
    pub kek: &'a Kek,
}

/// What the signed credential says, from the register entry; only issued ones exist.
pub(crate) fn vc_input(credential: &Credential) -> Result<CredentialInput, DocumentError> {
    let number = CredentialNumber::parse(&credential.number)
        .map_err(|e| DocumentError::Making(format!("register number: {e}")))?;
    let issued_at = credential
        .issued_at
        .ok_or(DocumentError::NotYet(credential.id))?;
    Ok(CredentialInput {
        number,
        centre_id: credential.centre_id,
        centre_name: credential.centre_name.clone(),
        learner_name: credential.learner_name.clone(),
        qualification_code: credential.qualification_code.clone(),
        qualification_title: credential.qualification_title.clone(),
        qualification_level: i16::from(credential.qualification_level),
        major_code: credential.major_code.clone(),
        major_title: credential.major_title.clone(),
        units: credential
            .units
            .iter()
            .map(|u| AchievedUnit {
                code: u.code.clone(),
                title: u.title.clone(),
                level: i16::from(u.level),
                credits: i32::try_from(u.credits).unwrap_or(i32::MAX),
            })
            .collect(),
        issued_at,
        status_list_index: credential.status_list_index,
    })
}

impl Documents<'_> {
    /// The PDF shown before issue, as the worker kept it.
    pub(crate) async fn draft_pdf(
        &self,
        credential: &Credential,
    ) -> Result<Vec<u8>, DocumentError> {
        let credential = match credential.draft_pdf {
            Some(_) => credential.clone(),
            None => self.make_draft(credential).await?,
        };
        self.read(
            &credential,
            Document::DraftPdf,
            credential.draft_pdf.as_ref(),
        )
        .await
    }

    /// The issued PDF or the signed credential, as kept at issue.
    pub async fn issued(
        &self,
        credential: &Credential,
        document: Document,
    ) -> Result<Vec<u8>, DocumentError> {
        let credential = match (&credential.pdf, &credential.vc) {
            (Some(_), Some(_)) => credential.clone(),
            _ => self.make_issued(credential).await?,
        };
        let kept = match document {
            Document::DraftPdf => credential.draft_pdf.as_ref(),
            Document::IssuedPdf => credential.pdf.as_ref(),
            Document::SignedJson => credential.vc.as_ref(),
        };
        self.read(&credential, document, kept).await
    }

    /// Makes and keeps the issued PDF and signed credential, unless they are kept
    /// already; returns the credential as the register now has it.
    pub async fn make_issued(&self, credential: &Credential) -> Result<Credential, DocumentError> {
        let input = vc_input(credential)?;
        // Signed by the centre's current key, named in the proof.
        let key = centre_keys::get_or_create(self.pool, self.kek, credential.centre_id).await?;
        let signer = IssuerKey {
            id: &key.key_id(),
            key: &key.signing_key,
        };
        let signed = vc::issue(self.public_url, &input, signer)?;
        let json =
            serde_json::to_vec_pretty(&signed).map_err(|e| DocumentError::Making(e.to_string()))?;
        let pdf = self.render(credential).await?;
        let pdf = self
            .store
            .write(credential.id, Document::IssuedPdf, pdf)
            .await?;
        let vc = self
            .store
            .write(credential.id, Document::SignedJson, json)
            .await?;
        credentials::keep_issued_documents(self.pool, credential.id, &pdf, &vc).await?;
        let now = credentials::get(self.pool, credential.id).await?;
        self.discard_unkept(now.id, Document::IssuedPdf, &pdf, now.pdf.as_ref())
            .await;
        self.discard_unkept(now.id, Document::SignedJson, &vc, now.vc.as_ref())
            .await;
        Ok(now)
    }

    async fn make_draft(&self, credential: &Credential) -> Result<Credential, DocumentError> {
        let pdf = self.render(credential).await?;
        let pdf = self
            .store
            .write(credential.id, Document::DraftPdf, pdf)
            .await?;
        credentials::keep_draft_pdf(self.pool, credential.id, &pdf).await?;
        let now = credentials::get(self.pool, credential.id).await?;
        self.discard_unkept(now.id, Document::DraftPdf, &pdf, now.draft_pdf.as_ref())
            .await;
        Ok(now)
    }

    /// Another process kept its own document first: ours is removed (unless it is
    /// the same file, byte for byte).
    /// The credential's PDF, drawn off the async threads (it takes a while).
    async fn render(&self, credential: &Credential) -> Result<Vec<u8>, DocumentError> {
        let (render, made) = (self.render.clone(), credential.clone());
        tokio::task::spawn_blocking(move || render(&made))
            .await
            .map_err(|e| DocumentError::Making(e.to_string()))?
            .map_err(DocumentError::from)
    }

    async fn discard_unkept(
        &self,
        id: uuid::Uuid,
        document: Document,
        made: &KeptFile,
        kept: Option<&KeptFile>,
    ) {
        if kept.is_some_and(|k| k.sha256 != made.sha256) {
            self.store.discard(id, document, made).await;
        }
    }

    async fn read(
        &self,
        credential: &Credential,
        document: Document,
        kept: Option<&KeptFile>,
    ) -> Result<Vec<u8>, DocumentError> {
        let kept = kept.cloned().ok_or(DocumentError::NotYet(credential.id))?;
        let id = credential.id;
        self.store.read(id, document, &kept).await.map_err(|e| {
            tracing::error!(credential = %id, error = %e, "a kept credential document does not match the register");
            DocumentError::Store(e)
        })
    }
}

//! Sending the email the outbox holds (`db::outbox`). A job sends one message; a
//! transient failure (no answer in time, a 4xx, a full mail folder) is tried again
//! after a growing pause (`domain::mail::retry_pause`), a permanent one (a 5xx, a bad
//! address) is given up at once, and so is the last attempt. Each attempt is recorded
//! in the transaction that moves the job on, so the record and the queue agree.
use std::sync::Arc;
use std::time::Duration;

use super::{RenderError, Worker};
use crate::credentials::store::{Document, StoreError};
use crate::db::jobs::{self, Job};
use crate::db::outbox::{self, Attempted, Message, MessageKind};
use crate::db::{
    activity, credential_emails, credentials, password_tokens, review_links, witness, DbError,
};
use crate::domain::mail::retry_pause;
use crate::domain::password_reset::{duration_words, LINK_VALID_MINUTES};
use crate::mail::{
    credential_message, password_link_message, password_reset_message, review_signature_message,
    witness_request_message, CredentialLetter, Mailer, Outgoing, ReviewLetter, WitnessLetter,
};

/// How the worker sends mail.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub mailer: Mailer,
    /// The pause after the first failed attempt; four times longer after each next one.
    pub retry_after: Duration,
}

impl Default for MailSettings {
    /// .eml files in the system's temporary folder (as `AppState::new`), retrying after
    /// 1, 4, 16 and 64 minutes.
    fn default() -> Self {
        MailSettings {
            mailer: Mailer::files_in(&std::env::temp_dir().join("attest-mail")),
            retry_after: Duration::from_secs(60),
        }
    }
}

/// Why a message could not be sent this time.
enum Failure {
    /// Trying again later may work.
    Transient(String),
    Permanent(String),
}

impl Worker {
    pub(super) async fn send_mail(&self, job: &Job) -> Result<(), DbError> {
        let message_id = job
            .uuid("message")
            .ok_or_else(|| DbError::Corrupt(format!("job {} names no message", job.id)))?;
        let message = outbox::get(&self.pool, message_id).await?;
        let sent = match self.outgoing(&message).await {
            Ok(outgoing) => self.mail.mailer.send(outgoing).await.map_err(|e| {
                if e.is_transient() {
                    Failure::Transient(e.to_string())
                } else {
                    Failure::Permanent(e.to_string())
                }
            }),
            Err(failure) => Err(failure),
        };
        let outcome = match &sent {
            Ok(()) => Attempted::Sent,
            Err(Failure::Transient(error)) if job.attempts < job.max_attempts => {
                Attempted::Retrying {
                    error,
                    after: retry_pause(self.mail.retry_after, job.attempts),
                }
            }
            Err(Failure::Transient(error) | Failure::Permanent(error)) => {
                Attempted::Failed { error }
            }
        };
        let mut tx = self.pool.begin().await?;
        let held = match &outcome {
            Attempted::Retrying { error, after } => {
                tracing::warn!(%error, attempt = job.attempts, "email will be retried");
                jobs::retry_later(&mut *tx, job.id, &self.name, *after, error).await?
            }
            Attempted::Sent => jobs::finish(&mut tx, job.id, &self.name, true, None).await?,
            Attempted::Failed { error } => {
                tracing::warn!(%error, attempt = job.attempts, "email given up");
                jobs::finish(&mut tx, job.id, &self.name, false, Some(error)).await?
            }
        };
        if !held {
            tracing::warn!(job = %job.id, "job was taken over by another worker; result dropped");
            return Ok(());
        }
        outbox::record_attempt(&mut tx, message.id, job.attempts, &outcome).await?;
        if !matches!(outcome, Attempted::Retrying { .. }) {
            self.settle(&mut tx, &message, &outcome).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The message as it is sent: the set-password or reset letter with its link, or the
    /// credential with its issued PDF as the register keeps it.
    async fn outgoing(&self, message: &Message) -> Result<Outgoing, Failure> {
        let link = message.link.as_deref().ok_or_else(|| {
            Failure::Permanent("the message's link was replaced by a newer one".into())
        })?;
        match message.kind() {
            MessageKind::PasswordLink => Ok(password_link_message(
                &message.to_name,
                &message.to_address,
                &message.centre_name,
                link,
                password_tokens::VALID_DAYS,
            )),
            MessageKind::PasswordReset => Ok(password_reset_message(
                &message.to_name,
                &message.to_address,
                &message.centre_name,
                link,
                &duration_words(LINK_VALID_MINUTES),
            )),
            MessageKind::WitnessRequest => {
                let request = message.witness_request_id.ok_or_else(|| {
                    Failure::Permanent("the message names no witness request".into())
                })?;
                let (learner, asker) = witness::letter_names(&self.pool, request)
                    .await
                    .map_err(|e| Failure::Transient(e.to_string()))?;
                Ok(witness_request_message(&WitnessLetter {
                    witness_name: &message.to_name,
                    witness_email: &message.to_address,
                    centre_name: &message.centre_name,
                    learner_name: &learner,
                    asked_by: &asker,
                    link,
                    one_time: message.user_id.is_none(),
                    valid_days: crate::domain::witness::VALID_DAYS,
                }))
            }
            MessageKind::ReviewSignature => {
                let id = message
                    .review_link_id
                    .ok_or_else(|| Failure::Permanent("the message names no review link".into()))?;
                let l = review_links::get(&self.pool, id)
                    .await
                    .map_err(|e| Failure::Transient(e.to_string()))?;
                Ok(review_signature_message(&ReviewLetter {
                    name: &message.to_name,
                    email: &message.to_address,
                    centre_name: &message.centre_name,
                    learner_name: &l.learner_name,
                    asked_by: &l.asked_by_name,
                    link,
                    valid_days: review_links::VALID_DAYS,
                }))
            }
            MessageKind::Credential => {
                let id = message
                    .credential_id
                    .ok_or_else(|| Failure::Permanent("the message names no credential".into()))?;
                let credential = credentials::get(&self.pool, id)
                    .await
                    .map_err(|e| Failure::Transient(e.to_string()))?;
                let pdf = self.issued_pdf(&credential).await?;
                let qualification = format!(
                    "{} {}",
                    credential.qualification_code, credential.qualification_title
                );
                let letter = CredentialLetter {
                    learner_name: &credential.learner_name,
                    learner_email: &message.to_address,
                    centre_name: &credential.centre_name,
                    qualification: &qualification,
                    number: &credential.number,
                    verify_url: link,
                };
                Ok(credential_message(&letter, pdf))
            }
        }
    }

    /// The issued PDF as the register keeps it (the very bytes every download serves);
    /// a credential issued before documents were kept has none, and is rendered.
    async fn issued_pdf(&self, credential: &credentials::Credential) -> Result<Vec<u8>, Failure> {
        if let Some(kept) = credential.pdf.clone() {
            return self
                .config
                .documents
                .read(credential.id, Document::IssuedPdf, &kept)
                .await
                .map_err(|e| match e {
                    // The bucket may answer again later; a changed file will not mend.
                    StoreError::Bucket { .. } | StoreError::Task(_) => {
                        Failure::Transient(format!("reading the PDF: {e}"))
                    }
                    e => Failure::Permanent(format!("the kept PDF: {e}")),
                });
        }
        let render = Arc::clone(&self.render);
        let copy = credential.clone();
        tokio::task::spawn_blocking(move || render(&copy))
            .await
            .unwrap_or_else(|e| Err(RenderError::Permanent(format!("rendering stopped: {e}"))))
            .map_err(|e| match e {
                RenderError::Transient(e) => Failure::Transient(e),
                RenderError::Permanent(e) => Failure::Permanent(e),
            })
    }

    /// The last word on a message: the activity log, the credential's register of
    /// sendings, and the set-password link forgotten.
    async fn settle(
        &self,
        tx: &mut sqlx::PgConnection,
        message: &Message,
        outcome: &Attempted<'_>,
    ) -> Result<(), DbError> {
        let error = match outcome {
            Attempted::Failed { error } => Some(*error),
            _ => None,
        };
        let action = match (message.kind(), error) {
            (MessageKind::PasswordLink, None) => "password link emailed",
            (MessageKind::PasswordLink, Some(_)) => "password link email failed",
            (MessageKind::PasswordReset, None) => "password reset emailed",
            (MessageKind::PasswordReset, Some(_)) => "password reset email failed",
            (MessageKind::Credential, None) => "credential emailed",
            (MessageKind::Credential, Some(_)) => "credential email failed",
            (MessageKind::WitnessRequest, None) => "witness request emailed",
            (MessageKind::WitnessRequest, Some(_)) => "witness request email failed",
            (MessageKind::ReviewSignature, None) => "review signature request emailed",
            (MessageKind::ReviewSignature, Some(_)) => "review signature request email failed",
        };
        let mut detail = serde_json::json!({
            "user": message.user_id,
            "to": message.to_address,
            "message": message.id,
            "requested_by": message.requested_by,
        });
        if let Some(error) = error {
            detail["error"] = error.into();
        }
        match message.kind() {
            MessageKind::PasswordLink
            | MessageKind::PasswordReset
            | MessageKind::WitnessRequest
            | MessageKind::ReviewSignature => outbox::erase_link(&mut *tx, message.id).await?,
            MessageKind::Credential => {
                if let Some(credential) = message.credential_id {
                    detail["credential"] = credential.to_string().into();
                    credential_emails::record(
                        &mut *tx,
                        credential,
                        &message.to_address,
                        message.requested_by,
                        error.map_or(Ok(()), Err),
                    )
                    .await?;
                }
            }
        }
        activity::record(
            &mut *tx,
            message.centre_id,
            message.enrolment_id,
            None,
            action,
            detail,
        )
        .await?;
        Ok(())
    }
}

//! Email (SPEC §6, §8): credentials with their PDF, and set-password links. One
//! `Mailer` sends through SMTP when a server is configured, and otherwise writes each
//! message as an .eml file, so that development needs no mail server.
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

mod letters;
mod message;

pub use letters::{
    credential_message, password_link_message, password_reset_message, review_signature_message,
    witness_request_message, CredentialLetter, ReviewLetter, WitnessLetter,
};
pub use message::{Attached, Outgoing};

/// The sender when none is configured.
pub const DEFAULT_FROM: &str = "attest <no-reply@localhost>";

/// How long lettre waits for the TCP connection. Its timeout covers only connecting
/// (not the greeting, the commands or the data), so `SEND_DEADLINE` bounds the rest.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// How long one whole sending may take: connect, greeting, every command, the data.
/// A server that accepts the connection and never answers fails the sending when this
/// runs out (a transient error: the job tries again later).
pub(crate) const SEND_DEADLINE: Duration = Duration::from_secs(60);

/// Where mail goes, as chosen at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MailConfig {
    /// `smtp://host:port`, `smtp://user:pass@host?tls=required`, `smtps://user:pass@host`;
    /// None writes .eml files into `file_dir` instead.
    pub smtp_url: Option<String>,
    /// The From header, e.g. `Northgate College <no-reply@ngc.ac.uk>`.
    pub from: String,
    /// The folder for .eml files when there is no SMTP server.
    pub file_dir: PathBuf,
}

impl MailConfig {
    /// Files under `<data dir>/mail` unless an SMTP URL is given.
    pub fn new(smtp_url: Option<String>, from: Option<String>, data_dir: &Path) -> Self {
        MailConfig {
            smtp_url: smtp_url.filter(|u| !u.trim().is_empty()),
            from: from
                .filter(|f| !f.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_FROM.to_string()),
            file_dir: data_dir.join("mail"),
        }
    }
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
    /// Each message as `mail/<uuid>.eml` in the bucket every server shares (issue 16).
    Bucket(crate::storage::Bucket),
}

/// Sends messages. Cheap to clone: SMTP connections are pooled and shared.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    description: String,
    deadline: Duration,
}

impl std::fmt::Debug for Mailer {
    // The SMTP URL may hold a password, so only the description is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("to", &self.description)
            .finish()
    }
}

/// Why mail could not be set up or sent. A job retries what `is_transient` says may work
/// later; the rest will fail the same way again.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail settings are wrong: {0}")]
    Config(String),
    #[error("the mail server could not be reached: {0}")]
    Unreachable(String),
    #[error("the mail server asked to try again later ({code}): {detail}")]
    Deferred { code: String, detail: String },
    #[error("the mail server refused the message ({code}): {detail}")]
    Refused { code: String, detail: String },
    #[error("{address:?} is not an email address mail can be sent to")]
    BadAddress { address: String },
    #[error("the message could not be put together: {0}")]
    Message(String),
    #[error("the message could not be written to the mail folder: {0}")]
    File(String),
}

impl MailError {
    /// True when trying again later may succeed: the server was unreachable or answered
    /// 4xx, or the mail folder could not be written (a full disk can be freed).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            MailError::Unreachable(_) | MailError::Deferred { .. } | MailError::File(_)
        )
    }
}

impl From<lettre::transport::smtp::Error> for MailError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        let code = e.status().map(|c| c.to_string()).unwrap_or_default();
        let detail = root_cause(&e);
        if e.is_permanent() {
            MailError::Refused { code, detail }
        } else if e.is_transient() {
            MailError::Deferred { code, detail }
        } else if e.is_client() || e.is_response() {
            // The server spoke, but not in a way we can work with: retrying will not help.
            MailError::Refused {
                code: "protocol".into(),
                detail,
            }
        } else {
            // Connection refused, reset, timed out, TLS handshake: the server may come back.
            MailError::Unreachable(detail)
        }
    }
}

/// The innermost reason ("Connection refused (os error 111)", the server's reply text):
/// lettre's own wrapping repeats itself ("Connection error: Connection error: …").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

impl Mailer {
    /// The mailer `config` describes; SMTP connections are made when the first message
    /// is sent, so a server that is down at start-up does not stop the app.
    pub(crate) fn from_config(config: &MailConfig) -> Result<Mailer, MailError> {
        match &config.smtp_url {
            Some(url) => Mailer::smtp(url, &config.from),
            None => Mailer::files(&config.file_dir, &config.from),
        }
    }

    /// Sends through the SMTP server at `url` (lettre's connection URL: `smtp://` plain,
    /// `?tls=required` or `?tls=opportunistic` for STARTTLS, `smtps://` for TLS).
    pub fn smtp(url: &str, from: &str) -> Result<Mailer, MailError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| MailError::Config(format!("ATTEST_SMTP_URL is not a URL: {e}")))?;
        // Credentials in the URL are used with PLAIN or LOGIN, whichever the server offers.
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(format!("ATTEST_SMTP_URL: {e}")))?
            .timeout(Some(SMTP_TIMEOUT));
        // lettre's defaults: 465 for smtps, 587 for STARTTLS, 25 for plain SMTP.
        let port = parsed
            .port()
            .unwrap_or(match (parsed.scheme(), parsed.query()) {
                ("smtps", _) => 465,
                (_, Some(q)) if q.contains("tls=") => 587,
                _ => 25,
            });
        let description = format!(
            "sent through SMTP at {}:{port}",
            parsed.host_str().unwrap_or("?")
        );
        Ok(Mailer {
            transport: Transport::Smtp(builder.build()),
            from: parse_from(from)?,
            description,
            deadline: SEND_DEADLINE,
        })
    }

    /// Writes each message as `<uuid>.eml` into `dir` (made when first needed).
    pub fn files(dir: &Path, from: &str) -> Result<Mailer, MailError> {
        Ok(Mailer {
            transport: Transport::Files {
                transport: AsyncFileTransport::<Tokio1Executor>::new(dir),
                dir: dir.to_path_buf(),
            },
            from: parse_from(from)?,
            description: format!("written as .eml files to {}", dir.display()),
            deadline: SEND_DEADLINE,
        })
    }

    /// Messages that would be written as files go to `bucket` instead, when there is one:
    /// every server's stored mail in one place.
    pub(crate) fn storing_in(mut self, bucket: Option<crate::storage::Bucket>) -> Mailer {
        if let (Some(bucket), Transport::Files { .. }) = (bucket, &self.transport) {
            self.description = format!("stored as .eml objects under mail/ in {bucket:?}");
            self.transport = Transport::Bucket(bucket);
        }
        self
    }

    /// The same mailer with another deadline for one whole sending (tests shorten it).
    pub fn with_deadline(mut self, deadline: Duration) -> Mailer {
        self.deadline = deadline;
        self
    }

    /// The development default: .eml files in `dir`, from `DEFAULT_FROM`.
    pub(crate) fn files_in(dir: &Path) -> Mailer {
        // DEFAULT_FROM is a constant that a unit test parses.
        Mailer::files(dir, DEFAULT_FROM).expect("DEFAULT_FROM is a valid mailbox")
    }

    /// Where messages go, for the start-up log (never shows a password).
    pub(crate) fn describe(&self) -> &str {
        &self.description
    }

    /// The folder .eml files are written to, when not sending through SMTP.
    #[cfg(test)]
    fn file_dir(&self) -> Option<&Path> {
        match &self.transport {
            Transport::Files { dir, .. } => Some(dir),
            Transport::Smtp(_) | Transport::Bucket(_) => None,
        }
    }

    /// Builds and sends one message; returns once the server accepted it (or the file
    /// was written), or with `MailError::Unreachable` when the deadline runs out first.
    pub async fn send(&self, message: Outgoing) -> Result<(), MailError> {
        let readable = matches!(
            self.transport,
            Transport::Files { .. } | Transport::Bucket(_)
        );
        let email = message.build(self.from.clone(), readable)?;
        match tokio::time::timeout(self.deadline, self.deliver(email)).await {
            Ok(sent) => sent,
            Err(_) => Err(MailError::Unreachable(format!(
                "connection timed out: no answer within {} s",
                self.deadline.as_secs_f32()
            ))),
        }
    }

    async fn deliver(&self, email: lettre::Message) -> Result<(), MailError> {
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(email).await?;
            }
            Transport::Files { transport, dir } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| MailError::File(format!("{}: {e}", dir.display())))?;
                transport
                    .send(email)
                    .await
                    .map_err(|e| MailError::File(e.to_string()))?;
            }
            Transport::Bucket(bucket) => {
                let key = format!("mail/{}.eml", uuid::Uuid::new_v4());
                bucket
                    .put_bytes(&key, email.formatted())
                    .await
                    .map_err(|e| MailError::File(format!("{key}: {e}")))?;
            }
        }
        Ok(())
    }
}

fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse().map_err(|_| {
        MailError::Config(format!(
            "ATTEST_MAIL_FROM {from:?} is not an address like \"attest <no-reply@example.org>\""
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sender_is_a_valid_mailbox() {
        assert!(Mailer::files(Path::new("mail"), DEFAULT_FROM).is_ok());
    }

    #[test]
    fn configuration_falls_back_to_files_under_the_data_dir() {
        let c = MailConfig::new(Some(" ".into()), None, Path::new("data"));
        assert_eq!(c.smtp_url, None);
        assert_eq!(c.from, DEFAULT_FROM);
        assert_eq!(c.file_dir, Path::new("data/mail"));
        let m = Mailer::from_config(&c).expect("mailer");
        assert_eq!(m.file_dir(), Some(Path::new("data/mail")));
    }

    #[tokio::test]
    async fn bad_settings_are_named() {
        let bad_from = Mailer::files(Path::new("mail"), "no at sign").expect_err("refused");
        assert!(
            bad_from.to_string().contains("ATTEST_MAIL_FROM"),
            "{bad_from}"
        );
        let bad_url = Mailer::smtp("pop3://mail.example", DEFAULT_FROM).expect_err("refused");
        assert!(bad_url.to_string().contains("ATTEST_SMTP_URL"), "{bad_url}");
    }

    // The SMTP pool lives on the Tokio runtime.
    #[tokio::test]
    async fn the_description_never_shows_the_password() {
        let m = Mailer::smtp("smtps://ann:s3cret@mail.example.org", DEFAULT_FROM).expect("mailer");
        assert_eq!(m.describe(), "sent through SMTP at mail.example.org:465");
        assert!(!format!("{m:?}").contains("s3cret"));
    }
}

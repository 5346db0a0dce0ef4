//! Email through a real SMTP server on loopback (tests/it/smtp.rs), and the .eml file
//! transport used in development; messages are read back with an independent MIME parser.
use std::path::PathBuf;

use attest::db::credential_emails;
use attest::mail::{
    credential_message, password_link_message, CredentialLetter, MailError, Mailer, DEFAULT_FROM,
};
use mail_parser::{Encoding, MessageParser, MimeHeaders};
use uuid::Uuid;

use crate::helpers::world;
use crate::smtp::{Answer, SmtpServer, Tarpit};

const FROM: &str = "Northgate College <no-reply@ngc.ac.uk>";
const KHAI: &str = "Nguyễn Thị Minh Khai";

/// Bytes no text encoding would carry unchanged: every byte value, after a PDF header.
fn pdf_bytes() -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    pdf.extend((0..=255u8).cycle().take(5000));
    pdf.extend_from_slice(b"\n.\r\n..\r\n%%EOF\n");
    pdf
}

fn letter() -> CredentialLetter<'static> {
    CredentialLetter {
        learner_name: KHAI,
        learner_email: "khai@example.vn",
        centre_name: "Northgate College",
        qualification: "Level 2 Certificate in Customer Service",
        number: "AT-7Q4M-99XK",
        verify_url: "http://localhost/verify/AT-7Q4M-99XK",
    }
}

/// The header block of a raw message: everything before the first empty line.
fn header_block(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    &raw[..end]
}

#[tokio::test]
async fn a_credential_goes_through_smtp_with_the_name_encoded_and_the_pdf_attached() {
    let server = SmtpServer::start(Answer::Accept).await;
    let mailer = Mailer::smtp(&server.url, FROM).expect("mailer");
    let pdf = pdf_bytes();
    mailer
        .send(credential_message(&letter(), pdf.clone()))
        .await
        .expect("sent");

    let received = server.received();
    assert_eq!(received.len(), 1);
    let m = &received[0];
    assert_eq!(m.mail_from, "no-reply@ngc.ac.uk");
    assert_eq!(m.rcpt_to, vec!["khai@example.vn".to_string()]);
    assert!(
        header_block(&m.data).is_ascii(),
        "headers are 7-bit, with the name encoded (RFC 2047)"
    );

    let parsed = MessageParser::default().parse(&m.data).expect("parses");
    let to = parsed.to().and_then(|a| a.first()).expect("a recipient");
    assert_eq!(to.name(), Some(KHAI));
    assert_eq!(to.address(), Some("khai@example.vn"));
    let from = parsed.from().and_then(|a| a.first()).expect("a sender");
    assert_eq!(from.name(), Some("Northgate College"));
    assert_eq!(
        parsed.subject(),
        Some("Your credential: Level 2 Certificate in Customer Service")
    );
    let text = parsed.body_text(0).expect("a text part");
    assert!(text.contains(&format!("Hello {KHAI},")), "{text}");
    assert!(text.contains("AT-7Q4M-99XK"));
    assert!(text.contains("http://localhost/verify/AT-7Q4M-99XK"));

    assert_eq!(parsed.attachment_count(), 1);
    let attachment = parsed.attachment(0).expect("the PDF");
    let content_type = attachment.content_type().expect("a content type");
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("application", Some("pdf"))
    );
    assert_eq!(
        attachment.attachment_name(),
        Some("credential-AT-7Q4M-99XK.pdf")
    );
    assert_eq!(attachment.encoding, Encoding::Base64);
    assert_eq!(attachment.contents(), &pdf[..], "the exact bytes");
}

#[tokio::test]
async fn a_4xx_answer_is_transient_and_a_5xx_answer_is_permanent() {
    let busy = SmtpServer::start(Answer::Defer).await;
    let err = Mailer::smtp(&busy.url, FROM)
        .expect("mailer")
        .send(credential_message(&letter(), pdf_bytes()))
        .await
        .expect_err("deferred");
    assert!(
        matches!(err, MailError::Deferred { ref code, .. } if code == "451"),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(err.to_string().contains("Mailbox busy"), "{err}");

    let strict = SmtpServer::start(Answer::Refuse).await;
    let err = Mailer::smtp(&strict.url, FROM)
        .expect("mailer")
        .send(credential_message(&letter(), pdf_bytes()))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, MailError::Refused { ref code, .. } if code == "550"),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert!(busy.received().is_empty() && strict.received().is_empty());
}

#[tokio::test]
async fn a_server_that_is_not_listening_is_transient_and_a_bad_address_permanent() {
    // A port that was just free: nothing listens on it now.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("address").port()
    };
    let mailer = Mailer::smtp(&format!("smtp://127.0.0.1:{port}"), FROM).expect("mailer");
    let err = mailer
        .send(credential_message(&letter(), pdf_bytes()))
        .await
        .expect_err("unreachable");
    assert!(matches!(err, MailError::Unreachable(_)), "{err:?}");
    assert!(err.is_transient());

    let bad = CredentialLetter {
        learner_email: "khai at example",
        ..letter()
    };
    let err = mailer
        .send(credential_message(&bad, pdf_bytes()))
        .await
        .expect_err("bad address");
    assert!(matches!(err, MailError::BadAddress { .. }), "{err:?}");
    assert!(!err.is_transient());
}

/// Issue 11.5, finding 1: lettre's own timeout covers only connecting, so a server
/// that accepts and never answers held a sending (and the page waiting on it) forever.
#[tokio::test]
async fn a_server_that_accepts_and_never_answers_fails_the_sending_at_its_deadline() {
    let tarpit = Tarpit::start().await;
    let mailer = Mailer::smtp(&tarpit.url, FROM)
        .expect("mailer")
        .with_deadline(std::time::Duration::from_millis(300));
    // A hang detector, not a timing assertion: the old code never returned.
    let sent = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        mailer.send(credential_message(&letter(), pdf_bytes())),
    )
    .await
    .expect("the sending hung: it never returned");
    let err = sent.expect_err("no answer is a failure");
    assert!(matches!(err, MailError::Unreachable(_)), "{err:?}");
    assert!(err.is_transient(), "tried again later");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(tarpit.connections() >= 1);
}

fn fresh_dir() -> PathBuf {
    std::env::temp_dir().join(format!("attest-mail-test-{}", Uuid::new_v4().simple()))
}

/// The .eml files in `dir`.
pub fn eml_files(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| std::fs::read(p).expect("read"))
        .collect()
}

#[tokio::test]
async fn without_smtp_each_message_is_written_as_an_eml_file() {
    let dir = fresh_dir();
    let mailer = Mailer::files(&dir, DEFAULT_FROM).expect("mailer");
    assert!(!dir.exists(), "made when first needed");
    mailer
        .send(password_link_message(
            KHAI,
            "khai@example.vn",
            "Northgate College",
            "http://localhost/set-password/abc123",
            7,
        ))
        .await
        .expect("written");

    let files = eml_files(&dir);
    assert_eq!(files.len(), 1);
    let parsed = MessageParser::default().parse(&files[0]).expect("parses");
    let to = parsed.to().and_then(|a| a.first()).expect("a recipient");
    assert_eq!(to.name(), Some(KHAI));
    assert_eq!(to.address(), Some("khai@example.vn"));
    assert_eq!(
        parsed.subject(),
        Some("Set your password for Northgate College")
    );
    let text = parsed.body_text(0).expect("text");
    assert!(
        text.lines()
            .any(|l| l.trim() == "http://localhost/set-password/abc123"),
        "the link on a line of its own: {text}"
    );
    assert_eq!(parsed.attachment_count(), 0);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[tokio::test]
async fn each_sending_of_a_credential_is_recorded_sent_or_failed() {
    let w = world().await;
    let credential: Uuid = sqlx::query_scalar(
        "INSERT INTO credentials (number, enrolment_id, centre_id, learner_name, qualification_code, \
         qualification_title, qualification_level, major_code, major_title, centre_name) \
         VALUES ($3, $1, $2, 'Lee', 'TINY/1', 'Tiny', 2, 'M', 'Major', 'Acme Training') \
         RETURNING id",
    )
    .bind(w.enrolment.id)
    .bind(w.centre.id)
    .bind(crate::credentials::number())
    .fetch_one(&w.pool)
    .await
    .expect("credential");

    // One refused by the server, then one accepted: both are on the record, in order.
    let mut outcomes = Vec::new();
    for answer in [Answer::Refuse, Answer::Accept] {
        let server = SmtpServer::start(answer).await;
        let mailer = Mailer::smtp(&server.url, FROM).expect("mailer");
        let sent = mailer
            .send(credential_message(&letter(), pdf_bytes()))
            .await;
        let error = sent.as_ref().err().map(|e| e.to_string());
        credential_emails::record(
            &w.pool,
            credential,
            "khai@example.vn",
            Some(w.assessor.id),
            error.as_deref().map_or(Ok(()), Err),
        )
        .await
        .expect("recorded");
        outcomes.push((sent.is_ok(), server.received().len()));
    }
    assert_eq!(outcomes, vec![(false, 0), (true, 1)]);

    let log = credential_emails::list_for_credential(&w.pool, credential)
        .await
        .expect("list");
    assert_eq!(log.len(), 2);
    assert!(!log[0].was_sent());
    let reason = log[0].error.as_deref().expect("why it failed");
    assert!(
        reason.contains("550") && reason.contains("No such mailbox"),
        "{reason}"
    );
    assert!(log[1].was_sent() && log[1].error.is_none());
    assert!(log[0].requested_at <= log[1].requested_at);
    assert!(log
        .iter()
        .all(|e| e.to_address == "khai@example.vn" && e.requested_by == Some(w.assessor.id)));
}

#[tokio::test]
async fn smtps_runs_a_real_tls_handshake_and_a_failed_one_is_reported() {
    // The loopback server speaks plain SMTP, so the client's TLS hello gets a greeting
    // instead: proof the rustls stack is wired in, and that its failure is an error.
    let plain = SmtpServer::start(Answer::Accept).await;
    let port = plain.url.rsplit(':').next().expect("port");
    let mailer =
        Mailer::smtp(&format!("smtps://ann:secret@127.0.0.1:{port}"), FROM).expect("mailer");
    let err = mailer
        .send(credential_message(&letter(), pdf_bytes()))
        .await
        .expect_err("no TLS there");
    assert!(matches!(err, MailError::Unreachable(_)), "{err:?}");
    assert!(plain.received().is_empty());
}

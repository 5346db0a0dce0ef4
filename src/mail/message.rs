//! One message to one person, and its MIME form: plain text, plus a file when there is
//! one. lettre encodes headers (RFC 2047) and bodies, so names in any script survive.
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use super::MailError;

/// A file sent with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub file_name: String,
    /// A MIME type such as `application/pdf`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message as the application writes it; `Mailer::send` turns it into MIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to_name: String,
    pub to_email: String,
    pub subject: String,
    pub text_body: String,
    pub attachment: Option<Attached>,
}

impl Outgoing {
    /// The MIME message. `readable_text` writes the text as plain 8-bit lines where it
    /// can, so that an .eml file read in an editor shows its links whole; over SMTP
    /// lettre picks a 7-bit encoding that every server accepts.
    pub(super) fn build(self, from: Mailbox, readable_text: bool) -> Result<Message, MailError> {
        let to_email = self.to_email.trim();
        let address: Address = to_email.parse().map_err(|_| MailError::BadAddress {
            address: to_email.to_string(),
        })?;
        let name = one_line(&self.to_name);
        let to = Mailbox::new((!name.is_empty()).then_some(name), address);
        let builder = Message::builder()
            .from(from)
            .to(to)
            .subject(one_line(&self.subject))
            .message_id(None);
        let text = text_part(self.text_body, readable_text);
        let built = match self.attachment {
            None => builder.singlepart(text),
            Some(file) => {
                let content_type = ContentType::parse(&file.content_type).map_err(|_| {
                    MailError::Message(format!("{:?} is not a MIME type", file.content_type))
                })?;
                let part =
                    Attachment::new(one_line(&file.file_name)).body(file.bytes, content_type);
                builder.multipart(MultiPart::mixed().singlepart(text).singlepart(part))
            }
        };
        built.map_err(|e| MailError::Message(e.to_string()))
    }
}

fn text_part(text: String, readable: bool) -> SinglePart {
    match readable.then(|| eight_bit(&text)).flatten() {
        Some(body) => SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(body),
        // Over SMTP, or lines too long even for 8-bit: lettre picks 7-bit or an encoding.
        None => SinglePart::plain(text),
    }
}

/// `text` as an 8-bit body: CRLF line ends, and every line within RFC 5322's hard limit
/// of 998 octets. lettre's own check stops at 76, which would wrap every long link.
fn eight_bit(text: &str) -> Option<Body> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if lines
        .iter()
        .any(|l| l.len() > 998 || l.contains(['\r', '\0']))
    {
        return None;
    }
    Some(Body::dangerous_pre_encoded(
        lines.join("\r\n").into_bytes(),
        ContentTransferEncoding::EightBit,
    ))
}

/// Header values are one line: a name or subject pasted with a line break must not
/// start a header of its own.
fn one_line(s: &str) -> String {
    s.split(char::is_control)
        .filter(|p| !p.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(name: &str, email: &str) -> Outgoing {
        Outgoing {
            to_name: name.into(),
            to_email: email.into(),
            subject: "Hello".into(),
            text_body: "Body".into(),
            attachment: None,
        }
    }

    fn from() -> Mailbox {
        "attest <no-reply@localhost>".parse().expect("from")
    }

    #[test]
    fn line_breaks_in_a_name_cannot_add_headers() {
        assert_eq!(one_line("Ann\r\nBcc: x@y.z"), "Ann Bcc: x@y.z");
        let raw = outgoing("Ann\r\nBcc: evil@example.com", "ann@example.com")
            .build(from(), false)
            .expect("built")
            .formatted();
        let raw = String::from_utf8(raw).expect("ascii");
        assert!(!raw.lines().any(|l| l.starts_with("Bcc:")), "{raw}");
    }

    #[test]
    fn a_bad_address_is_refused_before_sending() {
        let err = outgoing("Ann", "not an address")
            .build(from(), false)
            .expect_err("refused");
        assert!(
            matches!(err, MailError::BadAddress { ref address } if address == "not an address")
        );
        assert!(!err.is_transient());
    }

    #[test]
    fn readable_text_keeps_long_links_whole_and_smtp_text_stays_7_bit() {
        let link = format!("https://attest.example/set-password/{}", "a".repeat(64));
        let message = |readable| {
            let o = Outgoing {
                to_name: "Zoë".into(),
                to_email: "zoe@example.ac.nz".into(),
                subject: "Set your password".into(),
                text_body: format!("Kia ora Zoë,\n{link}\n"),
                attachment: None,
            };
            let from = "attest <no-reply@localhost>".parse().expect("from");
            o.build(from, readable).expect("built").formatted()
        };
        let readable = String::from_utf8(message(true)).expect("utf-8");
        assert!(readable.contains(&format!("\r\n{link}\r\n")), "{readable}");
        assert!(readable.contains("Content-Transfer-Encoding: 8bit"));
        let smtp = message(false);
        assert!(smtp.is_ascii(), "7-bit for servers without 8BITMIME");
    }
}

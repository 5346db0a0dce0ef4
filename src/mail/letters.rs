//! The words of the messages people receive: short, plain and friendly.
use super::message::{Attached, Outgoing};

/// What the credential email says, taken from the credential itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialLetter<'a> {
    pub learner_name: &'a str,
    pub learner_email: &'a str,
    pub centre_name: &'a str,
    /// e.g. "Level 2 Certificate in Customer Service".
    pub qualification: &'a str,
    pub number: &'a str,
    /// The public verification page.
    pub verify_url: &'a str,
}

/// The credential, with its PDF certificate attached.
pub fn credential_message(letter: &CredentialLetter<'_>, pdf: Vec<u8>) -> Outgoing {
    let CredentialLetter {
        learner_name,
        learner_email,
        centre_name,
        qualification,
        number,
        verify_url,
    } = letter;
    Outgoing {
        to_name: learner_name.to_string(),
        to_email: learner_email.to_string(),
        subject: format!("Your credential: {qualification}"),
        text_body: format!(
            "Hello {learner_name},\n\
             \n\
             Congratulations! {centre_name} has issued your credential for {qualification}.\n\
             \n\
             Your certificate is attached to this email as a PDF. Its number is {number}.\n\
             \n\
             Anyone you show it to (an employer, another college) can check that it is\n\
             genuine on its verification page:\n\
             {verify_url}\n\
             \n\
             With our best wishes,\n\
             {centre_name}\n"
        ),
        attachment: Some(Attached {
            file_name: format!("credential-{number}.pdf"),
            content_type: "application/pdf".to_string(),
            bytes: pdf,
        }),
    }
}

/// The one-time link a new person uses to choose their password.
pub fn password_link_message(
    name: &str,
    email: &str,
    centre_name: &str,
    link: &str,
    valid_days: i32,
) -> Outgoing {
    Outgoing {
        to_name: name.to_string(),
        to_email: email.to_string(),
        subject: format!("Set your password for {centre_name}"),
        text_body: format!(
            "Hello {name},\n\
             \n\
             {centre_name} has made you an account. To start, choose your password here:\n\
             {link}\n\
             \n\
             The link works once, for {valid_days} days. If it has expired, ask your\n\
             centre's administrator for a new one.\n\
             \n\
             If you were not expecting this email, you can ignore it.\n\
             \n\
             {centre_name}\n"
        ),
        attachment: None,
    }
}

/// What a witness request's letter says: who asks, about whom.
pub struct WitnessLetter<'a> {
    pub witness_name: &'a str,
    pub witness_email: &'a str,
    pub centre_name: &'a str,
    pub learner_name: &'a str,
    pub asked_by: &'a str,
    pub link: &'a str,
    /// An employer's person signs in to answer; anyone else has a one-time link.
    pub one_time: bool,
    pub valid_days: i64,
}

/// Asks a witness to write and sign what they saw the learner do.
pub fn witness_request_message(l: &WitnessLetter<'_>) -> Outgoing {
    let how = if l.one_time {
        format!(
            "The link works once, for {} days, and needs no account. If it has\n\
             expired, ask {} for a new one.",
            l.valid_days, l.asked_by
        )
    } else {
        "Sign in with your account to answer; the request also waits on your home page.".to_string()
    };
    Outgoing {
        to_name: l.witness_name.to_string(),
        to_email: l.witness_email.to_string(),
        subject: format!("Please confirm what you saw {} do", l.learner_name),
        text_body: format!(
            "Hello {witness},\n\
             \n\
             {asker} at {centre} asks you to write a short witness testimony of\n\
             what you saw {learner} do at work, and to sign it. The page shows the\n\
             standards it concerns:\n\
             {link}\n\
             \n\
             {how}\n\
             \n\
             If you were not expecting this email, you can ignore it.\n\
             \n\
             {centre}\n",
            witness = l.witness_name,
            asker = l.asked_by,
            centre = l.centre_name,
            learner = l.learner_name,
            link = l.link,
        ),
        attachment: None,
    }
}

/// What a review signature request's letter says.
pub struct ReviewLetter<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub centre_name: &'a str,
    pub learner_name: &'a str,
    pub asked_by: &'a str,
    pub link: &'a str,
    pub valid_days: i64,
}

/// Asks the learner's employer to comment on and sign a progress review.
pub fn review_signature_message(l: &ReviewLetter<'_>) -> Outgoing {
    Outgoing {
        to_name: l.name.to_string(),
        to_email: l.email.to_string(),
        subject: format!("Please sign {}'s progress review", l.learner_name),
        text_body: format!(
            "Hello {name},\n\
             \n\
             {asker} at {centre} asks you, as {learner}'s employer, to read their\n\
             apprenticeship progress review, add your comments and sign it:\n\
             {link}\n\
             \n\
             The link works once, for {days} days, and needs no account. If it has\n\
             expired, ask {asker} for a new one.\n\
             \n\
             If you were not expecting this email, you can ignore it.\n\
             \n\
             {centre}\n",
            name = l.name,
            asker = l.asked_by,
            centre = l.centre_name,
            learner = l.learner_name,
            link = l.link,
            days = l.valid_days,
        ),
        attachment: None,
    }
}

/// The one-time link a person asked for on "Forgot your password?". Sent whoever asked,
/// so it says what to do if it was not them, and that nothing has changed yet.
pub fn password_reset_message(
    name: &str,
    email: &str,
    centre_name: &str,
    link: &str,
    valid_for: &str,
) -> Outgoing {
    Outgoing {
        to_name: name.to_string(),
        to_email: email.to_string(),
        subject: format!("Choose a new password for {centre_name}"),
        text_body: format!(
            "Hello {name},\n\
             \n\
             Someone asked for a link to choose a new password for {email}\n\
             at {centre_name}. If it was you, choose your new password here:\n\
             {link}\n\
             \n\
             The link works once, for {valid_for}. Saving the new password signs your\n\
             account out everywhere else.\n\
             \n\
             If it was not you, you can ignore this email: your password has not changed.\n\
             \n\
             {centre_name}\n"
        ),
        attachment: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_email_names_the_number_the_page_and_attaches_the_pdf() {
        let letter = CredentialLetter {
            learner_name: "Nguyễn Thị Minh Khai",
            learner_email: "khai@example.vn",
            centre_name: "Northgate College",
            qualification: "Level 2 Certificate in Customer Service",
            number: "AT-7Q4M-99XK",
            verify_url: "https://attest.example/verify/AT-7Q4M-99XK",
        };
        let m = credential_message(&letter, b"%PDF-1.7".to_vec());
        assert_eq!(m.to_email, "khai@example.vn");
        assert_eq!(
            m.subject,
            "Your credential: Level 2 Certificate in Customer Service"
        );
        assert!(m.text_body.starts_with("Hello Nguyễn Thị Minh Khai,"));
        assert!(m.text_body.contains("Its number is AT-7Q4M-99XK."));
        assert!(m
            .text_body
            .contains("\nhttps://attest.example/verify/AT-7Q4M-99XK\n"));
        let pdf = m.attachment.expect("attached");
        assert_eq!(pdf.file_name, "credential-AT-7Q4M-99XK.pdf");
        assert_eq!(pdf.content_type, "application/pdf");
        assert_eq!(pdf.bytes, b"%PDF-1.7");
    }

    #[test]
    fn the_password_email_gives_the_link_on_its_own_line_and_how_long_it_works() {
        let m = password_link_message(
            "Zoë",
            "zoe@example.ac.nz",
            "Northgate College",
            "https://attest.example/set-password/abc",
            7,
        );
        assert_eq!(m.subject, "Set your password for Northgate College");
        assert!(m
            .text_body
            .contains("\nhttps://attest.example/set-password/abc\n"));
        assert!(m.text_body.contains("works once, for 7 days"));
        assert!(m.attachment.is_none());
    }

    #[test]
    fn the_reset_email_gives_the_link_how_long_it_works_and_what_if_it_was_not_you() {
        let m = password_reset_message(
            "Zoë",
            "zoe@example.ac.nz",
            "Northgate College",
            "https://attest.example/set-password/abc",
            "1 hour",
        );
        assert_eq!(m.subject, "Choose a new password for Northgate College");
        assert!(m
            .text_body
            .contains("\nhttps://attest.example/set-password/abc\n"));
        assert!(m.text_body.contains("works once, for 1 hour"));
        assert!(m.text_body.contains("your password has not changed"));
        assert!(m.attachment.is_none());
    }
}

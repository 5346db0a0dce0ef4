//! Employers (issue 13, point 1): the organisations a centre's learners work for, with
//! someone to contact there. What makes an employer's details valid.
use super::form::{email_error, FieldError};
use super::text;

/// What an admin typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct EmployerForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: String,
}

/// The details to store, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEmployer {
    pub name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
}

/// Every problem, each against its field; or the details to store. Only the name is
/// required: a centre often knows the organisation before the person to ask for.
pub fn validate(form: &EmployerForm) -> Result<ValidEmployer, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = form.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("name", "Enter the employer's name"));
    } else if let Err(e) = text::EMPLOYER_NAME.check(name) {
        errors.push(e);
    }
    let contact_name = form.contact_name.trim();
    if let Err(e) = text::CONTACT_NAME.check(contact_name) {
        errors.push(e);
    }
    let contact_email = form.contact_email.trim();
    if !contact_email.is_empty() {
        if let Some(e) = email_error("contact_email", contact_email) {
            errors.push(e);
        }
    }
    let contact_phone = form.contact_phone.trim();
    if let Err(e) = text::CONTACT_PHONE.check(contact_phone) {
        errors.push(e);
    } else if !contact_phone.is_empty()
        && !contact_phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()".contains(c))
    {
        errors.push(FieldError::new(
            "contact_phone",
            "Enter a phone number in digits, like 0161 496 0000 or +44 161 496 0000",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidEmployer {
        name: name.to_string(),
        contact_name: contact_name.to_string(),
        contact_email: contact_email.to_string(),
        contact_phone: contact_phone.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, email: &str, phone: &str) -> EmployerForm {
        EmployerForm {
            name: name.into(),
            contact_name: " Pat Mentor ".into(),
            contact_email: email.into(),
            contact_phone: phone.into(),
        }
    }

    #[test]
    fn an_employer_needs_a_name_and_nothing_else() {
        let v = validate(&form(" Northwind Care Ltd ", "", "")).expect("valid");
        assert_eq!(
            (v.name.as_str(), v.contact_name.as_str()),
            ("Northwind Care Ltd", "Pat Mentor")
        );
        let e = validate(&form("  ", "", "")).expect_err("no name");
        assert_eq!(
            e,
            vec![FieldError::new("name", "Enter the employer's name")]
        );
    }

    #[test]
    fn a_contact_email_or_phone_given_must_be_one() {
        let e = validate(&form("Northwind", "pat@", "call me")).expect_err("bad");
        let fields: Vec<&str> = e.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["contact_email", "contact_phone"]);
        assert!(validate(&form(
            "Northwind",
            "pat@northwind.example",
            "+44 (0)161 496-0000"
        ))
        .is_ok());
        let long = "x".repeat(201);
        assert_eq!(
            validate(&form(&long, "", "")).expect_err("long")[0].message,
            text::EMPLOYER_NAME.too_long
        );
    }
}

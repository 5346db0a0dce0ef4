//! Witness testimony (issue 13, point 3): asking a witness, what their one-time link
//! allows, and what they write. A witness is an employer's person (who signs in) or
//! anyone reached by email; the link is single-use, expires after 14 days, and can be
//! revoked and sent again (a new link; the old one stops working).
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::form::{email_error, FieldError};
use super::text;

/// How long a witness link works.
pub const VALID_DAYS: i64 = 14;

/// Where a link stands when someone opens it, checked in this order: a revoked or used
/// link says so whatever its age; an expired one says it expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Open,
    Used,
    Revoked,
    Expired,
}

pub fn link_state(
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
    used: bool,
    revoked: bool,
) -> LinkState {
    if revoked {
        LinkState::Revoked
    } else if used {
        LinkState::Used
    } else if now >= expires_at {
        LinkState::Expired
    } else {
        LinkState::Open
    }
}

impl LinkState {
    /// What the page says to someone holding a link that no longer works: plainly, and
    /// what to do about it.
    pub fn message(self) -> &'static str {
        match self {
            LinkState::Open => "This link is ready to use.",
            LinkState::Used => {
                "This link has been used: the testimony was signed. Each link works once; if you need to change what you wrote, ask the person who asked you for a new link."
            }
            LinkState::Revoked => {
                "This link was withdrawn by the person who sent it. If you still need to give a testimony, ask them for a new link."
            }
            LinkState::Expired => {
                "This link has expired: links work for 14 days. Ask the person who sent it for a new link."
            }
        }
    }
}

/// What the learner or assessor typed to ask for a testimony.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestForm {
    /// "email" or "employer" (an employer's person who follows the learner).
    pub to: String,
    pub witness_name: String,
    pub witness_email: String,
    /// An employer's person's id, as the form sends it.
    pub employer_person: String,
    /// Criterion ids, as the form sends them.
    pub criteria: Vec<String>,
    pub occasion: String,
}

/// Who is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Witness {
    ByEmail { name: String, email: String },
    EmployerPerson(Uuid),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    pub witness: Witness,
    pub criteria: Vec<Uuid>,
    pub occasion: String,
}

/// Every problem with a request, each against its field. `known_criteria` are the
/// enrolment's criteria; `employer_people` those who follow the learner.
pub fn validate_request(
    form: &RequestForm,
    known_criteria: &dyn Fn(Uuid) -> bool,
    employer_people: &[Uuid],
) -> Result<ValidRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let witness = match form.to.as_str() {
        "employer" => match Uuid::parse_str(form.employer_person.trim()) {
            Ok(p) if employer_people.contains(&p) => Some(Witness::EmployerPerson(p)),
            _ => {
                errors.push(FieldError::new(
                    "employer_person",
                    "Select someone at the learner's employer",
                ));
                None
            }
        },
        "email" => {
            let name = form.witness_name.trim();
            if name.is_empty() {
                errors.push(FieldError::new(
                    "witness_name",
                    "Enter the witness's full name",
                ));
            } else if let Err(e) = text::WITNESS_NAME.check(name) {
                errors.push(e);
            }
            let email = form.witness_email.trim();
            if let Some(e) = email_error("witness_email", email) {
                errors.push(e);
            }
            Some(Witness::ByEmail {
                name: name.to_string(),
                email: email.to_string(),
            })
        }
        _ => {
            errors.push(FieldError::new(
                "to",
                "Select who the witness is: someone at the employer, or anyone by email",
            ));
            None
        }
    };
    let mut criteria = Vec::new();
    for c in &form.criteria {
        match Uuid::parse_str(c) {
            Ok(id) if known_criteria(id) => criteria.push(id),
            _ => {
                errors.push(FieldError::new(
                    "criteria",
                    "Select criteria of this learner's qualification",
                ));
                break;
            }
        }
    }
    criteria.sort();
    criteria.dedup();
    if form.criteria.is_empty() {
        errors.push(FieldError::new(
            "criteria",
            "Select the criteria the witness saw the learner meet",
        ));
    }
    let occasion = form.occasion.trim();
    if let Err(e) = text::OCCASION.check(occasion) {
        errors.push(e);
    }
    match witness {
        Some(witness) if errors.is_empty() => Ok(ValidRequest {
            witness,
            criteria,
            occasion: occasion.to_string(),
        }),
        _ => Err(errors),
    }
}

/// What the witness typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestimonyForm {
    pub account: String,
    pub role: String,
    pub relationship: String,
    pub signed_name: String,
    /// The box "I confirm …" (the statement), ticked.
    pub agreed: bool,
}

/// A testimony to store and sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidTestimony {
    pub account: String,
    pub role: String,
    pub relationship: String,
    pub signed_name: String,
}

pub fn validate_testimony(form: &TestimonyForm) -> Result<ValidTestimony, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut required = |value: &str, field: &text::TextField, missing: &'static str| {
        let value = value.trim();
        if value.is_empty() {
            errors.push(FieldError::new(field.field, missing));
        } else if let Err(e) = field.check(value) {
            errors.push(e);
        }
        value.to_string()
    };
    let account = required(
        &form.account,
        &text::TESTIMONY,
        "Write what you saw the learner do",
    );
    let role = required(&form.role, &text::WITNESS_ROLE, "Enter your job role");
    let relationship = required(
        &form.relationship,
        &text::RELATIONSHIP,
        "Say how you know the learner, such as their line manager",
    );
    let signed_name = required(
        &form.signed_name,
        &text::SIGNED_NAME,
        "Type your full name to sign",
    );
    if !form.agreed {
        errors.push(FieldError::new(
            "agreed",
            "Tick the box to confirm the statement, or your testimony cannot be signed",
        ));
    }
    if errors.is_empty() {
        Ok(ValidTestimony {
            account,
            role,
            relationship,
            signed_name,
        })
    } else {
        Err(errors)
    }
}

/// A criterion as the witness was shown it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownCriterion {
    pub id: Uuid,
    /// "Unit 201 · 1.1 Describe …", word for word as the page showed it.
    pub label: String,
}

/// A file the witness attached: what identifies its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedFile {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// The content a testimony's signature covers: the witness as they describe
/// themselves, the criteria shown to them, the occasion they were asked about, what
/// they wrote, and any file by its digest.
pub fn testimony_content(
    witness_name: &str,
    witness_email: &str,
    t: &ValidTestimony,
    occasion: &str,
    criteria: &[ShownCriterion],
    files: &[AttachedFile],
) -> Value {
    json!({
        "witness": {
            "name": witness_name,
            "email": witness_email,
            "role": t.role,
            "relationship": t.relationship,
        },
        "occasion": occasion,
        "criteria": criteria.iter().map(|c| json!({ "id": c.id.to_string(), "label": c.label })).collect::<Vec<_>>(),
        "account": t.account,
        "files": files.iter().map(|f| json!({ "name": f.name, "sha256": f.sha256, "size": f.size })).collect::<Vec<_>>(),
    })
}

/// A testimony's content with its account replaced: a correction, which is a new
/// version needing the witness's signature again.
pub fn corrected(content: &Value, account: &str) -> Value {
    let mut next = content.clone();
    next["account"] = Value::String(account.to_string());
    next
}

#[cfg(test)]
#[path = "witness_tests.rs"]
mod tests;

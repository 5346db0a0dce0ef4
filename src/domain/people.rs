//! People: the roles an account holds and what makes a new account valid (SPEC §8).
use super::form::FieldError;
use super::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Learner,
    TraineeAssessor,
    Assessor,
    Iqa,
    Admin,
    /// A workplace mentor or line manager of an employer (SPEC §10); an employer
    /// account holds this role and no other.
    Employer,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Learner,
        Role::TraineeAssessor,
        Role::Assessor,
        Role::Iqa,
        Role::Admin,
        Role::Employer,
    ];

    /// The key stored in `user_roles.role`.
    pub fn key(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::TraineeAssessor => "trainee_assessor",
            Role::Assessor => "assessor",
            Role::Iqa => "iqa",
            Role::Admin => "admin",
            Role::Employer => "employer",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Learner => "Learner",
            Role::TraineeAssessor => "Trainee assessor",
            Role::Assessor => "Assessor",
            Role::Iqa => "IQA",
            Role::Admin => "Admin",
            Role::Employer => "Employer",
        }
    }
}

/// A learner's account, a member of staff's, or an employer's person's: never two of
/// them (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserKind {
    Learner,
    Staff,
    Employer,
}

impl UserKind {
    pub fn key(self) -> &'static str {
        match self {
            UserKind::Learner => "learner",
            UserKind::Staff => "staff",
            UserKind::Employer => "employer",
        }
    }

    pub fn from_key(key: &str) -> Option<UserKind> {
        match key {
            "learner" => Some(UserKind::Learner),
            "staff" => Some(UserKind::Staff),
            "employer" => Some(UserKind::Employer),
            _ => None,
        }
    }
}

/// What an admin typed to add a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NewPerson {
    pub display_name: String,
    pub email: String,
    /// "learner" or "staff", as the form sends it.
    pub kind: String,
    /// Role keys, as the form sends them.
    pub roles: Vec<String>,
    /// For an employer's person: the employer's id, as the form sends it.
    pub employer: String,
}

/// A new person, checked: the kind and roles an account may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidPerson {
    pub display_name: String,
    pub email: String,
    pub kind: UserKind,
    pub roles: Vec<Role>,
    /// The employer an employer's person belongs to; `None` for everyone else.
    pub employer: Option<uuid::Uuid>,
}

/// Every problem with the form, each against its field.
pub(crate) fn validate_new_person(p: &NewPerson) -> Result<ValidPerson, Vec<FieldError>> {
    let mut errors = Vec::new();
    let display_name = p.display_name.trim();
    if display_name.is_empty() {
        errors.push(FieldError::new(
            "display_name",
            "Enter the person's full name",
        ));
    } else if let Err(e) = text::PERSON_NAME.check(display_name) {
        errors.push(e);
    }
    let email = p.email.trim();
    if let Some(e) = super::form::email_error("email", email) {
        errors.push(e);
    }
    let kind = UserKind::from_key(&p.kind);
    let roles: Vec<Role> = p.roles.iter().filter_map(|r| Role::from_key(r)).collect();
    match kind {
        None => errors.push(FieldError::new(
            "kind",
            "Select whether this is a learner or a member of staff",
        )),
        Some(UserKind::Staff)
            if roles.is_empty()
                || roles
                    .iter()
                    .any(|r| matches!(r, Role::Learner | Role::Employer)) =>
        {
            errors.push(FieldError::new("roles", "Select at least one staff role"))
        }
        Some(UserKind::Staff)
            if roles.contains(&Role::Assessor) && roles.contains(&Role::TraineeAssessor) =>
        {
            errors.push(FieldError::new(
                "roles",
                "Select assessor or trainee assessor, not both",
            ))
        }
        _ => {}
    }
    let employer = uuid::Uuid::parse_str(p.employer.trim()).ok();
    if kind == Some(UserKind::Employer) && employer.is_none() {
        errors.push(FieldError::new(
            "employer",
            "Select the employer this person works for",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let kind = kind.unwrap_or(UserKind::Learner);
    let mut roles = match kind {
        // A learner account holds the learner role and nothing else, and so does an
        // employer's person the employer role.
        UserKind::Learner => vec![Role::Learner],
        UserKind::Staff => roles,
        UserKind::Employer => vec![Role::Employer],
    };
    let employer = employer.filter(|_| kind == UserKind::Employer);
    roles.sort();
    roles.dedup();
    Ok(ValidPerson {
        display_name: display_name.to_string(),
        email: email.to_string(),
        kind,
        roles,
        employer,
    })
}

/// Checks an enrolment's assignments: who is picked where (SPEC §2, §7).
pub(crate) fn validate_assignments(
    learner: Option<uuid::Uuid>,
    major: Option<uuid::Uuid>,
    assessor: Option<uuid::Uuid>,
    trainee: Option<uuid::Uuid>,
    iqa: Option<uuid::Uuid>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if learner.is_none() {
        errors.push(FieldError::new("learner", "Select the learner"));
    }
    if major.is_none() {
        errors.push(FieldError::new(
            "major",
            "Select the qualification and major",
        ));
    }
    if assessor.is_none() {
        errors.push(FieldError::new("assessor", "Select the assessor"));
    }
    if trainee.is_some() && trainee == assessor {
        errors.push(FieldError::new(
            "trainee",
            "The trainee assessor cannot also be the assessor",
        ));
    }
    if iqa.is_some() && (iqa == assessor || iqa == trainee) {
        errors.push(FieldError::new(
            "iqa",
            "The IQA cannot sample their own assessment: choose someone else",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(kind: &str, roles: &[&str]) -> NewPerson {
        NewPerson {
            display_name: " Zoë Ōtaki-Ngata ".into(),
            email: "zoe@example.ac.nz".into(),
            kind: kind.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            employer: String::new(),
        }
    }

    #[test]
    fn a_learner_holds_only_the_learner_role() {
        let p = validate_new_person(&person("learner", &["admin"])).expect("valid");
        assert_eq!((p.kind, p.roles), (UserKind::Learner, vec![Role::Learner]));
        assert_eq!(p.display_name, "Zoë Ōtaki-Ngata");
    }

    #[test]
    fn staff_need_a_staff_role_and_never_the_learner_role() {
        let fields = |p: &NewPerson| {
            validate_new_person(p)
                .expect_err("invalid")
                .iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&person("staff", &[])), ["roles"]);
        assert_eq!(fields(&person("staff", &["learner"])), ["roles"]);
        assert_eq!(fields(&person("staff", &["employer"])), ["roles"]);
        assert_eq!(
            fields(&person("staff", &["assessor", "trainee_assessor"])),
            ["roles"]
        );
        let p = validate_new_person(&person("staff", &["iqa", "assessor"])).expect("valid");
        assert_eq!(p.roles, vec![Role::Assessor, Role::Iqa]);
    }

    #[test]
    fn an_employers_person_belongs_to_an_employer_and_holds_only_the_employer_role() {
        let e = validate_new_person(&person("employer", &["admin"])).expect_err("no employer");
        assert_eq!(e.iter().map(|e| e.field).collect::<Vec<_>>(), ["employer"]);
        let employer = uuid::Uuid::from_u128(7);
        let p = validate_new_person(&NewPerson {
            employer: employer.to_string(),
            ..person("employer", &["admin", "assessor"])
        })
        .expect("valid");
        assert_eq!(
            (p.kind, p.roles, p.employer),
            (UserKind::Employer, vec![Role::Employer], Some(employer))
        );
        let staff = validate_new_person(&NewPerson {
            employer: employer.to_string(),
            ..person("staff", &["iqa"])
        })
        .expect("valid");
        assert_eq!(staff.employer, None, "only an employer's person has one");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = NewPerson::default();
        let fields: Vec<_> = validate_new_person(&bad)
            .expect_err("invalid")
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["display_name", "email", "kind"]);
    }

    #[test]
    fn an_iqa_never_samples_their_own_assessment() {
        let (a, b) = (
            Some(uuid::Uuid::from_u128(1)),
            Some(uuid::Uuid::from_u128(2)),
        );
        let fields = |e: Vec<FieldError>| e.iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(
            fields(validate_assignments(None, None, None, None, None)),
            ["learner", "major", "assessor"]
        );
        assert_eq!(fields(validate_assignments(b, b, a, None, a)), ["iqa"]);
        assert_eq!(fields(validate_assignments(b, b, a, a, None)), ["trainee"]);
        assert!(validate_assignments(b, b, a, None, b).is_empty());
    }
}

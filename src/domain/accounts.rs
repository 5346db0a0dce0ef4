//! An admin's decisions about one person's account (issue 12): what an edit of the
//! name, email and roles may change, which moves of an account are allowed, and how a
//! person's sign-in stands.
//!
//! **A centre never loses its last way in.** The rule, exactly: an admin never removes
//! their own admin role and never deactivates their own account; another admin of the
//! centre must. Every use case (`db::accounts`) locks the acting admin's row and the
//! person's, reads both again, and goes on only while the actor is still an active
//! admin of the person's centre; so two admins acting on each other at once act one
//! after the other, and the second, no longer an admin, is refused. After every change
//! the actor is therefore still an active admin: a centre that had an active admin
//! keeps at least one (`proptests::the_centre_keeps_an_active_admin`).
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::form::FieldError;
use super::people::{Role, UserKind};
use super::signin::{self, Tallies, Tally, Throttled};
use super::text;

/// What an admin typed on a person's page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PersonEdit {
    pub display_name: String,
    pub email: String,
    /// Role keys, as the form sends them.
    pub roles: Vec<String>,
}

/// A person's account as the rules read it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Account<'a> {
    pub id: Uuid,
    pub kind: UserKind,
    pub active: bool,
    pub roles: &'a [Role],
    /// The roles in which enrolments name the person (assessor, trainee assessor, IQA).
    pub assigned_as: &'a [Role],
}

/// An edit that passed: what to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidEdit {
    pub display_name: String,
    pub email: String,
    /// Sorted.
    pub roles: Vec<Role>,
}

pub(crate) const LEARNER_ONLY: &str =
    "A learner's account holds the learner role only: a member of staff needs an account of their own";
pub(crate) const STAFF_NOT_LEARNER: &str =
    "A member of staff's account cannot hold the learner role: a learner needs an account of their own";
pub(crate) const EMPLOYER_ONLY: &str =
    "An employer's person's account holds the employer role only: someone who also works for the centre needs an account of their own";
const NO_STAFF_ROLE: &str = "Select at least one staff role";
const ASSESSOR_AND_TRAINEE: &str = "Select assessor or trainee assessor, not both";
pub(crate) const OWN_ADMIN_ROLE: &str =
    "You cannot remove your own admin role: another admin must, so that your centre always keeps an admin who can sign in";
/// The role the person still works in on enrolments, which they would lose sight of.
fn still_assigned(role: Role) -> &'static str {
    match role {
        Role::Assessor => {
            "This person is the assessor of enrolments: reassign them before removing the assessor role"
        }
        Role::TraineeAssessor => {
            "This person is the trainee assessor of enrolments: reassign them before removing the trainee assessor role"
        }
        Role::Iqa => {
            "This person is the IQA of enrolments: reassign them before removing the IQA role"
        }
        Role::Learner | Role::Admin | Role::Employer => "This role is still in use",
    }
}

/// Every problem with an edit of `account` by the admin `actor`, each against its
/// field; or the values to store. The kind of account never changes (a learner's
/// enrolments name a learner's account): a learner's account holds the learner role
/// and no other, a member of staff's at least one staff role and never the learner
/// role (SPEC §8).
pub(crate) fn validate_edit(
    actor: Uuid,
    account: &Account<'_>,
    typed: &PersonEdit,
) -> Result<ValidEdit, Vec<FieldError>> {
    let mut errors = Vec::new();
    let display_name = typed.display_name.trim();
    if display_name.is_empty() {
        errors.push(FieldError::new(
            "display_name",
            "Enter the person's full name",
        ));
    } else if let Err(e) = text::PERSON_NAME.check(display_name) {
        errors.push(e);
    }
    let email = typed.email.trim();
    if let Some(e) = super::form::email_error("email", email) {
        errors.push(e);
    }
    let mut roles: Vec<Role> = typed
        .roles
        .iter()
        .filter_map(|r| Role::from_key(r))
        .collect();
    roles.sort();
    roles.dedup();
    let roles = match account.kind {
        UserKind::Learner => {
            if roles.iter().any(|r| *r != Role::Learner) {
                errors.push(FieldError::new("roles", LEARNER_ONLY));
            }
            vec![Role::Learner]
        }
        UserKind::Staff => {
            if let Some(message) = staff_roles_error(actor, account, &roles) {
                errors.push(FieldError::new("roles", message));
            }
            roles
        }
        UserKind::Employer => {
            if roles.iter().any(|r| *r != Role::Employer) {
                errors.push(FieldError::new("roles", EMPLOYER_ONLY));
            }
            vec![Role::Employer]
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidEdit {
        display_name: display_name.to_string(),
        email: email.to_string(),
        roles,
    })
}

/// Why a member of staff may not hold `roles` after this edit, if they may not.
fn staff_roles_error(actor: Uuid, account: &Account<'_>, roles: &[Role]) -> Option<&'static str> {
    let holds = |r: Role| roles.contains(&r);
    if holds(Role::Learner) {
        return Some(STAFF_NOT_LEARNER);
    }
    if holds(Role::Employer) {
        return Some(EMPLOYER_ONLY);
    }
    if roles.is_empty() {
        return Some(NO_STAFF_ROLE);
    }
    if holds(Role::Assessor) && holds(Role::TraineeAssessor) {
        return Some(ASSESSOR_AND_TRAINEE);
    }
    if actor == account.id && account.roles.contains(&Role::Admin) && !holds(Role::Admin) {
        return Some(OWN_ADMIN_ROLE);
    }
    account
        .assigned_as
        .iter()
        .find(|r| !holds(**r))
        .map(|r| still_assigned(*r))
}

/// A move of an account as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Move {
    /// Signs the person out everywhere and stops them signing in; every record they
    /// left stays.
    Deactivate,
    Reactivate,
    /// Signs the person out everywhere; they may sign in again.
    EndSessions,
}

/// Why a move is refused (409, with this reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    #[error("this account is already deactivated")]
    AlreadyDeactivated,
    #[error("this account is active: there is nothing to reactivate")]
    NotDeactivated,
    #[error("you cannot deactivate your own account: another admin of your centre must, so that the centre always keeps an admin who can sign in")]
    OwnAccount,
    #[error("this account is deactivated, so it has no sessions to end")]
    NoSessions,
}

/// Whether the admin `actor` may make `action` on `account`.
pub(crate) fn may(actor: Uuid, account: &Account<'_>, action: Move) -> Result<(), AccountRefusal> {
    match action {
        Move::Deactivate if !account.active => Err(AccountRefusal::AlreadyDeactivated),
        Move::Deactivate if account.id == actor => Err(AccountRefusal::OwnAccount),
        Move::Reactivate if account.active => Err(AccountRefusal::NotDeactivated),
        Move::EndSessions if !account.active => Err(AccountRefusal::NoSessions),
        _ => Ok(()),
    }
}

/// How a person's sign-in stands, as their admin is shown it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignInLock {
    /// No failed attempt counted against the account.
    Clear,
    /// Failed attempts are counted, the last at `last`, but the next attempt may be made.
    Failed { last: Option<OffsetDateTime> },
    /// The next attempt from somewhere must wait `wait` (the longest such wait).
    HeldBack { wait: Duration },
}

/// The account's sign-in at `now`, from its counters: the account's own (any address)
/// and one per address it was tried from (`domain::signin` judges each exactly as
/// sign-in would).
pub(crate) fn sign_in_lock(now: OffsetDateTime, account: Tally, pairs: &[Tally]) -> SignInLock {
    let wait = |pair: Tally| match signin::admit(
        now,
        &Tallies {
            pair,
            account,
            address: None,
        },
    ) {
        Err(Throttled::Pair { wait } | Throttled::Account { wait }) => Some(wait),
        Err(Throttled::Address { .. }) | Ok(()) => None,
    };
    // An account held back with no pair yet is held back for a new address too.
    let longest = pairs
        .iter()
        .copied()
        .chain(std::iter::once(Tally::default()))
        .filter_map(wait)
        .max();
    if let Some(wait) = longest {
        return SignInLock::HeldBack { wait };
    }
    let failing: Vec<&Tally> = pairs
        .iter()
        .chain(std::iter::once(&account))
        .filter(|t| t.failures > 0)
        .collect();
    if failing.is_empty() {
        SignInLock::Clear
    } else {
        SignInLock::Failed {
            last: failing.iter().filter_map(|t| t.last_failure_at).max(),
        }
    }
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;

//! The enrolment status machine of SPEC §5, as a pure function from
//! (status, action) to a decision or a refusal with a reason.
use serde::{Deserialize, Serialize};

use super::outcome::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    NotYetAchieved,
    ReadyToBeRequested,
    GeneratingCredential,
    AwaitingIssue,
    CredentialIssued,
    CredentialFailedToGenerate,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::NotYetAchieved,
        Status::ReadyToBeRequested,
        Status::GeneratingCredential,
        Status::AwaitingIssue,
        Status::CredentialIssued,
        Status::CredentialFailedToGenerate,
        Status::Withdrawn,
    ];

    /// The wording users see, everywhere (UX: one wording per status).
    pub fn label(self) -> &'static str {
        match self {
            Status::NotYetAchieved => "Not Yet Achieved",
            Status::ReadyToBeRequested => "Ready to be Requested",
            Status::GeneratingCredential => "Generating Credential",
            Status::AwaitingIssue => "Awaiting Issue",
            Status::CredentialIssued => "Credential Issued",
            Status::CredentialFailedToGenerate => "Credential Failed to Generate",
            Status::Withdrawn => "Withdrawn",
        }
    }

    /// The stable key stored in the database (checked there by a constraint).
    pub fn key(self) -> &'static str {
        match self {
            Status::NotYetAchieved => "not_yet_achieved",
            Status::ReadyToBeRequested => "ready_to_be_requested",
            Status::GeneratingCredential => "generating_credential",
            Status::AwaitingIssue => "awaiting_issue",
            Status::CredentialIssued => "credential_issued",
            Status::CredentialFailedToGenerate => "credential_failed_to_generate",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn from_key(key: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == key)
    }

    /// From Generating Credential on, assessor ticks are locked (SPEC §2).
    pub(crate) fn locks_assessor_ticks(self) -> bool {
        !matches!(self, Status::NotYetAchieved | Status::ReadyToBeRequested)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// What someone (or the system) does to an enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// An audit finished with this outcome.
    Audit(Outcome),
    /// The assigned major was switched; `outcome` is the re-audit under the new major.
    SwitchMajor(Outcome),
    /// Request the credential; `outcome` is the re-audit done first.
    RequestCredential {
        outcome: Outcome,
        open_iqa_actions: u32,
    },
    GenerationSucceeded,
    GenerationFailed,
    Retry,
    Issue,
    CancelCredential {
        reason: String,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Audit(_) => "audit",
            Action::SwitchMajor(_) => "switch major",
            Action::RequestCredential { .. } => "request credential",
            Action::GenerationSucceeded => "generation succeeded",
            Action::GenerationFailed => "generation failed",
            Action::Retry => "retry",
            Action::Issue => "issue",
            Action::CancelCredential { .. } => "cancel credential",
        }
    }
}

/// An allowed action either moves the enrolment or leaves its status as it is
/// (an audit in Awaiting Issue is recorded but changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Stay,
    Move { from: Status, to: Status },
}

impl Decision {
    pub fn target(self, current: Status) -> Status {
        match self {
            Decision::Stay => current,
            Decision::Move { to, .. } => to,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{action} is not possible while the enrolment is {status}")]
    NotAllowed {
        status: Status,
        action: &'static str,
    },
    #[error("the credential cannot be requested: the audit says {outcome}, so the assigned major is not achieved")]
    AssignedMajorNotAchieved { outcome: Outcome },
    #[error(
        "the credential cannot be requested while {count} IQA action(s) are open on this enrolment"
    )]
    OpenIqaActions { count: u32 },
    #[error("a reason is required to cancel a credential")]
    ReasonRequired,
}

/// Decide what `action` does to an enrolment in `status` (SPEC §5).
pub fn decide(status: Status, action: &Action) -> Result<Decision, Refusal> {
    use Status::*;
    let refuse = || Refusal::NotAllowed {
        status,
        action: action.name(),
    };
    let by_audit = |outcome: &Outcome| {
        let to = if outcome.assigned_achieved() {
            ReadyToBeRequested
        } else {
            NotYetAchieved
        };
        move_or_stay(status, to)
    };
    match (status, action) {
        (NotYetAchieved | ReadyToBeRequested, Action::Audit(outcome)) => Ok(by_audit(outcome)),
        // Withdrawn is final: not even an audit (SPEC §5 "no further actions").
        (Withdrawn, Action::Audit(_)) => Err(refuse()),
        (_, Action::Audit(_)) => Ok(Decision::Stay),
        (NotYetAchieved | ReadyToBeRequested, Action::SwitchMajor(outcome)) => {
            Ok(by_audit(outcome))
        }
        (
            ReadyToBeRequested,
            Action::RequestCredential {
                outcome,
                open_iqa_actions,
            },
        ) => {
            if *open_iqa_actions > 0 {
                Err(Refusal::OpenIqaActions {
                    count: *open_iqa_actions,
                })
            } else if !outcome.assigned_achieved() {
                Err(Refusal::AssignedMajorNotAchieved { outcome: *outcome })
            } else {
                Ok(move_or_stay(status, GeneratingCredential))
            }
        }
        (GeneratingCredential, Action::GenerationSucceeded) => {
            Ok(move_or_stay(status, AwaitingIssue))
        }
        (GeneratingCredential, Action::GenerationFailed) => {
            Ok(move_or_stay(status, CredentialFailedToGenerate))
        }
        (CredentialFailedToGenerate, Action::Retry) => {
            Ok(move_or_stay(status, GeneratingCredential))
        }
        (AwaitingIssue, Action::Issue) => Ok(move_or_stay(status, CredentialIssued)),
        (
            AwaitingIssue | CredentialIssued | CredentialFailedToGenerate,
            Action::CancelCredential { reason },
        ) => {
            if reason.trim().is_empty() {
                Err(Refusal::ReasonRequired)
            } else {
                Ok(move_or_stay(status, Withdrawn))
            }
        }
        _ => Err(refuse()),
    }
}

/// What a user can ask for on an enrolment, as offered on its pages. Print and Email
/// change no status but are only offered (and only allowed) once the credential is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Offer {
    Audit,
    SwitchMajor,
    RequestCredential,
    Retry,
    Issue,
    Print,
    Email,
    CancelCredential,
}

impl Offer {
    pub const ALL: [Offer; 8] = [
        Offer::Audit,
        Offer::SwitchMajor,
        Offer::RequestCredential,
        Offer::Retry,
        Offer::Issue,
        Offer::Print,
        Offer::Email,
        Offer::CancelCredential,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Offer::Audit => "Audit",
            Offer::SwitchMajor => "Switch major",
            Offer::RequestCredential => "Request credential",
            Offer::Retry => "Retry",
            Offer::Issue => "Issue",
            Offer::Print => "Print",
            Offer::Email => "Email",
            Offer::CancelCredential => "Cancel credential",
        }
    }
}

/// Exactly the actions SPEC §5 allows in `status`, in the order pages show them.
/// (Whether a request then succeeds also depends on the re-audit and IQA actions.)
pub fn offers(status: Status) -> &'static [Offer] {
    use Offer::*;
    match status {
        Status::NotYetAchieved => &[Audit, SwitchMajor],
        Status::ReadyToBeRequested => &[RequestCredential, Audit, SwitchMajor],
        Status::GeneratingCredential => &[Audit],
        Status::AwaitingIssue => &[Issue, Audit, CancelCredential],
        Status::CredentialIssued => &[Print, Email, Audit, CancelCredential],
        Status::CredentialFailedToGenerate => &[Retry, Audit, CancelCredential],
        Status::Withdrawn => &[],
    }
}

/// Print and Email are not transitions; they are refused like one outside Credential Issued.
pub fn may(status: Status, offer: Offer) -> Result<(), Refusal> {
    if offers(status).contains(&offer) {
        Ok(())
    } else {
        Err(Refusal::NotAllowed {
            status,
            action: offer.action_name(),
        })
    }
}

impl Offer {
    /// The name used in refusals, matching `Action::name`.
    fn action_name(self) -> &'static str {
        match self {
            Offer::Audit => "audit",
            Offer::SwitchMajor => "switch major",
            Offer::RequestCredential => "request credential",
            Offer::Retry => "retry",
            Offer::Issue => "issue",
            Offer::Print => "print",
            Offer::Email => "email",
            Offer::CancelCredential => "cancel credential",
        }
    }
}

fn move_or_stay(from: Status, to: Status) -> Decision {
    if from == to {
        Decision::Stay
    } else {
        Decision::Move { from, to }
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;

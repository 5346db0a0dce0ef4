//! Internal quality assurance (SPEC §7): sampling decisions and their actions.
use uuid::Uuid;

use super::form::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Agreed,
    ActionRequired,
}

impl Verdict {
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Agreed => "agreed",
            Verdict::ActionRequired => "action_required",
        }
    }

    pub fn from_key(key: &str) -> Option<Verdict> {
        match key {
            "agreed" => Some(Verdict::Agreed),
            "action_required" => Some(Verdict::ActionRequired),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Agreed => "Agreed",
            Verdict::ActionRequired => "Action required",
        }
    }
}

/// What was sampled: a unit of the enrolment, or one evidence item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampled {
    Unit(Uuid),
    Evidence(Uuid),
}

impl Sampled {
    /// Parses the form's "unit:<id>" or "evidence:<id>".
    pub fn parse(s: &str) -> Option<Sampled> {
        let (kind, id) = s.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "unit" => Some(Sampled::Unit(id)),
            "evidence" => Some(Sampled::Evidence(id)),
            _ => None,
        }
    }
}

/// Checks a sampling decision as typed.
pub(crate) fn validate(
    target: &str,
    verdict: &str,
    feedback: &str,
) -> Result<(Sampled, Verdict, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let sampled = Sampled::parse(target);
    if sampled.is_none() {
        errors.push(FieldError::new(
            "target",
            "Select the unit or evidence you sampled",
        ));
    }
    let verdict_parsed = Verdict::from_key(verdict);
    if verdict_parsed.is_none() {
        errors.push(FieldError::new(
            "verdict",
            "Select Agreed or Action required",
        ));
    }
    let feedback = feedback.trim();
    if verdict_parsed == Some(Verdict::ActionRequired) && feedback.is_empty() {
        errors.push(FieldError::new(
            "feedback",
            "Say what the assessor needs to do",
        ));
    } else if let Err(e) = super::text::IQA_FEEDBACK.check(feedback) {
        errors.push(e);
    }
    match (sampled, verdict_parsed, errors.is_empty()) {
        (Some(s), Some(v), true) => Ok((s, v, feedback.to_string())),
        _ => Err(errors),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IqaRefusal {
    #[error("you assessed this yourself: an IQA never samples their own assessment decisions")]
    OwnAssessment,
    #[error("only an open action can be marked addressed")]
    NotOpen,
    #[error("the assessor has not marked this action addressed yet")]
    NotAddressed,
}

/// SPEC §7: the IQA may not have made any of the assessment decisions (assessor or
/// trainee assessor ticks) being sampled.
pub(crate) fn may_sample(iqa: Uuid, assessment_authors: &[Uuid]) -> Result<(), IqaRefusal> {
    if assessment_authors.contains(&iqa) {
        Err(IqaRefusal::OwnAssessment)
    } else {
        Ok(())
    }
}

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionState {
    /// An Agreed decision: nothing to do.
    NoAction,
    Open,
    Addressed,
    Closed,
}

impl ActionState {
    pub fn of(verdict: Verdict, addressed: bool, closed: bool) -> ActionState {
        match (verdict, addressed, closed) {
            (Verdict::Agreed, _, _) => ActionState::NoAction,
            (_, _, true) => ActionState::Closed,
            (_, true, false) => ActionState::Addressed,
            (_, false, false) => ActionState::Open,
        }
    }

    pub(crate) fn may_address(self) -> Result<(), IqaRefusal> {
        if self == ActionState::Open {
            Ok(())
        } else {
            Err(IqaRefusal::NotOpen)
        }
    }

    pub(crate) fn may_close(self) -> Result<(), IqaRefusal> {
        if self == ActionState::Addressed {
            Ok(())
        } else {
            Err(IqaRefusal::NotAddressed)
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionState::NoAction => "",
            ActionState::Open => "Open",
            ActionState::Addressed => "Addressed — waiting for the IQA to close it",
            ActionState::Closed => "Closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_needs_feedback_and_a_target() {
        let fields = |e: Vec<FieldError>| e.iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(
            fields(validate("", "", "").expect_err("invalid")),
            ["target", "verdict"]
        );
        let unit = format!("unit:{}", Uuid::from_u128(1));
        assert_eq!(
            fields(validate(&unit, "action_required", "  ").expect_err("invalid")),
            ["feedback"]
        );
        assert!(validate(&unit, "agreed", "").is_ok());
    }

    #[test]
    fn an_iqa_never_samples_their_own_ticks() {
        let (me, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(may_sample(me, &[other, me]), Err(IqaRefusal::OwnAssessment));
        assert!(may_sample(me, &[other]).is_ok());
    }

    #[test]
    fn actions_are_addressed_then_closed() {
        let open = ActionState::of(Verdict::ActionRequired, false, false);
        assert!(open.may_address().is_ok() && open.may_close().is_err());
        let addressed = ActionState::of(Verdict::ActionRequired, true, false);
        assert!(addressed.may_close().is_ok() && addressed.may_address().is_err());
        assert_eq!(
            ActionState::of(Verdict::Agreed, false, false),
            ActionState::NoAction
        );
        assert!(ActionState::NoAction.may_address().is_err());
    }
}

//! What a credential records about the learner's achievement (SPEC §6).
use super::form::FieldError;
use super::outcome::ConfirmedCriteria;
use super::qualification::{Qualification, UnitIx};
use super::text;

/// Units achieved: every one of their criteria confirmed (SPEC §1), in the
/// qualification's order.
pub(crate) fn achieved_units(q: &Qualification, confirmed: &ConfirmedCriteria) -> Vec<UnitIx> {
    q.unit_criterion_ranges()
        .into_iter()
        .enumerate()
        .filter(|(_, range)| !range.is_empty() && confirmed.count_in(range.clone()) == range.len())
        .map(|(ix, _)| ix)
        .collect()
}

/// Why a credential is cancelled, as typed: required, and kept trimmed in the register
/// and the enrolment's history.
pub fn cancel_reason(typed: &str) -> Result<&str, FieldError> {
    let reason = typed.trim();
    if reason.is_empty() {
        return Err(FieldError::new(
            "reason",
            "Enter the reason for cancelling the credential",
        ));
    }
    text::CANCEL_REASON.check(reason)?;
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_reason_is_required_plain_and_at_most_5000_characters() {
        let message = |typed: &str| cancel_reason(typed).err().map(|e| e.message);
        assert_eq!(
            message(" \r\n "),
            Some("Enter the reason for cancelling the credential")
        );
        assert_eq!(
            message("Wrong learner\0"),
            Some("The reason cannot contain control characters")
        );
        assert_eq!(
            message(&"a".repeat(5_001)),
            Some("The reason must be 5,000 characters or fewer")
        );
        assert_eq!(
            cancel_reason(" Wrong learner.\r\nSee the log. "),
            Ok("Wrong learner.\r\nSee the log.")
        );
    }
    use crate::domain::testkit;

    #[test]
    fn a_unit_is_achieved_only_when_every_criterion_is_confirmed() {
        let units = vec![
            testkit::unit("201", 2, 3, 2),
            testkit::unit("202", 2, 2, 2),
            testkit::unit("203", 3, 2, 3),
        ];
        let q = testkit::qualification(units, Vec::new());
        let mut confirmed = ConfirmedCriteria::new(q.criterion_count());
        // Unit 0 has criteria 0..2, unit 1 has 2..4, unit 2 has 4..7.
        for ordinal in [0, 1, 2, 4, 5, 6] {
            confirmed.insert(ordinal).expect("in range");
        }
        assert_eq!(achieved_units(&q, &confirmed), vec![0, 2]);
        confirmed.insert(3).expect("in range");
        assert_eq!(achieved_units(&q, &confirmed), vec![0, 1, 2]);
    }
}

/// A document of the register as it was kept (issue 11 point 8): the SHA-256 of its
/// bytes in lower-case hex, and its size. Served bytes must match both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFile {
    pub sha256: String,
    pub size: u64,
}

use super::Status::*;
use super::*;
use Outcome::*;

fn request(outcome: Outcome, open: u32) -> Action {
    Action::RequestCredential {
        outcome,
        open_iqa_actions: open,
    }
}

fn cancel(reason: &str) -> Action {
    Action::CancelCredential {
        reason: reason.to_string(),
    }
}

/// One representative of each action, with an outcome that allows it where it can.
fn actions() -> Vec<Action> {
    let mut all: Vec<Action> = Outcome::ALL.iter().map(|o| Action::Audit(*o)).collect();
    all.extend(Outcome::ALL.iter().map(|o| Action::SwitchMajor(*o)));
    all.extend([
        request(AssignedMajorAchieved, 0),
        Action::GenerationSucceeded,
        Action::GenerationFailed,
        Action::Retry,
        Action::Issue,
        cancel("learner left the course"),
    ]);
    all
}

/// SPEC §5's transition table, written out independently of `decide`.
fn expected(status: Status, action: &Action) -> Option<Status> {
    match (status, action) {
        (NotYetAchieved | ReadyToBeRequested, Action::Audit(o) | Action::SwitchMajor(o)) => {
            Some(if matches!(o, AssignedMajorAchieved | AllMajorsAchieved) {
                ReadyToBeRequested
            } else {
                NotYetAchieved
            })
        }
        (Withdrawn, Action::Audit(_)) => None,
        (_, Action::Audit(_)) => Some(status),
        (ReadyToBeRequested, Action::RequestCredential { .. }) => Some(GeneratingCredential),
        (GeneratingCredential, Action::GenerationSucceeded) => Some(AwaitingIssue),
        (GeneratingCredential, Action::GenerationFailed) => Some(CredentialFailedToGenerate),
        (CredentialFailedToGenerate, Action::Retry) => Some(GeneratingCredential),
        (AwaitingIssue, Action::Issue) => Some(CredentialIssued),
        (
            AwaitingIssue | CredentialIssued | CredentialFailedToGenerate,
            Action::CancelCredential { .. },
        ) => Some(Withdrawn),
        _ => None,
    }
}

#[test]
fn every_status_and_action_follows_the_spec_table() {
    let mut allowed = 0;
    let mut refused = 0;
    for status in Status::ALL {
        for action in actions() {
            let got = decide(status, &action);
            match expected(status, &action) {
                Some(to) => {
                    allowed += 1;
                    let decision =
                        got.unwrap_or_else(|e| panic!("{status:?} {action:?} refused: {e}"));
                    assert_eq!(decision.target(status), to, "{status:?} {action:?}");
                    assert_eq!(decision == Decision::Stay, to == status);
                }
                None => {
                    refused += 1;
                    assert_eq!(
                        got,
                        Err(Refusal::NotAllowed {
                            status,
                            action: action.name()
                        }),
                        "{status:?} {action:?}"
                    );
                }
            }
        }
    }
    // 7 statuses × 14 actions; the allowed count pins the table's size.
    assert_eq!(allowed + refused, 98);
    // Audits with 4 outcomes in the 6 statuses but Withdrawn, switch major in 2, then
    // request, success, failure, retry, issue, and cancel from 3 statuses.
    assert_eq!(allowed, 6 * 4 + 2 * 4 + 1 + 1 + 1 + 1 + 1 + 3);
}

#[test]
fn audit_in_a_later_status_records_but_does_not_move() {
    for status in [
        GeneratingCredential,
        AwaitingIssue,
        CredentialIssued,
        CredentialFailedToGenerate,
    ] {
        for o in Outcome::ALL {
            assert_eq!(decide(status, &Action::Audit(o)), Ok(Decision::Stay));
        }
    }
}

#[test]
fn audit_moves_between_not_yet_achieved_and_ready() {
    assert_eq!(
        decide(NotYetAchieved, &Action::Audit(AllMajorsAchieved)),
        Ok(Decision::Move {
            from: NotYetAchieved,
            to: ReadyToBeRequested
        })
    );
    assert_eq!(
        decide(ReadyToBeRequested, &Action::Audit(OtherMajorsAchieved)),
        Ok(Decision::Move {
            from: ReadyToBeRequested,
            to: NotYetAchieved
        })
    );
    assert_eq!(
        decide(NotYetAchieved, &Action::Audit(OtherMajorsAchieved)),
        Ok(Decision::Stay)
    );
}

#[test]
fn request_is_refused_while_an_iqa_action_is_open() {
    let refusal =
        decide(ReadyToBeRequested, &request(AssignedMajorAchieved, 2)).expect_err("refused");
    assert_eq!(refusal, Refusal::OpenIqaActions { count: 2 });
    assert!(refusal.to_string().contains("2 IQA action(s) are open"));
}

#[test]
fn request_is_refused_when_the_re_audit_no_longer_achieves_the_assigned_major() {
    for o in [NoMajorsAchieved, OtherMajorsAchieved] {
        assert_eq!(
            decide(ReadyToBeRequested, &request(o, 0)),
            Err(Refusal::AssignedMajorNotAchieved { outcome: o })
        );
    }
    assert!(decide(ReadyToBeRequested, &request(AllMajorsAchieved, 0)).is_ok());
}

#[test]
fn cancelling_needs_a_reason() {
    assert_eq!(
        decide(AwaitingIssue, &cancel("   ")),
        Err(Refusal::ReasonRequired)
    );
    assert_eq!(
        decide(CredentialIssued, &cancel("")),
        Err(Refusal::ReasonRequired)
    );
}

#[test]
fn withdrawn_allows_no_action_at_all() {
    for action in actions() {
        assert!(decide(Withdrawn, &action).is_err(), "{action:?}");
    }
    assert!(offers(Withdrawn).is_empty());
}

/// Each offered transition is one `decide` allows from that status, and every status
/// `decide` lets an action leave from offers it (an independent check of the table).
#[test]
fn offers_match_the_status_machine() {
    let achieved = Outcome::AssignedMajorAchieved;
    let as_action = |o: Offer| match o {
        Offer::Audit => Some(Action::Audit(achieved)),
        Offer::SwitchMajor => Some(Action::SwitchMajor(achieved)),
        Offer::RequestCredential => Some(request(achieved, 0)),
        Offer::Retry => Some(Action::Retry),
        Offer::Issue => Some(Action::Issue),
        Offer::CancelCredential => Some(cancel("mistake")),
        Offer::Print | Offer::Email => None,
    };
    for status in Status::ALL {
        for offer in Offer::ALL {
            let offered = offers(status).contains(&offer);
            assert_eq!(may(status, offer).is_ok(), offered);
            match as_action(offer) {
                Some(action) => assert_eq!(
                    decide(status, &action).is_ok(),
                    offered,
                    "{status:?} {offer:?}"
                ),
                None => assert_eq!(offered, status == CredentialIssued, "{status:?} {offer:?}"),
            }
        }
    }
}

#[test]
fn refusal_messages_name_the_status_and_action() {
    let e = decide(NotYetAchieved, &Action::Issue).expect_err("refused");
    assert_eq!(
        e.to_string(),
        "issue is not possible while the enrolment is Not Yet Achieved"
    );
}

#[test]
fn status_keys_round_trip_and_labels_match_the_spec() {
    for s in Status::ALL {
        assert_eq!(Status::from_key(s.key()), Some(s));
    }
    assert_eq!(
        CredentialFailedToGenerate.label(),
        "Credential Failed to Generate"
    );
    assert_eq!(ReadyToBeRequested.label(), "Ready to be Requested");
    assert_eq!(Status::from_key("issued"), None);
}

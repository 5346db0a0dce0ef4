use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use crate::domain::signature::{standing, Signable, SignedKind, Standing};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn a_link_is_open_until_it_expires_is_used_or_is_revoked() {
    let expires = datetime!(2026-12-17 12:00 UTC);
    let before = datetime!(2026-12-17 11:59 UTC);
    assert_eq!(link_state(before, expires, false, false), LinkState::Open);
    assert_eq!(
        link_state(expires, expires, false, false),
        LinkState::Expired
    );
    assert_eq!(link_state(before, expires, true, false), LinkState::Used);
    assert_eq!(link_state(before, expires, false, true), LinkState::Revoked);
    // Used or revoked says so after expiry too: the plainer reason wins.
    let after = datetime!(2027-01-01 00:00 UTC);
    assert_eq!(link_state(after, expires, true, false), LinkState::Used);
    assert_eq!(link_state(after, expires, false, true), LinkState::Revoked);
    assert!(LinkState::Expired.message().contains("expired"));
}

fn request(to: &str) -> RequestForm {
    RequestForm {
        to: to.into(),
        witness_name: " Wendy Witness ".into(),
        witness_email: "wendy@northwind.test".into(),
        employer_person: id(7).to_string(),
        criteria: vec![id(1).to_string(), id(2).to_string(), id(1).to_string()],
        occasion: "Lifting a patient, 3 Dec".into(),
    }
}

fn known(c: Uuid) -> bool {
    c == id(1) || c == id(2)
}

fn fields(errors: Vec<FieldError>) -> Vec<&'static str> {
    errors.iter().map(|e| e.field).collect()
}

#[test]
fn a_request_names_its_witness_and_the_criteria_they_saw() {
    let valid = validate_request(&request("email"), &known, &[]).expect("valid");
    assert_eq!(
        valid.witness,
        Witness::ByEmail {
            name: "Wendy Witness".into(),
            email: "wendy@northwind.test".into()
        }
    );
    assert_eq!(valid.criteria, vec![id(1), id(2)], "sorted, once each");
    let employer = validate_request(&request("employer"), &known, &[id(7)]).expect("valid");
    assert_eq!(employer.witness, Witness::EmployerPerson(id(7)));
}

#[test]
fn a_bad_request_is_refused_field_by_field() {
    let e = validate_request(&request("employer"), &known, &[id(8)]).expect_err("not theirs");
    assert_eq!(fields(e), ["employer_person"]);
    let e = validate_request(
        &RequestForm {
            witness_name: " ".into(),
            witness_email: "nope".into(),
            criteria: vec![id(3).to_string()],
            ..request("email")
        },
        &known,
        &[],
    )
    .expect_err("bad");
    assert_eq!(fields(e), ["witness_name", "witness_email", "criteria"]);
    let e = validate_request(
        &RequestForm {
            criteria: vec![],
            ..request("")
        },
        &known,
        &[],
    )
    .expect_err("bad");
    assert_eq!(fields(e), ["to", "criteria"]);
}

fn testimony() -> TestimonyForm {
    TestimonyForm {
        account: "I watched her move Mr B safely with the hoist.".into(),
        role: "Senior carer".into(),
        relationship: "Her line manager".into(),
        signed_name: "Wendy Witness".into(),
        agreed: true,
    }
}

#[test]
fn a_testimony_needs_its_account_role_relationship_name_and_the_box() {
    assert!(validate_testimony(&testimony()).is_ok());
    let e = validate_testimony(&TestimonyForm::default()).expect_err("empty");
    assert_eq!(
        fields(e),
        ["account", "role", "relationship", "signed_name", "agreed"]
    );
    let e = validate_testimony(&TestimonyForm {
        role: "Senior\ncarer".into(),
        ..testimony()
    })
    .expect_err("line break");
    assert_eq!(fields(e), ["role"]);
}

fn content(account: &str) -> Value {
    let t = validate_testimony(&TestimonyForm {
        account: account.into(),
        ..testimony()
    })
    .expect("valid");
    testimony_content(
        "Wendy Witness",
        "wendy@northwind.test",
        &t,
        "Lifting",
        &[ShownCriterion {
            id: id(1),
            label: "Unit 201 · 1.1 Move people safely".into(),
        }],
        &[],
    )
}

proptest! {
    /// A correction is a new version: the signature of the old one never stands for it,
    /// however small the change, and a correction that changes nothing changes nothing.
    #[test]
    fn a_corrected_testimony_needs_signing_again(a in "[a-zA-Z]([a-zA-Z .,]{0,58}[a-z.])?", b in "[a-zA-Z]([a-zA-Z .,]{0,58}[a-z.])?") {
        prop_assume!(a != b);
        let first = Signable { kind: SignedKind::WitnessTestimony, item: id(9), version: 1, content: content(&a) };
        let digest = first.digest().expect("digest");
        let signature = crate::domain::signature::Signature {
            signer: crate::domain::signature::Signer::EmailLink { email: "wendy@northwind.test".into() },
            capacity: crate::domain::signature::Capacity::Witness,
            statement: SignedKind::WitnessTestimony.statement().into(),
            typed_name: "Wendy Witness".into(),
            at: datetime!(2026-12-03 10:00 UTC),
            digest,
            address: None,
            user_agent: None,
        };
        let same_text = corrected(&first.content, &a);
        prop_assert_eq!(&same_text, &first.content);
        let next = first.next(corrected(&first.content, &b));
        let s = standing(&next, std::slice::from_ref(&signature)).expect("standing");
        prop_assert!(matches!(s, Standing::ChangedSinceSigned { .. }), "{:?}", s);
        prop_assert_eq!(standing(&first, &[signature]).expect("standing"), Standing::Signed);
    }
}

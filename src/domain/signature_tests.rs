use proptest::prelude::*;
use serde_json::{json, Map, Value};
use time::macros::datetime;
use uuid::Uuid;

use super::*;

fn testimony(content: Value) -> Signable {
    Signable {
        kind: SignedKind::WitnessTestimony,
        item: Uuid::from_u128(7),
        version: 1,
        content,
    }
}

fn witness(name: &str) -> Signing<'_> {
    Signing {
        signer: Signer::EmailLink {
            email: "wendy@works.example".into(),
        },
        capacity: Capacity::Witness,
        known_as: "Wendy  Okoro",
        typed_name: name,
        at: datetime!(2026-12-03 10:04 UTC),
        address: Some("192.0.2.7".into()),
        user_agent: Some("Mozilla/5.0".into()),
    }
}

fn statement() -> Value {
    json!({ "what": "Served 12 customers on the till, calmly handled a refund", "criteria": ["1.1", "1.2"] })
}

#[test]
fn a_signature_binds_the_statement_the_name_and_the_digest_of_the_canonical_form() {
    let item = testimony(statement());
    let s = sign(&item, &[], witness(" wendy okoro ")).expect("signed");
    assert_eq!(s.statement, SignedKind::WitnessTestimony.statement());
    assert_eq!(s.typed_name, "wendy okoro");
    assert_eq!(s.digest, item.digest().expect("digest"));
    assert_eq!(check(&s, &item), Ok(Check::Valid));
    // The canonical form: members sorted, no white space; the kind, item and version in it.
    assert_eq!(
        item.canonical().expect("canonical"),
        r#"{"content":{"criteria":["1.1","1.2"],"what":"Served 12 customers on the till, calmly handled a refund"},"item":"00000000-0000-0000-0000-000000000007","kind":"witness_testimony","version":1}"#
    );
    assert_eq!(hex(&s.digest).len(), 64);
}

#[test]
fn the_typed_name_must_be_the_signers_and_the_capacity_one_the_kind_needs() {
    let item = testimony(statement());
    assert_eq!(sign(&item, &[], witness("  ")), Err(SignError::NoName));
    assert_eq!(
        sign(&item, &[], witness("W. Okoro")),
        Err(SignError::NameDiffers)
    );
    let mut assessor = witness("Wendy Okoro");
    assessor.capacity = Capacity::Assessor;
    assert_eq!(
        sign(&item, &[], assessor),
        Err(SignError::NotThisCapacity("assessor"))
    );
    let first = sign(&item, &[], witness("Wendy Okoro")).expect("signed");
    assert_eq!(
        sign(&item, &[first], witness("Wendy Okoro")),
        Err(SignError::AlreadySigned("witness"))
    );
}

#[test]
fn a_signed_version_is_locked_and_its_next_version_needs_signing_again() {
    let item = testimony(statement());
    assert_eq!(
        standing(&item, &[]),
        Ok(Standing::AwaitingSignatures {
            missing: vec![Capacity::Witness]
        })
    );
    let s = sign(&item, &[], witness("Wendy Okoro")).expect("signed");
    let signed = [s];
    assert_eq!(standing(&item, &signed), Ok(Standing::Signed));
    assert_eq!(may_edit(&item, &signed), Err(Locked));
    let changed = item.next(json!({ "what": "Served 20 customers" }));
    assert_eq!(may_edit(&changed, &signed), Ok(()));
    assert_eq!(check(&signed[0], &changed), Ok(Check::Changed));
    assert_eq!(
        standing(&changed, &signed),
        Ok(Standing::ChangedSinceSigned {
            missing: vec![Capacity::Witness]
        })
    );
    // The same words as a new version are still another thing signed.
    let same_words = item.next(statement());
    assert_eq!(check(&signed[0], &same_words), Ok(Check::Changed));
}

#[test]
fn content_the_canonical_form_cannot_hold_is_refused_not_signed_wrongly() {
    let item = testimony(json!({ "hours": 1.5 }));
    assert!(matches!(
        sign(&item, &[], witness("Wendy Okoro")),
        Err(SignError::Content(_))
    ));
}

/// JSON the canonical form holds: strings, safe integers, booleans, null, arrays and
/// objects, a few levels deep.
fn content() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(|n| json!(n)),
        "[a-zé€😀 \"\\\\\n]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The same value with every object's members in reverse order.
fn reordered(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
            pairs.reverse();
            let mut out = Map::new();
            for (k, v) in pairs {
                out.insert(k.clone(), reordered(v));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(reordered).collect()),
        other => other.clone(),
    }
}

/// A real change somewhere in `v`: `path` picks where.
fn changed(v: &Value, path: &[usize]) -> Value {
    match (v, path.split_first()) {
        (Value::Object(m), Some((i, rest))) if !m.is_empty() => {
            let key = m.keys().nth(i % m.len()).cloned().unwrap_or_default();
            let mut out = m.clone();
            let inner = changed(&m[&key], rest);
            out.insert(key, inner);
            Value::Object(out)
        }
        (Value::Array(a), Some((i, rest))) if !a.is_empty() => {
            let mut out = a.clone();
            let at = i % a.len();
            out[at] = changed(&a[at], rest);
            Value::Array(out)
        }
        (Value::String(s), _) => Value::String(format!("{s}!")),
        (Value::Bool(b), _) => Value::Bool(!b),
        (Value::Number(n), _) => json!(n.as_i64().unwrap_or(0).wrapping_add(1) % (1i64 << 53)),
        (Value::Null, _) => json!(0),
        (Value::Object(_), _) => json!({ "added": true }),
        (Value::Array(_), _) => json!([null]),
    }
}

proptest! {
    #[test]
    fn any_change_to_signed_content_is_detected(c in content(), path in prop::collection::vec(any::<usize>(), 0..5)) {
        let item = testimony(c.clone());
        let s = sign(&item, &[], witness("Wendy Okoro")).expect("signed");
        let other = testimony(changed(&c, &path));
        prop_assume!(other.content != c);
        prop_assert_eq!(check(&s, &other), Ok(Check::Changed));
        let changed_since = matches!(standing(&other, &[s]), Ok(Standing::ChangedSinceSigned { .. }));
        prop_assert!(changed_since, "a changed item shows as changed since it was signed");
    }

    #[test]
    fn the_order_of_an_objects_members_is_not_a_change(c in content()) {
        let item = testimony(c.clone());
        let s = sign(&item, &[], witness("Wendy Okoro")).expect("signed");
        prop_assert_eq!(check(&s, &testimony(reordered(&c))), Ok(Check::Valid));
    }

    #[test]
    fn signing_order_does_not_matter(c in content(), order in any::<u64>()) {
        // An observation record signed by its assessor, beside signatures of earlier
        // versions and of another item: the standing is the same in every order.
        let item = Signable { kind: SignedKind::ObservationRecord, item: Uuid::from_u128(9), version: 3, content: c.clone() };
        let mut assessor = witness("Ann Assessor");
        assessor.capacity = Capacity::Assessor;
        assessor.known_as = "Ann Assessor";
        assessor.signer = Signer::Account(Uuid::from_u128(2));
        let earlier = Signable { version: 2, ..item.clone() };
        let other = Signable { item: Uuid::from_u128(10), ..item.clone() };
        let mut all = vec![
            sign(&earlier, &[], assessor.clone()).expect("earlier"),
            sign(&other, &[], assessor.clone()).expect("other"),
            sign(&item, &[], assessor).expect("this"),
        ];
        let expected = standing(&item, &all);
        prop_assert_eq!(expected.clone(), Ok(Standing::Signed));
        let n = all.len();
        all.rotate_left((order % n as u64) as usize);
        if order % 2 == 0 {
            all.reverse();
        }
        prop_assert_eq!(standing(&item, &all), expected);
    }
}

#[test]
fn a_summary_stands_as_the_signatures_it_sums() {
    use super::{standing_of, Capacity, SignedKind, Standing};
    let k = SignedKind::WitnessTestimony;
    assert_eq!(standing_of(k, &[Capacity::Witness], true), Standing::Signed);
    assert_eq!(
        standing_of(k, &[Capacity::Learner], false),
        Standing::AwaitingSignatures {
            missing: vec![Capacity::Witness]
        }
    );
    assert_eq!(
        standing_of(k, &[], true),
        Standing::ChangedSinceSigned {
            missing: vec![Capacity::Witness]
        }
    );
}

use serde_json::{json, Value};
use time::macros::datetime;

use super::*;

const BASE: &str = "https://attest.example.org/";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn input(number: u64) -> CredentialInput {
    CredentialInput {
        number: CredentialNumber::from_value(number).expect("60 bits"),
        centre_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
        centre_name: "Acme Training".into(),
        learner_name: "Zoë O'Neill".into(),
        qualification_code: "601/1234/5".into(),
        qualification_title: "Level 2 Certificate in Customer Service".into(),
        qualification_level: 2,
        major_code: "RET".into(),
        major_title: "Retail".into(),
        units: vec![
            AchievedUnit {
                code: "201".into(),
                title: "Principles of customer service".into(),
                level: 2,
                credits: 5,
            },
            AchievedUnit {
                code: "230".into(),
                title: "Handling \"difficult\" complaints".into(),
                level: 3,
                credits: 4,
            },
        ],
        // Sub-second precision is dropped: credentials carry whole seconds.
        issued_at: datetime!(2026-03-02 14:05:06.789 +01:00),
        status_list_index: 131_072 + 41,
    }
}

/// A centre's first key, as every credential signed before rotation names it.
fn first(key: &SigningKey) -> IssuerKey<'_> {
    IssuerKey {
        id: FIRST_KEY_ID,
        key,
    }
}

fn signed() -> Value {
    issue(BASE, &input(0x0123_4567_89ab_cdef), first(&key(1))).expect("signs")
}

/// JSON pointers of every leaf (string, number, boolean, null) under `value`.
fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                leaves(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                leaves(v, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// JSON pointers of every object member, leaf or not.
fn members(value: &Value, at: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                out.push((at.clone(), k.clone()));
                members(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                members(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn changed(leaf: &Value) -> Value {
    match leaf {
        Value::String(s) => Value::String(format!("{s}x")),
        Value::Number(n) => json!(n.as_i64().expect("integers only") + 1),
        Value::Bool(b) => Value::Bool(!b),
        _ => Value::String("null no more".into()),
    }
}

#[test]
fn a_signed_credential_verifies_with_the_centres_key() {
    let credential = signed();
    assert_eq!(verify(&credential, &key(1).verifying_key()), Ok(()));
}

#[test]
fn changing_any_leaf_field_breaks_the_signature() {
    let credential = signed();
    let public = key(1).verifying_key();
    let mut paths = Vec::new();
    leaves(&credential, String::new(), &mut paths);
    // Every part of the credential is walked, the proof's own fields included.
    for expected in [
        "/credentialSubject/identifier/0/identityHash",
        "/credentialSubject/identifier/0/hashed",
        "/credentialSubject/creditsEarned",
        "/credentialSubject/achievement/resultDescription/1/name",
        "/credentialSubject/result/0/status",
        "/issuer/id",
        "/validFrom",
        "/@context/1",
        "/proof/0/created",
        "/proof/0/verificationMethod",
        "/proof/0/proofValue",
        "/proof/0/@context/0",
    ] {
        assert!(paths.iter().any(|p| p == expected), "{expected} not walked");
    }
    for path in &paths {
        let mut tampered = credential.clone();
        let leaf = tampered.pointer_mut(path).expect("walked path exists");
        *leaf = changed(leaf);
        assert!(
            verify(&tampered, &public).is_err(),
            "changing {path} went unnoticed"
        );
    }
}

#[test]
fn removing_or_adding_any_field_breaks_the_signature() {
    let credential = signed();
    let public = key(1).verifying_key();
    let mut fields = Vec::new();
    members(&credential, String::new(), &mut fields);
    assert!(fields.len() > 40, "{} fields", fields.len());
    for (parent, name) in &fields {
        let mut tampered = credential.clone();
        let object = tampered.pointer_mut(parent).and_then(Value::as_object_mut);
        object.expect("walked object exists").remove(name);
        assert!(
            verify(&tampered, &public).is_err(),
            "removing {parent}/{name} went unnoticed"
        );
    }
    for parent in [
        "",
        "/credentialSubject",
        "/credentialSubject/achievement",
        "/proof/0",
    ] {
        let mut tampered = credential.clone();
        let object = tampered.pointer_mut(parent).and_then(Value::as_object_mut);
        object
            .expect("object")
            .insert("extra".into(), json!("added"));
        assert!(verify(&tampered, &public).is_err(), "adding to {parent:?}");
    }
}

#[test]
fn another_key_does_not_verify_it() {
    assert_eq!(
        verify(&signed(), &key(2).verifying_key()),
        Err(VcError::BadSignature)
    );
    // Nor does signing with another key and claiming the centre's.
    let forged = issue(BASE, &input(0x0123_4567_89ab_cdef), first(&key(2))).expect("signs");
    assert_eq!(
        verify(&forged, &key(1).verifying_key()),
        Err(VcError::BadSignature)
    );
}

#[test]
fn an_unsigned_or_oddly_signed_document_is_refused() {
    let public = key(1).verifying_key();
    let unsigned = build(BASE, &input(7)).expect("builds");
    assert_eq!(verify(&unsigned, &public), Err(VcError::NoProof));
    assert_eq!(verify(&json!([1]), &public), Err(VcError::NotAnObject));
    // A proof alone verifies as well as a set of one; a set of two is not ours.
    let mut alone = signed();
    alone["proof"] = alone["proof"][0].clone();
    assert_eq!(verify(&alone, &public), Ok(()));
    let mut two = signed();
    two["proof"] = json!([two["proof"][0].clone(), two["proof"][0].clone()]);
    assert_eq!(verify(&two, &public), Err(VcError::UnsupportedProof));
    let mut none = signed();
    none["proof"] = json!([]);
    assert_eq!(verify(&none, &public), Err(VcError::UnsupportedProof));
    assert_eq!(
        sign(&signed(), &key(1), "x#key-1", input(7).issued_at),
        Err(VcError::AlreadySigned)
    );
    // A proof whose key is not under the issuer's id, even if the signature is good.
    let stranger = sign(
        &unsigned,
        &key(1),
        "https://elsewhere.example/keys#key-1",
        input(7).issued_at,
    )
    .expect("signs");
    assert_eq!(
        verify(&stranger, &public),
        Err(VcError::WrongVerificationMethod)
    );
}

#[test]
fn the_proof_is_a_set_as_the_open_badges_schema_requires() {
    // The 1EdTech OB 3.0 JSON schema (2024) takes `proof` as an array only.
    let credential = signed();
    let proofs = credential["proof"].as_array().expect("proof is an array");
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0]["cryptosuite"], json!("eddsa-jcs-2022"));
    assert_eq!(verify(&credential, &key(1).verifying_key()), Ok(()));
}

#[test]
fn issuing_is_deterministic_so_every_download_is_the_same() {
    assert_eq!(signed(), signed());
}

#[test]
fn the_credential_has_the_open_badges_shape() {
    let c = signed();
    let number = CredentialNumber::from_value(0x0123_4567_89ab_cdef).unwrap();
    let id = format!("https://attest.example.org/verify/{number}");
    let issuer = "https://attest.example.org/.well-known/attest/centres/01900000-0000-7000-8000-000000000001";
    assert_eq!(c["@context"], json!([VC_CONTEXT, OB_CONTEXT]));
    assert_eq!(
        c["type"],
        json!(["VerifiableCredential", "OpenBadgeCredential"])
    );
    assert_eq!(c["id"], json!(id));
    assert_eq!(
        c["issuer"],
        json!({"id": issuer, "type": ["Profile"], "name": "Acme Training"})
    );
    assert_eq!(c["validFrom"], json!("2026-03-02T13:05:06Z"));
    // Index 131,113 is bit 41 of the centre's second list.
    let list = format!("{issuer}/revocation/1");
    assert_eq!(
        c["credentialStatus"],
        json!({
            "id": format!("{list}#41"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "41",
            "statusListCredential": list,
        })
    );
    let subject = &c["credentialSubject"];
    assert_eq!(
        subject["identifier"][0]["identityHash"],
        json!("Zoë O'Neill")
    );
    assert_eq!(subject["identifier"][0]["identityType"], json!("name"));
    assert_eq!(subject["creditsEarned"], json!(9));
    let achievement = &subject["achievement"];
    assert_eq!(achievement["humanCode"], json!("601/1234/5"));
    assert_eq!(
        achievement["name"],
        json!("Level 2 Certificate in Customer Service")
    );
    assert_eq!(achievement["specialization"], json!("Retail"));
    assert_eq!(
        achievement["description"],
        json!("601/1234/5 Level 2 Certificate in Customer Service, level 2, major RET Retail.")
    );
    assert_eq!(
        achievement["resultDescription"][1],
        json!({
            "id": format!("{id}#unit-2"),
            "type": ["ResultDescription"],
            "name": "230 Handling \"difficult\" complaints (level 3, 4 credits)",
            "resultType": "Status",
        })
    );
    assert_eq!(
        subject["result"][1],
        json!({"type": ["Result"], "resultDescription": format!("{id}#unit-2"), "status": "Completed"})
    );
    let proof = &c["proof"][0];
    assert_eq!(proof["type"], json!("DataIntegrityProof"));
    assert_eq!(proof["cryptosuite"], json!("eddsa-jcs-2022"));
    assert_eq!(
        proof["verificationMethod"],
        json!(format!("{issuer}#key-1"))
    );
    assert_eq!(proof["created"], json!("2026-03-02T13:05:06Z"));
    assert!(proof["proofValue"].as_str().unwrap().starts_with('z'));
}

#[test]
fn a_number_ending_in_punctuation_is_percent_encoded_in_the_ids() {
    // 32 mod 37 = 32: the check symbol is '*'.
    let c = issue(BASE, &input(32), first(&key(1))).expect("signs");
    assert_eq!(
        c["id"],
        json!("https://attest.example.org/verify/0000-0000-0010-%2A")
    );
    assert_eq!(
        status_id(BASE, input(32).number),
        "https://attest.example.org/verify/0000-0000-0010-%2A/status"
    );
    assert_eq!(verify(&c, &key(1).verifying_key()), Ok(()));
}

#[test]
fn the_status_of_a_cancelled_credential_says_revoked() {
    let i = input(0x0123_4567_89ab_cdef);
    let credential = signed();
    let live = status_document(BASE, i.centre_id, i.number, false);
    let withdrawn = status_document(BASE, i.centre_id, i.number, true);
    for status in [&live, &withdrawn] {
        // The 1EdTech revocation list of this credential, published beside its
        // Bitstring Status List entry.
        assert_eq!(
            status["id"],
            json!(format!("{}/status", credential["id"].as_str().unwrap()))
        );
        assert_eq!(status["credential"], credential["id"]);
        assert_eq!(status["issuer"], credential["issuer"]["id"]);
    }
    assert_eq!(live["revoked"], json!(false));
    assert_eq!(live["revokedCredentials"], json!([]));
    assert_eq!(withdrawn["revoked"], json!(true));
    assert_eq!(
        withdrawn["revokedCredentials"],
        json!([{"id": credential["id"]}])
    );
}

#[test]
fn the_published_controller_document_yields_the_key_that_verifies() {
    let i = input(0x0123_4567_89ab_cdef);
    let issuer = issuer_id(BASE, i.centre_id);
    let document = controller_document(&issuer, &[(FIRST_KEY_ID.into(), key(1).verifying_key())]);
    let credential = signed();
    let method = credential["proof"][0]["verificationMethod"]
        .as_str()
        .unwrap();
    assert_eq!(document["id"], json!(issuer));
    assert_eq!(document["assertionMethod"], json!([method]));
    let published = key_from_controller_document(&document, method).expect("listed");
    assert_eq!(verify(&credential, &published), Ok(()));

    assert_eq!(
        key_from_controller_document(&document, &format!("{issuer}#key-2")),
        Err(VcError::KeyNotPublished)
    );
    let mut not_for_signing = document.clone();
    not_for_signing["assertionMethod"] = json!([]);
    assert_eq!(
        key_from_controller_document(&not_for_signing, method),
        Err(VcError::KeyNotPublished)
    );
    let other = controller_document(
        "https://elsewhere.example/x",
        &[(FIRST_KEY_ID.into(), key(1).verifying_key())],
    );
    assert_eq!(
        key_from_controller_document(&other, method),
        Err(VcError::KeyNotPublished)
    );
}

#[test]
fn after_rotation_the_document_lists_both_keys_and_each_credential_names_its_own() {
    let i = input(0x0123_4567_89ab_cdef);
    let issuer = issuer_id(BASE, i.centre_id);
    let (old, new) = (key(1), key(2));
    let document = controller_document(
        &issuer,
        &[
            ("key-1".into(), old.verifying_key()),
            ("key-2".into(), new.verifying_key()),
        ],
    );
    let before = issue(BASE, &i, first(&old)).expect("signs");
    let after = issue(
        BASE,
        &i,
        IssuerKey {
            id: "key-2",
            key: &new,
        },
    )
    .expect("signs");
    let method = |c: &Value| {
        c["proof"][0]["verificationMethod"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(method(&after), format!("{issuer}#key-2"));
    assert_eq!(
        document["assertionMethod"],
        json!([format!("{issuer}#key-1"), format!("{issuer}#key-2")])
    );
    for c in [&before, &after] {
        let published = key_from_controller_document(&document, &method(c)).expect("listed");
        assert_eq!(verify(c, &published), Ok(()));
    }
    // Each names its own key: the new key does not pass for the old one's credential.
    let wrong = key_from_controller_document(&document, &method(&after)).unwrap();
    assert_eq!(verify(&before, &wrong), Err(VcError::BadSignature));
}

/// W3C vc-di-eddsa, test vectors for eddsa-jcs-2022 (TestVectors/keyPair.json and
/// TestVectors/eddsa-jcs-2022/signedJCS.json): checks that we interoperate, not
/// merely agree with ourselves.
fn w3c_signed() -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2"
        ],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:abcdefgh",
            "alumniOf": "The School of Examples"
        },
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            "proofPurpose": "assertionMethod",
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://www.w3.org/ns/credentials/examples/v2"
            ],
            "proofValue": "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
        }
    })
}

const W3C_PUBLIC: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
const W3C_SECRET: &str = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";

#[test]
fn the_w3c_test_vector_verifies_and_signing_reproduces_it() {
    let public = multibase::decode_public_key(W3C_PUBLIC).expect("Multikey");
    let vector = w3c_signed();
    assert_eq!(verify(&vector, &public), Ok(()));

    // The secret key's multicodec is ed25519-priv (0x1300, varint 80 26).
    let secret = multibase::decode(W3C_SECRET).expect("multibase");
    let seed: [u8; 32] = secret
        .strip_prefix(&[0x80, 0x26][..])
        .and_then(|s| s.try_into().ok())
        .expect("an ed25519-priv key");
    let key = SigningKey::from_bytes(&seed);
    assert_eq!(key.verifying_key(), public);
    let mut unsigned = vector.clone();
    let proof = unsigned.as_object_mut().unwrap().remove("proof").unwrap();
    let again = sign(
        &unsigned,
        &key,
        proof["verificationMethod"].as_str().unwrap(),
        datetime!(2023-02-24 23:36:38 UTC),
    )
    .expect("signs");
    assert_eq!(again, vector);
}

/// The bits of an `encodedList`, decoded as a verifier does.
fn decoded(encoded: &str) -> Vec<u8> {
    use std::io::Read;
    const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let text = encoded.strip_prefix('u').expect("multibase base64url");
    let mut compressed = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = URL_SAFE.iter().position(|a| *a == c).expect("base64url") as u32;
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            compressed.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

#[test]
fn the_status_list_sets_exactly_the_revoked_bits_and_is_signed_like_the_credentials() {
    let i = input(7);
    let list = status_list_credential(
        BASE,
        i.centre_id,
        1,
        &[0, 41, 131_071],
        i.issued_at,
        first(&key(1)),
    )
    .expect("signs");
    assert_eq!(
        list["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    assert_eq!(list["id"], json!(status_list_id(BASE, i.centre_id, 1)));
    assert_eq!(
        list["credentialSubject"]["statusPurpose"],
        json!("revocation")
    );
    let bits = decoded(list["credentialSubject"]["encodedList"].as_str().unwrap());
    assert_eq!(bits.len(), 16 * 1024);
    assert_eq!(bits[0], 0b1000_0000);
    assert_eq!(bits[5], 0b0100_0000, "bit 41: the second of byte 5");
    assert_eq!(bits[16 * 1024 - 1], 0b0000_0001);
    assert_eq!(bits.iter().map(|b| b.count_ones()).sum::<u32>(), 3);
    assert!(list["proof"].is_array());
    assert_eq!(verify(&list, &key(1).verifying_key()), Ok(()));
    let mut forged = list.clone();
    forged["credentialSubject"]["encodedList"] = json!(encoded_list(&[]).expect("encodes"));
    assert_eq!(
        verify(&forged, &key(1).verifying_key()),
        Err(VcError::BadSignature)
    );
}

#[test]
fn base64url_is_unpadded_rfc_4648_with_the_multibase_prefix() {
    assert_eq!(multibase::encode_base64url(b""), "u");
    assert_eq!(multibase::encode_base64url(b"f"), "uZg");
    assert_eq!(multibase::encode_base64url(b"fo"), "uZm8");
    assert_eq!(multibase::encode_base64url(b"foo"), "uZm9v");
    assert_eq!(multibase::encode_base64url(b"foob"), "uZm9vYg");
    assert_eq!(multibase::encode_base64url(&[0xfb, 0xff]), "u-_8");
}

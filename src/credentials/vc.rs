//! The machine-verifiable credential (SPEC §6): an Open Badges 3.0
//! `OpenBadgeCredential` (a W3C Verifiable Credential 2.0) with a Data Integrity proof,
//! cryptosuite `eddsa-jcs-2022` (W3C vc-di-eddsa §3.3): the proof configuration and
//! the document are each canonicalized with JCS and hashed with SHA-256, and Ed25519
//! signs the two hashes, proof configuration's first.
//!
//! Addresses, given the site's base URL (the web layer serves them):
//! - `{base}/verify/{number}`: the credential's `id`, its public verification page;
//! - `{base}/verify/{number}/status`: the 1EdTech revocation list of one credential,
//!   [`status_document`];
//! - `{base}/.well-known/attest/centres/{centre_id}/revocation/{list}`: its
//!   `credentialStatus` points at its bit in this W3C Bitstring Status List
//!   credential, [`status_list_credential`], signed like the credentials;
//! - `{base}/.well-known/attest/centres/{centre_id}`: the issuer's `id`, which serves
//!   the centre's [`controller_document`] listing each of its public keys as
//!   `#key-1`, `#key-2`, … (a rotated key stays published); a proof's
//!   `verificationMethod` names the one that signed it. A verifier dereferences that URL, so the document
//!   lives exactly there; see [`issuer_path`].
//!
//! Pure: the caller supplies the key, the time and the data. Signing is deterministic,
//! so the same credential downloaded twice is byte-for-byte the same.
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use super::multibase::{self, MultibaseError};
use crate::domain::credential_number::CredentialNumber;
use crate::domain::jcs::{self, JcsError};

pub(crate) const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
pub(crate) const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// W3C Controlled Identifiers v1.0, the context of the controller document.
pub(crate) const CID_CONTEXT: &str = "https://www.w3.org/ns/cid/v1";
pub(crate) const PROOF_TYPE: &str = "DataIntegrityProof";
pub(crate) const CRYPTOSUITE: &str = "eddsa-jcs-2022";
const PROOF_PURPOSE: &str = "assertionMethod";
/// The id of a centre's first key, which every credential signed before keys could
/// be rotated names.
pub const FIRST_KEY_ID: &str = "key-1";
/// W3C Bitstring Status List v1.0: the credential's status entry, and the list's types.
pub(crate) const STATUS_ENTRY_TYPE: &str = "BitstringStatusListEntry";
pub(crate) const STATUS_LIST_CREDENTIAL_TYPE: &str = "BitstringStatusListCredential";
/// Bits in one status list: the specification's minimum (16 KB), so that one
/// credential's bit hides among many.
pub(crate) const STATUS_LIST_BITS: u64 = 131_072;

/// A unit in the transcript, as the credential register stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchievedUnit {
    pub code: String,
    pub title: String,
    pub level: i16,
    pub credits: i32,
}

/// What the credential says: the register's snapshot, and when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInput {
    pub number: CredentialNumber,
    pub centre_id: Uuid,
    pub centre_name: String,
    pub learner_name: String,
    pub qualification_code: String,
    pub qualification_title: String,
    pub qualification_level: i16,
    pub major_code: String,
    pub major_title: String,
    pub units: Vec<AchievedUnit>,
    pub issued_at: OffsetDateTime,
    /// The credential's place among its centre's status list bits, given at request.
    pub status_list_index: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VcError {
    #[error("a credential is a JSON object")]
    NotAnObject,
    #[error("the credential is already signed")]
    AlreadySigned,
    #[error("the credential has no proof")]
    NoProof,
    #[error(
        "the proof is not a single {PROOF_TYPE} with cryptosuite {CRYPTOSUITE} for {PROOF_PURPOSE}"
    )]
    UnsupportedProof,
    #[error("the proof's contexts are not the credential's")]
    ContextMismatch,
    #[error("the proof's key does not belong to the credential's issuer")]
    WrongVerificationMethod,
    #[error("the proof's creation time is not a date and time")]
    BadCreated,
    #[error("the time cannot be written in RFC 3339 (a year outside 0000–9999)")]
    BadTime,
    #[error("the proof value is not a base58btc Ed25519 signature")]
    BadProofValue,
    #[error("the signature does not match the credential")]
    BadSignature,
    #[error("the controller document does not list this key for signing credentials")]
    KeyNotPublished,
    #[error("the published key is not an Ed25519 Multikey: {0}")]
    BadKey(MultibaseError),
    #[error("the status list cannot be compressed: {0}")]
    StatusList(String),
    #[error("the credential cannot be canonicalized: {0}")]
    Canonicalization(#[from] JcsError),
}

pub(crate) fn credential_id(base_url: &str, number: CredentialNumber) -> String {
    format!(
        "{}/verify/{}",
        base_url.trim_end_matches('/'),
        number.url_segment()
    )
}

pub(crate) fn status_id(base_url: &str, number: CredentialNumber) -> String {
    format!("{}/status", credential_id(base_url, number))
}

/// The centre's status list `list` (its indexes `list × STATUS_LIST_BITS` onwards).
pub(crate) fn status_list_id(base_url: &str, centre_id: Uuid, list: u64) -> String {
    format!("{}/revocation/{list}", issuer_id(base_url, centre_id))
}

/// The credential's entry in its centre's Bitstring Status List.
pub(crate) fn status_list_entry(base_url: &str, centre_id: Uuid, index: u64) -> Value {
    let (list, bit) = (index / STATUS_LIST_BITS, index % STATUS_LIST_BITS);
    let list_id = status_list_id(base_url, centre_id, list);
    json!({
        "id": format!("{list_id}#{bit}"),
        "type": STATUS_ENTRY_TYPE,
        "statusPurpose": "revocation",
        "statusListIndex": bit.to_string(),
        "statusListCredential": list_id,
    })
}

/// The path of the centre's controller document, for the router.
pub(crate) fn issuer_path(centre_id: Uuid) -> String {
    format!("/.well-known/attest/centres/{centre_id}")
}

pub fn issuer_id(base_url: &str, centre_id: Uuid) -> String {
    format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        issuer_path(centre_id)
    )
}

/// The proof's `verificationMethod`: the issuer's document, and the key's id in it.
pub(crate) fn verification_method(issuer_id: &str, key_id: &str) -> String {
    format!("{issuer_id}#{key_id}")
}

/// A centre's signing key and its id in the centre's published document.
#[derive(Clone, Copy)]
pub struct IssuerKey<'a> {
    pub id: &'a str,
    pub key: &'a SigningKey,
}

/// The unsigned credential.
pub fn build(base_url: &str, input: &CredentialInput) -> Result<Value, VcError> {
    let id = credential_id(base_url, input.number);
    let issued = timestamp(input.issued_at)?;
    let unit_ref = |i: usize| format!("{id}#unit-{}", i + 1);
    let result_descriptions: Vec<Value> = input
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            json!({
                "id": unit_ref(i),
                "type": ["ResultDescription"],
                "name": format!("{} {} (level {}, {} credits)", u.code, u.title, u.level, u.credits),
                "resultType": "Status",
            })
        })
        .collect();
    let results: Vec<Value> = (0..input.units.len())
        .map(|i| json!({"type": ["Result"], "resultDescription": unit_ref(i), "status": "Completed"}))
        .collect();
    let credits: i64 = input.units.iter().map(|u| i64::from(u.credits)).sum();
    Ok(json!({
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": format!("{} — {}", input.qualification_title, input.major_title),
        "issuer": {
            "id": issuer_id(base_url, input.centre_id),
            "type": ["Profile"],
            "name": input.centre_name,
        },
        "validFrom": issued,
        "awardedDate": issued,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            // Open Badges names a learner without an account URL by an identity object.
            "identifier": [{
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": false,
                "identityHash": input.learner_name,
            }],
            "achievement": {
                "id": format!("{id}#achievement"),
                "type": ["Achievement"],
                "name": input.qualification_title,
                "humanCode": input.qualification_code,
                "specialization": input.major_title,
                "description": format!(
                    "{} {}, level {}, major {} {}.",
                    input.qualification_code, input.qualification_title,
                    input.qualification_level, input.major_code, input.major_title
                ),
                "criteria": {
                    "narrative": format!(
                        "The units listed were achieved and meet the rules of combination of the major {} {}, as audited by {}.",
                        input.major_code, input.major_title, input.centre_name
                    ),
                },
                "resultDescription": result_descriptions,
            },
            "creditsEarned": credits,
            "result": results,
        },
        // One status entry: the Open Badges schema takes a single object. The 1EdTech
        // revocation list of the credential stays published beside it.
        "credentialStatus": status_list_entry(base_url, input.centre_id, input.status_list_index),
    }))
}

/// The signed credential for `input`, by the centre's key, dated at its issue. Its
/// `proof` is a set of one, as the Open Badges 3.0 JSON schema (2024) requires, and
/// names the key that signed it.
pub fn issue(base_url: &str, input: &CredentialInput, key: IssuerKey) -> Result<Value, VcError> {
    let method = verification_method(&issuer_id(base_url, input.centre_id), key.id);
    let signed = sign(&build(base_url, input)?, key.key, &method, input.issued_at)?;
    Ok(as_proof_set(signed))
}

/// The same signed document with its one proof written as a set (`"proof": [{…}]`).
/// Data Integrity signs the document without `proof`, so the signature still holds.
pub(crate) fn as_proof_set(mut signed: Value) -> Value {
    if let Some(doc) = signed.as_object_mut() {
        if let Some(proof @ Value::Object(_)) = doc.remove("proof") {
            doc.insert("proof".into(), Value::Array(vec![proof]));
        }
    }
    signed
}

/// Adds an `eddsa-jcs-2022` proof to an unsigned document.
pub fn sign(
    document: &Value,
    key: &SigningKey,
    verification_method: &str,
    created: OffsetDateTime,
) -> Result<Value, VcError> {
    let doc = document.as_object().ok_or(VcError::NotAnObject)?;
    if doc.contains_key("proof") {
        return Err(VcError::AlreadySigned);
    }
    let mut proof = Map::new();
    proof.insert("type".into(), PROOF_TYPE.into());
    proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
    proof.insert("created".into(), timestamp(created)?.into());
    proof.insert("verificationMethod".into(), verification_method.into());
    proof.insert("proofPurpose".into(), PROOF_PURPOSE.into());
    if let Some(context) = doc.get("@context") {
        proof.insert("@context".into(), context.clone());
    }
    let signature = key.sign(&hash_data(&proof, document)?);
    proof.insert(
        "proofValue".into(),
        multibase::encode(&signature.to_bytes()).into(),
    );
    let mut signed = doc.clone();
    signed.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(signed))
}

/// Checks the proof of a signed credential against the issuer's public key; the proof
/// may be written alone or as a set of one.
pub fn verify(credential: &Value, public_key: &VerifyingKey) -> Result<(), VcError> {
    let mut unsecured = credential.as_object().ok_or(VcError::NotAnObject)?.clone();
    // One proof, written alone or as a set of one (as Open Badges 3.0 writes it); we
    // issue one, so a set of several is not ours.
    let mut options = match unsecured.remove("proof") {
        None => return Err(VcError::NoProof),
        Some(Value::Object(proof)) => proof,
        Some(Value::Array(mut set)) => match (set.pop(), set.is_empty()) {
            (Some(Value::Object(proof)), true) => proof,
            _ => return Err(VcError::UnsupportedProof),
        },
        Some(_) => return Err(VcError::UnsupportedProof),
    };
    let text = |k: &str| options.get(k).and_then(Value::as_str);
    if text("type") != Some(PROOF_TYPE)
        || text("cryptosuite") != Some(CRYPTOSUITE)
        || text("proofPurpose") != Some(PROOF_PURPOSE)
    {
        return Err(VcError::UnsupportedProof);
    }
    let created = text("created").ok_or(VcError::BadCreated)?;
    OffsetDateTime::parse(created, &Rfc3339).map_err(|_| VcError::BadCreated)?;
    let issuer = match unsecured.get("issuer") {
        Some(Value::String(id)) => Some(id.as_str()),
        Some(profile) => profile.get("id").and_then(Value::as_str),
        None => None,
    };
    let method = text("verificationMethod").unwrap_or_default();
    match (issuer, method.split_once('#')) {
        (Some(issuer), Some((controller, _))) if controller == issuer => {}
        _ => return Err(VcError::WrongVerificationMethod),
    }
    let signature = options
        .remove("proofValue")
        .and_then(|v| v.as_str().map(multibase::decode))
        .and_then(Result::ok)
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .map(|bytes| Signature::from_bytes(&bytes))
        .ok_or(VcError::BadProofValue)?;
    // The cryptosuite lets a proof's contexts be a prefix of the document's (for
    // proofs added later by others); we issue one proof, so anything else is tampering.
    if options.get("@context") != unsecured.get("@context") {
        return Err(VcError::ContextMismatch);
    }
    let data = hash_data(&options, &Value::Object(unsecured))?;
    public_key
        .verify_strict(&data, &signature)
        .map_err(|_| VcError::BadSignature)
}

/// SHA-256 of the canonical proof configuration, then of the canonical document.
fn hash_data(proof_config: &Map<String, Value>, document: &Value) -> Result<Vec<u8>, VcError> {
    let config = jcs::canonicalize(&Value::Object(proof_config.clone()))?;
    let doc = jcs::canonicalize(document)?;
    let mut data = Sha256::digest(config.as_bytes()).to_vec();
    data.extend_from_slice(&Sha256::digest(doc.as_bytes()));
    Ok(data)
}

/// What `{base}/verify/{number}/status` returns: an Open Badges revocation list that
/// lists this credential once it has been withdrawn, and a plain `revoked` flag. The
/// cancellation reason stays private: it may name the learner's circumstances.
pub(crate) fn status_document(
    base_url: &str,
    centre_id: Uuid,
    number: CredentialNumber,
    revoked: bool,
) -> Value {
    let credential = credential_id(base_url, number);
    let revoked_list: Vec<Value> = if revoked {
        vec![json!({"id": credential})]
    } else {
        Vec::new()
    };
    json!({
        "id": status_id(base_url, number),
        "issuer": issuer_id(base_url, centre_id),
        "credential": credential,
        "revoked": revoked,
        "revokedCredentials": revoked_list,
    })
}

/// The bitstring of a status list, `encodedList`: `STATUS_LIST_BITS` bits, bit 0 the
/// most significant of the first byte, set for each of `revoked` (bits of this list),
/// GZIP-compressed and written as multibase base64url.
pub(crate) fn encoded_list(revoked: &[u64]) -> Result<String, VcError> {
    use std::io::Write;
    let mut bits = vec![0u8; (STATUS_LIST_BITS / 8) as usize];
    for &i in revoked.iter().filter(|&&i| i < STATUS_LIST_BITS) {
        bits[(i / 8) as usize] |= 0x80 >> (i % 8);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bits)
        .map_err(|e| VcError::StatusList(e.to_string()))?;
    let compressed = gz
        .finish()
        .map_err(|e| VcError::StatusList(e.to_string()))?;
    Ok(multibase::encode_base64url(&compressed))
}

/// The centre's status list `list` as a signed `BitstringStatusListCredential`
/// (revocation): `revoked` are the bits (within this list) of its withdrawn
/// credentials, `at` when the list was made. Signed by the centre's key, with the
/// same cryptosuite and proof set as its credentials.
pub(crate) fn status_list_credential(
    base_url: &str,
    centre_id: Uuid,
    list: u64,
    revoked: &[u64],
    at: OffsetDateTime,
    key: IssuerKey,
) -> Result<Value, VcError> {
    let id = status_list_id(base_url, centre_id, list);
    let issuer = issuer_id(base_url, centre_id);
    let unsigned = json!({
        "@context": [VC_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", STATUS_LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": timestamp(at)?,
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list(revoked)?,
        },
    });
    let signed = sign(
        &unsigned,
        key.key,
        &verification_method(&issuer, key.id),
        at,
    )?;
    Ok(as_proof_set(signed))
}

/// The centre's controller document (W3C Controlled Identifiers v1.0), served at its
/// issuer id: each of its keys, by id, as an Ed25519 Multikey usable for checking
/// credentials. Retired keys stay listed: what they signed still verifies.
pub fn controller_document(issuer_id: &str, keys: &[(String, VerifyingKey)]) -> Value {
    let methods: Vec<String> = keys
        .iter()
        .map(|(id, _)| verification_method(issuer_id, id))
        .collect();
    let entries: Vec<Value> = keys
        .iter()
        .zip(&methods)
        .map(|((_, key), method)| {
            json!({
                "id": method,
                "type": "Multikey",
                "controller": issuer_id,
                "publicKeyMultibase": multibase::public_key_multibase(key),
            })
        })
        .collect();
    json!({
        "@context": [CID_CONTEXT],
        "id": issuer_id,
        "verificationMethod": entries,
        "assertionMethod": methods,
    })
}

/// The key a verifier finds for `method` in a fetched controller document: listed
/// under `assertionMethod`, controlled by the document's own id.
pub fn key_from_controller_document(
    document: &Value,
    method: &str,
) -> Result<VerifyingKey, VcError> {
    let controller = document.get("id").and_then(Value::as_str);
    let asserts = document
        .get("assertionMethod")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|m| m.as_str() == Some(method)));
    let entry = document
        .get("verificationMethod")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|m| m.get("id").and_then(Value::as_str) == Some(method))
        });
    match (controller, entry) {
        (Some(controller), Some(entry))
            if asserts
                && method.split_once('#').map(|(c, _)| c) == Some(controller)
                && entry.get("controller").and_then(Value::as_str) == Some(controller)
                && entry.get("type").and_then(Value::as_str) == Some("Multikey") =>
        {
            let text = entry.get("publicKeyMultibase").and_then(Value::as_str);
            multibase::decode_public_key(text.unwrap_or_default()).map_err(VcError::BadKey)
        }
        _ => Err(VcError::KeyNotPublished),
    }
}

/// RFC 3339 in UTC to the second, as credentials usually carry it.
fn timestamp(at: OffsetDateTime) -> Result<String, VcError> {
    at.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .ok_or(VcError::BadTime)
}

#[cfg(test)]
#[path = "vc_tests.rs"]
mod tests;

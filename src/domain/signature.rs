//! Signatures (issue 13, point 2): one concept for everything attest asks a person to
//! sign — a witness's testimony, a learner's declaration that evidence is their own
//! work, an assessor's observation record, and the progress reviews to come.
//!
//! A signature records who signed (an account, or the holder of a verified one-time
//! email link), in what capacity, the statement they agreed to word for word, the full
//! name they typed, when, from which address and browser, and the SHA-256 of the
//! canonical form (RFC 8785, `jcs`) of exactly what they signed. Because the digest is
//! of the canonical form, the same content always gives the same digest however its
//! fields are ordered, and any change to it gives another: a signature can be checked
//! against its item at any time (`check`), and a signed item is locked — a change makes
//! a new version, which needs signatures of its own (`standing`).
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::jcs::{self, JcsError};

/// In what capacity someone signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capacity {
    Learner,
    Employer,
    Witness,
    Assessor,
    Iqa,
}

impl Capacity {
    pub const ALL: [Capacity; 5] = [
        Capacity::Learner,
        Capacity::Employer,
        Capacity::Witness,
        Capacity::Assessor,
        Capacity::Iqa,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Capacity::Learner => "learner",
            Capacity::Employer => "employer",
            Capacity::Witness => "witness",
            Capacity::Assessor => "assessor",
            Capacity::Iqa => "iqa",
        }
    }

    pub fn from_key(key: &str) -> Option<Capacity> {
        Capacity::ALL.into_iter().find(|c| c.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Capacity::Learner => "learner",
            Capacity::Employer => "employer",
            Capacity::Witness => "witness",
            Capacity::Assessor => "assessor",
            Capacity::Iqa => "IQA",
        }
    }
}

/// The kinds of signed item, and whose signatures each needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignedKind {
    /// A witness's account of what they saw the learner do.
    WitnessTestimony,
    /// A learner's declaration that an evidence item is their own work.
    LearnerDeclaration,
    /// An assessor's record of what they observed.
    ObservationRecord,
    /// An apprenticeship's progress review, signed by all three parties (issue 14).
    ProgressReview,
}

impl SignedKind {
    pub const ALL: [SignedKind; 4] = [
        SignedKind::WitnessTestimony,
        SignedKind::LearnerDeclaration,
        SignedKind::ObservationRecord,
        SignedKind::ProgressReview,
    ];

    pub fn from_key(key: &str) -> Option<SignedKind> {
        SignedKind::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            SignedKind::WitnessTestimony => "Witness testimony",
            SignedKind::LearnerDeclaration => "Learner's declaration",
            SignedKind::ObservationRecord => "Observation record",
            SignedKind::ProgressReview => "Progress review",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            SignedKind::WitnessTestimony => "witness_testimony",
            SignedKind::LearnerDeclaration => "learner_declaration",
            SignedKind::ObservationRecord => "observation_record",
            SignedKind::ProgressReview => "progress_review",
        }
    }

    /// The capacities an item of this kind is signed in before it stands as signed.
    pub fn needs(self) -> &'static [Capacity] {
        match self {
            SignedKind::WitnessTestimony => &[Capacity::Witness],
            SignedKind::LearnerDeclaration => &[Capacity::Learner],
            SignedKind::ObservationRecord => &[Capacity::Assessor],
            SignedKind::ProgressReview => {
                &[Capacity::Learner, Capacity::Employer, Capacity::Assessor]
            }
        }
    }

    /// The statement the signer agrees to, shown to them word for word and kept with
    /// the signature.
    pub fn statement(self) -> &'static str {
        match self {
            SignedKind::WitnessTestimony => {
                "I confirm that this is a true account of what I saw the learner do, and that I am the person named above."
            }
            SignedKind::LearnerDeclaration => {
                "I confirm that this evidence is my own work, and that I have named anyone who helped me and the sources I used."
            }
            SignedKind::ObservationRecord => {
                "I confirm that I observed the learner as this record describes, and that my judgements are my own."
            }
            SignedKind::ProgressReview => {
                "I confirm that this is an accurate record of the progress review, and I agree the targets it sets."
            }
        }
    }
}

/// Who signed: an account of the centre, or the holder of a one-time link sent to an
/// email address (a witness without an account), which opening the link verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Signer {
    Account(Uuid),
    EmailLink { email: String },
}

/// Exactly what is signed: one version of one item. Its canonical form holds the kind,
/// the item, the version and the content, so a signature of one item can never stand
/// for another, nor for another version of the same one.
#[derive(Debug, Clone, PartialEq)]
pub struct Signable {
    pub kind: SignedKind,
    pub item: Uuid,
    pub version: u32,
    pub content: Value,
}

/// The SHA-256 of a signable's canonical form.
pub type ContentDigest = [u8; 32];

impl Signable {
    pub fn canonical(&self) -> Result<String, SignError> {
        let whole = serde_json::json!({
            "kind": self.kind.key(),
            "item": self.item.to_string(),
            "version": self.version,
            "content": self.content,
        });
        Ok(jcs::canonicalize(&whole)?)
    }

    pub fn digest(&self) -> Result<ContentDigest, SignError> {
        Ok(Sha256::digest(self.canonical()?.as_bytes()).into())
    }

    /// The next version, with `content`: what changing a signed item makes.
    pub fn next(&self, content: Value) -> Signable {
        Signable {
            kind: self.kind,
            item: self.item,
            version: self.version + 1,
            content,
        }
    }
}

/// One signature, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub signer: Signer,
    pub capacity: Capacity,
    pub statement: String,
    pub typed_name: String,
    pub at: OffsetDateTime,
    pub digest: ContentDigest,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A person signing, as the page gives it: the name they are known by (the account's,
/// or the one the witness gave) against which the typed name is checked.
#[derive(Debug, Clone)]
pub struct Signing<'a> {
    pub signer: Signer,
    pub capacity: Capacity,
    pub known_as: &'a str,
    pub typed_name: &'a str,
    pub at: OffsetDateTime,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("Type your full name to sign")]
    NoName,
    #[error("Type your full name as it is shown above to sign")]
    NameDiffers,
    #[error("This is not signed as {0}")]
    NotThisCapacity(&'static str),
    #[error("This has been signed as {0} already")]
    AlreadySigned(&'static str),
    #[error("The content cannot be signed: {0}")]
    Content(#[from] JcsError),
}

/// A name as people type it: spaces collapsed, case ignored.
fn folded(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `typed` is the signer's name as they are known (`NoName` or `NameDiffers`
/// otherwise): what a form checks before it does anything else.
pub fn name_matches(known_as: &str, typed: &str) -> Result<(), SignError> {
    let typed = typed.trim();
    if typed.is_empty() {
        Err(SignError::NoName)
    } else if folded(typed) != folded(known_as) {
        Err(SignError::NameDiffers)
    } else {
        Ok(())
    }
}

/// Signs `item` as `who`, after the rules: the capacity is one the item's kind needs and
/// not yet signed in for this version, and the typed name is the signer's name.
pub fn sign(
    item: &Signable,
    existing: &[Signature],
    who: Signing<'_>,
) -> Result<Signature, SignError> {
    if !item.kind.needs().contains(&who.capacity) {
        return Err(SignError::NotThisCapacity(who.capacity.label()));
    }
    let digest = item.digest()?;
    if existing
        .iter()
        .any(|s| s.capacity == who.capacity && s.digest == digest)
    {
        return Err(SignError::AlreadySigned(who.capacity.label()));
    }
    name_matches(who.known_as, who.typed_name)?;
    let typed = who.typed_name.trim();
    Ok(Signature {
        signer: who.signer,
        capacity: who.capacity,
        statement: item.kind.statement().to_string(),
        typed_name: typed.to_string(),
        at: who.at,
        digest,
        address: who.address,
        user_agent: who.user_agent,
    })
}

/// Whether a signature still stands for the item as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Valid,
    /// The item is not what was signed.
    Changed,
}

pub fn check(signature: &Signature, item: &Signable) -> Result<Check, SignError> {
    Ok(if item.digest()? == signature.digest {
        Check::Valid
    } else {
        Check::Changed
    })
}

/// How an item's current version stands, from all the signatures its versions have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Every capacity the kind needs has signed this version.
    Signed,
    /// Some capacities still to sign (sorted); none has signed a version before.
    AwaitingSignatures { missing: Vec<Capacity> },
    /// Signed before, but changed since: this version awaits `missing` (sorted).
    ChangedSinceSigned { missing: Vec<Capacity> },
}

/// The standing of `item` given every signature of any of its versions, in any order.
pub fn standing(item: &Signable, signatures: &[Signature]) -> Result<Standing, SignError> {
    let digest = item.digest()?;
    let mut missing: Vec<Capacity> = item
        .kind
        .needs()
        .iter()
        .copied()
        .filter(|c| {
            !signatures
                .iter()
                .any(|s| s.capacity == *c && s.digest == digest)
        })
        .collect();
    missing.sort();
    Ok(if missing.is_empty() {
        Standing::Signed
    } else if signatures.iter().any(|s| s.digest != digest) {
        Standing::ChangedSinceSigned { missing }
    } else {
        Standing::AwaitingSignatures { missing }
    })
}

/// The standing of an item of `kind` from a summary: the capacities that signed its
/// current version, and whether any earlier version was signed. What a list shows for
/// many items at once, by the same rule as `standing`.
pub fn standing_of(kind: SignedKind, current: &[Capacity], earlier_signed: bool) -> Standing {
    let mut missing: Vec<Capacity> = kind
        .needs()
        .iter()
        .copied()
        .filter(|c| !current.contains(c))
        .collect();
    missing.sort();
    if missing.is_empty() {
        Standing::Signed
    } else if earlier_signed {
        Standing::ChangedSinceSigned { missing }
    } else {
        Standing::AwaitingSignatures { missing }
    }
}

/// A signed version is locked: content changes only as a new version. Err when `item`
/// has a signature of this very version.
pub fn may_edit(item: &Signable, signatures: &[Signature]) -> Result<(), Locked> {
    let digest = item.digest().map_err(|_| Locked)?;
    if signatures.iter().any(|s| s.digest == digest) {
        Err(Locked)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("This has been signed, so it cannot be changed: make a new version, which will need signing again")]
pub struct Locked;

/// The digest as lower-case hex, as pages and the verification address show it.
pub fn hex(digest: &ContentDigest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;

//! Evidence: its kinds and what makes a new item valid (SPEC §2).
use super::form::FieldError;
use super::signature::{name_matches, SignError, SignedKind};
use super::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvidenceKind {
    Document,
    Photo,
    Video,
    Observation,
    WitnessTestimony,
    ProfessionalDiscussion,
    Product,
    Other,
}

impl EvidenceKind {
    pub const ALL: [EvidenceKind; 8] = [
        EvidenceKind::Document,
        EvidenceKind::Photo,
        EvidenceKind::Video,
        EvidenceKind::Observation,
        EvidenceKind::WitnessTestimony,
        EvidenceKind::ProfessionalDiscussion,
        EvidenceKind::Product,
        EvidenceKind::Other,
    ];

    /// The key stored in `evidence.kind` (checked there).
    pub fn key(self) -> &'static str {
        match self {
            EvidenceKind::Document => "document",
            EvidenceKind::Photo => "photo",
            EvidenceKind::Video => "video",
            EvidenceKind::Observation => "observation",
            EvidenceKind::WitnessTestimony => "witness_testimony",
            EvidenceKind::ProfessionalDiscussion => "professional_discussion",
            EvidenceKind::Product => "product",
            EvidenceKind::Other => "other",
        }
    }

    pub fn from_key(key: &str) -> Option<EvidenceKind> {
        EvidenceKind::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            EvidenceKind::Document => "Document",
            EvidenceKind::Photo => "Photo",
            EvidenceKind::Video => "Video",
            EvidenceKind::Observation => "Observation",
            EvidenceKind::WitnessTestimony => "Witness testimony",
            EvidenceKind::ProfessionalDiscussion => "Professional discussion",
            EvidenceKind::Product => "Product",
            EvidenceKind::Other => "Other",
        }
    }
}

/// What someone typed to add evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewEvidence {
    pub title: String,
    pub description: String,
    /// The kind's key, as the form sends it.
    pub kind: String,
    /// The box of the declaration (a learner's) or the record's statement (an
    /// assessor's observation), ticked.
    pub declared: bool,
    /// The full name typed to sign it.
    pub signed_name: String,
}

/// A new item, checked, and what its maker signs with it (SPEC §2, issue 13 point 4):
/// a learner declares every item their own work; an assessor signs their observation
/// record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEvidence {
    pub title: String,
    pub description: String,
    pub kind: EvidenceKind,
    pub signs: Option<SignedKind>,
    pub signed_name: String,
}

/// What the maker of an item of `kind` signs with it, if anything.
pub fn signed_with(kind: EvidenceKind, assessor: bool) -> Option<SignedKind> {
    if !assessor {
        Some(SignedKind::LearnerDeclaration)
    } else if kind == EvidenceKind::Observation {
        Some(SignedKind::ObservationRecord)
    } else {
        None
    }
}

impl EvidenceKind {
    /// Observation and professional-discussion records are made by assessors.
    pub(crate) fn assessor_record(self) -> bool {
        matches!(
            self,
            EvidenceKind::Observation | EvidenceKind::ProfessionalDiscussion
        )
    }

    /// The kinds a person may add (SPEC §2): learners add their evidence; assessors add
    /// only their own records of an observation or a professional discussion.
    pub fn offered(assessor: bool) -> Vec<EvidenceKind> {
        EvidenceKind::ALL
            .into_iter()
            .filter(|k| assessor == k.assessor_record())
            .collect()
    }
}

/// Every problem with the form, each against its field. `maker` is the name of the
/// person adding it, against which a signature's typed name is checked.
pub(crate) fn validate_new_evidence(
    e: &NewEvidence,
    assessor: bool,
    maker: &str,
) -> Result<ValidEvidence, Vec<FieldError>> {
    let mut errors = Vec::new();
    let title = e.title.trim();
    if title.is_empty() {
        errors.push(FieldError::new("title", "Enter a title for the evidence"));
    } else if let Err(e) = text::EVIDENCE_TITLE.check(title) {
        errors.push(e);
    }
    let description = e.description.trim();
    if let Err(e) = text::EVIDENCE_DESCRIPTION.check(description) {
        errors.push(e);
    }
    let kind =
        EvidenceKind::from_key(&e.kind).filter(|k| EvidenceKind::offered(assessor).contains(k));
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            "Select what kind of evidence this is",
        ));
    }
    // A learner always declares; an assessor signs when the kind is an observation
    // (and, before a kind is chosen, nothing is asked of them).
    let signs = match kind {
        Some(k) => signed_with(k, assessor),
        None if !assessor => Some(SignedKind::LearnerDeclaration),
        None => None,
    };
    if signs.is_some() {
        if !e.declared {
            errors.push(FieldError::new(
                "declared",
                if assessor {
                    "Tick the box to confirm the observation record, or it cannot be signed"
                } else {
                    "Tick the box to declare that this evidence is your own work"
                },
            ));
        }
        match name_matches(maker, &e.signed_name) {
            Ok(()) => {}
            Err(SignError::NoName) => errors.push(FieldError::new(
                "signed_name",
                "Type your full name to sign",
            )),
            Err(_) => errors.push(FieldError::new(
                "signed_name",
                "Type your full name as your account shows it, at the top of the page",
            )),
        }
    }
    match kind {
        Some(kind) if errors.is_empty() => Ok(ValidEvidence {
            title: title.to_string(),
            description: description.to_string(),
            kind,
            signs,
            signed_name: e.signed_name.trim().to_string(),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "Zoë Ōtaki-Ngata";

    fn typed(title: &str, kind: &str) -> NewEvidence {
        NewEvidence {
            title: title.into(),
            description: String::new(),
            kind: kind.into(),
            declared: true,
            signed_name: " zoë  ōtaki-ngata ".into(),
        }
    }

    #[test]
    fn learners_cannot_add_assessor_records() {
        let obs = typed("Observation", "observation");
        assert_eq!(
            validate_new_evidence(&obs, false, NAME).expect_err("refused")[0].field,
            "kind"
        );
        assert!(validate_new_evidence(&obs, true, NAME).is_ok());
    }

    #[test]
    fn assessors_add_only_their_records() {
        let document = typed("Work product", "document");
        assert_eq!(
            validate_new_evidence(&document, true, NAME).expect_err("refused")[0].field,
            "kind"
        );
        assert!(validate_new_evidence(&document, false, NAME).is_ok());
        let offered = EvidenceKind::offered(true);
        assert!(!offered.is_empty() && offered.iter().all(|k| k.assessor_record()));
    }

    #[test]
    fn blank_title_missing_kind_and_an_unsigned_declaration_are_named() {
        let fields: Vec<_> = validate_new_evidence(&NewEvidence::default(), false, NAME)
            .expect_err("invalid")
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "kind", "declared", "signed_name"]);
    }

    #[test]
    fn a_learner_declares_every_item_and_an_assessor_signs_an_observation() {
        let mine = validate_new_evidence(&typed("Log", "document"), false, NAME).expect("valid");
        assert_eq!(mine.signs, Some(SignedKind::LearnerDeclaration));
        assert_eq!(
            mine.signed_name, "zoë  ōtaki-ngata",
            "kept as typed, trimmed"
        );
        let obs = validate_new_evidence(&typed("Obs", "observation"), true, NAME).expect("valid");
        assert_eq!(obs.signs, Some(SignedKind::ObservationRecord));
        let discussion = NewEvidence {
            declared: false,
            signed_name: String::new(),
            ..typed("Talk", "professional_discussion")
        };
        let talk = validate_new_evidence(&discussion, true, NAME).expect("nothing to sign");
        assert_eq!(talk.signs, None);
        let someone_else = NewEvidence {
            signed_name: "Ben Carter".into(),
            ..typed("Log", "document")
        };
        let e = validate_new_evidence(&someone_else, false, NAME).expect_err("not their name");
        assert_eq!(
            e.iter().map(|e| e.field).collect::<Vec<_>>(),
            ["signed_name"]
        );
    }
}

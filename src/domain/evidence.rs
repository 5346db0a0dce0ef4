//! Evidence: its kinds and what makes a new item valid (SPEC §2).
use super::form::FieldError;
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

pub(crate) fn validate_new_evidence(
    e: &NewEvidence,
    assessor: bool,
) -> Result<(String, String, EvidenceKind), Vec<FieldError>> {
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
    match kind {
        Some(kind) if errors.is_empty() => Ok((title.to_string(), description.to_string(), kind)),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learners_cannot_add_assessor_records() {
        let obs = NewEvidence {
            title: "Observation".into(),
            description: String::new(),
            kind: "observation".into(),
        };
        assert_eq!(
            validate_new_evidence(&obs, false).expect_err("refused")[0].field,
            "kind"
        );
        assert!(validate_new_evidence(&obs, true).is_ok());
    }

    #[test]
    fn assessors_add_only_their_records() {
        let document = NewEvidence {
            title: "Work product".into(),
            description: String::new(),
            kind: "document".into(),
        };
        assert_eq!(
            validate_new_evidence(&document, true).expect_err("refused")[0].field,
            "kind"
        );
        assert!(validate_new_evidence(&document, false).is_ok());
        let offered = EvidenceKind::offered(true);
        assert!(!offered.is_empty() && offered.iter().all(|k| k.assessor_record()));
    }

    #[test]
    fn blank_title_and_missing_kind_are_named() {
        let fields: Vec<_> = validate_new_evidence(&NewEvidence::default(), false)
            .expect_err("invalid")
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "kind"]);
    }
}

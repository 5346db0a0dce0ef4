//! How a signed item shows on any page (issue 13, point 2): "signed by … on …", or
//! "changed since it was signed", each signature checked against what it signed.
use uuid::Uuid;

use super::home::moment;
use super::AppState;
use crate::db::signatures::{self, Whole};
use crate::db::DbResult;
use crate::domain::signature::{self, Check, Standing};

pub(crate) struct SignatureView {
    pub id: Uuid,
    pub name: String,
    pub typed_name: String,
    pub capacity: &'static str,
    pub at: String,
    pub version: i32,
    pub statement: String,
    /// The signature matches the version it signed.
    pub valid: bool,
    /// It signed the version shown now.
    pub of_current: bool,
    pub digest: String,
}

pub(crate) struct SignedView {
    pub item_id: Uuid,
    pub kind: &'static str,
    pub version: i32,
    /// One line: where the current version stands.
    pub standing: String,
    pub signed: bool,
    pub signatures: Vec<SignatureView>,
    /// A testimony's words, as the current version holds them.
    pub account: String,
    pub witness: String,
    pub criteria: Vec<String>,
    pub testimony: bool,
    /// A testimony or an observation record prints (a declaration is shown with its item).
    pub printable: bool,
}

fn missing_words(missing: &[signature::Capacity]) -> String {
    missing
        .iter()
        .map(|c| format!("the {}'s", c.label()))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// How each signed record of each of `evidence` stands, in a few words, for a list:
/// "Learner's declaration: signed", "Witness testimony: changed since it was signed".
pub(crate) async fn standings_in_words(
    state: &AppState,
    evidence: &[Uuid],
) -> DbResult<std::collections::HashMap<Uuid, String>> {
    let mut out: std::collections::HashMap<Uuid, String> = std::collections::HashMap::new();
    for (item, kind, standing) in signatures::standings(&state.pool, evidence).await? {
        let words = match standing {
            Standing::Signed => "signed",
            Standing::AwaitingSignatures { .. } => "awaiting signature",
            Standing::ChangedSinceSigned { .. } => "changed since it was signed",
        };
        let entry = out.entry(item).or_default();
        if !entry.is_empty() {
            entry.push_str("; ");
        }
        entry.push_str(&format!("{}: {words}", kind.label()));
    }
    Ok(out)
}

pub(crate) fn view(whole: &Whole) -> SignedView {
    let checks = whole.checks();
    let signatures: Vec<SignatureView> = checks
        .iter()
        .map(|(s, check, of_current)| SignatureView {
            id: s.id,
            name: s.signer_label.clone(),
            typed_name: s.signature.typed_name.clone(),
            capacity: s.signature.capacity.label(),
            at: moment(&s.signature.at),
            version: s.version,
            statement: s.signature.statement.clone(),
            valid: *check == Check::Valid,
            of_current: *of_current,
            digest: signature::hex(&s.signature.digest),
        })
        .collect();
    let current: Vec<&SignatureView> = signatures.iter().filter(|s| s.of_current).collect();
    let standing = match &whole.standing {
        Standing::Signed => {
            let by: Vec<String> = current
                .iter()
                .map(|s| format!("{} ({}) on {}", s.typed_name, s.capacity, s.at))
                .collect();
            format!("Signed by {}", by.join(", "))
        }
        Standing::AwaitingSignatures { missing } => {
            format!(
                "Not signed yet: awaiting {} signature",
                missing_words(missing)
            )
        }
        Standing::ChangedSinceSigned { missing } => format!(
            "Changed since it was signed: this version awaits {} signature",
            missing_words(missing)
        ),
    };
    let content = whole.current().map(|v| &v.content);
    let text = |path: &[&str]| {
        let mut v = content;
        for p in path {
            v = v.and_then(|c| c.get(*p));
        }
        v.and_then(|v| v.as_str()).unwrap_or_default().to_string()
    };
    let criteria = content
        .and_then(|c| c.get("criteria"))
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|c| c.get("label").and_then(|l| l.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let testimony = whole.item.kind == signature::SignedKind::WitnessTestimony;
    let witness = if testimony {
        format!(
            "{}, {} — {}",
            text(&["witness", "name"]),
            text(&["witness", "role"]),
            text(&["witness", "relationship"])
        )
    } else {
        String::new()
    };
    SignedView {
        item_id: whole.item.id,
        kind: whole.item.kind.label(),
        version: whole.item.current_version,
        signed: whole.standing == Standing::Signed,
        standing,
        signatures,
        account: text(&["account"]),
        witness,
        criteria,
        testimony,
        printable: whole.item.kind != signature::SignedKind::LearnerDeclaration,
    }
}

/// The signed items of an evidence item, as its page shows them.
pub(crate) async fn of_evidence(state: &AppState, evidence: Uuid) -> DbResult<Vec<SignedView>> {
    let mut out = Vec::new();
    for item in signatures::of_evidence(&state.pool, evidence).await? {
        out.push(view(&signatures::whole(&state.pool, item).await?));
    }
    Ok(out)
}

/// The signature check page: anyone holding a signed record (its printout names this
/// address) can see whether the record is still exactly what was signed. It shows the
/// signature, never the record's content.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "pages/signature_check.html")]
pub(crate) struct CheckPage {
    kind: &'static str,
    signature: SignatureView,
    /// The record has a later version than the one signed.
    superseded: bool,
}

/// GET /signatures/{id}
pub(crate) async fn check(
    axum::extract::State(state): axum::extract::State<AppState>,
    super::ids::Ids(id): super::ids::Ids<Uuid>,
) -> Result<CheckPage, super::AppError> {
    let item = signatures::of_signature(&state.pool, id).await?;
    let whole = signatures::whole(&state.pool, item).await?;
    let v = view(&whole);
    let superseded = whole
        .signatures
        .iter()
        .find(|s| s.id == id)
        .is_some_and(|s| s.version != whole.item.current_version);
    let signature = v
        .signatures
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(super::AppError::NotFound)?;
    Ok(CheckPage {
        kind: v.kind,
        signature,
        superseded,
    })
}

/// What the printout of a signed record says, from the record as stored.
fn printout(
    whole: &Whole,
    v: &SignedView,
    learner: &str,
    qualification: &str,
    centre: &str,
    title: &str,
    public_url: &str,
) -> crate::credentials::record::SignedRecord {
    use crate::credentials::record::SignedRecord;
    let base = public_url.trim_end_matches('/');
    let content = whole.current().map(|c| &c.content);
    let text = |k: &str| {
        content
            .and_then(|c| c.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let files: Vec<String> = content
        .and_then(|c| c.get("files"))
        .and_then(|f| f.as_array())
        .map(|a| {
            a.iter()
                .map(|f| {
                    format!(
                        "{} (SHA-256 {})",
                        f.get("name").and_then(|n| n.as_str()).unwrap_or_default(),
                        f.get("sha256").and_then(|n| n.as_str()).unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut sections = Vec::new();
    if v.testimony {
        sections.push(("The witness".to_string(), v.witness.clone()));
        let occasion = text("occasion");
        if !occasion.is_empty() {
            sections.push(("What the witness was asked about".to_string(), occasion));
        }
        sections.push((
            "The criteria the witness was shown".to_string(),
            v.criteria.join("\n"),
        ));
        sections.push(("What the witness saw".to_string(), v.account.clone()));
    } else {
        sections.push(("The record".to_string(), text("description")));
    }
    if !files.is_empty() {
        sections.push(("Files, by their fingerprints".to_string(), files.join("\n")));
    }
    SignedRecord {
        kind: v.kind.to_string(),
        centre_name: centre.to_string(),
        learner_name: learner.to_string(),
        qualification: qualification.to_string(),
        title: title.to_string(),
        version: whole.item.current_version.max(1) as u32,
        standing: v.standing.clone(),
        sections,
        signatures: printed_signatures(v, base),
        verify_url: format!("{base}/signed/{}", whole.item.id),
    }
}

/// The signatures of the current version as a printout shows them, each with the
/// address where it is checked.
pub(crate) fn printed_signatures(
    v: &SignedView,
    base: &str,
) -> Vec<crate::credentials::record::RecordSignature> {
    v.signatures
        .iter()
        .filter(|s| s.of_current)
        .map(|s| crate::credentials::record::RecordSignature {
            typed_name: s.typed_name.clone(),
            capacity: s.capacity.to_string(),
            at: s.at.clone(),
            statement: s.statement.clone(),
            digest: s.digest.clone(),
            check_url: format!("{base}/signatures/{}", s.id),
        })
        .collect()
}

/// GET /enrolments/{id}/evidence/{evidence}/record.pdf: a witness testimony or an
/// observation record, printed with its signatures and where to check it.
pub(crate) async fn record_pdf(
    axum::extract::State(state): axum::extract::State<AppState>,
    super::auth::CurrentUser(user): super::auth::CurrentUser,
    super::ids::Ids((id, evidence)): super::ids::Ids<(Uuid, Uuid)>,
) -> Result<axum::response::Response, super::AppError> {
    use axum::response::IntoResponse;
    let (enrolment, _) = super::portfolio::enrolment_for(&state, &user, id).await?;
    let item = crate::db::evidence::get(&state.pool, evidence).await?;
    if item.enrolment_id != id {
        return Err(super::AppError::NotFound);
    }
    let signed = signatures::of_evidence(&state.pool, evidence)
        .await?
        .into_iter()
        .find(|s| s.kind != signature::SignedKind::LearnerDeclaration)
        .ok_or(super::AppError::NotFound)?;
    let whole = signatures::whole(&state.pool, signed).await?;
    let v = view(&whole);
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    let learner = crate::db::users::names(&state.pool, &[enrolment.learner_id])
        .await?
        .remove(&enrolment.learner_id)
        .unwrap_or_default();
    let centre = crate::db::centres::get(&state.pool, enrolment.centre_id)
        .await?
        .name;
    let qualification = format!(
        "{} {}",
        version.qualification.code, version.qualification.title
    );
    let record = printout(
        &whole,
        &v,
        &learner,
        &qualification,
        &centre,
        &item.title,
        &state.public_url,
    );
    let bytes = tokio::task::spawn_blocking(move || {
        let fonts = crate::jobs::record_fonts()?;
        crate::credentials::record::render_record(&record, &fonts)
    })
    .await
    .map_err(|e| super::AppError::Internal(anyhow::anyhow!("printing stopped: {e}")))?
    .map_err(|e| super::AppError::Internal(anyhow::anyhow!("printing a signed record: {e}")))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-v{}.pdf\"",
                    whole.item.kind.key().replace('_', "-"),
                    whole.item.current_version
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The public check of a whole signed record: the address its printout carries.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "pages/signed_check.html")]
pub(crate) struct RecordCheckPage {
    kind: &'static str,
    version: i32,
    standing: String,
    signatures: Vec<SignatureView>,
}

/// GET /signed/{item}
pub(crate) async fn record_check(
    axum::extract::State(state): axum::extract::State<AppState>,
    super::ids::Ids(id): super::ids::Ids<Uuid>,
) -> Result<RecordCheckPage, super::AppError> {
    let item = signatures::get(&state.pool, id).await?;
    let whole = signatures::whole(&state.pool, item).await?;
    let v = view(&whole);
    Ok(RecordCheckPage {
        kind: v.kind,
        version: v.version,
        standing: v.standing,
        signatures: v.signatures,
    })
}

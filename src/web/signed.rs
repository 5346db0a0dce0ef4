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
}

fn missing_words(missing: &[signature::Capacity]) -> String {
    missing
        .iter()
        .map(|c| format!("the {}'s", c.label()))
        .collect::<Vec<_>>()
        .join(" and ")
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

//! Adding evidence, and one item's page: the criterion tree with the three layers.
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::{enrolment_for, Asked, Portfolio};
use crate::db::evidence::{self as db_evidence, EvidenceKind};
use crate::db::users::{self, User};
use crate::db::{activity, qualifications, signatures, ticks as db_ticks};
use crate::domain::evidence::{validate_new_evidence, NewEvidence};
use crate::domain::form::{message_for, FieldError};
use crate::domain::signature::{Capacity as SignCapacity, SignedKind, Signer, Signing};
use crate::domain::text::clean_file_name;
use crate::domain::ticks::{
    accept_all_learner_ticks, accept_all_trainee_ticks, Layer, Placed, Tick,
};
use crate::web::auth::CurrentUser;
use crate::web::files::{Received, UploadError, NOT_ALLOWED_FIELD};
use crate::web::home::day;
use crate::web::ids::Ids;
use crate::web::page_cache;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/evidence_new.html")]
pub(crate) struct NewEvidencePage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    form: NewEvidence,
    kinds: Vec<EvidenceKind>,
    errors: Vec<FieldError>,
    /// A file over the limit, named, for the summary.
    file_problem: Option<String>,
    limit_mb: u64,
    /// The limit for a video or a recording, in MB.
    media_limit_mb: u64,
    /// An assessor's (or trainee's) form: they sign observation records only.
    assessor: bool,
    /// The statement signed with the item, word for word.
    statement: &'static str,
}

impl NewEvidencePage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }

    fn name_hint(&self) -> String {
        format!("As your account shows it: {}.", self.user.display_name)
    }

    /// Whether an item of this kind is signed as it is added (what the device's queue
    /// checks before keeping an item, as the form's check would).
    fn signs(&self, kind: &EvidenceKind) -> bool {
        crate::domain::evidence::signed_with(*kind, self.assessor).is_some()
    }
}

pub async fn new(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<NewEvidencePage, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    if !capacity.may_add_evidence() {
        return Err(AppError::NotFound);
    }
    Ok(again(
        super::header(&state, &enrolment).await?,
        user,
        id,
        NewEvidence::default(),
        capacity.may_add_assessor_records(),
        Vec::new(),
        None,
        &state,
    ))
}

/// At most this many files on one piece of evidence (2,000 one-byte files were once
/// accepted on one form).
pub(crate) const MAX_FILES: usize = 20;

/// What was wrong with the form's files: the field's message, and the detail for the
/// summary.
struct FileProblem {
    status: StatusCode,
    field: &'static str,
    detail: String,
}

impl FileProblem {
    /// The disk is full: the server's problem, said as such, not the file's.
    fn storage_full() -> FileProblem {
        FileProblem {
            status: StatusCode::INSUFFICIENT_STORAGE,
            field: "The server’s storage is full, so the files could not be saved",
            detail: "The server’s storage is full: nothing was saved. Your text is kept \
                     below; try again later, and tell your centre’s administrator"
                .to_string(),
        }
    }

    /// A problem with what the device's queue sent, named in the summary.
    fn unprocessable(detail: String) -> FileProblem {
        FileProblem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: "Select the files again",
            detail,
        }
    }

    fn too_big(detail: String) -> FileProblem {
        FileProblem {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            field: "Select files that are each within the size limit",
            detail,
        }
    }
}

/// Reads the multipart form: text fields, and each file streamed to disk. A form cut
/// short (over the body limit, or interrupted) is a problem, never a shorter form.
async fn read_form(
    state: &AppState,
    mut multipart: Multipart,
) -> (NewEvidence, Vec<Received>, Option<FileProblem>, Queued) {
    let mut typed = NewEvidence::default();
    let mut queued = Queued::default();
    let mut files = Vec::new();
    let mut problem = None;
    let mut offered = 0usize;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                let detail = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    format!(
                        "The form is larger than the limit of {MAX_FILES} files of {} MB each",
                        state.files.largest_bytes().div_ceil(1024 * 1024)
                    )
                } else {
                    "The upload was interrupted; nothing was saved".to_string()
                };
                problem = problem.or(Some(FileProblem::too_big(detail)));
                break;
            }
        };
        match field.name().unwrap_or_default() {
            "file" if field.file_name().is_some_and(|n| !n.is_empty()) => {
                offered += 1;
                if offered > MAX_FILES {
                    problem = Some(FileProblem {
                        status: StatusCode::UNPROCESSABLE_ENTITY,
                        field: "Attach at most 20 files, each within the size limit",
                        detail: format!(
                            "Attach at most {MAX_FILES} files to one piece of evidence"
                        ),
                    });
                }
                if problem.is_some() {
                    continue;
                }
                match state.files.receive(field).await {
                    Ok(received) => files.push(received),
                    Err(UploadError::StorageFull) => problem = Some(FileProblem::storage_full()),
                    Err(e @ UploadError::NotAllowed { .. }) => {
                        problem = Some(FileProblem {
                            status: StatusCode::UNPROCESSABLE_ENTITY,
                            field: NOT_ALLOWED_FIELD,
                            detail: format!("The file {e}; nothing was saved"),
                        })
                    }
                    Err(e) => problem = Some(FileProblem::too_big(format!("The file {e}"))),
                }
            }
            name => {
                let name = name.to_string();
                let value = field.text().await.unwrap_or_default();
                match name.as_str() {
                    "title" => typed.title = value,
                    "description" => typed.description = value,
                    "kind" => typed.kind = value,
                    "declared" => typed.declared = value == "yes",
                    "signed_name" => typed.signed_name = value,
                    "upload" => queued.uploads.push(value),
                    "client_key" => queued.client_key = value,
                    _ => {}
                }
            }
        }
    }
    (typed, files, problem, queued)
}

/// What a device's queue (static/offline.js) adds to the form: the uploads that carry
/// its files, and the key it gave the item, so a form sent twice makes one item.
#[derive(Debug, Default)]
struct Queued {
    uploads: Vec<String>,
    client_key: String,
}

impl Queued {
    /// The item's key, if the form has one; a key that is not one is a problem.
    fn key(&self) -> Result<Option<Uuid>, FileProblem> {
        match self.client_key.trim() {
            "" => Ok(None),
            key => Uuid::parse_str(key).map(Some).map_err(|_| {
                FileProblem::unprocessable("The form came with an unreadable item key".into())
            }),
        }
    }

    fn upload_ids(&self) -> Result<Vec<Uuid>, FileProblem> {
        self.uploads
            .iter()
            .map(|u| Uuid::parse_str(u.trim()))
            .collect::<Result<_, _>>()
            .map_err(|_| FileProblem::unprocessable("The form named an unknown upload".into()))
    }
}

/// The finished uploads `ids`, the viewer's for this enrolment, as files of the form.
async fn uploaded_files(
    state: &AppState,
    user: &User,
    id: Uuid,
    ids: &[Uuid],
) -> Result<Result<Vec<Received>, FileProblem>, AppError> {
    // A database that cannot answer is not the form's fault: 503, not "missing".
    let mut found = crate::db::uploads::get_many(&state.pool, ids, user.id, id).await?;
    let mut files = Vec::with_capacity(ids.len());
    for &upload in ids {
        // In the order the form named them.
        let missing = || {
            Ok(Err(FileProblem::unprocessable(
                "A file's upload is missing or has not finished: send the item again".into(),
            )))
        };
        let at = found
            .iter()
            .position(|u| u.id == upload && u.content_type.is_some() && u.evidence_id.is_none());
        let Some(at) = at else {
            return missing();
        };
        let found = found.swap_remove(at);
        match state.files.received_from(&found).await {
            Ok(received) => files.push(received),
            // Not finished, or its bytes are on another server's disk.
            Err(UploadError::Interrupted(_)) => return missing(),
            Err(UploadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return missing()
            }
            Err(UploadError::StorageFull) => return Ok(Err(FileProblem::storage_full())),
            Err(e @ (UploadError::TooBig { .. } | UploadError::NotAllowed { .. })) => {
                return Ok(Err(FileProblem::too_big(format!("The file {e}"))))
            }
            Err(e) => return Err(crate::web::files::not_kept(e)),
        }
    }
    Ok(Ok(files))
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    if !capacity.may_add_evidence() {
        return Err(AppError::NotFound);
    }
    let (typed, mut files, mut problem, queued) = read_form(&state, multipart).await;
    // A form sent again from a device's queue (its answer lost) finds the item it made.
    let client_key = queued.key().unwrap_or_else(|p| {
        problem.get_or_insert(p);
        None
    });
    if let Some(key) = client_key {
        if let Some(made) = db_evidence::made_with_key(&state.pool, user.id, key, id).await? {
            return Ok(Redirect::to(&format!("/enrolments/{id}/evidence/{made}")).into_response());
        }
    }
    let upload_ids = queued.upload_ids().unwrap_or_else(|p| {
        problem.get_or_insert(p);
        Vec::new()
    });
    if problem.is_none() && !upload_ids.is_empty() {
        if files.len() + upload_ids.len() > MAX_FILES {
            problem = Some(FileProblem::unprocessable(format!(
                "Attach at most {MAX_FILES} files to one piece of evidence"
            )));
        } else {
            match uploaded_files(&state, &user, id, &upload_ids).await? {
                Ok(more) => files.extend(more),
                Err(p) => problem = Some(p),
            }
        }
    }
    let assessor = capacity.may_add_assessor_records();
    let checked = validate_new_evidence(&typed, assessor, &user.display_name);
    let valid = match (checked, problem) {
        (Ok(valid), None) => valid,
        (checked, problem) => {
            // The files received are removed as they drop.
            drop(files);
            let mut errors = checked.err().unwrap_or_default();
            if let Some(p) = problem {
                // The text is built from the limit and a cleaned name; the field needs a
                // static message, so the detail goes in the summary line below.
                errors.push(FieldError::new("file", p.field));
                return Ok((
                    p.status,
                    again(
                        super::header(&state, &enrolment).await?,
                        user,
                        id,
                        typed,
                        assessor,
                        errors,
                        Some(p.detail),
                        &state,
                    ),
                )
                    .into_response());
            }
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                again(
                    super::header(&state, &enrolment).await?,
                    user,
                    id,
                    typed,
                    assessor,
                    errors,
                    None,
                    &state,
                ),
            )
                .into_response());
        }
    };
    let (title, description, kind) = (&valid.title, &valid.description, valid.kind);
    let mut tx = state.pool.begin().await.map_err(crate::db::DbError::from)?;
    let new = db_evidence::NewEvidence {
        enrolment_id: id,
        title,
        description,
        kind,
        added_by: user.id,
    };
    let added = match client_key {
        None => db_evidence::add(&mut *tx, &new).await?,
        Some(key) => match db_evidence::add_once(&mut *tx, &new, Some(key)).await? {
            Some(added) => added,
            // The same form, sent twice at once: the other made the item.
            None => {
                drop(tx);
                let made = db_evidence::made_with_key(&state.pool, user.id, key, id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                return Ok(
                    Redirect::to(&format!("/enrolments/{id}/evidence/{made}")).into_response()
                );
            }
        },
    };
    if !upload_ids.is_empty() {
        let taken = crate::db::uploads::take(&mut *tx, &upload_ids, user.id, id, added.id).await?;
        if taken.len() != upload_ids.len() {
            return Err(AppError::Conflict(
                "A file's upload was used by another item meanwhile; nothing was saved".into(),
            ));
        }
    }
    // Moved into place now, removed again (the guard) if anything stops the commit.
    let (keys, placed) = state
        .files
        .keep_all(&files)
        .await
        .map_err(crate::web::files::not_kept)?;
    for (f, key) in files.iter().zip(&keys) {
        let file = db_evidence::NewFile {
            evidence_id: added.id,
            file_name: &f.file_name,
            content_type: &f.content_type,
            size_bytes: f.size as i64,
            storage_key: key,
            sha256: Some(&f.sha256),
            uploaded_by: user.id,
        };
        db_evidence::add_file(&mut *tx, &file).await?;
    }
    // The declaration (or the observation record's signature) signs exactly this item:
    // its text and each file by its digest.
    let signature = match valid.signs {
        Some(signs) => {
            let content = serde_json::json!({
                "enrolment": id.to_string(),
                "evidence": added.id.to_string(),
                "title": title,
                "description": description,
                "kind": kind.key(),
                "files": files.iter().map(|f| serde_json::json!({
                    "name": f.file_name, "sha256": f.sha256, "size": f.size,
                })).collect::<Vec<_>>(),
            });
            let item = signatures::SignedItem {
                id: Uuid::now_v7(),
                centre_id: enrolment.centre_id,
                enrolment_id: id,
                evidence_id: Some(added.id),
                kind: signs,
                current_version: 1,
            };
            let capacity = match signs {
                SignedKind::LearnerDeclaration => SignCapacity::Learner,
                _ => SignCapacity::Assessor,
            };
            let who = Signing {
                signer: Signer::Account(user.id),
                capacity,
                known_as: &user.display_name,
                typed_name: &valid.signed_name,
                at: time::OffsetDateTime::now_utc(),
                address: connect.map(|c| c.0 .0.ip().to_string()),
                user_agent: headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.chars().take(500).collect()),
            };
            let signed = signatures::create_signed(&mut tx, &item, content, who)
                .await?
                // Checked on the form above: a refusal here is a bug, not bad input.
                .map_err(|e| AppError::Internal(anyhow::anyhow!("signing evidence: {e}")))?;
            Some(signed)
        }
        None => None,
    };
    activity::record(
        &mut *tx,
        enrolment.centre_id,
        Some(id),
        Some(user.id),
        "evidence added",
        serde_json::json!({ "evidence": added.id, "title": title, "kind": kind.key(), "files": files.len(), "signature": signature }),
    )
    .await?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    placed.committed();
    // The item holds the uploads' bytes under names of its own now.
    for upload in upload_ids {
        if let Err(e) = state.files.remove_resumable(upload).await {
            tracing::warn!(%upload, error = %e, "a used upload's bytes could not be removed");
        }
    }
    Ok(Redirect::to(&format!("/enrolments/{id}/evidence/{}", added.id)).into_response())
}

#[allow(clippy::too_many_arguments)]
fn again(
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    form: NewEvidence,
    assessor: bool,
    errors: Vec<FieldError>,
    file_problem: Option<String>,
    state: &AppState,
) -> NewEvidencePage {
    NewEvidencePage {
        header,
        user,
        enrolment_id,
        form,
        kinds: EvidenceKind::offered(assessor),
        errors,
        file_problem,
        limit_mb: state.files.limit_mb(),
        media_limit_mb: state.files.max_media_bytes.div_ceil(1024 * 1024),
        assessor,
        statement: if assessor {
            SignedKind::ObservationRecord.statement()
        } else {
            SignedKind::LearnerDeclaration.statement()
        },
    }
}

/// One tick as shown: who and when.
pub(crate) struct TickView {
    pub by: String,
    pub at: String,
}

pub(crate) struct CriterionRow {
    pub id: Uuid,
    /// Its unit's code: with the number, what names it among thousands ("201 1.1").
    pub unit: String,
    pub number: String,
    pub text: String,
    /// Learner, trainee assessor, assessor.
    pub layers: [Option<TickView>; 3],
}

impl CriterionRow {
    /// The criterion named as assessors write it: "201 1.1".
    pub fn reference(&self) -> String {
        format!("{} {}", self.unit, self.number)
    }

    /// Claimed by the learner on this item, and neither a trainee nor an assessor has
    /// ticked it here: where the assessor's eye should go.
    pub fn awaiting(&self) -> bool {
        self.layers[0].is_some() && self.layers[1].is_none() && self.layers[2].is_none()
    }

    /// Ticked by a trainee on this item and not countersigned here yet.
    pub fn countersign(&self) -> bool {
        self.layers[1].is_some() && self.layers[2].is_none()
    }
}

pub(crate) struct OutcomeView {
    pub number: String,
    pub title: String,
    pub criteria: Vec<CriterionRow>,
}

pub(crate) struct UnitView {
    pub code: String,
    pub title: String,
    pub outcomes: Vec<OutcomeView>,
    /// Criteria of the unit, and those claimed or ticked on this item.
    pub criteria: usize,
    pub ticked: usize,
}

impl UnitView {
    /// "3 of 16 criteria claimed or ticked here", said short.
    pub fn counts(&self) -> String {
        match self.ticked {
            0 => format!("{} criteria, none ticked here", self.criteria),
            n => format!("{n} of {} criteria claimed or ticked here", self.criteria),
        }
    }
}

/// Keeps only the criteria claimed or ticked on this item, and the outcomes and units
/// that hold any.
fn only_ticked_units(units: Vec<UnitView>) -> Vec<UnitView> {
    units
        .into_iter()
        .filter(|u| u.ticked > 0)
        .map(|mut u| {
            u.outcomes = std::mem::take(&mut u.outcomes)
                .into_iter()
                .map(|mut o| {
                    o.criteria.retain(|c| c.layers.iter().any(Option::is_some));
                    o
                })
                .filter(|o| !o.criteria.is_empty())
                .collect();
            u
        })
        .collect()
}

// Minimised whitespace: the template's indentation, repeated for 1,500 criteria, was
// a third of the page.
#[derive(Template)]
#[template(path = "pages/portfolio/evidence.html", whitespace = "minimize")]
pub(crate) struct EvidencePage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    evidence: db_evidence::Evidence,
    added_by: String,
    added_on: String,
    /// Each file, with what reading its text found ("text read: 412 words").
    files: Vec<(db_evidence::EvidenceFile, String)>,
    units: Vec<UnitView>,
    /// Every unit, for the jump list: its code, title and counts.
    unit_list: Vec<(String, String, String)>,
    /// Only the criteria claimed or ticked here are listed (else all of them).
    only_ticked: bool,
    /// How many criteria the qualification has, and how many are ticked here.
    criteria_total: usize,
    criteria_ticked: usize,
    /// The layer the viewer ticks in, if any.
    layer: Option<Layer>,
    learner_acceptable: usize,
    trainee_acceptable: usize,
    /// The item's signed records: a declaration, a record, a testimony.
    signed: Vec<crate::web::signed::SignedView>,
    /// The assessor may correct a testimony (a new version to sign again).
    may_correct: bool,
    /// The criteria the item's text most likely meets; None before it is ranked, or
    /// when the centre turned suggestions off.
    suggestions: Option<super::suggestions::SuggestionsView>,
}

/// Up to this many criteria, every unit of the full list is open; above it (a 1,500-
/// criterion qualification was 6,000 px of page), only the units ticked here are.
const OPEN_UP_TO: usize = 100;

impl EvidencePage {
    fn open_all(&self) -> bool {
        self.only_ticked || self.criteria_total <= OPEN_UP_TO
    }

    fn layer_index(&self) -> usize {
        self.layer.map_or(usize::MAX, |l| l as usize)
    }
}

impl EvidencePage {
    /// About 600 bytes a criterion row (a tick form in one layer), plus the frame.
    fn expected_size(&self) -> usize {
        let criteria: usize = self
            .units
            .iter()
            .flat_map(|u| &u.outcomes)
            .map(|o| o.criteria.len())
            .sum();
        16 * 1024 + criteria * 640
    }
}

pub async fn page(
    State(state): State<AppState>,
    portfolio: Portfolio,
    Ids((id, evidence_id)): Ids<(Uuid, Uuid)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // Read by hand: whatever else the address holds (a repeated or unreadable `view`),
    // the page answers, in the first view it names or the default.
    let asked = query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "view")
            .map(|(_, v)| v.into_owned())
    });
    let view = page_cache::ItemView::from_query(asked.as_deref());
    let (key, revision) = match portfolio.asked(
        &state,
        page_cache::Page::Evidence(view),
        Some(evidence_id),
        &headers,
    ) {
        Asked::Kept(page) => return Ok(page),
        Asked::ToRender(key, revision) => (key, revision),
    };
    let Portfolio {
        user,
        enrolment,
        capacity,
        ..
    } = portfolio;
    let db = &state.pool;
    let evidence = db_evidence::get(db, evidence_id).await?;
    if evidence.enrolment_id != id {
        return Err(AppError::NotFound);
    }
    let version = state.versions.load(db, enrolment.version_id).await?;
    let ticks = db_ticks::on_evidence(db, evidence_id).await?;
    let mut people: Vec<Uuid> = ticks.iter().map(|t| t.by).collect();
    people.push(evidence.added_by);
    people.push(enrolment.learner_id);
    let names = users::names(db, &people).await?;
    let mut files = db_evidence::list_files(db, evidence_id).await?;
    for f in &mut files {
        f.file_name = clean_file_name(&f.file_name);
    }
    let read = crate::db::evidence_texts::files_read(db, evidence_id).await?;
    let files = with_text_notes(files, read);
    let layer = capacity.layer();
    let (learner_acceptable, trainee_acceptable) = acceptable(&ticks, layer);
    let signed = crate::web::signed::of_evidence(&state, evidence_id).await?;
    let suggestions = crate::db::suggestions::of_item(db, evidence_id)
        .await?
        .map(|kept| super::suggestions::view(kept, &version, &ticks, &names, layer));
    let units = tree(&version, &ticks, &names);
    // Staff read what the learner claimed; a learner looks for what to claim.
    let only_ticked = match view {
        page_cache::ItemView::Claimed => true,
        page_cache::ItemView::All => false,
        page_cache::ItemView::Default => {
            capacity != crate::domain::access::Capacity::Learner && !ticks.is_empty()
        }
    };
    let page = EvidencePage {
        suggestions,
        signed,
        may_correct: capacity == crate::domain::access::Capacity::Assessor,
        header: super::Header {
            enrolment_id: id,
            learner: names
                .get(&enrolment.learner_id)
                .cloned()
                .unwrap_or_default(),
            status: enrolment.status,
        },
        enrolment_id: id,
        added_by: names.get(&evidence.added_by).cloned().unwrap_or_default(),
        added_on: day(&evidence.added_at),
        files,
        unit_list: units
            .iter()
            .map(|u| (u.code.clone(), u.title.clone(), u.counts()))
            .collect(),
        criteria_total: units.iter().map(|u| u.criteria).sum(),
        criteria_ticked: units.iter().map(|u| u.ticked).sum(),
        only_ticked,
        units: if only_ticked {
            only_ticked_units(units)
        } else {
            units
        },
        learner_acceptable,
        trainee_acceptable,
        layer,
        evidence,
        user,
    };
    let size = page.expected_size();
    page_cache::render_and_keep(&state, key, revision, &page, size, &headers)
}

/// Each file with what the page says of its text: what the reading found, or that it is
/// being read (the item changed since, or it was never read yet).
fn with_text_notes(
    files: Vec<db_evidence::EvidenceFile>,
    read: Option<(bool, serde_json::Value)>,
) -> Vec<(db_evidence::EvidenceFile, String)> {
    let (current, outcomes) = read.unwrap_or((false, serde_json::Value::Null));
    let outcomes = outcomes.as_array().cloned().unwrap_or_default();
    files
        .into_iter()
        .map(|f| {
            let found = outcomes
                .iter()
                .find(|o| o.get("file").and_then(|id| id.as_str()) == Some(&f.id.to_string()))
                .and_then(crate::evidence_text::file_note);
            let note = match (found, current) {
                (Some(note), _) => note,
                (None, false) => "its text is being read".to_string(),
                (None, true) => String::new(),
            };
            (f, note)
        })
        .collect()
}

/// How many criteria "Accept all learner ticks" and "Accept all trainee assessor ticks"
/// would tick for a viewer in `layer` (zero where the viewer may not use them).
pub(super) fn acceptable<P: Placed>(ticks: &[P], layer: Option<Layer>) -> (usize, usize) {
    let count = |f: fn(&[P], Layer) -> Result<Vec<Uuid>, _>| {
        layer.and_then(|l| f(ticks, l).ok()).map_or(0, |v| v.len())
    };
    (
        count(accept_all_learner_ticks),
        count(accept_all_trainee_ticks),
    )
}

/// One criterion's row with this item's ticks: what an in-place tick swaps in.
pub(super) fn row(
    version: &qualifications::LoadedVersion,
    ticks: &[Tick],
    names: &HashMap<Uuid, String>,
    criterion: Uuid,
) -> Option<CriterionRow> {
    let ordinal = version
        .criterion_ids
        .iter()
        .position(|&id| id == criterion)?;
    let (unit, c) = version
        .qualification
        .units
        .iter()
        .flat_map(|u| {
            u.outcomes
                .iter()
                .flat_map(move |o| o.criteria.iter().map(move |c| (u, c)))
        })
        .nth(ordinal)?;
    let mut layers: [Option<TickView>; 3] = Default::default();
    for t in ticks.iter().filter(|t| t.criterion == criterion) {
        layers[t.layer as usize] = Some(tick_view(t, names));
    }
    Some(CriterionRow {
        id: criterion,
        unit: unit.code.clone(),
        number: c.number.clone(),
        text: c.text.clone(),
        layers,
    })
}

fn tick_view(t: &Tick, names: &HashMap<Uuid, String>) -> TickView {
    TickView {
        by: names.get(&t.by).cloned().unwrap_or_default(),
        at: day(&t.at),
    }
}

/// The qualification's units, outcomes and criteria with this item's ticks placed.
fn tree(
    version: &qualifications::LoadedVersion,
    ticks: &[Tick],
    names: &HashMap<Uuid, String>,
) -> Vec<UnitView> {
    let mut by_criterion: HashMap<Uuid, [Option<TickView>; 3]> = HashMap::new();
    for t in ticks {
        by_criterion.entry(t.criterion).or_default()[t.layer as usize] = Some(tick_view(t, names));
    }
    let mut ordinal = 0;
    version
        .qualification
        .units
        .iter()
        .map(|u| {
            let mut unit = UnitView {
                code: u.code.clone(),
                title: u.title.clone(),
                criteria: 0,
                ticked: 0,
                outcomes: u
                    .outcomes
                    .iter()
                    .map(|o| OutcomeView {
                        number: o.number.clone(),
                        title: o.title.clone(),
                        criteria: o
                            .criteria
                            .iter()
                            .map(|c| {
                                let id = version.criterion_ids[ordinal];
                                ordinal += 1;
                                CriterionRow {
                                    id,
                                    unit: u.code.clone(),
                                    number: c.number.clone(),
                                    text: c.text.clone(),
                                    layers: by_criterion.remove(&id).unwrap_or_default(),
                                }
                            })
                            .collect(),
                    })
                    .collect(),
            };
            let rows = unit.outcomes.iter().flat_map(|o| &o.criteria);
            unit.criteria = rows.clone().count();
            unit.ticked = rows
                .filter(|c| c.layers.iter().any(Option::is_some))
                .count();
            unit
        })
        .collect()
}

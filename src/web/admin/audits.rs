//! Bulk audits (SPEC §4: admins audit many enrolments at once): choose a qualification
//! or a set of enrolments, watch the run's progress, read what it did.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgPool;
use uuid::Uuid;

use super::admin;
use crate::db::bulk_audit::audit_many;
use crate::db::bulk_audit_runs::{self as runs, BulkAuditRun, EnrolmentChoice, Item};
use crate::db::users::{self, User};
use crate::domain::form::{message_for, FieldError};
use crate::domain::outcome::Outcome;
use crate::domain::text::thousands;
use crate::web::auth::CurrentUser;
use crate::web::home::day;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// The form as posted: `enrolment` repeats, once per ticked box.
#[derive(Debug, Default)]
pub(crate) struct Chosen {
    scope: String,
    qualification: String,
    enrolments: Vec<String>,
}

fn read_chosen(body: &[u8]) -> Chosen {
    let mut c = Chosen::default();
    for (key, value) in form_urlencoded::parse(body) {
        match &*key {
            "scope" => c.scope = value.into_owned(),
            "qualification" => c.qualification = value.into_owned(),
            "enrolment" => c.enrolments.push(value.into_owned()),
            _ => {}
        }
    }
    c
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/audits.html")]
pub(crate) struct AuditsPage {
    user: User,
    form: Chosen,
    errors: Vec<FieldError>,
    /// (value, text) pairs for the qualification select.
    qualifications: Vec<(String, String)>,
    enrolments: Vec<EnrolmentChoice>,
    runs: Vec<RunView>,
}

impl AuditsPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn ticked(&self, id: &Uuid) -> bool {
        let id = id.to_string();
        self.form.enrolments.contains(&id)
    }
}

async fn chooser(
    state: &AppState,
    user: User,
    form: Chosen,
    errors: Vec<FieldError>,
) -> Result<AuditsPage, AppError> {
    let qualifications = runs::qualification_choices(&state.pool, user.centre_id)
        .await?
        .into_iter()
        .map(|q| {
            let text = format!(
                "{} {} ({} {})",
                q.code,
                q.title,
                thousands(q.enrolments),
                if q.enrolments == 1 {
                    "enrolment"
                } else {
                    "enrolments"
                }
            );
            (q.id.to_string(), text)
        })
        .collect();
    let enrolments = runs::enrolment_choices(&state.pool, user.centre_id).await?;
    let recent = runs::recent(&state.pool, user.centre_id, 10).await?;
    Ok(AuditsPage {
        runs: recent.iter().map(RunView::new).collect(),
        user,
        form,
        errors,
        qualifications,
        enrolments,
    })
}

pub async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<AuditsPage, AppError> {
    let user = admin(current)?;
    chooser(&state, user, Chosen::default(), Vec::new()).await
}

/// Start a run in the background and show its page; bad input starts nothing.
pub async fn start(
    State(state): State<AppState>,
    current: CurrentUser,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let form = read_chosen(&body);
    let (qualification, ids) = match chosen_enrolments(&state.pool, &user, &form).await? {
        Ok(chosen) => chosen,
        Err(error) => {
            let page = chooser(&state, user, form, vec![error]).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let run_id = runs::create(
        &state.pool,
        user.centre_id,
        Some(user.id),
        qualification,
        ids.len(),
    )
    .await?;
    tokio::spawn(run(state.pool.clone(), run_id, ids, user.id));
    Ok(Redirect::to(&format!("/admin/audits/{run_id}")).into_response())
}

/// The enrolments the form chose (and the qualification, when it chose one), or what
/// is wrong with it, said beside the field.
async fn chosen_enrolments(
    pool: &PgPool,
    user: &User,
    form: &Chosen,
) -> Result<Result<(Option<Uuid>, Vec<Uuid>), FieldError>, AppError> {
    if form.scope == "chosen" {
        if form.enrolments.is_empty() {
            return Ok(Err(FieldError::new(
                "enrolment",
                "Select at least one enrolment to audit",
            )));
        }
        let ids: Option<Vec<Uuid>> = form
            .enrolments
            .iter()
            .map(|e| Uuid::parse_str(e.trim()).ok())
            .collect();
        let mut asked = ids.unwrap_or_default();
        asked.sort_unstable();
        asked.dedup();
        let own = runs::own_enrolments(pool, user.centre_id, &asked).await?;
        if asked.is_empty() || own != asked {
            return Ok(Err(FieldError::new(
                "enrolment",
                "Select enrolments from the list",
            )));
        }
        return Ok(Ok((None, own)));
    }
    let Some(q) = Uuid::parse_str(form.qualification.trim()).ok() else {
        return Ok(Err(FieldError::new(
            "qualification",
            "Select the qualification whose enrolments to audit",
        )));
    };
    if !runs::qualification_of_centre(pool, user.centre_id, q).await? {
        return Ok(Err(FieldError::new(
            "qualification",
            "Select the qualification whose enrolments to audit",
        )));
    }
    let ids = runs::enrolments_of_qualification(pool, user.centre_id, q).await?;
    if ids.is_empty() {
        return Ok(Err(FieldError::new(
            "qualification",
            "This qualification has no enrolments yet: select another",
        )));
    }
    Ok(Ok((Some(q), ids)))
}

/// The run itself: the audits, with progress written to the run's row as chunks
/// commit (the page polls it), then what each audit did, or the error that stopped it.
async fn run(pool: PgPool, run_id: Uuid, ids: Vec<Uuid>, actor: Uuid) {
    let done = Arc::new(AtomicUsize::new(0));
    let reported = Arc::clone(&done);
    let audits = audit_many(&pool, &ids, Some(actor), move |n, _| {
        reported.store(n, Ordering::Relaxed)
    });
    tokio::pin!(audits);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let (mut written, mut written_at) = (0, tokio::time::Instant::now());
    let result = loop {
        tokio::select! {
            result = &mut audits => break result,
            _ = tick.tick() => {
                let now = done.load(Ordering::Relaxed);
                // Also every few seconds without news, so a slow chunk is not taken for
                // a run whose server stopped.
                if now != written || written_at.elapsed() > Duration::from_secs(10) {
                    match runs::set_done(&pool, run_id, now).await {
                        Ok(()) => (written, written_at) = (now, tokio::time::Instant::now()),
                        Err(e) => tracing::warn!(error = %e, %run_id, "recording bulk audit progress"),
                    }
                }
            }
        }
    };
    let recorded = match result {
        Ok(audited) => runs::finish(&pool, run_id, &audited).await,
        Err(e) => {
            tracing::error!(error = %e, %run_id, "bulk audit stopped");
            runs::fail(&pool, run_id, &e.to_string()).await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, %run_id, "recording the end of a bulk audit");
    }
}

/// A run as its pages show it.
pub(crate) struct RunView {
    id: Uuid,
    total: i32,
    done: i32,
    running: bool,
    stalled: bool,
    error: Option<String>,
    started: String,
    /// "every enrolment of …" or "12 chosen enrolments".
    scope: String,
}

impl RunView {
    fn new(r: &BulkAuditRun) -> RunView {
        RunView {
            id: r.id,
            total: r.total,
            done: r.done,
            running: r.running(),
            stalled: r.stalled,
            error: r.error.clone(),
            started: day(&r.started_at),
            scope: match &r.qualification_code {
                Some(code) => format!("Every enrolment of {code}"),
                None => "Chosen enrolments".to_string(),
            },
        }
    }

    fn progress_text(&self) -> String {
        format!(
            "{} of {} audited",
            thousands(i64::from(self.done)),
            thousands(i64::from(self.total))
        )
    }

    fn state(&self) -> &'static str {
        if self.running {
            "Running"
        } else if self.stalled {
            "Stopped"
        } else if self.error.is_some() {
            "Failed"
        } else {
            "Finished"
        }
    }
}

/// A finished run's summary.
pub struct Summary {
    /// (outcome, how many), in the SPEC's order, outcomes with none left out.
    outcomes: Vec<(&'static str, String)>,
    changed: String,
    items: Vec<Item>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/audit_run.html")]
pub(crate) struct RunPage {
    user: User,
    run: RunView,
    summary: Option<Summary>,
    by: String,
}

/// Just the progress (and, once finished, the summary): what htmx polls.
#[derive(Template, WebTemplate)]
#[template(path = "partials/bulk_progress.html")]
pub(crate) struct ProgressFragment {
    run: RunView,
    summary: Option<Summary>,
}

/// The run, if it is of the admin's centre (any other is 404), with its summary once
/// it has finished.
async fn load(
    state: &AppState,
    user: &User,
    id: Uuid,
) -> Result<(BulkAuditRun, Option<Summary>), AppError> {
    let run = runs::get(&state.pool, id).await?;
    if run.centre_id != user.centre_id {
        return Err(AppError::NotFound);
    }
    let summary = if run.finished_at.is_some() && run.error.is_none() {
        let items = runs::items(&state.pool, id).await?;
        let outcomes = Outcome::ALL
            .iter()
            .filter_map(|o| {
                let n = items.iter().filter(|i| i.outcome == *o).count();
                (n > 0).then(|| (o.label(), thousands(n as i64)))
            })
            .collect();
        let changed = items.iter().filter(|i| i.before != i.after).count();
        Some(Summary {
            outcomes,
            changed: thousands(changed as i64),
            items,
        })
    } else {
        None
    };
    Ok((run, summary))
}

pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<RunPage, AppError> {
    let user = admin(current)?;
    let (run, summary) = load(&state, &user, id).await?;
    let by = match run.actor_id {
        Some(a) => users::get(&state.pool, a).await?.display_name,
        None => "attest (automatic)".to_string(),
    };
    Ok(RunPage {
        user,
        run: RunView::new(&run),
        summary,
        by,
    })
}

pub async fn progress(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<ProgressFragment, AppError> {
    let user = admin(current)?;
    let (run, summary) = load(&state, &user, id).await?;
    Ok(ProgressFragment {
        run: RunView::new(&run),
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_in_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(3000), "3,000");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-4500), "-4,500");
    }

    #[test]
    fn repeated_enrolment_boxes_are_all_read() {
        let c = read_chosen(b"scope=chosen&enrolment=a&enrolment=b&qualification=");
        assert_eq!(c.scope, "chosen");
        assert_eq!(c.enrolments, vec!["a", "b"]);
    }
}

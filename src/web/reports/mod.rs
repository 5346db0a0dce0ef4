//! The enrolment reports of SPEC §3 as pages: an assessor's caseload, an IQA's sample,
//! an admin's centre. One component: the same filters, order, paging and CSV export,
//! over the enrolments the viewer may see. The view lives in the address; with htmx the
//! results swap in place as filters change, without it the filter form is a plain GET.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::TryStreamExt;
use time::OffsetDateTime;

use super::auth::CurrentUser;
use super::csv_export;
use super::{AppError, AppState};
use crate::db::report::{self, Choices, ReportRow, Scope};
use crate::db::users::{Role, User};
use crate::domain::report::{Column, Problem, ReportQuery};

mod chart;
pub(crate) mod dashboard;
mod view;

pub use view::ReportView;
pub(crate) use view::{anchor, message, FormFields, ListQuery, ListView, ListWords, Opt, Select};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/caseload",
            get(|s, u, q, h| show(Kind::Caseload, s, u, q, h)),
        )
        .route(
            "/caseload.csv",
            get(|s, u, q| export(Kind::Caseload, s, u, q)),
        )
        .route("/sample", get(|s, u, q, h| show(Kind::Sample, s, u, q, h)))
        .route("/sample.csv", get(|s, u, q| export(Kind::Sample, s, u, q)))
        .route("/sample/dashboard", get(dashboard::sample))
        .route(
            "/admin/enrolments.csv",
            get(|s, u, q| export(Kind::Centre, s, u, q)),
        )
        .route("/admin/dashboard", get(dashboard::centre))
}

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Caseload,
    Sample,
    Centre,
}

impl Kind {
    pub fn path(self) -> &'static str {
        match self {
            Kind::Caseload => "/caseload",
            Kind::Sample => "/sample",
            Kind::Centre => "/admin/enrolments",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Caseload => "Your caseload",
            Kind::Sample => "Your IQA sample",
            Kind::Centre => "Enrolments",
        }
    }

    fn file_stem(self) -> &'static str {
        match self {
            Kind::Caseload => "caseload",
            Kind::Sample => "iqa-sample",
            Kind::Centre => "enrolments",
        }
    }

    /// The columns of the table, in order; every one sorts. One's own caseload has no
    /// assessor column.
    pub fn columns(self) -> Vec<Column> {
        Column::ALL
            .into_iter()
            .filter(|c| self != Kind::Caseload || *c != Column::Assessor)
            .collect()
    }

    /// The report of this kind for `user`, or none: it does not exist for them.
    pub(crate) fn scope_for(self, user: &User) -> Result<Scope, AppError> {
        let allowed = match self {
            Kind::Caseload => user.has_role(Role::Assessor) || user.has_role(Role::TraineeAssessor),
            Kind::Sample => user.has_role(Role::Iqa),
            Kind::Centre => user.has_role(Role::Admin),
        };
        if !allowed {
            return Err(AppError::NotFound);
        }
        Ok(match self {
            Kind::Caseload => Scope::Caseload(user.id),
            Kind::Sample => Scope::Sample(user.id),
            Kind::Centre => Scope::Centre,
        })
    }

    /// Filters by person that make sense in this report.
    pub(crate) fn offers_assessor(self) -> bool {
        self != Kind::Caseload
    }

    pub(crate) fn offers_iqa(self) -> bool {
        self != Kind::Sample
    }
}

/// The query string's pairs, read leniently: what cannot be read is reported by
/// `ReportQuery::parse`, never refused. A filter by a person the report does not offer
/// (the assessor of one's own caseload) is left out, as any other name it does not know.
pub(crate) fn read_query(kind: Kind, raw: Option<&str>) -> (ReportQuery, Vec<Problem>) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(k, _)| {
            (k != "assessor" || kind.offers_assessor()) && (k != "iqa" || kind.offers_iqa())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    ReportQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Ids in the filters that are not among the centre's choices (a forged or stale
/// link): said beside the field. The filter still applies, so it matches nothing the
/// viewer may not see.
fn check_choices(q: &ReportQuery, choices: &Choices, problems: &mut Vec<Problem>) {
    let f = &q.filters;
    let checks = [
        (
            "qualification",
            f.qualification,
            &choices.qualifications,
            "a qualification",
        ),
        ("major", f.major, &choices.majors, "a major"),
        ("assessor", f.assessor, &choices.assessors, "an assessor"),
        (
            "trainee",
            f.trainee,
            &choices.trainees,
            "a trainee assessor",
        ),
        ("iqa", f.iqa, &choices.iqas, "an IQA"),
    ];
    for (field, value, list, what) in checks {
        if let Some(id) = value {
            if !list.iter().any(|c| c.id == id) {
                problems.push(Problem {
                    field,
                    message: format!(
                        "That is not {what} of your centre, so no enrolments match it."
                    ),
                });
            }
        }
    }
}

pub(crate) async fn centre(
    state: State<AppState>,
    user: CurrentUser,
    query: RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    show(Kind::Centre, state, user, query, headers).await
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/report.html")]
struct ReportPage {
    user: User,
    report: ReportView,
    out_of_band: bool,
}

/// Only the results, for htmx to swap in place (with the order and the problems swapped
/// out of band, so the filter form and the error summary follow).
#[derive(Template, WebTemplate)]
#[template(path = "partials/report_results.html")]
struct ReportResults {
    report: ReportView,
    out_of_band: bool,
}

async fn show(
    kind: Kind,
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let scope = kind.scope_for(&user)?;
    let (query, mut problems) = read_query(kind, raw.as_deref());
    let db = &state.pool;
    let choices = report::choices(db, user.centre_id).await?;
    check_choices(&query, &choices, &mut problems);
    let page = report::page(db, user.centre_id, scope, &query).await?;
    let report = ReportView::new(kind, query, problems, page, choices);
    let in_place = headers
        .get("hx-target")
        .is_some_and(|t| t == "report-results");
    Ok(if in_place {
        ReportResults {
            report,
            out_of_band: true,
        }
        .into_response()
    } else {
        ReportPage {
            user,
            report,
            out_of_band: false,
        }
        .into_response()
    })
}

/// The CSV's columns: every column of the table, and the ids to match rows back.
const CSV_HEADER: [&str; 40] = [
    "enrolment_id",
    "learner_id",
    "learner",
    "learner_email",
    "qualification_id",
    "qualification_code",
    "qualification_title",
    "qualification_version",
    "major_id",
    "major_code",
    "major_title",
    "status",
    "assessor_id",
    "assessor",
    "assessor_email",
    "trainee_assessor_id",
    "trainee_assessor",
    "trainee_assessor_email",
    "iqa_id",
    "iqa",
    "iqa_email",
    "start_date",
    "planned_end_date",
    "employer",
    "criteria_confirmed",
    "criteria_total",
    "confirmed_progress_percent",
    "units_achieved",
    "units_total",
    "claims_to_review",
    "awaiting_countersignature",
    "open_iqa_actions",
    "latest_audit_outcome",
    "latest_audit_at",
    "last_activity_at",
    "no_activity_for_30_days",
    "status_key",
    "behind_on_otj",
    "review_overdue",
    "review_unsigned_after_14_days",
];

fn csv_cells(r: &ReportRow) -> [String; 40] {
    let id = |v: Option<uuid::Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        r.enrolment_id.to_string(),
        r.learner_id.to_string(),
        r.learner.clone(),
        r.learner_email.clone(),
        r.qualification_id.to_string(),
        r.qualification_code.clone(),
        r.qualification_title.clone(),
        r.version.to_string(),
        r.major_id.to_string(),
        r.major_code.clone(),
        r.major_title.clone(),
        r.status.label().to_string(),
        r.assessor_id.to_string(),
        r.assessor.clone(),
        r.assessor_email.clone(),
        id(r.trainee_id),
        r.trainee.clone().unwrap_or_default(),
        r.trainee_email.clone().unwrap_or_default(),
        id(r.iqa_id),
        r.iqa.clone().unwrap_or_default(),
        r.iqa_email.clone().unwrap_or_default(),
        r.start_date.map(|d| d.to_string()).unwrap_or_default(),
        r.planned_end_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        r.employer.clone().unwrap_or_default(),
        r.confirmed.to_string(),
        r.criteria_total.to_string(),
        r.progress.to_string(),
        r.units_achieved.to_string(),
        r.unit_total.to_string(),
        r.claims_to_review.to_string(),
        r.awaiting_countersignature.to_string(),
        r.open_iqa_actions.to_string(),
        r.latest_outcome
            .map(|o| o.label().to_string())
            .unwrap_or_default(),
        r.latest_audit_at.map(csv_export::iso).unwrap_or_default(),
        csv_export::iso(r.last_activity_at),
        if r.stale { "yes" } else { "no" }.to_string(),
        r.status.key().to_string(),
        if r.behind_otj { "yes" } else { "no" }.to_string(),
        if r.review_overdue { "yes" } else { "no" }.to_string(),
        if r.review_unsigned { "yes" } else { "no" }.to_string(),
    ]
}

/// Exactly the rows the report shows with these filters and this order, every page of
/// them, streamed.
async fn export(
    kind: Kind,
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let scope = kind.scope_for(&user)?;
    let (query, _) = read_query(kind, raw.as_deref());
    let today = crate::web::home::iso_day(OffsetDateTime::now_utc());
    let (sink, response) = csv_export::download(&format!("{}-{today}.csv", kind.file_stem()));
    let pool = state.pool.clone();
    let centre = user.centre_id;
    csv_export::spawn(sink, move |sink| {
        Box::pin(async move {
            sink.row(CSV_HEADER).await?;
            let mut statement = report::all_rows_query(centre, scope, &query);
            let mut rows = statement.build().fetch(&pool);
            while let Some(row) = rows.try_next().await? {
                let cells = csv_cells(&report::read_row(&row)?);
                sink.row(cells.iter().map(String::as_str)).await?;
            }
            Ok(())
        })
    });
    Ok(response)
}

//! The centre dashboard (admins) and the IQA's view of their sample: where the
//! enrolments stand, drawn as charts whose bars open the report filtered to the
//! enrolments they count. Read from the figures kept on each enrolment: one row per
//! enrolment, never a tick.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use time::OffsetDateTime;

use super::chart::{Bar, Chart, Series, Shape};
use super::Kind;
use crate::db::iqa::{self, CoverageRow};
use crate::db::report::Scope;
use crate::db::report_tallies::{self as tallies, Summary};
use crate::db::users::User;
use crate::domain::report::{Band, Filters, Month, ReportQuery};
use crate::web::auth::CurrentUser;
use crate::web::{AppError, AppState};

/// Months the credential chart covers, this one included.
const MONTHS: usize = 12;

#[derive(Template, WebTemplate)]
#[template(path = "pages/dashboard.html")]
pub(crate) struct DashboardPage {
    user: User,
    title: &'static str,
    report_title: &'static str,
    report_path: &'static str,
    summary: Summary,
    charts: Vec<Chart>,
    /// An IQA's sampling coverage by assessor (SPEC §7), under their sample's charts.
    coverage: Vec<CoverageRow>,
    /// The centre's apprenticeships at funding risk (issue 14), on the admin's dashboard.
    funding_risk: Option<i64>,
}

pub(crate) async fn centre(
    state: State<AppState>,
    user: CurrentUser,
) -> Result<DashboardPage, AppError> {
    show(Kind::Centre, state, user).await
}

pub(crate) async fn sample(
    state: State<AppState>,
    user: CurrentUser,
) -> Result<DashboardPage, AppError> {
    show(Kind::Sample, state, user).await
}

/// The report's address with these filters.
fn link(kind: Kind, filters: Filters) -> String {
    let q = ReportQuery {
        filters,
        ..ReportQuery::default()
    }
    .to_query_string();
    format!("{}?{q}", kind.path())
}

async fn show(
    kind: Kind,
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<DashboardPage, AppError> {
    let scope: Scope = kind.scope_for(&user)?;
    let db = &state.pool;
    let centre = user.centre_id;
    let this_month = Month::of(OffsetDateTime::now_utc().date());
    let mut first = this_month;
    for _ in 1..MONTHS {
        first = first.previous();
    }
    let summary = tallies::summary(db, centre, scope).await?;
    let funding_risk = match kind {
        Kind::Centre => Some(
            crate::db::funding_risk::count_at_risk(db, centre, OffsetDateTime::now_utc().date())
                .await?,
        ),
        _ => None,
    };
    let bands = tallies::progress_bands(db, centre, scope).await?;
    let assessors = tallies::by_assessor(db, centre, scope).await?;
    let months = tallies::credentials_by_month(db, centre, scope, first.first_day()).await?;

    let statuses = Chart {
        id: "chart-status",
        title: "Enrolments by status",
        unit: "Enrolments",
        shape: Shape::Rows,
        series: vec![Series {
            name: "Enrolments",
            class: "bar-status",
        }],
        bars: summary
            .by_status
            .iter()
            .map(|(status, n)| Bar {
                label: status.label().to_string(),
                short: String::new(),
                values: vec![(
                    *n,
                    link(
                        kind,
                        Filters {
                            status: Some(*status),
                            ..Filters::default()
                        },
                    ),
                )],
            })
            .collect(),
        empty: "No enrolments yet.",
    };
    let progress = Chart {
        id: "chart-progress",
        title: "Confirmed progress",
        unit: "Enrolments",
        shape: Shape::Columns,
        series: vec![Series {
            name: "Enrolments",
            class: "bar-progress",
        }],
        bars: Band::deciles()
            .into_iter()
            .zip(bands)
            .map(|(band, n)| Bar {
                label: band.label(),
                short: format!("{}%", band.from),
                values: vec![(
                    n,
                    link(
                        kind,
                        Filters {
                            progress: Some(band),
                            ..Filters::default()
                        },
                    ),
                )],
            })
            .collect(),
        empty: "No enrolments yet.",
    };
    let by_assessor = |id, title, empty, value: fn(&tallies::ByAssessor) -> i64, stale| Chart {
        id,
        title,
        unit: "Enrolments",
        shape: Shape::Rows,
        series: vec![Series {
            name: "Enrolments",
            class: "bar-attention",
        }],
        bars: assessors
            .iter()
            .map(|a| Bar {
                label: a.assessor.clone(),
                short: String::new(),
                values: vec![(
                    value(a),
                    link(
                        kind,
                        Filters {
                            assessor: Some(a.assessor_id),
                            stale,
                            has_open_actions: !stale,
                            ..Filters::default()
                        },
                    ),
                )],
            })
            .collect(),
        empty,
    };
    let stale = by_assessor(
        "chart-stale",
        "No activity for 30 days, by assessor",
        "Every learner has had activity in the last 30 days.",
        |a| a.stale,
        true,
    );
    let actions = by_assessor(
        "chart-actions",
        "Open IQA actions, by assessor",
        "No IQA actions are open.",
        |a| a.with_open_actions,
        false,
    );
    let mut month = first;
    let mut bars = Vec::with_capacity(MONTHS);
    for _ in 0..MONTHS {
        let (requested, issued) = months
            .iter()
            .find(|(m, _, _)| Month::of(*m) == month)
            .map_or((0, 0), |(_, r, i)| (*r, *i));
        bars.push(Bar {
            label: month.label(),
            short: month.short_label(),
            values: vec![
                (
                    requested,
                    link(
                        kind,
                        Filters {
                            requested: Some(month),
                            ..Filters::default()
                        },
                    ),
                ),
                (
                    issued,
                    link(
                        kind,
                        Filters {
                            issued: Some(month),
                            ..Filters::default()
                        },
                    ),
                ),
            ],
        });
        month = month.next();
    }
    let credentials = Chart {
        id: "chart-credentials",
        title: "Credentials requested and issued, by month",
        unit: "Credentials",
        shape: Shape::Columns,
        series: vec![
            Series {
                name: "Requested",
                class: "bar-requested",
            },
            Series {
                name: "Issued",
                class: "bar-issued",
            },
        ],
        bars,
        empty: "No credential was requested or issued in the last 12 months.",
    };
    let coverage = match kind {
        Kind::Sample => iqa::coverage(db, centre, user.id).await?,
        _ => Vec::new(),
    };
    Ok(DashboardPage {
        coverage,
        funding_risk,
        user,
        title: match kind {
            Kind::Sample => "Your IQA sample: dashboard",
            _ => "Centre dashboard",
        },
        report_title: kind.title(),
        report_path: kind.path(),
        summary,
        charts: vec![statuses, progress, stale, actions, credentials],
    })
}

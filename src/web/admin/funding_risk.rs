//! The funding-risk report (issue 14, point 5): the centre's apprenticeships behind on
//! off-the-job hours, with a review overdue or unsigned, or on a break in learning —
//! sorted, filtered, paged and downloadable with the shared report pieces
//! (`web::reports::ListView`, `partials/report_*.html`).
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::admin;
use crate::db::funding_risk::{self, RiskPage, RiskRow};
use crate::db::users::User;
use crate::domain::apprenticeship::{Break, Minutes, Plan};
use crate::domain::funding_risk::{Risk, RiskColumn, RiskQuery};
use crate::domain::otj::hours_text;
use crate::domain::report::{Problem, Sort, SortColumn};
use crate::domain::reviews::UNSIGNED_FLAG_DAYS;
use crate::web::auth::CurrentUser;
use crate::web::csv_export;
use crate::web::home::date_text;
use crate::web::reports::{message, FormFields, ListQuery, ListView, ListWords, Opt, Select};
use crate::web::{AppError, AppState};

impl ListQuery for RiskQuery {
    type Column = RiskColumn;
    fn sort(&self) -> Sort<RiskColumn> {
        self.sort
    }
    fn page(&self) -> u32 {
        self.page
    }
    fn size(&self) -> u32 {
        self.size
    }
    fn search(&self) -> Option<&str> {
        self.filters.search.as_deref()
    }
    fn is_filtered(&self) -> bool {
        self.filters != Default::default()
    }
    fn sorted_by(&self, column: RiskColumn) -> Self {
        RiskQuery::sorted_by(self, column)
    }
    fn at_page(&self, page: u32) -> Self {
        RiskQuery::at_page(self, page)
    }
    fn with_size(&self, size: u32) -> Self {
        RiskQuery {
            size,
            page: 1,
            ..self.clone()
        }
    }
    fn to_query_string(&self) -> String {
        RiskQuery::to_query_string(self)
    }
}

/// One apprenticeship as a row shows it.
pub(crate) struct Line {
    pub enrolment_id: Uuid,
    pub learner: String,
    pub assessor: String,
    /// "12 of 40 hours (target to date 20)".
    pub hours: String,
    pub behind: Option<String>,
    pub review_due: String,
    pub overdue: bool,
    pub unsigned: Option<String>,
    pub unsigned_flagged: bool,
    pub end: String,
    pub in_break: bool,
}

fn target(r: &RiskRow, breaks: &[(Date, Date)], today: Date) -> Minutes {
    Plan {
        start: r.start_on,
        planned_end: r.planned_end_on,
        planned: Minutes::from(r.planned_minutes),
        breaks: breaks
            .iter()
            .map(|&(from, to)| Break { from, to })
            .collect(),
    }
    .target_on(today)
}

fn line(r: &RiskRow, breaks: &[(Date, Date)], today: Date) -> Line {
    Line {
        enrolment_id: r.enrolment_id,
        learner: r.learner.clone(),
        assessor: r.assessor.clone(),
        hours: format!(
            "{} of {} (to-date target {})",
            hours_text(r.approved_minutes),
            hours_text(Minutes::from(r.planned_minutes)),
            hours_text(target(r, breaks, today))
        ),
        behind: r.behind_from.filter(|d| *d <= today).map(date_text),
        review_due: date_text(r.next_review_due),
        overdue: r.next_review_due < today,
        unsigned: r.oldest_unsigned_review_on.map(date_text),
        unsigned_flagged: r
            .oldest_unsigned_review_on
            .is_some_and(|d| (today - d).whole_days() > UNSIGNED_FLAG_DAYS),
        end: date_text(r.adjusted_end_on),
        in_break: r.in_break,
    }
}

pub(crate) struct RiskView {
    pub rows: Vec<Line>,
    pub list: ListView<RiskColumn>,
}

fn view(
    q: RiskQuery,
    problems: Vec<Problem>,
    page: RiskPage,
    assessors: Vec<(Uuid, String)>,
    today: Date,
) -> RiskView {
    let f = &q.filters;
    let selects = vec![
        Select {
            name: "risk",
            label: "Risk",
            options: Risk::ALL
                .iter()
                .map(|r| Opt {
                    value: r.key().into(),
                    text: r.label().into(),
                    selected: f.risk == Some(*r),
                })
                .collect(),
            error: message(&problems, "risk"),
        },
        Select {
            name: "assessor",
            label: "Assessor",
            options: assessors
                .into_iter()
                .map(|(id, label)| Opt {
                    value: id.to_string(),
                    selected: f.assessor == Some(id),
                    text: label,
                })
                .collect(),
            error: message(&problems, "assessor"),
        },
    ];
    let words = ListWords {
        title: "Funding risk",
        path: "/admin/funding-risk",
        noun: ("apprenticeship", "apprenticeships"),
        search_label: "Search learners",
        search_hint: "Part of a name or email address",
        checks_legend: "",
    };
    let fields = FormFields {
        selects,
        ..FormFields::default()
    };
    let list = ListView::new(
        words,
        &q,
        RiskColumn::ALL,
        (page.total, page.rows.len()),
        problems,
        fields,
    );
    let none = Vec::new();
    let rows = page
        .rows
        .iter()
        .map(|r| line(r, page.breaks.get(&r.enrolment_id).unwrap_or(&none), today))
        .collect();
    RiskView { rows, list }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/funding_risk.html")]
pub(crate) struct RiskPageTemplate {
    user: User,
    report: RiskView,
    out_of_band: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "partials/funding_risk_results.html")]
pub(crate) struct RiskResults {
    report: RiskView,
    out_of_band: bool,
}

fn read_query(raw: Option<&str>) -> (RiskQuery, Vec<Problem>) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    RiskQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// GET /admin/funding-risk
pub(crate) async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let (query, problems) = read_query(raw.as_deref());
    let today = OffsetDateTime::now_utc().date();
    let db = &state.pool;
    let page = funding_risk::page(db, user.centre_id, &query, today).await?;
    let assessors = crate::db::report::choices(db, user.centre_id)
        .await?
        .assessors
        .into_iter()
        .map(|c| (c.id, c.label))
        .collect();
    let report = view(query, problems, page, assessors, today);
    let in_place = headers
        .get("hx-target")
        .is_some_and(|t| t == "report-results");
    Ok(if in_place {
        RiskResults {
            report,
            out_of_band: true,
        }
        .into_response()
    } else {
        RiskPageTemplate {
            user,
            report,
            out_of_band: false,
        }
        .into_response()
    })
}

const CSV_HEADER: [&str; 13] = [
    "enrolment_id",
    "learner",
    "assessor",
    "start_date",
    "planned_end_date",
    "end_with_breaks",
    "planned_otj_hours",
    "approved_otj_hours",
    "behind_since",
    "next_review_due",
    "review_overdue",
    "oldest_unsigned_review",
    "on_a_break",
];

fn csv_cells(r: &RiskRow, today: Date) -> [String; 13] {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    [
        r.enrolment_id.to_string(),
        r.learner.clone(),
        r.assessor.clone(),
        r.start_on.to_string(),
        r.planned_end_on.to_string(),
        r.adjusted_end_on.to_string(),
        hours_text(Minutes::from(r.planned_minutes)),
        hours_text(r.approved_minutes),
        r.behind_from
            .filter(|d| *d <= today)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        r.next_review_due.to_string(),
        yes(r.next_review_due < today),
        r.oldest_unsigned_review_on
            .map(|d| d.to_string())
            .unwrap_or_default(),
        yes(r.in_break),
    ]
}

/// GET /admin/funding-risk.csv: exactly the rows of the report with these filters and
/// this order, every page of them, streamed.
pub(crate) async fn csv(
    State(state): State<AppState>,
    current: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let (query, _) = read_query(raw.as_deref());
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let (sink, response) = csv_export::download(&format!(
        "funding-risk-{}.csv",
        crate::web::home::iso_day(now)
    ));
    let pool = state.pool.clone();
    let centre = user.centre_id;
    csv_export::spawn(sink, move |sink| {
        Box::pin(async move {
            sink.row(CSV_HEADER).await?;
            let mut statement = funding_risk::all_rows_query(centre, &query, today);
            let mut rows = statement.build().fetch(&pool);
            while let Some(row) = rows.try_next().await? {
                let cells = csv_cells(&funding_risk::read_row(&row)?, today);
                sink.row(cells.iter().map(String::as_str)).await?;
            }
            Ok(())
        })
    });
    Ok(response)
}

//! The people of a centre as a report (issue 12): sorted, filtered, paged and
//! downloadable exactly as the enrolment reports are, with the same pieces
//! (`web::reports::ListView` and the `partials/report_*.html` templates). Each row keeps
//! what the list always offered: unlocking sign-in, a new set-password link, and where
//! the last set-password email has got to.
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use time::OffsetDateTime;
use uuid::Uuid;

use super::admin;
use crate::db::outbox::{self, Sending};
use crate::db::people_list::{self, PeoplePage, Person};
use crate::db::users::{Role, User};
use crate::domain::mail::may_send_password_link;
use crate::domain::people_list::{PeopleColumn, PeopleQuery, Standing};
use crate::domain::report::{Problem, Sort, SortColumn};
use crate::web::auth::CurrentUser;
use crate::web::csv_export;
use crate::web::reports::{message, FormFields, ListQuery, ListView, ListWords, Opt, Select};
use crate::web::{AppError, AppState};

/// One person as a row of the list shows them.
pub(crate) struct Line {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub roles: String,
    /// Active, waiting to set a password, or deactivated, in words.
    pub account: &'static str,
    pub added: String,
    /// The same moment in ISO 8601, for the `<time>` element.
    pub added_iso: String,
    /// Failed sign-ins are counted against them: the admin may unlock.
    pub failing: bool,
    /// Where their latest set-password email has got to, in words.
    pub link_email: Option<String>,
    pub may_send_link: bool,
    /// Staff: enrolments may name them, so their caseload may be reassigned.
    pub staff: bool,
}

/// The account as the list says it.
fn account(p: &Person) -> &'static str {
    if !p.active {
        "Deactivated"
    } else if p.password_set {
        "Active"
    } else {
        "Waiting for the person to set a password"
    }
}

fn roles(p: &Person) -> String {
    p.roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The list's view as the shared report pieces read it.
impl ListQuery for PeopleQuery {
    type Column = PeopleColumn;
    fn sort(&self) -> Sort<Self::Column> {
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
        !self.filters.is_empty()
    }
    fn sorted_by(&self, column: Self::Column) -> Self {
        PeopleQuery::sorted_by(self, column)
    }
    fn at_page(&self, page: u32) -> Self {
        PeopleQuery::at_page(self, page)
    }
    fn with_size(&self, size: u32) -> Self {
        PeopleQuery {
            size,
            ..self.clone()
        }
    }
    fn to_query_string(&self) -> String {
        PeopleQuery::to_query_string(self)
    }
}

pub(crate) struct PeopleView {
    pub rows: Vec<Line>,
    pub list: ListView<PeopleColumn>,
}

impl PeopleView {
    fn new(
        query: PeopleQuery,
        problems: Vec<Problem>,
        page: PeoplePage,
        links: HashMap<Uuid, Sending>,
    ) -> PeopleView {
        let f = &query.filters;
        let selects = vec![
            Select {
                name: "role",
                label: "Role",
                options: Role::ALL
                    .iter()
                    .map(|r| Opt {
                        value: r.key().into(),
                        text: r.label().into(),
                        selected: f.role == Some(*r),
                    })
                    .collect(),
                error: message(&problems, "role"),
            },
            Select {
                name: "status",
                label: "Account",
                options: Standing::ALL
                    .iter()
                    .map(|s| Opt {
                        value: s.key().into(),
                        text: s.label().into(),
                        selected: f.standing == Some(*s),
                    })
                    .collect(),
                error: message(&problems, "status"),
            },
        ];
        let words = ListWords {
            title: "People",
            path: "/admin/people",
            noun: ("person", "people"),
            search_label: "Search people",
            search_hint: "Part of a name or email address",
            checks_legend: "",
        };
        let fields = FormFields {
            selects,
            ..FormFields::default()
        };
        let list = ListView::new(
            words,
            &query,
            PeopleColumn::ALL,
            (page.total, page.people.len()),
            problems,
            fields,
        );
        let rows = page
            .people
            .iter()
            .map(|p| Line {
                id: p.id,
                name: p.display_name.clone(),
                email: p.email.clone(),
                roles: roles(p),
                account: account(p),
                added: crate::web::home::day(&p.added_at),
                added_iso: csv_export::iso(p.added_at),
                failing: p.failing,
                link_email: links.get(&p.id).map(|s| s.delivery.describe()),
                may_send_link: may_send_password_link(p.active, p.password_set).is_ok(),
                staff: p.kind == crate::domain::people::UserKind::Staff,
            })
            .collect();
        PeopleView { rows, list }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/people.html")]
pub(crate) struct PeoplePageTemplate {
    user: User,
    report: PeopleView,
    out_of_band: bool,
}

/// Only the results, for htmx to swap in place (the problems, the order and the status
/// follow out of band), as the enrolment reports do.
#[derive(Template, WebTemplate)]
#[template(path = "partials/people_results.html")]
pub(crate) struct PeopleResults {
    report: PeopleView,
    out_of_band: bool,
}

/// The query string read leniently: what cannot be read is reported, never refused.
fn read_query(raw: Option<&str>) -> (PeopleQuery, Vec<Problem>) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    PeopleQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// GET /admin/people: a page of the centre's people, three statements whatever its size
/// (the page's ids and the total, their details, their set-password emails).
pub(crate) async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let (query, problems) = read_query(raw.as_deref());
    let db = &state.pool;
    let page = people_list::page(db, user.centre_id, &query).await?;
    let ids: Vec<Uuid> = page.people.iter().map(|p| p.id).collect();
    let links = outbox::latest_password_links(db, user.centre_id, &ids).await?;
    let report = PeopleView::new(query, problems, page, links);
    let in_place = headers
        .get("hx-target")
        .is_some_and(|t| t == "report-results");
    Ok(if in_place {
        PeopleResults {
            report,
            out_of_band: true,
        }
        .into_response()
    } else {
        PeoplePageTemplate {
            user,
            report,
            out_of_band: false,
        }
        .into_response()
    })
}

/// The CSV's columns: every column of the list, with the ids and keys to match rows back
/// (and to edit and upload again).
const CSV_HEADER: [&str; 10] = [
    "person_id",
    "name",
    "email",
    "kind",
    "roles",
    "role_keys",
    "account",
    "active",
    "password_set",
    "added_at",
];

fn csv_cells(p: &Person) -> [String; 10] {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    [
        p.id.to_string(),
        p.display_name.clone(),
        p.email.clone(),
        p.kind.key().to_string(),
        roles(p),
        p.roles
            .iter()
            .map(|r| r.key())
            .collect::<Vec<_>>()
            .join(" "),
        account(p).to_string(),
        yes(p.active),
        yes(p.password_set),
        csv_export::iso(p.added_at),
    ]
}

/// GET /admin/people.csv: exactly the people the list shows with these filters and this
/// order, every page of them, streamed.
pub(crate) async fn csv(
    State(state): State<AppState>,
    current: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let (query, _) = read_query(raw.as_deref());
    let today = crate::web::home::iso_day(OffsetDateTime::now_utc());
    let (sink, response) = csv_export::download(&format!("people-{today}.csv"));
    let pool = state.pool.clone();
    let centre = user.centre_id;
    csv_export::spawn(sink, move |sink| {
        Box::pin(async move {
            sink.row(CSV_HEADER).await?;
            let mut statement = people_list::all_rows_query(centre, &query);
            let mut rows = statement.build().fetch(&pool);
            while let Some(row) = rows.try_next().await? {
                let cells = csv_cells(&people_list::read_row(&row)?);
                sink.row(cells.iter().map(String::as_str)).await?;
            }
            Ok(())
        })
    });
    Ok(response)
}

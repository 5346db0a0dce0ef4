//! The centre's log (issue 12): what was done to the centre rather than to one
//! enrolment (people, sign-in, settings, signing keys, imports, bulk audits), newest
//! first, a hundred entries a page, filtered and downloadable as the enrolment's
//! activity log is (`db::activity::Selection`, `partials/log_*.html`), each entry read
//! as a sentence.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use futures_util::TryStreamExt;
use uuid::Uuid;

use super::admin;
use crate::db::activity::{self, Log, LogLine};
use crate::db::users::{self, User};
use crate::domain::centre_log::{describe, CentreKind};
use crate::domain::form::{message_for, FieldError};
use crate::domain::log_filter::{LogKind, LogView, Page, Who, PAGE_SIZE, SYSTEM_KEY};
use crate::web::auth::CurrentUser;
use crate::web::csv_export;
use crate::web::home::moment;
use crate::web::portfolio::activity::{actor, summary, Choice};
use crate::web::{AppError, AppState};

const PATH: &str = "/admin/log";

/// One entry as people read it.
pub(crate) struct Line {
    id: i64,
    at: String,
    /// The same moment in ISO 8601, for the `<time>` element.
    at_iso: String,
    actor: String,
    what: String,
}

/// The entry in words: what its actor did, and to whom.
fn what(line: &LogLine) -> String {
    describe(&line.action, &line.detail, line.subject_name.as_deref())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/log.html")]
pub(crate) struct CentreLogPage {
    user: User,
    errors: Vec<FieldError>,
    kinds: Vec<(&'static str, &'static str)>,
    kind: &'static str,
    who: String,
    log_path: &'static str,
    who_groups: Vec<(&'static str, Vec<Choice>)>,
    /// A date as the date field takes it: the day read, or what was typed if it was not
    /// a day (the field is then a text field, which keeps any text).
    from: String,
    to: String,
    lines: Vec<Line>,
    summary: String,
    filtered: bool,
    newest: Option<String>,
    newer: Option<String>,
    older: Option<String>,
    csv: String,
}

impl CentreLogPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }

    fn kind_selected(&self, key: &str) -> bool {
        self.kind == key
    }

    fn who_selected(&self, value: &str) -> bool {
        self.who == value
    }
}

fn address(path: &str, view: &LogView<CentreKind>) -> String {
    let query = view.to_query_string();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

fn read_view(
    raw: Option<&str>,
) -> (
    LogView<CentreKind>,
    crate::domain::log_filter::Typed,
    Vec<FieldError>,
) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    LogView::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// GET /admin/log: a page of the centre's own entries, in two statements however long
/// the log (the people to filter by, then the page).
pub(crate) async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<CentreLogPage, AppError> {
    let user = admin(current)?;
    let (mut view, typed, mut errors) = read_view(raw.as_deref());
    // The centre's staff, and whoever the filter names if they are of the centre (a
    // learner who changed their own account): one statement either way.
    let chosen = match view.who {
        Some(Who::Person(id)) => id,
        _ => Uuid::nil(),
    };
    let people = users::staff_and_learner(&state.pool, user.centre_id, chosen).await?;
    let offered: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    errors.extend(view.keep_person_among(&offered));
    let log = Log::Centre(user.centre_id);
    let page = activity::page(&state.pool, log, &view, PAGE_SIZE).await?;

    let (first, last) = (page.lines.first(), page.lines.last());
    let newer = first
        .filter(|_| page.newer)
        .map(|l| address(PATH, &view.at(Page::After(l.id))));
    let older = last
        .filter(|_| page.older)
        .map(|l| address(PATH, &view.at(Page::Before(l.id))));
    let newest = (view.page != Page::Newest).then(|| address(PATH, &view.at(Page::Newest)));
    let csv = address(&format!("{PATH}.csv"), &view.at(Page::Newest));
    let has_error = |field: &str| message_for(&errors, field).is_some();
    let date_value = |field: &str, day: Option<time::Date>, typed: &str| {
        if has_error(field) {
            typed.to_string()
        } else {
            day.map(|d| d.to_string()).unwrap_or_default()
        }
    };
    let from = date_value("from", view.from, &typed.from);
    let to = date_value("to", view.to, &typed.to);
    let who = match view.who {
        Some(Who::System) => SYSTEM_KEY.to_string(),
        Some(Who::Person(p)) => p.to_string(),
        None => String::new(),
    };
    let choices: Vec<Choice> = people
        .iter()
        .map(|p| (p.id.to_string(), p.display_name.clone()))
        .collect();
    Ok(CentreLogPage {
        summary: summary(&view, &page),
        filtered: view.is_filtered(),
        kinds: CentreKind::ALL
            .iter()
            .map(|k| (k.key(), k.label()))
            .collect(),
        kind: view.kind.map_or("", CentreKind::key),
        who,
        log_path: PATH,
        who_groups: vec![("People of the centre", choices)],
        from,
        to,
        lines: page
            .lines
            .iter()
            .map(|l| Line {
                id: l.id,
                at: moment(&l.at),
                at_iso: csv_export::iso(l.at),
                actor: actor(l),
                what: what(l),
            })
            .collect(),
        newest,
        newer,
        older,
        csv,
        errors,
        user,
    })
}

/// GET /admin/log.csv: every entry of the centre's own log that the filters match,
/// oldest first, streamed from one statement. A filter that cannot be read is left
/// out, as on the page; a person who is not of the centre names no entry of it.
pub(crate) async fn csv(
    State(state): State<AppState>,
    current: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let (view, _, _) = read_view(raw.as_deref());
    let export = activity::Export::new(Log::Centre(user.centre_id), &view);
    let pool = state.pool.clone();
    let today = crate::web::home::iso_day(time::OffsetDateTime::now_utc());
    let (sink, response) = csv_export::download(&format!("centre-log-{today}.csv"));
    csv_export::spawn(sink, move |sink| {
        Box::pin(async move {
            sink.row([
                "entry_id",
                "time",
                "actor_id",
                "actor",
                "action",
                "person_id",
                "person",
                "what",
                "detail",
            ])
            .await?;
            let mut rows = export.rows(&pool);
            while let Some(line) = rows.try_next().await? {
                let id = |v: Option<Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
                sink.row([
                    line.id.to_string().as_str(),
                    &csv_export::iso(line.at),
                    &id(line.actor_id),
                    &actor(&line),
                    &line.action,
                    &id(line.subject_id),
                    line.subject_name.as_deref().unwrap_or_default(),
                    &what(&line),
                    &line.detail.to_string(),
                ])
                .await?;
            }
            Ok(())
        })
    });
    Ok(response)
}

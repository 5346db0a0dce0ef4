//! The enrolment's activity log (SPEC §8), as pages of the newest entries with filters,
//! and as CSV for an external quality assurer.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use futures_util::TryStreamExt;
use uuid::Uuid;

use super::{enrolment_for, query_pairs};
use crate::db::activity::{self, Log, LogLine, LogPage};
use crate::db::enrolments::Enrolment;
use crate::db::users::{self, Actor, User};
use crate::domain::access::Capacity;
use crate::domain::form::{message_for, FieldError};
use crate::domain::log_filter::{Kind, LogKind, LogView, Page, Who, PAGE_SIZE, SYSTEM_KEY};
use crate::web::auth::CurrentUser;
use crate::web::csv_export;
use crate::web::home::moment;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// One entry as people read it.
pub(crate) struct Line {
    id: i64,
    at: String,
    /// The same moment in ISO 8601, for the `<time>` element.
    at_iso: String,
    actor: String,
    action: String,
    detail: String,
}

/// Who made the change, as the log pages and their CSVs name them.
pub(crate) fn actor(line: &LogLine) -> String {
    match (line.actor_id, &line.actor_name) {
        (None, _) => "attest (automatic)".to_string(),
        (Some(_), Some(name)) => name.clone(),
        // Accounts are never deleted, so this would be a reference gone wrong: say so.
        (Some(id), None) => format!("unknown account {id}"),
    }
}

/// The entry's detail as this viewer may read it (`Capacity::withheld_log_details`).
fn detail(line: &LogLine, capacity: Capacity) -> String {
    let withheld = capacity.withheld_log_details();
    match &line.detail {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(fields)
            if fields.keys().any(|k| withheld.contains(&k.as_str())) =>
        {
            let mut kept = fields.clone();
            kept.retain(|k, _| !withheld.contains(&k.as_str()));
            serde_json::Value::Object(kept).to_string()
        }
        other => other.to_string(),
    }
}

/// A choice in the "Who" list: (query value, text).
pub(crate) type Choice = (String, String);

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/activity.html")]
pub(crate) struct ActivityPage {
    header: super::Header,
    user: User,
    learner: String,
    errors: Vec<FieldError>,
    kinds: Vec<(&'static str, &'static str)>,
    kind: &'static str,
    who: String,
    log_path: String,
    /// The people to filter by, in labelled groups.
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

impl ActivityPage {
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

/// The people to filter by: those on the enrolment first, with their part in it, then
/// the rest of the centre's staff (only its admins for a learner: the rest of the staff
/// list is not theirs to read).
fn choices(
    enrolment: &Enrolment,
    capacity: Capacity,
    actors: &[Actor],
) -> (Vec<Choice>, Vec<Choice>) {
    let parts = [
        (Some(enrolment.learner_id), "learner"),
        (Some(enrolment.assessor_id), "assessor"),
        (enrolment.trainee_assessor_id, "trainee assessor"),
        (enrolment.iqa_id, "IQA"),
    ];
    let mut on_enrolment = Vec::new();
    for (id, part) in parts {
        if let Some(a) = id.and_then(|id| actors.iter().find(|a| a.id == id)) {
            on_enrolment.push((a.id.to_string(), format!("{} ({part})", a.display_name)));
        }
    }
    let other_staff = actors
        .iter()
        .filter(|a| !parts.iter().any(|(id, _)| *id == Some(a.id)))
        .filter(|a| capacity != Capacity::Learner || a.admin)
        .map(|a| (a.id.to_string(), a.display_name.clone()))
        .collect();
    (on_enrolment, other_staff)
}

fn address(enrolment_id: Uuid, view: &LogView) -> String {
    let query = view.to_query_string();
    if query.is_empty() {
        format!("/enrolments/{enrolment_id}/activity")
    } else {
        format!("/enrolments/{enrolment_id}/activity?{query}")
    }
}

/// What the table shows, as its caption says it. No total: counting a long log on
/// every view would cost what paging saves.
pub(crate) fn summary<K: LogKind>(view: &LogView<K>, page: &LogPage) -> String {
    let matching = if view.is_filtered() {
        " that match"
    } else {
        ""
    };
    let n = page.lines.len();
    match (page.lines.first(), page.lines.last()) {
        (Some(newest), Some(oldest)) if view.page != Page::Newest => format!(
            "{n} {}{matching}, from {} back to {}",
            if n == 1 { "entry" } else { "entries" },
            moment(&newest.at),
            moment(&oldest.at)
        ),
        (Some(_), _) if page.older => format!("The newest {n} entries{matching}"),
        (Some(_), _) if n == 1 => format!("The one entry{matching}"),
        (Some(_), _) => format!("All {n} entries{matching}, newest first"),
        (None, _) if view.page != Page::Newest => "No entries on this page".to_string(),
        (None, _) if view.is_filtered() => "No entries match these filters".to_string(),
        (None, _) => "No entries yet".to_string(),
    }
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    RawQuery(query): RawQuery,
) -> Result<ActivityPage, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    let pairs = query_pairs(query.as_deref());
    let (mut view, typed, mut errors) =
        LogView::<Kind>::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let actors =
        users::staff_and_learner(&state.pool, enrolment.centre_id, enrolment.learner_id).await?;
    let (on_enrolment, other_staff) = choices(&enrolment, capacity, &actors);
    let offered: Vec<Uuid> = on_enrolment
        .iter()
        .chain(&other_staff)
        .filter_map(|(value, _)| Uuid::parse_str(value).ok())
        .collect();
    errors.extend(view.keep_person_among(&offered));
    let page = activity::page(&state.pool, Log::Enrolment(id), &view, PAGE_SIZE).await?;

    let learner = actors
        .iter()
        .find(|a| a.id == enrolment.learner_id)
        .map(|a| a.display_name.clone())
        .unwrap_or_default();
    let (first, last) = (page.lines.first(), page.lines.last());
    let newer = first
        .filter(|_| page.newer)
        .map(|l| address(id, &view.at(Page::After(l.id))));
    let older = last
        .filter(|_| page.older)
        .map(|l| address(id, &view.at(Page::Before(l.id))));
    let newest = (view.page != Page::Newest).then(|| address(id, &view.at(Page::Newest)));
    let filters = view.at(Page::Newest).to_query_string();
    let csv = if filters.is_empty() {
        format!("/enrolments/{id}/activity.csv")
    } else {
        format!("/enrolments/{id}/activity.csv?{filters}")
    };
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
    Ok(ActivityPage {
        header: super::Header {
            enrolment_id: id,
            learner: learner.clone(),
            status: enrolment.status,
        },
        user,
        learner,
        summary: summary(&view, &page),
        filtered: view.is_filtered(),
        kinds: Kind::ALL.iter().map(|k| (k.key(), k.label())).collect(),
        kind: view.kind.map_or("", Kind::key),
        who,
        log_path: format!("/enrolments/{id}/activity"),
        who_groups: vec![
            ("On this enrolment", on_enrolment),
            ("Other staff", other_staff),
        ],
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
                action: l.action.clone(),
                detail: detail(l, capacity),
            })
            .collect(),
        newest,
        newer,
        older,
        csv,
        errors,
    })
}

/// Every entry the filters match (all of them without filters), oldest first, read
/// from one statement as a stream and written as it comes: memory stays flat however
/// long the log. A filter that cannot be read is left out, as on the page.
pub async fn csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let (_, capacity) = enrolment_for(&state, &user, id).await?;
    let pairs = query_pairs(query.as_deref());
    let (view, _, _) = LogView::<Kind>::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let export = activity::Export::new(Log::Enrolment(id), &view);
    let pool = state.pool.clone();
    let (sink, response) = csv_export::download(&format!("activity-{id}.csv"));
    csv_export::spawn(sink, move |sink| {
        Box::pin(async move {
            sink.row(["entry_id", "time", "actor_id", "actor", "action", "detail"])
                .await?;
            let mut rows = export.rows(&pool);
            while let Some(line) = rows.try_next().await? {
                let actor_id = line.actor_id.map(|a| a.to_string()).unwrap_or_default();
                sink.row([
                    line.id.to_string().as_str(),
                    &csv_export::iso(line.at),
                    &actor_id,
                    &actor(&line),
                    &line.action,
                    &detail(&line, capacity),
                ])
                .await?;
            }
            Ok(())
        })
    });
    Ok(response)
}

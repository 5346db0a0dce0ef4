//! The activity log over HTTP when it is long (SPEC §8): the newest 100 entries a page,
//! keyset pages that reach every entry once, filters by kind, who and date, and the CSV
//! export of every matching entry. The audit page's histories page the same way.
use std::sync::{Arc, Mutex};

use attest::db::enrolments::Enrolment;
use attest::db::{audits, users};
use axum::http::{header, Request, StatusCode};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;
use uuid::Uuid;

use crate::http::{enc, get, send, Reply};
use crate::portfolio::{demo, Demo};
use attest::web::AppState;

/// Entries seeded on top of the demo's own.
const SEEDED: i32 = 430;

async fn person(d: &Demo, email: &str) -> Uuid {
    users::find_by_email(&d.pool, d.ben.centre_id, email)
        .await
        .expect("query")
        .expect("person")
        .id
}

/// `SEEDED` entries, in one statement: every kind of change (and one no kind names),
/// made by attest, by the learner and by the assessor in turn, 37 minutes apart from
/// 1 Mar 2026.
async fn seed(d: &Demo, e: &Enrolment) {
    let learner = e.learner_id;
    let assessor = person(d, "assessor@demo.attest.test").await;
    sqlx::query(
        "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, at, action, detail) \
         SELECT $1, $2, CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN $3 ELSE $4 END, \
                timestamptz '2026-03-01 00:00:00Z' + i * interval '37 minutes', \
                (ARRAY['tick', 'untick', 'accept all', 'evidence added', 'audit', \
                       'credential issued', 'IQA decision', 'something new'])[1 + i % 8], \
                jsonb_build_object('seeded', i) \
         FROM generate_series(1, $5) AS i",
    )
    .bind(e.centre_id)
    .bind(e.id)
    .bind(learner)
    .bind(assessor)
    .bind(SEEDED)
    .execute(&d.pool)
    .await
    .expect("seeding the log");
}

/// The ids of the enrolment's entries that `condition` (SQL on activity_log) matches,
/// newest first: what a page must show, asked of the database directly.
async fn expected(d: &Demo, e: &Enrolment, condition: &str) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "SELECT id FROM activity_log WHERE enrolment_id = $1 AND ({condition}) ORDER BY id DESC"
    ))
    .bind(e.id)
    .fetch_all(&d.pool)
    .await
    .expect("expected ids")
}

async fn fetch(d: &Demo, cookie: &str, uri: &str) -> Reply {
    send(AppState::new(d.pool.clone()), get(uri, Some(cookie))).await
}

/// The values of `attribute` on the page, in order.
fn attributes<T: std::str::FromStr>(body: &str, attribute: &str) -> Vec<T> {
    let marker = format!("{attribute}=\"");
    body.split(&marker)
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

fn entries(body: &str) -> Vec<i64> {
    attributes(body, "data-entry")
}

/// Where the link with this id leads, if the page has it.
fn link(body: &str, id: &str) -> Option<String> {
    let rest = body.split(&format!("id=\"{id}\" href=\"")).nth(1)?;
    Some(rest.split('"').next()?.replace("&#38;", "&"))
}

/// Every page from `first` on, following `next` links: each page's entries.
async fn walk(
    d: &Demo,
    cookie: &str,
    first: &str,
    next: &str,
    ids: fn(&str) -> Vec<String>,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut uri = first.to_string();
    loop {
        let r = fetch(d, cookie, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        pages.push(ids(&r.body));
        match link(&r.body, next) {
            Some(href) => uri = href,
            None => return pages,
        }
        assert!(pages.len() < 50, "paging never ends: {uri}");
    }
}

fn entry_ids(body: &str) -> Vec<String> {
    attributes(body, "data-entry")
}

fn as_ids(pages: &[Vec<String>]) -> Vec<i64> {
    pages
        .iter()
        .flatten()
        .map(|s| s.parse().expect("an entry id"))
        .collect()
}

#[tokio::test]
async fn a_long_log_shows_the_newest_100_and_older_pages_reach_every_entry_once() {
    let d = demo().await;
    let e = &d.ben;
    seed(&d, e).await;
    let tom = d.as_("assessor").await;
    let all = expected(&d, e, "true").await;
    assert!(all.len() > 400, "{}", all.len());
    let base = format!("/enrolments/{}/activity", e.id);

    let first = fetch(&d, &tom, &base).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        entries(&first.body),
        all[..100],
        "the newest 100, newest first"
    );
    assert!(first.body.contains("The newest 100 entries"));
    assert!(
        link(&first.body, "page-newer").is_none() && link(&first.body, "page-newest").is_none()
    );

    let pages = walk(&d, &tom, &base, "page-older", entry_ids).await;
    assert_eq!(pages.len(), all.len().div_ceil(100));
    assert!(pages.iter().rev().skip(1).all(|p| p.len() == 100));
    assert_eq!(
        as_ids(&pages),
        all,
        "every entry once, in order: no overlap, no gap"
    );

    // And back up from the oldest page with "Newer": the same pages, the other way.
    let last = pages.last().expect("pages");
    let oldest = format!(
        "{base}?before={}",
        pages[pages.len() - 2].last().expect("an id")
    );
    let back = walk(&d, &tom, &oldest, "page-newer", entry_ids).await;
    assert_eq!(back.first(), Some(last));
    let mut forward = pages.clone();
    forward.reverse();
    assert_eq!(back, forward);
    let older_page = fetch(&d, &tom, &oldest).await;
    assert_eq!(
        link(&older_page.body, "page-newest").as_deref(),
        Some(base.as_str())
    );
}

#[tokio::test]
async fn filters_by_kind_who_and_date_show_exactly_the_matching_entries() {
    let d = demo().await;
    let e = &d.ben;
    seed(&d, e).await;
    let tom = d.as_("assessor").await;
    let assessor = person(&d, "assessor@demo.attest.test").await;
    let base = format!("/enrolments/{}/activity", e.id);
    let cases = [
        ("kind=tick".to_string(), "action = 'tick'".to_string()),
        (
            "kind=status".into(),
            "action IN ('credential requested', 'credential retried', 'credential issued', \
             'credential cancelled', 'major switched')"
                .into(),
        ),
        (
            "kind=other".into(),
            "action NOT IN ('tick', 'untick', 'accept all', 'evidence added', 'audit', \
             'credential requested', 'credential retried', 'credential issued', \
             'credential cancelled', 'major switched', 'credential emailed', \
             'credential email failed', 'IQA decision', 'IQA action addressed', \
             'IQA action closed', 'enrolled', 'assignments changed')"
                .into(),
        ),
        ("who=attest".into(), "actor_id IS NULL".into()),
        (
            format!("who={assessor}"),
            format!("actor_id = '{assessor}'"),
        ),
        (
            format!("who={}", e.learner_id),
            format!("actor_id = '{}'", e.learner_id),
        ),
        (
            "from=2026-03-03&to=2026-03-05".into(),
            "at >= timestamptz '2026-03-03 00:00Z' AND at < timestamptz '2026-03-06 00:00Z'".into(),
        ),
        (
            "from=2026-03-09".into(),
            "at >= timestamptz '2026-03-09 00:00Z'".into(),
        ),
        (
            "to=2026-03-01".into(),
            "at < timestamptz '2026-03-02 00:00Z'".into(),
        ),
        (
            format!("kind=untick&who={assessor}&from=2026-03-02&to=2026-03-08"),
            format!(
                "action = 'untick' AND actor_id = '{assessor}' \
                 AND at >= timestamptz '2026-03-02 00:00Z' AND at < timestamptz '2026-03-09 00:00Z'"
            ),
        ),
        ("from=2030-01-01".into(), "false".into()),
    ];
    let mut paged = false;
    for (query, condition) in cases {
        let want = expected(&d, e, &condition).await;
        let pages = walk(
            &d,
            &tom,
            &format!("{base}?{query}"),
            "page-older",
            entry_ids,
        )
        .await;
        assert_eq!(as_ids(&pages), want, "{query}");
        paged |= pages.len() > 1;
        let first = fetch(&d, &tom, &format!("{base}?{query}")).await;
        if want.is_empty() {
            assert!(
                first.body.contains("No entries match these filters"),
                "{query}"
            );
        }
    }
    assert!(paged, "some filter matches more than a page");
}

#[tokio::test]
async fn a_filtered_address_reloaded_shows_the_same_rows_and_htmx_gets_the_same_table() {
    let d = demo().await;
    let e = &d.ben;
    seed(&d, e).await;
    let ben = d.as_("ben").await;
    let base = format!("/enrolments/{}/activity", e.id);
    let first = fetch(&d, &ben, &format!("{base}?kind=tick&from=2026-03-01")).await;
    let older = link(&first.body, "page-older");
    // A page of ticks past the first one, as a link or the browser's history keeps it.
    let uri = older.unwrap_or_else(|| format!("{base}?kind=tick&from=2026-03-01"));
    let a = fetch(&d, &ben, &uri).await;
    let b = fetch(&d, &ben, &uri).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!entries(&a.body).is_empty());
    assert_eq!(entries(&a.body), entries(&b.body));
    // The form keeps the filters it shows.
    assert!(a.body.contains("<option value=\"tick\" selected>"));
    assert!(a.body.contains("value=\"2026-03-01\""));

    // With htmx the form asks for the same address and swaps the table region in place.
    assert!(a.body.contains(&format!("hx-get=\"{base}\"")));
    assert!(
        a.body.contains("hx-target=\"#activity-results\"")
            && a.body.contains("hx-push-url=\"true\"")
    );
    let mut request = get(&uri, Some(&ben));
    request
        .headers_mut()
        .insert("hx-request", "true".parse().expect("header"));
    let htmx = send(AppState::new(d.pool.clone()), request).await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.body.contains("id=\"activity-results\""));
    assert_eq!(entries(&htmx.body), entries(&a.body));
}

#[tokio::test]
async fn bad_filters_answer_200_with_the_message_beside_the_field_and_are_left_out() {
    let d = demo().await;
    let e = &d.ben;
    seed(&d, e).await;
    let tom = d.as_("assessor").await;
    let amira = d.amira.learner_id;
    let base = format!("/enrolments/{}/activity", e.id);
    let ticks = expected(&d, e, "action = 'tick'").await;
    let all = expected(&d, e, "true").await;
    let from_march_5 = expected(&d, e, "at >= timestamptz '2026-03-05 00:00Z'").await;
    let cases: [(String, &str, &str, &[i64]); 7] = [
        (
            "kind=tick&from=2026-02-30".into(),
            "from",
            "Enter the from date as a real date",
            &ticks,
        ),
        (
            "from=2026-03-05&to=2026-03-04".into(),
            "to",
            "The to date must be the same as or after the from date",
            &from_march_5,
        ),
        (
            "kind=everything".into(),
            "kind",
            "Choose a kind of change from the list",
            &all,
        ),
        (
            "who=nobody".into(),
            "who",
            "Choose a person from the list",
            &all,
        ),
        (
            format!("who={amira}"),
            "who",
            "Choose a person from the list",
            &all,
        ),
        (
            "before=not-a-page".into(),
            "page",
            "That page of the log could not be found",
            &all,
        ),
        (
            format!("to={}", enc("<script>")),
            "to",
            "Enter the to date as a real date",
            &all,
        ),
    ];
    for (query, field, message, want) in cases {
        let r = fetch(&d, &tom, &format!("{base}?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}");
        assert!(r.body.contains("There is a problem"), "{query}");
        assert!(
            r.body.contains(&format!("href=\"#{field}\"")),
            "{query}: the summary links to the field"
        );
        assert!(r.body.contains(message), "{query}");
        let beside = if field == "page" {
            "id=\"page\" class=\"error-message\"".to_string()
        } else {
            format!("id=\"{field}-error\" class=\"error-message\"")
        };
        assert!(
            r.body.contains(&beside),
            "{query}: the message is beside the field"
        );
        assert_eq!(entries(&r.body), want[..want.len().min(100)], "{query}");
        assert!(
            !r.body.contains("<script>"),
            "{query}: what was typed is escaped"
        );
    }
    // What was typed into a date stays in its field.
    let r = fetch(&d, &tom, &format!("{base}?from=2026-02-30")).await;
    assert!(r.body.contains("type=\"text\" value=\"2026-02-30\""));
}

/// The CSV's records after its header, as (entry id, time, actor id, actor, action).
fn records(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = body.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

async fn download(d: &Demo, cookie: &str, uri: &str) -> Reply {
    let request = Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(axum::body::Body::empty())
        .expect("request");
    send(AppState::new(d.pool.clone()), request).await
}

#[tokio::test]
async fn the_csv_has_every_matching_entry_in_order_with_a_byte_order_mark() {
    let d = demo().await;
    let e = &d.ben;
    seed(&d, e).await;
    let tom = d.as_("assessor").await;
    let assessor = person(&d, "assessor@demo.attest.test").await;
    let csv = format!("/enrolments/{}/activity.csv", e.id);

    let r = download(&d, &tom, &csv).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with('\u{feff}'));
    let (head, rows) = records(&r.body);
    assert_eq!(
        head,
        ["entry_id", "time", "actor_id", "actor", "action", "detail"]
    );
    let mut all = expected(&d, e, "true").await;
    all.reverse();
    assert!(all.len() > 400);
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().expect("id")).collect();
    assert_eq!(ids, all, "every entry, oldest first");
    let seeded: Vec<&Vec<String>> = rows.iter().filter(|r| r[5].contains("seeded")).collect();
    let by_attest = seeded
        .iter()
        .find(|r| r[5] == "{\"seeded\":3}")
        .expect("entry 3");
    assert_eq!(
        (
            by_attest[1].as_str(),
            by_attest[2].as_str(),
            by_attest[3].as_str(),
            by_attest[4].as_str()
        ),
        (
            "2026-03-01T01:51:00Z",
            "",
            "attest (automatic)",
            "evidence added"
        )
    );
    let by_tom = seeded
        .iter()
        .find(|r| r[5] == "{\"seeded\":2}")
        .expect("entry 2");
    assert_eq!(
        (by_tom[2].clone(), by_tom[3].as_str()),
        (assessor.to_string(), "Tom Okafor")
    );

    // Filtered: exactly the matching entries, wherever the page was.
    let filtered =
        format!("{csv}?kind=untick&who={assessor}&from=2026-03-02&to=2026-03-08&before=999999");
    let (_, rows) = records(&download(&d, &tom, &filtered).await.body);
    let mut want = expected(
        &d,
        e,
        &format!(
            "action = 'untick' AND actor_id = '{assessor}' \
             AND at >= timestamptz '2026-03-02 00:00Z' AND at < timestamptz '2026-03-09 00:00Z'"
        ),
    )
    .await;
    want.reverse();
    assert!(!want.is_empty());
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().expect("id")).collect();
    assert_eq!(ids, want);

    // The page links to the export of what it shows.
    let page = fetch(
        &d,
        &tom,
        &format!("/enrolments/{}/activity?kind=tick&who=attest", e.id),
    )
    .await;
    assert!(page
        .body
        .contains(&format!("href=\"{csv}?kind=tick&#38;who=attest\"")));
}

#[tokio::test]
async fn another_learner_gets_404_for_the_page_and_the_csv() {
    let d = demo().await;
    seed(&d, &d.ben).await;
    let amira = d.as_("amira").await;
    let ben = d.as_("ben").await;
    let e = d.ben.id;
    for uri in [
        format!("/enrolments/{e}/activity"),
        format!("/enrolments/{e}/activity?kind=tick&before=5"),
        format!("/enrolments/{e}/activity.csv"),
        format!("/enrolments/{e}/activity.csv?who=attest"),
        format!("/enrolments/{e}/audit?audits={}&changes=3", Uuid::new_v4()),
    ] {
        assert_eq!(
            fetch(&d, &amira, &uri).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
        assert_eq!(fetch(&d, &ben, &uri).await.status, StatusCode::OK, "{uri}");
    }
}

fn audit_ids(body: &str) -> Vec<String> {
    attributes(body, "data-audit")
}

fn change_ids(body: &str) -> Vec<String> {
    attributes(body, "data-change")
}

#[tokio::test]
async fn the_audit_page_shows_the_newest_20_audits_and_50_status_changes_with_older_pages() {
    let d = demo().await;
    let e = &d.ben;
    let latest = audits::audit_enrolment(&d.pool, e.id, None)
        .await
        .expect("audit")
        .audit_id;
    // 45 older audits, two at each moment: the order within a moment is the id's.
    sqlx::query(
        "INSERT INTO audits (id, enrolment_id, version_id, actor_id, at, outcome, major_id, confirmed_criteria, report) \
         SELECT gen_random_uuid(), a.enrolment_id, a.version_id, a.actor_id, \
                a.at - (1 + i / 2) * interval '1 minute', a.outcome, a.major_id, a.confirmed_criteria, a.report \
         FROM audits a, generate_series(0, 44) AS i WHERE a.id = $1",
    )
    .bind(latest)
    .execute(&d.pool)
    .await
    .expect("audits");
    sqlx::query(
        "INSERT INTO enrolment_status_history (enrolment_id, from_status, to_status, at, reason) \
         SELECT $1, CASE WHEN i % 2 = 0 THEN 'ready_to_be_requested' ELSE 'not_yet_achieved' END, \
                CASE WHEN i % 2 = 0 THEN 'not_yet_achieved' ELSE 'ready_to_be_requested' END, \
                now() - (200 - i) * interval '1 hour', 'seeded ' || i \
         FROM generate_series(1, 120) AS i",
    )
    .bind(e.id)
    .execute(&d.pool)
    .await
    .expect("history");
    let all_audits: Vec<String> = sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM audits WHERE enrolment_id = $1 ORDER BY at DESC, id DESC",
    )
    .bind(e.id)
    .fetch_all(&d.pool)
    .await
    .expect("audits")
    .iter()
    .map(Uuid::to_string)
    .collect();
    let all_changes: Vec<String> = sqlx::query_scalar::<_, i64>(
        "SELECT id FROM enrolment_status_history WHERE enrolment_id = $1 ORDER BY id DESC",
    )
    .bind(e.id)
    .fetch_all(&d.pool)
    .await
    .expect("history")
    .iter()
    .map(i64::to_string)
    .collect();
    assert!(all_audits.len() > 40 && all_changes.len() > 100);
    let tom = d.as_("assessor").await;
    let base = format!("/enrolments/{}/audit", e.id);

    let first = fetch(&d, &tom, &base).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(audit_ids(&first.body), all_audits[..20]);
    assert_eq!(change_ids(&first.body), all_changes[..50]);
    assert_eq!(all_audits[0], latest.to_string());

    let audit_pages = walk(&d, &tom, &base, "audits-older", audit_ids).await;
    assert_eq!(
        audit_pages.concat(),
        all_audits,
        "every audit once, in order"
    );
    let change_pages = walk(&d, &tom, &base, "changes-older", change_ids).await;
    assert_eq!(
        change_pages.concat(),
        all_changes,
        "every change once, in order"
    );
    assert_eq!(change_pages.len(), all_changes.len().div_ceil(50));

    // An older page of audits keeps the latest audit, the status history's own page
    // and a way back.
    let older = link(&first.body, "audits-older").expect("older audits");
    let page = fetch(&d, &tom, &older).await;
    assert!(page.body.contains("<h2>Latest audit</h2>"));
    assert!(!page
        .body
        .contains("This enrolment has not been audited yet"));
    assert_eq!(change_ids(&page.body), all_changes[..50]);
    assert!(link(&page.body, "audits-newest").is_some());
    let both = link(&page.body, "changes-older").expect("older changes");
    let both = fetch(&d, &tom, &both).await;
    assert_eq!(
        audit_ids(&both.body),
        all_audits[20..40],
        "each history pages on its own"
    );
    assert_eq!(change_ids(&both.body), all_changes[50..100]);

    // A position that cannot be read is said so, and the newest shown.
    let bad = fetch(&d, &tom, &format!("{base}?audits=latest&changes=x")).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("That page of audits could not be found"));
    assert!(bad
        .body
        .contains("That page of status changes could not be found"));
    assert_eq!(audit_ids(&bad.body), all_audits[..20]);
    let unknown = fetch(&d, &tom, &format!("{base}?audits={}", Uuid::new_v4())).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(audit_ids(&unknown.body).is_empty());
    assert!(unknown.body.contains("No older audits"));
}

/// The plans PostgreSQL ran, as auto_explain reports them (ANALYZE, JSON) to the client.
#[derive(Clone, Default)]
struct Plans(Arc<Mutex<Vec<Value>>>);

impl<S: tracing::Subscriber> Layer<S> for Plans {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::postgres::notice" {
            return;
        }
        let mut message = Message::default();
        event.record(&mut message);
        let plan = message
            .0
            .find('{')
            .and_then(|at| serde_json::from_str(&message.0[at..]).ok());
        if let (Some(plan), Ok(mut all)) = (plan, self.0.lock()) {
            all.push(plan);
        }
    }
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl Plans {
    /// The scans of `table` in the plans of statements whose text holds `marker`, each
    /// as (index used, rows returned, rows read and dropped by a filter), and whether
    /// any of those plans sorts.
    fn scans(&self, marker: &str, table: &str) -> (Vec<(String, u64, u64)>, bool) {
        fn walk(node: &Value, table: &str, out: &mut Vec<(String, u64, u64)>, sorts: &mut bool) {
            *sorts |= node["Node Type"]
                .as_str()
                .is_some_and(|t| t.contains("Sort"));
            if node["Relation Name"] == table {
                out.push((
                    node["Index Name"]
                        .as_str()
                        .unwrap_or("(no index)")
                        .to_string(),
                    node["Actual Rows"].as_u64().unwrap_or(0)
                        * node["Actual Loops"].as_u64().unwrap_or(1),
                    node["Rows Removed by Filter"].as_u64().unwrap_or(0)
                        + node["Rows Removed by Index Recheck"].as_u64().unwrap_or(0),
                ));
            }
            for child in node["Plans"].as_array().into_iter().flatten() {
                walk(child, table, out, sorts);
            }
        }
        let all = self.0.lock().map(|p| p.clone()).unwrap_or_default();
        let (mut out, mut sorts) = (Vec::new(), false);
        for plan in all
            .iter()
            .filter(|p| p["Query Text"].as_str().is_some_and(|q| q.contains(marker)))
        {
            walk(&plan["Plan"], table, &mut out, &mut sorts);
        }
        (out, sorts)
    }

    fn clear(&self) {
        if let Ok(mut all) = self.0.lock() {
            all.clear();
        }
    }
}

/// However much of the log is other enrolments' (here the newer half, as for a learner
/// whose log went quiet while the centre went on), a page reads its own entries through
/// the (enrolment, id) index and no others, and the export reads the index in order
/// without sorting. PostgreSQL reports each plan it runs (auto_explain, as notices).
#[tokio::test]
async fn a_page_reads_only_the_entries_it_shows_however_long_the_centres_log() {
    let plans = Plans::default();
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(plans.clone()));
    let d = demo().await;
    let e = &d.ben;
    seed(&d, e).await;
    // The rest of the centre's log, newer than all of Ben's: 20,000 entries on Amira's
    // enrolment, and status changes on hers after his.
    sqlx::query(
        "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         SELECT $1, $2, NULL, 'audit', '{}' FROM generate_series(1, 20000)",
    )
    .bind(d.amira.centre_id)
    .bind(d.amira.id)
    .execute(&d.pool)
    .await
    .expect("others' entries");
    sqlx::query(
        "INSERT INTO enrolment_status_history (enrolment_id, from_status, to_status, reason) \
         SELECT $1, CASE WHEN i % 2 = 0 THEN 'ready_to_be_requested' ELSE 'not_yet_achieved' END, \
                CASE WHEN i % 2 = 0 THEN 'not_yet_achieved' ELSE 'ready_to_be_requested' END, 'x' \
         FROM generate_series(1, 2000) AS i",
    )
    .bind(d.amira.id)
    .execute(&d.pool)
    .await
    .expect("others' status changes");
    sqlx::query("ANALYZE")
        .execute(&d.pool)
        .await
        .expect("statistics");
    let options = (*d.pool.connect_options()).clone().options([
        ("session_preload_libraries", "auto_explain"),
        ("auto_explain.log_min_duration", "0"),
        ("auto_explain.log_analyze", "on"),
        ("auto_explain.log_format", "json"),
        ("auto_explain.log_level", "notice"),
    ]);
    let explained = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("a pool whose plans are reported");
    let tom = d.as_("assessor").await;
    let ask = |uri: String| {
        let (pool, cookie) = (explained.clone(), tom.clone());
        async move { send(AppState::new(pool), get(&uri, Some(&cookie))).await }
    };
    let base = format!("/enrolments/{}/activity", e.id);
    let all = expected(&d, e, "true").await;
    let log = "FROM activity_log a";
    for uri in [
        base.clone(),
        format!("{base}?before={}", all[200]),
        format!("{base}?after={}", all[300]),
        format!("{base}?who=attest&before={}", all[10]),
    ] {
        plans.clear();
        let r = ask(uri.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        let (scans, _) = plans.scans(log, "activity_log");
        assert!(!scans.is_empty(), "{uri}: the plan is reported");
        for (index, rows, dropped) in scans {
            assert_eq!(index, "activity_log_enrolment_idx", "{uri}");
            assert!(rows <= 101, "{uri}: {rows} rows read for a page of 100");
            if !uri.contains("who=") {
                assert_eq!(dropped, 0, "{uri}: no entry read only to be dropped");
            }
        }
    }

    plans.clear();
    let csv = ask(format!("/enrolments/{}/activity.csv", e.id)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let (scans, sorts) = plans.scans(log, "activity_log");
    assert_eq!(
        scans,
        [(
            "activity_log_enrolment_idx".to_string(),
            all.len() as u64,
            0
        )]
    );
    assert!(
        !sorts,
        "the export reads the index in order, without sorting"
    );

    plans.clear();
    let audit = ask(format!("/enrolments/{}/audit", e.id)).await;
    assert_eq!(audit.status, StatusCode::OK);
    let (scans, _) = plans.scans(
        "FROM enrolment_status_history h",
        "enrolment_status_history",
    );
    assert!(!scans.is_empty());
    for (index, rows, dropped) in scans {
        assert_eq!(
            (index.as_str(), dropped),
            ("status_history_enrolment_idx", 0)
        );
        assert!(rows <= 51);
    }
}

//! In-place ticking: with htmx a tick answers with its row (and the accept-all counts),
//! a refusal with its reason, and an expired session sends the browser to sign in.
use attest::db::{evidence, ticks};
use attest::web::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::http::{form_post_as, get, send, Reply};
use crate::portfolio::{demo, tick_form, Demo};

async fn hx_post(d: &Demo, cookie: Option<&str>, uri: &str, form: &str, page: &str) -> Reply {
    hx_post_to(&AppState::new(d.pool.clone()), cookie, uri, form, page).await
}

/// `hx_post` to a server that keeps what it kept from earlier requests.
async fn hx_post_to(
    state: &AppState,
    cookie: Option<&str>,
    uri: &str,
    form: &str,
    page: &str,
) -> Reply {
    let mut r = match cookie {
        Some(c) => form_post_as(c, uri, form),
        None => crate::http::form_post(uri, form, "192.0.2.1"),
    };
    let h = r.headers_mut();
    h.insert("hx-request", "true".parse().expect("header"));
    h.insert(
        "hx-current-url",
        format!("http://127.0.0.1:3000{page}")
            .parse()
            .expect("header"),
    );
    send(state.clone(), r).await
}

/// The enrolment's first evidence item and the address of its page.
async fn first_item(d: &Demo, e: &attest::db::enrolments::Enrolment) -> (uuid::Uuid, String) {
    let item = evidence::list_for_enrolment(&d.pool, e.id)
        .await
        .expect("list")[0]
        .id;
    (item, format!("/enrolments/{}/evidence/{item}", e.id))
}

/// A criterion the learner claims on the item.
async fn claimed_on(d: &Demo, item: uuid::Uuid) -> uuid::Uuid {
    ticks::list_for_evidence(&d.pool, item)
        .await
        .expect("ticks")
        .into_iter()
        .find(|t| t.layer == attest::domain::ticks::Layer::Learner)
        .expect("Amira claims something on her first item")
        .criterion
}

#[tokio::test]
async fn a_tick_from_htmx_answers_with_its_row_and_the_accept_all_counts() {
    let d = demo().await;
    let e = &d.amira;
    let (item, page) = first_item(&d, e).await;
    let uri = format!("{page}/ticks");
    let tom = d.as_("assessor").await;
    let before = d.confirmed(e).await;
    let claimed = claimed_on(&d, item).await;

    let r = hx_post(&d, Some(&tom), &uri, &tick_form(claimed, "tick"), &page).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains("<html"), "a fragment, not a page");
    let row_start = r
        .body
        .find(&format!("<tr id=\"c-{claimed}\""))
        .expect("row first");
    assert!(row_start < 5, "the row leads the fragment: {}", r.body);
    let row = &r.body[..r.body.find("</tr>").expect("row end")];
    assert!(
        row.contains("Remove"),
        "the assessor's button now removes: {row}"
    );
    assert!(
        !row.contains("class=\"awaiting\""),
        "no longer awaiting: {row}"
    );
    assert!(
        row.contains(&format!("id=\"t-{claimed}\"")),
        "the button keeps its id for focus"
    );
    assert!(
        row.contains("Ticked by </span>Tom Okafor") && row.contains("Amira"),
        "each tick in the row names who made it: {row}"
    );
    assert!(r.body.contains("id=\"accept-all\"") && r.body.contains("hx-swap-oob"));
    assert!(
        r.body.contains("role=\"status\""),
        "announced to screen readers"
    );
    assert_eq!(d.confirmed(e).await, before + 1);

    // The counts travel with it: accept-all now offers one criterion fewer.
    let full = send(AppState::new(d.pool.clone()), get(&page, Some(&tom))).await;
    let count_in = |body: &str| {
        body.split("Accept all learner ticks (")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .map(|n| n.parse::<usize>().expect("count"))
            .unwrap_or(0)
    };
    assert_eq!(count_in(&r.body), count_in(&full.body));

    // Without htmx the same form still posts and redirects back to the row.
    let r = d.post(&tom, &uri, &tick_form(claimed, "untick")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{page}#c-{claimed}").as_str())
    );
    assert_eq!(d.confirmed(e).await, before);
}

/// Who made each tick of the row is named as of the centre's page revision the request
/// saw: after a rename, the next answer names the person as renamed, though the server
/// had kept the old name for earlier answers.
#[tokio::test]
async fn an_in_place_answer_after_a_rename_names_the_person_as_renamed() {
    let d = demo().await;
    let e = &d.amira;
    let (item, page) = first_item(&d, e).await;
    let uri = format!("{page}/ticks");
    let tom = d.as_("assessor").await;
    let claimed = claimed_on(&d, item).await;
    let server = AppState::new(d.pool.clone());
    let row_after = |action: &'static str| {
        let (server, tom, uri, page) = (&server, &tom, &uri, &page);
        async move {
            let r = hx_post_to(server, Some(tom), uri, &tick_form(claimed, action), page).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body[..r.body.find("</tr>").expect("row end")].to_string()
        }
    };
    let row = row_after("tick").await;
    assert!(
        row.contains("Amira"),
        "the learner's claim names her: {row}"
    );
    row_after("untick").await;
    sqlx::query("UPDATE users SET display_name = 'Zoe Renamed' WHERE id = $1")
        .bind(e.learner_id)
        .execute(&d.pool)
        .await
        .expect("renamed");
    let row = row_after("tick").await;
    assert!(
        row.contains("Zoe Renamed") && !row.contains("Amira"),
        "the new name: {row}"
    );
}

/// A criterion nobody had ticked on the item: ticked and unticked in place, the second
/// answer is a row with no tick in it.
#[tokio::test]
async fn an_untick_from_htmx_that_empties_its_row_answers_with_the_empty_row() {
    let d = demo().await;
    let e = &d.amira;
    let (item, page) = first_item(&d, e).await;
    let uri = format!("{page}/ticks");
    let tom = d.as_("assessor").await;
    let on_item = ticks::list_for_evidence(&d.pool, item)
        .await
        .expect("ticks");
    let free = attest::db::qualifications::load_version(&d.pool, e.version_id)
        .await
        .expect("version")
        .criterion_ids
        .into_iter()
        .find(|c| on_item.iter().all(|t| t.criterion != *c))
        .expect("a criterion nobody ticked on the item");

    let r = hx_post(&d, Some(&tom), &uri, &tick_form(free, "tick"), &page).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let row = &r.body[..r.body.find("</tr>").expect("row end")];
    assert!(row.contains("Ticked by </span>Tom Okafor"), "{row}");

    let r = hx_post(&d, Some(&tom), &uri, &tick_form(free, "untick"), &page).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.starts_with(&format!("<tr id=\"c-{free}\"")),
        "{}",
        r.body
    );
    let row = &r.body[..r.body.find("</tr>").expect("row end")];
    assert!(!row.contains("Ticked by"), "no tick left in the row: {row}");
    assert!(
        !row.contains("Remove"),
        "the assessor's button ticks again: {row}"
    );
    // The button and the announcement name the criterion with its unit ("201 1.1"),
    // not by a number every unit repeats.
    let reference: String = sqlx::query_scalar(
        "SELECT u.code || ' ' || c.number FROM criteria c JOIN units u ON u.id = c.unit_id WHERE c.id = $1",
    )
    .bind(free)
    .fetch_one(&d.pool)
    .await
    .expect("the criterion's reference");
    assert!(
        row.contains(&format!(
            "Tick<span class=\"visually-hidden\"> {reference}</span>"
        )),
        "{row}"
    );
    assert!(
        r.body
            .contains(&format!("Removed your tick from {reference}")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_refused_tick_from_htmx_answers_409_with_the_reason_and_changes_nothing() {
    let d = demo().await;
    let e = &d.ben;
    let (_, page) = first_item(&d, e).await;
    let confirmed = d.criterion(e, "201", "1.1").await;
    sqlx::query("UPDATE enrolments SET status = 'generating_credential' WHERE id = $1")
        .bind(e.id)
        .execute(&d.pool)
        .await
        .expect("status");
    let before = d.confirmed(e).await;
    let tom = d.as_("assessor").await;
    let r = hx_post(
        &d,
        Some(&tom),
        &format!("{page}/ticks"),
        &tick_form(confirmed, "untick"),
        &page,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.starts_with("<p id=\"tick-problem\""), "{}", r.body);
    assert!(r.body.contains("cancel the credential first"), "{}", r.body);
    assert_eq!(d.confirmed(e).await, before);
}

#[tokio::test]
async fn htmx_without_a_session_sends_the_browser_to_sign_in_and_back_to_the_page() {
    let d = demo().await;
    let e = &d.ben;
    let (_, page) = first_item(&d, e).await;
    let confirmed = d.criterion(e, "201", "1.2").await;
    let before = d.confirmed(e).await;
    let r = hx_post(
        &d,
        None,
        &format!("{page}/ticks"),
        &tick_form(confirmed, "tick"),
        &page,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.is_empty(),
        "nothing to swap into the row: {}",
        r.body
    );
    let to = r.headers.get("hx-redirect").and_then(|v| v.to_str().ok());
    let expected = format!("/login?next={page}");
    assert_eq!(
        to,
        Some(expected.as_str()),
        "back to the page, not to the POST address"
    );
    assert_eq!(d.confirmed(e).await, before);
}

#[tokio::test]
async fn htmx_is_served_from_static_and_loaded_by_pages() {
    let d = demo().await;
    let r = send(
        AppState::new(d.pool.clone()),
        Request::get("/static/htmx.min.js")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with("var htmx="), "the library itself");
    let login = send(AppState::new(d.pool.clone()), get("/login", None)).await;
    assert!(login
        .body
        .contains("<script src=\"/static/htmx.min.js\" defer></script>"));
    assert_eq!(
        r.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/javascript; charset=utf-8")
    );
}

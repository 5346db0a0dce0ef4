//! The admin's enrolments report in Chromium (SPEC §3), with JavaScript (htmx swaps the
//! results in place) and without (plain links and a GET form): sort by a column, filter
//! by status and assessor, page forward, reload to the same view, and download the CSV
//! holding exactly the filtered rows. axe checks the report and the dashboard.

use attest::db::enrolments::{self, NewEnrolment};
use attest::db::qualifications;
use attest::db::users::Role;
use attest::testing::test_pool;
use attest::web::auth::password;
use sqlx::PgPool;
use uuid::Uuid;

use super::driver::{Browser, Chromedriver};
use super::{serve, sign_in_as};
use crate::helpers::{person, tiny};

const PASSWORD: &str = "report journey 2026";
const ADMIN: &str = "ada@acme.test";
const LEARNERS: usize = 120;

struct Centre {
    pool: PgPool,
    ann: Uuid,
}

/// 120 learners: Ann assesses two in three, Abe the rest; a third are Ready to be
/// Requested; progress and claims spread (the kept figures, set directly: the report's
/// reading of them is what is under test).
async fn centre() -> Centre {
    let pool = test_pool().await;
    let acme = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let hash = password::hash(PASSWORD).expect("hash");
    let person = |email: String, name: String, roles: &'static [Role]| {
        let (pool, hash) = (pool.clone(), hash.clone());
        async move { person(&pool, acme.id, &email, &name, roles, &hash).await }
    };
    person(ADMIN.into(), "Ada Admin".into(), &[Role::Admin]).await;
    let ann = person(
        "ann@acme.test".into(),
        "Ann Assessor".into(),
        &[Role::Assessor],
    )
    .await;
    let abe = person(
        "abe@acme.test".into(),
        "Abe Assessor".into(),
        &[Role::Assessor],
    )
    .await;
    let ivy = person("ivy@acme.test".into(), "Ivy Iqa".into(), &[Role::Iqa]).await;
    let q = qualifications::import(&pool, acme.id, &tiny("TINY/1"), None)
        .await
        .expect("import");
    let major = qualifications::major_id(&pool, q.version_id, "ALL")
        .await
        .expect("major");
    for i in 0..LEARNERS {
        let learner = person(
            format!("l{i}@acme.test"),
            format!("Learner {:02}", (i * 31) % LEARNERS),
            &[Role::Learner],
        )
        .await;
        let e = enrolments::create(
            &pool,
            &NewEnrolment {
                centre_id: acme.id,
                learner_id: learner,
                version_id: q.version_id,
                major_id: major,
                assessor_id: if i % 3 == 2 { abe } else { ann },
                trainee_assessor_id: None,
                iqa_id: (i % 2 == 0).then_some(ivy),
            },
            None,
        )
        .await
        .expect("enrolment");
        sqlx::query(
            "UPDATE enrolments SET confirmed_criteria = $2, claims_to_review = $3, status = $4 WHERE id = $1",
        )
        .bind(e.id)
        .bind(i32::try_from(i % 5).unwrap())
        .bind(i32::try_from(i % 4).unwrap())
        .bind(if i % 3 == 0 { "ready_to_be_requested" } else { "not_yet_achieved" })
        .execute(&pool)
        .await
        .expect("figures");
    }
    Centre { pool, ann }
}

async fn sign_in(b: &mut Browser) {
    sign_in_as(b, ADMIN, PASSWORD, "Ada Admin").await;
}

/// The learners' names the table lists, in order.
async fn listed(b: &Browser) -> Vec<String> {
    b.texts("#report-results tbody th[scope=row]").await
}

/// Waits until the results say `count` and the table is sorted as `sort` says
/// (`(column key, aria-sort)`): with htmx, the swap has happened.
async fn until_shown(b: &Browser, count: &str, sort: (&str, &str)) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let counted = b.try_read(".report-count", "class").await.map(|(t, _)| t);
        let sorted = b
            .try_read(&format!("th:has(#sort-{})", sort.0), "aria-sort")
            .await
            .and_then(|(_, a)| a);
        if counted.as_deref().is_some_and(|c| c.contains(count))
            && sorted.as_deref() == Some(sort.1)
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the results never said {count:?} sorted by {sort:?}: {counted:?}, {sorted:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The CSV at `href` with the browser's session, as a download would fetch it: its
/// learners' names.
async fn csv_learners(base: &str, href: &str, cookie: &str) -> Vec<String> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, axum::body::Body> = Client::builder(TokioExecutor::new()).build_http();
    // WebDriver may give the link resolved against the page's address.
    let path = href
        .strip_prefix(base)
        .unwrap_or(href)
        .replace("&amp;", "&");
    let request = axum::http::Request::get(format!("{base}{path}"))
        .header("cookie", format!("attest_session={cookie}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let response = client.request(request).await.expect("the CSV");
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(axum::body::Body::new(response.into_body()), 1 << 24)
        .await
        .expect("body");
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let learner = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "learner")
        .expect("a learner column");
    reader
        .records()
        .map(|r| r.expect("row")[learner].to_string())
        .collect()
}

/// Not Yet Achieved and assessed by Ann: i % 3 == 1.
fn expected_rows() -> usize {
    (0..LEARNERS).filter(|i| i % 3 == 1).count()
}

#[tokio::test]
async fn the_admin_sorts_filters_pages_reloads_and_downloads_the_report_with_and_without_javascript(
) {
    let c = centre().await;
    let (base, server) = serve(c.pool.clone()).await;
    let driver = Chromedriver::start();
    let rows = expected_rows();

    // With JavaScript: every change swaps the results in place and moves the address.
    let mut b = driver.browser(base.clone()).await;
    sign_in(&mut b).await;
    b.click("main a[href='/admin/enrolments']").await;
    b.arrive("Enrolments").await;
    b.select("#size", "25").await;
    until_shown(
        &b,
        &format!("1–25 of {LEARNERS} enrolments"),
        ("learner", "ascending"),
    )
    .await;
    b.click("#sort-progress").await;
    until_shown(
        &b,
        &format!("of {LEARNERS} enrolments"),
        ("progress", "descending"),
    )
    .await;
    b.select("#status", "not_yet_achieved").await;
    b.select("#assessor", &c.ann.to_string()).await;
    until_shown(
        &b,
        &format!("of {rows} enrolments"),
        ("progress", "descending"),
    )
    .await;
    assert!(
        b.address().await.contains("status=not_yet_achieved"),
        "the view is in the address"
    );
    let first_page = listed(&b).await;
    assert_eq!(first_page.len(), 25);
    b.click("#page-next").await;
    until_shown(
        &b,
        &format!("26–{} of {rows}", rows.min(50)),
        ("progress", "descending"),
    )
    .await;
    let second_page = listed(&b).await;
    assert!(
        second_page.iter().all(|n| !first_page.contains(n)),
        "no row twice"
    );
    b.check_accessibility().await;
    let address = b.address().await;
    assert!(
        address.contains("page=2") && address.contains("sort=progress"),
        "{address}"
    );
    b.reload().await;
    b.arrive("Enrolments").await;
    assert_eq!(
        listed(&b).await,
        second_page,
        "a reload shows the same view"
    );
    assert_eq!(
        b.attribute("#status option[selected]", "value")
            .await
            .as_deref(),
        Some("not_yet_achieved")
    );
    let href = b
        .attribute(".report-download a", "href")
        .await
        .expect("a CSV link");
    let cookie = b.cookie("attest_session").await;
    let downloaded = csv_learners(&base, &href, &cookie).await;
    assert_eq!(
        downloaded.len(),
        rows,
        "every page of the filtered set, none other"
    );
    assert_eq!(&downloaded[..25], &first_page[..], "in the table's order");
    assert_eq!(&downloaded[25..25 + second_page.len()], &second_page[..]);
    // The dashboard: a number in its tables opens the report filtered to it.
    b.goto("/admin/dashboard").await;
    b.arrive("Centre dashboard").await;
    b.click("#chart-status ~ .chart-body table a[href='/admin/enrolments?status=ready_to_be_requested']")
        .await;
    b.arrive("Enrolments").await;
    let ready = (0..LEARNERS).filter(|i| i % 3 == 0).count();
    until_shown(
        &b,
        &format!("of {ready} enrolments"),
        ("learner", "ascending"),
    )
    .await;
    b.assert_accessible();
    b.close().await;

    // Without JavaScript: links and the form's button do the same, a page at a time.
    let mut b = driver.browser_without_javascript(base.clone()).await;
    sign_in(&mut b).await;
    b.goto("/admin/enrolments?size=25").await;
    b.arrive("Enrolments").await;
    b.click("#sort-progress").await;
    until_shown(
        &b,
        &format!("of {LEARNERS} enrolments"),
        ("progress", "descending"),
    )
    .await;
    b.select("#status", "not_yet_achieved").await;
    b.select("#assessor", &c.ann.to_string()).await;
    // No script runs: nothing changes until the form is sent.
    assert!(b
        .text(".report-count")
        .await
        .contains(&format!("of {LEARNERS} enrolments")));
    b.click(".report-filters button[type=submit]").await;
    until_shown(
        &b,
        &format!("of {rows} enrolments"),
        ("progress", "descending"),
    )
    .await;
    assert_eq!(
        listed(&b).await,
        first_page,
        "the same view as with JavaScript"
    );
    b.click("#page-next").await;
    until_shown(
        &b,
        &format!("26–{} of {rows}", rows.min(50)),
        ("progress", "descending"),
    )
    .await;
    assert_eq!(listed(&b).await, second_page);
    b.reload().await;
    b.arrive("Enrolments").await;
    assert_eq!(listed(&b).await, second_page);
    let href = b
        .attribute(".report-download a", "href")
        .await
        .expect("a CSV link");
    let cookie = b.cookie("attest_session").await;
    assert_eq!(csv_learners(&base, &href, &cookie).await, downloaded);
    b.close().await;

    // The assessor's and the IQA's way in, each page checked by axe on arrival.
    let mut b = driver.browser(base.clone()).await;
    sign_in_as(&mut b, "ann@acme.test", PASSWORD, "Ann Assessor").await;
    b.click("main a[href='/caseload']").await;
    b.arrive("Your caseload").await;
    let ann_rows = (0..LEARNERS).filter(|i| i % 3 != 2).count();
    until_shown(
        &b,
        &format!("of {ann_rows} enrolments"),
        ("learner", "ascending"),
    )
    .await;
    b.assert_accessible();
    b.close().await;
    let mut b = driver.browser(base).await;
    sign_in_as(&mut b, "ivy@acme.test", PASSWORD, "Ivy Iqa").await;
    b.click("main a[href='/sample']").await;
    b.arrive("Your IQA sample").await;
    let sampled = (0..LEARNERS).filter(|i| i % 2 == 0).count();
    until_shown(
        &b,
        &format!("of {sampled} enrolments"),
        ("learner", "ascending"),
    )
    .await;
    b.goto("/sample/dashboard").await;
    b.arrive("Your IQA sample: dashboard").await;
    b.assert_accessible();
    b.close().await;
    server.abort();
}

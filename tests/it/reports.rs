//! The enrolment reports (SPEC §3): every sort, filter and page answers exactly the
//! enrolments it should, the CSV is exactly the filtered and sorted set, every viewer
//! sees only what they may, and input that cannot be read is said, never a 500.
use attest::db::centres::{self, Centre};
use attest::db::enrolments::{self, NewEnrolment};
use attest::db::qualifications;
use attest::db::users::Role;
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{person, tiny, two_majors};
use crate::http::{get, send, signed_in, Reply};

const PASSWORD: &str = "a long enough password";
const LEARNERS: usize = 57;

/// One enrolment as the fixture made it.
#[derive(Debug, Clone)]
struct Made {
    id: Uuid,
    learner: String,
    assessor: Uuid,
    iqa: Option<Uuid>,
    progress: i32,
    claims: i32,
    stale: bool,
    status: &'static str,
    qualification: Uuid,
}

struct Centres {
    pool: PgPool,
    acme: Centre,
    people: std::collections::HashMap<&'static str, Uuid>,
    made: Vec<Made>,
    /// A learner of the other centre, and its assessor.
    bravo_learner: &'static str,
    bravo_assessor: Uuid,
}

/// Acme: two assessors (Ann with 40 learners, Abe with 17), a trainee on a third of
/// Ann's, two IQAs, two qualifications; each enrolment's kept figures set to a known
/// spread (the kept figures themselves are held to a recount in kept_figures.rs).
/// Bravo: one learner whose assessor is Bravo's.
async fn centres() -> Centres {
    let pool = test_pool().await;
    let hash = password::hash(PASSWORD).expect("hash");
    let acme = centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let bravo = centres::create(&pool, "bravo", "Bravo College")
        .await
        .expect("centre");
    let mut people = std::collections::HashMap::new();
    for (key, name, roles) in [
        ("ann", "Ann Assessor", &[Role::Assessor][..]),
        ("abe", "Abe Assessor", &[Role::Assessor][..]),
        ("tom", "Tom Trainee", &[Role::TraineeAssessor][..]),
        ("ivy", "Ivy Iqa", &[Role::Iqa][..]),
        ("ian", "Ian Iqa", &[Role::Iqa][..]),
        ("ada", "Ada Admin", &[Role::Admin][..]),
    ] {
        let id = person(
            &pool,
            acme.id,
            &format!("{key}@acme.test"),
            name,
            roles,
            &hash,
        )
        .await;
        people.insert(key, id);
    }
    let bravo_assessor = person(
        &pool,
        bravo.id,
        "bob@bravo.test",
        "Bob Bravo",
        &[Role::Assessor],
        &hash,
    )
    .await;
    let bravo_admin = person(
        &pool,
        bravo.id,
        "bea@bravo.test",
        "Bea Bravo",
        &[Role::Admin],
        &hash,
    )
    .await;
    people.insert("bea", bravo_admin);
    let q1 = qualifications::import(&pool, acme.id, &tiny("TINY/1"), None)
        .await
        .expect("import");
    let q2 = qualifications::import(&pool, acme.id, &two_majors("TWO/1"), None)
        .await
        .expect("import");
    let mut made = Vec::new();
    for i in 0..LEARNERS {
        // Names that sort apart from their order of creation, one a formula.
        let name = if i == 7 {
            "=HYPERLINK(\"http://evil.example\")".to_string()
        } else {
            format!(
                "Learner {:02} {}",
                (i * 37) % LEARNERS,
                ["Ng", "Ōtaki", "Smith"][i % 3]
            )
        };
        let learner = person(
            &pool,
            acme.id,
            &format!("l{i}@acme.test"),
            &name,
            &[Role::Learner],
            &hash,
        )
        .await;
        let q = if i % 4 == 0 { &q2 } else { &q1 };
        let major = qualifications::major_id(&pool, q.version_id, "ALL")
            .await
            .expect("major");
        let assessor = if i < 40 { people["ann"] } else { people["abe"] };
        let iqa = match i % 3 {
            0 => Some(people["ivy"]),
            1 => Some(people["ian"]),
            _ => None,
        };
        let e = enrolments::create(
            &pool,
            &NewEnrolment {
                centre_id: acme.id,
                learner_id: learner,
                version_id: q.version_id,
                major_id: major,
                assessor_id: assessor,
                trainee_assessor_id: (i < 40 && i % 3 == 0).then(|| people["tom"]),
                iqa_id: iqa,
            },
            None,
        )
        .await
        .expect("enrolment");
        let confirmed = i32::try_from(i % 5).unwrap();
        let claims = i32::try_from((i * 7) % 4).unwrap();
        let stale = i % 6 == 5;
        let status = [
            "not_yet_achieved",
            "ready_to_be_requested",
            "credential_issued",
        ][i % 3];
        sqlx::query(
            "UPDATE enrolments SET confirmed_criteria = $2, claims_to_review = $3, \
                    awaiting_countersignature = $4, open_iqa_actions = $5, status = $6, \
                    last_activity_at = now() - make_interval(days => $7), \
                    latest_outcome = $8, latest_audit_id = CASE WHEN $8 IS NULL THEN NULL ELSE gen_random_uuid() END, \
                    latest_audit_at = CASE WHEN $8 IS NULL THEN NULL ELSE now() END \
              WHERE id = $1",
        )
        .bind(e.id)
        .bind(confirmed)
        .bind(claims)
        .bind(i32::try_from(i % 2).unwrap())
        .bind(i32::try_from(i % 7 / 5).unwrap())
        .bind(status)
        .bind(if stale { 45 } else { i32::try_from(i % 20).unwrap() })
        .bind(if i % 5 == 0 { None } else { Some("no_majors_achieved") })
        .execute(&pool)
        .await
        .expect("figures");
        // Both qualifications have 4 criteria.
        let criteria_total = 4;
        made.push(Made {
            id: e.id,
            learner: name,
            assessor,
            iqa,
            progress: confirmed * 100 / criteria_total,
            claims,
            stale,
            status,
            qualification: q.qualification_id,
        });
    }
    let bravo_q = qualifications::import(&pool, bravo.id, &tiny("TINY/1"), None)
        .await
        .expect("import");
    let bravo_learner = "Quentin Bravo-Only";
    let bl = person(
        &pool,
        bravo.id,
        "q@bravo.test",
        bravo_learner,
        &[Role::Learner],
        &hash,
    )
    .await;
    let bravo_major = qualifications::major_id(&pool, bravo_q.version_id, "ALL")
        .await
        .expect("major");
    enrolments::create(
        &pool,
        &NewEnrolment {
            centre_id: bravo.id,
            learner_id: bl,
            version_id: bravo_q.version_id,
            major_id: bravo_major,
            assessor_id: bravo_assessor,
            trainee_assessor_id: None,
            iqa_id: None,
        },
        None,
    )
    .await
    .expect("bravo enrolment");
    Centres {
        pool,
        acme,
        people,
        made,
        bravo_learner,
        bravo_assessor,
    }
}

impl Centres {
    async fn get(&self, who: &str, uri: &str) -> Reply {
        let email = if who == "bea" {
            "bea@bravo.test".to_string()
        } else {
            format!("{who}@acme.test")
        };
        let state = AppState::new(self.pool.clone());
        let cookie = signed_in(state.clone(), &email, PASSWORD).await;
        send(state, get(uri, Some(&cookie))).await
    }

    async fn page(&self, who: &str, uri: &str) -> String {
        let r = self.get(who, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        r.body
    }

    /// The learners' names in the order a page lists them.
    async fn listed(&self, who: &str, uri: &str) -> Vec<String> {
        names_in(&self.page(who, uri).await)
    }

    /// The CSV's rows (header first), read with a real CSV reader.
    async fn csv(&self, who: &str, uri: &str) -> Vec<Vec<String>> {
        let body = self.page(who, uri).await;
        let body = body.strip_prefix('\u{feff}').expect("a byte-order mark");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body.as_bytes())
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect()
    }
}

fn names_in(body: &str) -> Vec<String> {
    body.split("<th scope=\"row\"><a href=\"/enrolments/")
        .skip(1)
        .map(|rest| {
            let start = rest.find("\">").expect("link") + 2;
            let end = rest.find("</a>").expect("end");
            html_unescape(&rest[start..end])
        })
        .collect()
}

fn html_unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

fn sorted_names(made: &[&Made], key: impl Fn(&Made) -> i64, descending: bool) -> Vec<String> {
    let mut rows: Vec<&&Made> = made.iter().collect();
    rows.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        let primary = if descending { kb.cmp(&ka) } else { ka.cmp(&kb) };
        primary
            .then_with(|| {
                a.learner
                    .to_ascii_lowercase()
                    .cmp(&b.learner.to_ascii_lowercase())
            })
            .then_with(|| {
                if descending {
                    b.id.cmp(&a.id)
                } else {
                    a.id.cmp(&b.id)
                }
            })
    });
    rows.into_iter().map(|m| m.learner.clone()).collect()
}

#[tokio::test]
async fn the_admin_report_pages_through_the_whole_centre_in_the_order_asked() {
    let c = centres().await;
    let all: Vec<&Made> = c.made.iter().collect();
    // Every page of 25, sorted by claims (most first, then by name): together, exactly
    // the centre's enrolments in that order, with no repeat and no gap.
    let expected = sorted_names(&all, |m| i64::from(m.claims), true);
    let mut seen = Vec::new();
    for page in 1..=3 {
        let body = c
            .page(
                "ada",
                &format!("/admin/enrolments?sort=claims&size=25&page={page}"),
            )
            .await;
        assert!(body.contains(&format!("of <strong>{LEARNERS}</strong> enrolments")));
        seen.extend(names_in(&body));
    }
    assert_eq!(seen, expected);
    assert!(
        !seen.iter().any(|n| n == c.bravo_learner),
        "another centre's learner"
    );
    // The other way round, and by progress.
    let asc = c
        .listed("ada", "/admin/enrolments?sort=claims&dir=asc&size=100")
        .await;
    assert_eq!(asc, sorted_names(&all, |m| i64::from(m.claims), false));
    let by_progress = c
        .listed("ada", "/admin/enrolments?sort=progress&size=100")
        .await;
    assert_eq!(
        by_progress,
        sorted_names(&all, |m| i64::from(m.progress), true)
    );
    // The sorted column says so to assistive technology.
    let body = c.page("ada", "/admin/enrolments?sort=progress").await;
    assert!(body.contains(r#"aria-sort="descending" class="num"><a id="sort-progress""#));
    assert_eq!(body.matches("aria-sort=").count(), 1);
}

#[tokio::test]
async fn every_column_sorts_without_fail_and_keeps_the_filters() {
    let c = centres().await;
    for column in [
        "learner",
        "qualification",
        "major",
        "assessor",
        "status",
        "progress",
        "units",
        "claims",
        "countersign",
        "actions",
        "outcome",
        "activity",
    ] {
        for dir in ["asc", "desc"] {
            let uri = format!(
                "/admin/enrolments?status=credential_issued&sort={column}&dir={dir}&size=100"
            );
            let listed = c.listed("ada", &uri).await;
            let issued = c
                .made
                .iter()
                .filter(|m| m.status == "credential_issued")
                .count();
            assert_eq!(listed.len(), issued, "{uri}");
        }
    }
}

#[tokio::test]
async fn each_filter_narrows_to_exactly_the_enrolments_it_names() {
    let c = centres().await;
    let count = |f: &dyn Fn(&Made) -> bool| c.made.iter().filter(|m| f(m)).count();
    let ann = c.people["ann"];
    let ivy = c.people["ivy"];
    let cases: Vec<(String, usize)> = vec![
        (
            "status=ready_to_be_requested".into(),
            count(&|m| m.status == "ready_to_be_requested"),
        ),
        (format!("assessor={ann}"), count(&|m| m.assessor == ann)),
        (format!("iqa={ivy}"), count(&|m| m.iqa == Some(ivy))),
        ("stale=1".into(), count(&|m| m.stale)),
        ("claims=1".into(), count(&|m| m.claims > 0)),
        (
            "progress=50-59".into(),
            count(&|m| (50..=59).contains(&m.progress)),
        ),
        ("progress=0".into(), count(&|m| m.progress == 0)),
        (
            format!("qualification={}", c.made[0].qualification),
            count(&|m| m.qualification == c.made[0].qualification),
        ),
        (
            "q=%C5%8Ctaki".into(),
            count(&|m| m.learner.contains("Ōtaki")),
        ),
        (
            "q=NG".into(),
            count(&|m| m.learner.to_lowercase().contains("ng")),
        ),
        ("q=50%25".into(), 0),
        (
            format!("stale=1&claims=1&assessor={ann}"),
            count(&|m| m.stale && m.claims > 0 && m.assessor == ann),
        ),
    ];
    for (query, expected) in cases {
        let listed = c
            .listed("ada", &format!("/admin/enrolments?size=200&{query}"))
            .await;
        assert_eq!(listed.len(), expected, "{query}");
        let rows = c
            .csv("ada", &format!("/admin/enrolments.csv?{query}"))
            .await;
        assert_eq!(
            rows.len(),
            expected + 1,
            "{query}: the CSV holds the same rows"
        );
    }
    // Outcomes, including never audited.
    let never = c
        .listed("ada", "/admin/enrolments?size=200&outcome=none")
        .await;
    assert_eq!(
        never.len(),
        c.made
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 5 == 0)
            .count()
    );
}

#[tokio::test]
async fn the_csv_is_exactly_the_filtered_sorted_set_with_ids_iso_dates_and_safe_cells() {
    let c = centres().await;
    let ann = c.people["ann"];
    let query = format!("assessor={ann}&sort=claims&size=25&page=2");
    // The CSV is every page of the view, whatever page the link was on.
    let rows = c
        .csv("ada", &format!("/admin/enrolments.csv?{query}"))
        .await;
    let header = &rows[0];
    for column in [
        "enrolment_id",
        "learner_id",
        "learner",
        "qualification_code",
        "major_code",
        "assessor_id",
        "status",
        "confirmed_progress_percent",
        "claims_to_review",
        "last_activity_at",
    ] {
        assert!(header.iter().any(|h| h == column), "{column} in {header:?}");
    }
    let learner = header.iter().position(|h| h == "learner").unwrap();
    let names: Vec<String> = rows[1..].iter().map(|r| r[learner].clone()).collect();
    let mine: Vec<&Made> = c.made.iter().filter(|m| m.assessor == ann).collect();
    let expected: Vec<String> = sorted_names(&mine, |m| i64::from(m.claims), true)
        .into_iter()
        .map(|n| {
            if n.starts_with('=') {
                format!("'{n}")
            } else {
                n
            }
        })
        .collect();
    assert_eq!(names, expected);
    assert!(
        names.iter().any(|n| n.starts_with("'=HYPERLINK")),
        "the formula is neutralised"
    );
    let at = header.iter().position(|h| h == "last_activity_at").unwrap();
    assert!(rows[1..]
        .iter()
        .all(|r| r[at].len() == 20 && r[at].ends_with('Z') && &r[at][10..11] == "T"));
    let id = header.iter().position(|h| h == "enrolment_id").unwrap();
    assert!(rows[1..].iter().all(|r| Uuid::parse_str(&r[id]).is_ok()));
}

#[tokio::test]
async fn every_report_shows_only_what_its_viewer_may_see() {
    let c = centres().await;
    let ann_rows = c
        .made
        .iter()
        .filter(|m| m.assessor == c.people["ann"])
        .count();
    let caseload = c.listed("ann", "/caseload?size=200").await;
    assert_eq!(caseload.len(), ann_rows);
    let trainee = c.listed("tom", "/caseload?size=200").await;
    assert_eq!(
        trainee.len(),
        c.made
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 40 && i % 3 == 0)
            .count()
    );
    let ivy = c.listed("ivy", "/sample?size=200").await;
    assert_eq!(
        ivy.len(),
        c.made
            .iter()
            .filter(|m| m.iqa == Some(c.people["ivy"]))
            .count()
    );
    let csv = c.csv("ivy", "/sample.csv").await;
    assert_eq!(csv.len(), ivy.len() + 1);
    // Bravo's admin sees Bravo only, even naming Acme's people in the filters.
    let forged = format!("/admin/enrolments?assessor={}", c.people["ann"]);
    let body = c.page("bea", &forged).await;
    assert!(
        body.contains("That is not an assessor of your centre"),
        "said beside the field: {}",
        &body[body.find("<main").unwrap_or(0)..][..1500]
    );
    assert!(names_in(&body).is_empty());
    let bravo = c.listed("bea", "/admin/enrolments").await;
    assert_eq!(bravo, [c.bravo_learner]);
    let rows = c
        .csv(
            "bea",
            &format!("/admin/enrolments.csv?assessor={}", c.people["ann"]),
        )
        .await;
    assert_eq!(rows.len(), 1, "only the header");
    // An assessor filtering their caseload by another assessor's trainee gets only theirs.
    let abe = c
        .listed(
            "abe",
            &format!("/caseload?trainee={}&size=200", c.people["tom"]),
        )
        .await;
    assert!(abe.is_empty());
    let _ = c.bravo_assessor;
    // Nobody else has the pages.
    for (who, uri) in [
        ("ann", "/admin/enrolments"),
        ("ann", "/sample"),
        ("ivy", "/caseload"),
        ("ada", "/caseload.csv"),
        ("ann", "/admin/dashboard"),
    ] {
        assert_eq!(
            c.get(who, uri).await.status,
            StatusCode::NOT_FOUND,
            "{who} {uri}"
        );
    }
}

#[tokio::test]
async fn input_that_cannot_be_read_is_said_beside_its_field_never_a_failure() {
    let c = centres().await;
    for (query, says) in [
        ("sort=favourite", "no column “favourite”"),
        ("page=-3", "The page is a whole number from 1"),
        ("page=abc", "The page is a whole number from 1"),
        ("size=13", "Rows per page are 25, 50, 100 or 200"),
        ("status=asleep", "“asleep” is not a status"),
        ("assessor=not-an-id", "is not one of the choices"),
        ("iqa=00000000-0000-0000-0000-000000000000", "of your centre"),
        ("progress=40-20", "Confirmed progress is a percent"),
        (
            "requested=last-month",
            "A month is written as year and month",
        ),
        ("stale=perhaps", "This filter is on or off"),
        ("page=99", "There is no page 99"),
        ("q=%00%FF%FE", ""),
    ] {
        let r = c.get("ada", &format!("/admin/enrolments?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}");
        assert!(r.body.contains(says), "{query}: {says}");
        if !says.is_empty() {
            assert!(r.body.contains("error-summary"), "{query}: summary on top");
        }
        let csv = c
            .get("ada", &format!("/admin/enrolments.csv?{query}"))
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{query} CSV");
    }
    // What was typed stays in the form.
    let body = c.page("ada", "/admin/enrolments?q=%3Cb%3EZo%C3%AB").await;
    assert!(
        body.contains(r#"value="&#60;b&#62;Zoë""#) || body.contains(r#"value="&lt;b&gt;Zoë""#),
        "kept and escaped"
    );
}

#[tokio::test]
async fn with_htmx_only_the_results_come_back_with_the_order_and_problems_beside() {
    let c = centres().await;
    let state = AppState::new(c.pool.clone());
    let cookie = signed_in(state.clone(), "ada@acme.test", PASSWORD).await;
    let mut request = get("/admin/enrolments?sort=claims&status=bogus", Some(&cookie));
    request
        .headers_mut()
        .insert("hx-request", "true".parse().unwrap());
    request
        .headers_mut()
        .insert("hx-target", "report-results".parse().unwrap());
    let r = send(state, request).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .trim_start()
            .starts_with(r#"<div id="report-results""#),
        "{}",
        &r.body[..200.min(r.body.len())]
    );
    assert!(!r.body.contains("<html"), "a fragment, not a page");
    assert!(r.body.contains(r#"<div id="report-order" hx-swap-oob="true"><input type="hidden" name="sort" value="claims">"#));
    assert!(
        r.body
            .contains(r#"id="report-problems" hx-swap-oob="true""#)
            && r.body.contains("is not a status")
    );
    assert!(r.body.contains(r#"id="report-status""#));
    let _ = &c.acme;
}

/// Each number of a dashboard's tables with its link: (href, number).
fn dashboard_links(body: &str) -> Vec<(String, i64)> {
    body.split("<td class=\"num\"><a href=\"")
        .skip(1)
        .map(|rest| {
            let (href, rest) = rest.split_once("\">").expect("link");
            let n = rest.split_once("</a>").expect("number").0;
            (html_unescape(href), n.parse().expect("a number"))
        })
        .collect()
}

async fn total_of(c: &Centres, who: &str, href: &str) -> i64 {
    let body = c.page(who, href).await;
    if body.contains("No enrolments match") {
        return 0;
    }
    let at = body.find("</strong> of <strong>").expect("a count") + "</strong> of <strong>".len();
    body[at..]
        .split_once('<')
        .expect("end")
        .0
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn each_number_of_a_dashboard_opens_exactly_the_enrolments_it_counts() {
    let c = centres().await;
    let body = c.page("ada", "/admin/dashboard").await;
    let links = dashboard_links(&body);
    assert!(
        links.len() >= 7 + 11,
        "statuses and progress bands at least: {}",
        links.len()
    );
    for (href, n) in &links {
        if href.contains("requested=") || href.contains("issued=") {
            assert_eq!(*n, 0, "no credentials in this centre: {href}");
        }
        assert_eq!(total_of(&c, "ada", href).await, *n, "{href}");
    }
    // The bars link where the table does, and the drawing is hidden from screen readers.
    assert!(
        body.contains(r#"<svg class="chart-svg""#)
            && body.contains(r#"aria-hidden="true" focusable="false""#)
    );
    assert!(body.contains(r#"tabindex="-1"><rect class="bar-status""#));
    // The IQA's view counts their sample only.
    let ivy = c.page("ivy", "/sample/dashboard").await;
    assert!(
        ivy.contains("Sampling by assessor") && ivy.contains("Ann Assessor"),
        "the IQA's coverage by assessor beside their sample's charts"
    );
    let statuses: i64 = dashboard_links(&ivy)
        .iter()
        .filter(|(href, _)| href.contains("status="))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        statuses,
        i64::try_from(
            c.made
                .iter()
                .filter(|m| m.iqa == Some(c.people["ivy"]))
                .count()
        )
        .unwrap()
    );
    for (href, n) in dashboard_links(&ivy).iter().take(12) {
        assert!(href.starts_with("/sample?"), "{href}");
        assert_eq!(total_of(&c, "ivy", href).await, *n, "{href}");
    }
}

#[tokio::test]
async fn a_renamed_learner_sorts_and_is_found_under_the_new_name() {
    let c = centres().await;
    let last = c
        .made
        .iter()
        .max_by_key(|m| m.learner.to_ascii_lowercase())
        .expect("a learner");
    sqlx::query(
        "UPDATE users SET display_name = 'Aaron Abbott', email = 'aaron@acme.test' \
          WHERE id = (SELECT learner_id FROM enrolments WHERE id = $1)",
    )
    .bind(last.id)
    .execute(&c.pool)
    .await
    .expect("rename");
    let first = c.listed("ada", "/admin/enrolments?size=25").await;
    // After only the name that starts with '='.
    assert_eq!(
        first[1], "Aaron Abbott",
        "sorted under the new name: {first:?}"
    );
    assert_eq!(
        c.listed("ada", "/admin/enrolments?q=AARON@").await,
        ["Aaron Abbott"]
    );
    assert!(c
        .listed(
            "ada",
            &format!("/admin/enrolments?q={}", crate::http::enc(&last.learner))
        )
        .await
        .is_empty());
}

/// Over a whole centre, an order by qualification, major, assessor or status reads its
/// pages group by group from an index; paging through must give exactly the order the
/// full sort gives (the CSV's statement), without a row missed or repeated, with and
/// without filters, in both directions, and the home page's first rows likewise; over
/// an IQA's sample as well.
#[tokio::test]
async fn every_order_pages_through_exactly_the_sorted_centre() {
    use attest::db::report::{self, Scope};
    use attest::domain::report::{Column, Direction, Filters, ReportQuery, Sort};
    use attest::domain::status::Status;
    let c = centres().await;
    let filter_sets = [
        Filters::default(),
        Filters {
            has_claims: true,
            ..Filters::default()
        },
        Filters {
            status: Some(Status::NotYetAchieved),
            assessor: Some(c.people["ann"]),
            ..Filters::default()
        },
        Filters {
            search: Some("a".into()),
            stale: true,
            ..Filters::default()
        },
    ];
    // Read group by group (qualification, major, assessor, status), from an order's
    // index (progress, units, actions, outcome, activity by day then time), or sorted.
    // An IQA's sample too: by actions, unfiltered, its page is read from the sample's
    // kept order (migration 0055) and its total from the tallies.
    let scopes = [Scope::Centre, Scope::Sample(c.people["ivy"])];
    for (scope, column) in scopes
        .into_iter()
        .flat_map(|s| Column::ALL.into_iter().map(move |c| (s, c)))
    {
        for direction in [Direction::Ascending, Direction::Descending] {
            for filters in &filter_sets {
                let query = |page: u32, size: u32| ReportQuery {
                    filters: filters.clone(),
                    sort: Sort { column, direction },
                    page,
                    size,
                };
                let all: Vec<Uuid> = report::all_rows_query(c.acme.id, scope, &query(1, 7))
                    .build()
                    .fetch_all(&c.pool)
                    .await
                    .expect("every row")
                    .iter()
                    .map(|r| report::read_row(r).expect("row").enrolment_id)
                    .collect();
                let mut paged = Vec::new();
                for page in 1..=(all.len() as u32 / 7 + 2) {
                    let p = report::page(&c.pool, c.acme.id, scope, &query(page, 7))
                        .await
                        .expect("page");
                    assert_eq!(
                        p.total,
                        all.len() as i64,
                        "{scope:?} {column:?} {direction:?}"
                    );
                    paged.extend(p.rows.iter().map(|r| r.enrolment_id));
                }
                assert_eq!(paged, all, "{scope:?} {column:?} {direction:?} {filters:?}");
                let second: Vec<Uuid> = report::rows(&c.pool, c.acme.id, scope, &query(2, 5))
                    .await
                    .expect("rows")
                    .iter()
                    .map(|r| r.enrolment_id)
                    .collect();
                let expected: Vec<Uuid> = all.iter().skip(5).take(5).copied().collect();
                assert_eq!(
                    second, expected,
                    "{scope:?} {column:?} {direction:?} {filters:?}"
                );
            }
        }
    }
}

/// Ordered by the last activity, the page is read day by day from the index and sorted by
/// the time within each day; ordered by the audit outcome, from its kept rank. Both must
/// be exactly the order of the figures themselves, held here to a sort of the raw values.
#[tokio::test]
async fn activity_and_outcome_orders_are_the_order_of_the_figures() {
    use attest::db::report::{self, Scope};
    use attest::domain::report::{Column, Direction, Filters, ReportQuery, Sort};
    let c = centres().await;
    // Several enrolments on each day, apart by hours and minutes within it, and every
    // outcome (or none) among them.
    sqlx::query(
        "UPDATE enrolments SET last_activity_at = date_trunc('day', now()) \
                - make_interval(days => length(learner_search) % 4, mins => get_byte(decode(md5(learner_sort), 'hex'), 0) * 3), \
                latest_outcome = o.outcome, \
                latest_audit_id = CASE WHEN o.outcome IS NULL THEN NULL ELSE gen_random_uuid() END, \
                latest_audit_at = CASE WHEN o.outcome IS NULL THEN NULL ELSE now() END \
           FROM (SELECT x.id, (ARRAY[NULL, 'no_majors_achieved', 'other_majors_achieved', \
                                     'assigned_major_achieved', 'all_majors_achieved'])\
                              [1 + get_byte(decode(md5(x.id::text), 'hex'), 1) % 5] AS outcome \
                   FROM enrolments x) o \
          WHERE o.id = enrolments.id AND enrolments.centre_id = $1",
    )
    .bind(c.acme.id)
    .execute(&c.pool)
    .await
    .expect("spread the activity");
    #[derive(sqlx::FromRow)]
    struct Raw {
        id: Uuid,
        last_activity_at: time::OffsetDateTime,
        latest_outcome: Option<String>,
        learner_sort: String,
    }
    let raw: Vec<Raw> = sqlx::query_as(
        "SELECT id, last_activity_at, latest_outcome, learner_sort FROM enrolments WHERE centre_id = $1",
    )
    .bind(c.acme.id)
    .fetch_all(&c.pool)
    .await
    .expect("raw figures");
    let days: std::collections::BTreeSet<_> =
        raw.iter().map(|r| r.last_activity_at.date()).collect();
    assert!(days.len() >= 2, "the activity spans several days");
    let outcomes: std::collections::BTreeSet<_> =
        raw.iter().map(|r| r.latest_outcome.clone()).collect();
    assert_eq!(outcomes.len(), 5, "every outcome and none");
    let rank = |o: &Option<String>| match o.as_deref() {
        None => 0,
        Some("no_majors_achieved") => 1,
        Some("other_majors_achieved") => 2,
        Some("assigned_major_achieved") => 3,
        Some("all_majors_achieved") => 4,
        Some(other) => panic!("outcome {other}"),
    };
    for direction in [Direction::Ascending, Direction::Descending] {
        for column in [Column::Activity, Column::Outcome] {
            let mut expected: Vec<&Raw> = raw.iter().collect();
            expected.sort_by(|a, b| {
                let key = match column {
                    Column::Activity => a.last_activity_at.cmp(&b.last_activity_at),
                    _ => rank(&a.latest_outcome).cmp(&rank(&b.latest_outcome)),
                };
                let ids = a.id.cmp(&b.id);
                match direction {
                    Direction::Ascending => key.then(a.learner_sort.cmp(&b.learner_sort)).then(ids),
                    Direction::Descending => key
                        .reverse()
                        .then(a.learner_sort.cmp(&b.learner_sort))
                        .then(ids.reverse()),
                }
            });
            let expected: Vec<Uuid> = expected.iter().map(|r| r.id).collect();
            let query = |page: u32| ReportQuery {
                filters: Filters::default(),
                sort: Sort { column, direction },
                page,
                size: 10,
            };
            let mut paged = Vec::new();
            for page in 1..=(expected.len() as u32 / 10 + 1) {
                let p = report::page(&c.pool, c.acme.id, Scope::Centre, &query(page))
                    .await
                    .expect("page");
                paged.extend(p.rows.iter().map(|r| r.enrolment_id));
            }
            assert_eq!(paged, expected, "{column:?} {direction:?}");
        }
    }
}

/// The unfiltered report's total is the centre's kept count: it follows every way an
/// enrolment is made, and an enrolment never moves to another centre.
#[tokio::test]
async fn the_kept_enrolment_count_follows_every_enrolment_made() {
    let c = centres().await;
    let counted = |centre: Uuid| {
        let pool = c.pool.clone();
        async move {
            let kept: i64 = sqlx::query_scalar(
                "SELECT enrolments FROM centre_enrolment_counts WHERE centre_id = $1",
            )
            .bind(centre)
            .fetch_one(&pool)
            .await
            .expect("kept");
            let recounted: i64 =
                sqlx::query_scalar("SELECT count(*) FROM enrolments WHERE centre_id = $1")
                    .bind(centre)
                    .fetch_one(&pool)
                    .await
                    .expect("recount");
            (kept, recounted)
        }
    };
    let (kept, recounted) = counted(c.acme.id).await;
    assert_eq!((kept, recounted), (LEARNERS as i64, LEARNERS as i64));
    let body = c.page("ada", "/admin/enrolments").await;
    assert!(body.contains(&format!("of <strong>{LEARNERS}</strong> enrolments")));
    // Bravo's one, counted apart.
    let bravo: Uuid = sqlx::query_scalar("SELECT id FROM centres WHERE slug = 'bravo'")
        .fetch_one(&c.pool)
        .await
        .expect("bravo");
    assert_eq!(counted(bravo).await, (1, 1));
    let moved = sqlx::query("UPDATE enrolments SET centre_id = $2 WHERE id = $1")
        .bind(c.made[0].id)
        .bind(bravo)
        .execute(&c.pool)
        .await;
    assert!(moved.is_err(), "an enrolment moved centre");
    assert_eq!(counted(c.acme.id).await, (LEARNERS as i64, LEARNERS as i64));
}

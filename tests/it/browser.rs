//! The journey the help page tells, walked in headless Chromium through the real sign-in
//! form: the learner claims, the assessor confirms and accepts, a trainee's ticks wait for
//! countersignature, the IQA samples, and everyone sees only confirmed criteria as
//! progress. axe-core checks every page on the way.
use std::net::SocketAddr;
use std::time::Instant;

use attest::db::enrolments::{self, Enrolment, NewEnrolment};
use attest::db::qualifications;
use attest::db::users::{self, Role, User};
use attest::domain::qualification::Qualification;
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::{router, AppState};
use uuid::Uuid;

use crate::helpers::{group, learner, major, new_enrolment, staff, units};

mod apprenticeship;
mod deactivate;
mod driver;
mod import;
mod offline;
mod passwords;
mod phone;
mod reassign;
mod reports;
mod status;
mod witness;

use driver::{Browser, Chromedriver};

const PASSWORD: &str = "journey password 2026";
const LEARNER: &str = "lee@acme.test";
const ASSESSOR: &str = "ann@acme.test";
const TRAINEE: &str = "tom@acme.test";
const IQA: &str = "ivy@acme.test";

/// The centre, its people (each with PASSWORD), and an enrolment on a qualification of
/// two units, the first with criteria 1.1 to 1.5.
struct Journey {
    enrolment: Enrolment,
    learner: User,
    criteria: Vec<Uuid>,
    first_unit: Uuid,
}

impl Journey {
    /// The id of criterion `number` (1.1 to 1.5) of the first unit.
    fn criterion(&self, number: &str) -> Uuid {
        let n: usize = number
            .strip_prefix("1.")
            .and_then(|n| n.parse().ok())
            .expect("a criterion of the first unit");
        self.criteria[n - 1]
    }

    fn portfolio(&self) -> String {
        format!("/enrolments/{}", self.enrolment.id)
    }
}

fn qualification() -> Qualification {
    Qualification {
        code: "CS/2".into(),
        title: "Certificate in Customer Service".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(2, 5),
        majors: vec![major("ALL", vec![group("Mandatory", vec![0, 1])])],
    }
}

async fn set_up(pool: &sqlx::PgPool) -> Journey {
    let centre = attest::db::centres::create(pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let assessor = staff(pool, centre.id, ASSESSOR, &[Role::Assessor]).await;
    let trainee = staff(pool, centre.id, TRAINEE, &[Role::TraineeAssessor]).await;
    let iqa = staff(pool, centre.id, IQA, &[Role::Iqa]).await;
    let lee = learner(pool, centre.id, LEARNER).await;
    let hash = password::hash(PASSWORD).expect("hash");
    for u in [&assessor, &trainee, &iqa, &lee] {
        users::set_password_hash(pool, u.id, &hash)
            .await
            .expect("password");
    }
    let q = qualification();
    let version = qualifications::import(pool, centre.id, &q, None)
        .await
        .expect("import");
    let major_id = qualifications::major_id(pool, version.version_id, "ALL")
        .await
        .expect("major");
    let enrolment = enrolments::create(
        pool,
        &NewEnrolment {
            trainee_assessor_id: Some(trainee.id),
            iqa_id: Some(iqa.id),
            ..new_enrolment(&centre, &lee, &assessor, version.version_id, major_id)
        },
        Some(assessor.id),
    )
    .await
    .expect("enrolment");
    let loaded = qualifications::load_version(pool, version.version_id)
        .await
        .expect("version");
    Journey {
        enrolment,
        learner: lee,
        criteria: loaded.criterion_ids,
        first_unit: loaded.unit_ids[0],
    }
}

/// The app on a free port of 127.0.0.1, as `attest serve` runs it.
async fn serve(pool: sqlx::PgPool) -> (String, tokio::task::JoinHandle<()>) {
    serve_state(AppState::new(pool)).await
}

/// `serve`, with the state given (its file store, say).
async fn serve_state(state: AppState) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serving");
    });
    (format!("http://{addr}"), server)
}

/// A column of the criterion tree (td:nth-of-type after the criterion's th).
#[derive(Clone, Copy)]
enum Column {
    Learner = 1,
    Trainee = 2,
    Assessor = 3,
}

/// The numbers the progress page shows for the whole qualification.
#[derive(Debug, PartialEq, Eq)]
struct Progress {
    confirmed: u32,
    total: u32,
    claimed: u32,
    awaiting_countersignature: u32,
}

fn progress(confirmed: u32, claimed: u32, awaiting_countersignature: u32) -> Progress {
    Progress {
        confirmed,
        total: 10,
        claimed,
        awaiting_countersignature,
    }
}

fn leading_number(text: &str) -> u32 {
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number at the start of {text:?}"))
}

/// "40% · 4 of 10 criteria" → (4, 10).
fn confirmed_of(bar: &str) -> (u32, u32) {
    let counts = bar
        .split('·')
        .nth(1)
        .unwrap_or_else(|| panic!("a progress bar's text: {bar:?}"));
    let words: Vec<&str> = counts.split_whitespace().collect();
    match words.as_slice() {
        [confirmed, "of", total, "criteria"] => (
            confirmed.parse().expect("confirmed count"),
            total.parse().expect("criteria count"),
        ),
        _ => panic!("a progress bar's text: {bar:?}"),
    }
}

/// Opens the progress page and reads its overall numbers.
async fn read_progress(b: &mut Browser, j: &Journey) -> Progress {
    b.goto(&format!("{}/progress", j.portfolio())).await;
    b.arrive("Progress").await;
    // A learner's page opens on their to-do; the figures are under "More detail".
    if b.has("main details.more-detail:not([open])").await {
        b.click("main details.more-detail > summary").await;
    }
    let (confirmed, total) = confirmed_of(&b.text("main .overall .bar-text").await);
    let mut p = Progress {
        confirmed,
        total,
        claimed: 0,
        awaiting_countersignature: 0,
    };
    for line in b.texts("main .overall ul.plain li").await {
        if line.ends_with("claimed — awaiting assessor") {
            p.claimed = leading_number(&line);
        } else if line.ends_with("awaiting countersignature") {
            p.awaiting_countersignature = leading_number(&line);
        } else {
            panic!("an unexpected line beside progress: {line:?}");
        }
    }
    p
}

/// Signs in through the form from the sign-in page; ends on the home page.
async fn sign_in(b: &mut Browser, email: &'static str) {
    b.viewer = Some(email);
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("main form button[type=submit]").await;
    b.arrive(&format!("Welcome, {email}")).await;
}

/// Signs in from the sign-in page's address; ends on the home page of `name`.
async fn sign_in_as(b: &mut Browser, email: &'static str, password: &str, name: &str) {
    b.goto("/login").await;
    b.arrive("Sign in").await;
    b.viewer = Some(email);
    b.fill("#email", email).await;
    b.fill("#password", password).await;
    b.click("main form button[type=submit]").await;
    b.arrive(&format!("Welcome, {name}")).await;
}

/// Signs out from the header; ends on the sign-in page.
async fn sign_out(b: &mut Browser) {
    b.click("header .account button").await;
    b.viewer = None;
    b.arrive("Sign in").await;
}

/// From the home page to the portfolio, by its link.
async fn open_portfolio(b: &mut Browser, j: &Journey) {
    b.click(&format!("main a[href='{}']", j.portfolio())).await;
    b.arrive(&j.learner.display_name).await;
}

/// From the portfolio to one evidence item, by its link.
async fn open_item(b: &mut Browser, j: &Journey, item: Uuid, title: &str) {
    b.click(&format!("main a[href='{}/evidence/{item}']", j.portfolio()))
        .await;
    b.arrive(title).await;
}

/// From an evidence or progress page back to the portfolio, by the breadcrumb.
async fn back_to_portfolio(b: &mut Browser, j: &Journey) {
    b.click(&format!(".breadcrumbs a[href='{}']", j.portfolio()))
        .await;
    b.arrive(&j.learner.display_name).await;
}

/// Adds an evidence item from the portfolio page; answers its id.
async fn add_evidence(b: &mut Browser, title: &str, signer: &str) -> Uuid {
    b.click("main a.button[href$='/evidence/new']").await;
    b.arrive("Add evidence").await;
    b.fill("#title", title).await;
    b.fill("#description", "What happened and when, in my words.")
        .await;
    b.click("#kind-document").await;
    // The learner declares it their own work, signing with their name.
    b.click("#declared-yes").await;
    b.fill("#signed_name", signer).await;
    b.click("main form button[type=submit]").await;
    b.arrive(title).await;
    let path = b.path().await;
    path.rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("an evidence page's address: {path}"))
}

/// Ticks one criterion in the viewer's column and waits for the row to show it: htmx
/// may swap the row in place, or the form posts and the page reloads; both end there.
async fn tick(b: &mut Browser, criterion: Uuid, column: Column) {
    // Staff first see what was claimed or ticked on the item; a criterion nobody has
    // ticked yet is under "All criteria".
    if !b.has(&format!("tr#c-{criterion}")).await {
        b.click(".item-views a[href$='?view=all']").await;
        b.wait_for(&format!("tr#c-{criterion}"), "the full list of criteria")
            .await;
    }
    let cell = format!("tr#c-{criterion} td:nth-of-type({})", column as u8);
    assert!(
        !b.has(&format!("{cell} .ticked")).await,
        "{cell} is not ticked yet"
    );
    b.click(&format!("{cell} button.tick-button:not(.untick)"))
        .await;
    b.wait_for(&format!("{cell} .ticked"), "the row shows the new tick")
        .await;
}

async fn is_ticked(b: &Browser, criterion: Uuid, column: Column) -> bool {
    b.has(&format!(
        "tr#c-{criterion} td:nth-of-type({}) .ticked",
        column as u8
    ))
    .await
}

/// "Accept all …" from an evidence page: the prompt names the count, then confirm.
async fn accept_all(b: &mut Browser, from: &str, whose: &str, count: usize, title: &str) {
    b.click(&format!("main a[href$='/accept/{from}']")).await;
    b.arrive(&format!("Accept all {whose} ticks?")).await;
    let lead = b.text("main .lead").await;
    assert_eq!(
        lead,
        format!("This will tick {count} criteria on “{title}”."),
        "the prompt names the count"
    );
    b.click("main form button[type=submit]").await;
    b.arrive(title).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_help_page_journey_in_chromium_with_no_serious_accessibility_violations() {
    let started = Instant::now();
    let pool = test_pool().await;
    let j = set_up(&pool).await;
    let (base, server) = serve(pool).await;
    let driver = Chromedriver::start();
    let mut b = driver.browser(base).await;
    let (feedback_log, phone_notes) = ("Customer feedback log, March", "Phone call notes");
    let c = |n: &str| j.criterion(n);

    // Anyone can read the help, signed in or not.
    b.goto("/login").await;
    b.arrive("Sign in").await;
    b.click("header a[href='/help']").await;
    b.arrive("Help: from evidence to progress").await;
    b.click("header a.brand").await;
    b.arrive("Sign in").await;

    // The learner adds evidence and claims 1.1, 1.3 and 1.5: nothing is confirmed yet.
    sign_in(&mut b, LEARNER).await;
    open_portfolio(&mut b, &j).await;
    let item_a = add_evidence(&mut b, feedback_log, &j.learner.display_name).await;
    for n in ["1.1", "1.3", "1.5"] {
        tick(&mut b, c(n), Column::Learner).await;
    }
    b.check_accessibility().await;
    assert_eq!(read_progress(&mut b, &j).await, progress(0, 3, 0));
    // A second item claims 1.3 and 1.5 again: still three criteria claimed.
    back_to_portfolio(&mut b, &j).await;
    let item_b = add_evidence(&mut b, phone_notes, &j.learner.display_name).await;
    for n in ["1.3", "1.5"] {
        tick(&mut b, c(n), Column::Learner).await;
    }
    assert_eq!(read_progress(&mut b, &j).await, progress(0, 3, 0));
    sign_out(&mut b).await;

    // The assessor confirms 1.1 and 1.3 on the first item.
    sign_in(&mut b, ASSESSOR).await;
    open_portfolio(&mut b, &j).await;
    open_item(&mut b, &j, item_a, feedback_log).await;
    for n in ["1.1", "1.3"] {
        tick(&mut b, c(n), Column::Assessor).await;
    }
    b.check_accessibility().await;
    assert_eq!(read_progress(&mut b, &j).await, progress(2, 1, 0));
    // On the second item, "Accept all learner ticks" (1.3 and 1.5) confirms 1.5 too.
    back_to_portfolio(&mut b, &j).await;
    open_item(&mut b, &j, item_b, phone_notes).await;
    accept_all(&mut b, "learner", "learner", 2, phone_notes).await;
    for n in ["1.3", "1.5"] {
        assert!(is_ticked(&b, c(n), Column::Assessor).await, "{n} accepted");
    }
    assert_eq!(read_progress(&mut b, &j).await, progress(3, 0, 0));
    sign_out(&mut b).await;

    // The trainee assessor ticks 1.2 and 1.4: they await countersignature, not progress.
    sign_in(&mut b, TRAINEE).await;
    open_portfolio(&mut b, &j).await;
    open_item(&mut b, &j, item_a, feedback_log).await;
    for n in ["1.2", "1.4"] {
        tick(&mut b, c(n), Column::Trainee).await;
    }
    b.check_accessibility().await;
    assert_eq!(read_progress(&mut b, &j).await, progress(3, 0, 2));
    sign_out(&mut b).await;

    // The qualified assessor countersigns with "Accept all trainee assessor ticks".
    sign_in(&mut b, ASSESSOR).await;
    open_portfolio(&mut b, &j).await;
    open_item(&mut b, &j, item_a, feedback_log).await;
    accept_all(&mut b, "trainee", "trainee assessor", 2, feedback_log).await;
    assert_eq!(read_progress(&mut b, &j).await, progress(5, 0, 0));
    sign_out(&mut b).await;

    // The IQA sees the same progress, samples the first unit and raises an action.
    sign_in(&mut b, IQA).await;
    open_portfolio(&mut b, &j).await;
    assert_eq!(read_progress(&mut b, &j).await, progress(5, 0, 0));
    back_to_portfolio(&mut b, &j).await;
    assert!(b.has("#quality").await && !b.has("#quality table").await);
    b.select("#target", &format!("unit:{}", j.first_unit)).await;
    b.click("#verdict-action").await;
    b.fill("#feedback", "Say which customer each entry refers to.")
        .await;
    b.click("#quality form button[type=submit]").await;
    let decision = b
        .wait_for("#quality table tbody tr", "the recorded decision")
        .await
        .text()
        .await
        .expect("decision text");
    for part in ["Unit 201", "Action required", "Say which customer", "Open"] {
        assert!(decision.contains(part), "{part:?} in {decision:?}");
    }
    b.check_accessibility().await;
    sign_out(&mut b).await;

    // The learner sees the confirmed progress, on the home page and the progress page.
    sign_in(&mut b, LEARNER).await;
    assert_eq!(confirmed_of(&b.text("main .card .bar-text").await), (5, 10));
    assert_eq!(read_progress(&mut b, &j).await, progress(5, 0, 0));

    let pages = b.pages_checked;
    b.assert_accessible();
    b.close().await;
    server.abort();
    eprintln!(
        "browser journey: {pages} pages checked with axe in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

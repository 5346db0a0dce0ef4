//! Bulk onboarding in Chromium (issue 12 point 3): an admin uploads a file with three bad
//! rows, reads each problem by line and column with nothing imported, then uploads the
//! corrected file and imports it; axe checks every page on the way.
use attest::db::qualifications;
use attest::db::users::{self, Role};
use attest::testing::{test_dir, test_pool};
use attest::web::auth::password;

use super::driver::Chromedriver;
use crate::helpers::{learner, staff, tiny};

const PASSWORD: &str = "import journey 2026";
const ADMIN: &str = "ada@acme.test";

const HEADER: &str =
    "Name,Email,Roles,Qualification Code,Major Code,Assessor Email,Start Date,Planned End Date";
const GOOD: [&str; 2] = [
    "Ria Staff,ria@acme.test,assessor,,,,,",
    "Lou Learner,lou@acme.test,learner,TINY/1,ALL,ann@acme.test,01/09/2026,31/07/2027",
];
/// Three bad rows, and how each is put right.
const BAD: [(&str, &str); 3] = [
    (
        "Kit Learner,kit@acme.test,learner,NOPE/9,ALL,ann@acme.test,,",
        "Kit Learner,kit@acme.test,learner,TINY/1,ALL,ann@acme.test,,",
    ),
    (
        "Max Learner,max@acme.test,learner,TINY/1,ALL,lena@acme.test,,",
        "Max Learner,max@acme.test,learner,TINY/1,ALL,ria@acme.test,,",
    ),
    (
        "Sue Learner,sue@acme.test,learner,TINY/1,ALL,ann@acme.test,2027-01-01,2026-01-01",
        "Sue Learner,sue@acme.test,learner,TINY/1,ALL,ann@acme.test,2026-01-01,2027-01-01",
    ),
];

fn file(name: &str, bad: bool) -> std::path::PathBuf {
    let mut rows = vec![HEADER.to_string()];
    rows.extend(GOOD.iter().map(|r| r.to_string()));
    rows.extend(BAD.iter().map(|(b, g)| if bad { b } else { g }.to_string()));
    let path = test_dir().join(name);
    std::fs::write(&path, rows.join("\r\n")).expect("writing the file");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_fixes_three_bad_rows_and_imports_the_file_in_chromium() {
    let pool = test_pool().await;
    let centre = attest::db::centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let admin = staff(&pool, centre.id, ADMIN, &[Role::Admin]).await;
    staff(&pool, centre.id, "ann@acme.test", &[Role::Assessor]).await;
    learner(&pool, centre.id, "lena@acme.test").await;
    let hash = password::hash(PASSWORD).expect("hash");
    users::set_password_hash(&pool, admin.id, &hash)
        .await
        .expect("password");
    qualifications::import(&pool, centre.id, &tiny("TINY/1"), None)
        .await
        .expect("import");
    let people = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    let before = people().await;
    let (base, server) = super::serve(pool.clone()).await;
    let driver = Chromedriver::start();
    let mut b = driver.browser(base).await;
    super::sign_in_as(&mut b, ADMIN, PASSWORD, ADMIN).await;

    b.goto("/admin/people").await;
    b.arrive("People").await;
    b.click("a[href='/admin/import']").await;
    b.arrive("Import people and enrolments").await;
    b.attach("#file", &file("mis-bad.csv", true)).await;
    b.click("main form button[type=submit]").await;
    b.arrive("Preview of mis-bad.csv").await;
    assert_eq!(
        b.text(".error-summary h2").await,
        "3 rows of mis-bad.csv have problems"
    );
    let problems = b.texts("table.import-rows tbody tr").await;
    assert_eq!(problems.len(), 3, "{problems:?}");
    for (row, line) in problems.iter().zip(["4", "5", "6"]) {
        assert!(row.starts_with(line), "line {line} first: {row:?}");
    }
    assert!(
        problems[0]
            .contains("Qualification Code: No qualification at your centre has the code NOPE/9"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains(
            "Assessor Email: lena@acme.test (lena@acme.test) is not an assessor at your centre"
        ),
        "{problems:?}"
    );
    assert!(
        problems[2].contains("Planned End Date: The planned end date must be after the start date"),
        "{problems:?}"
    );
    assert!(
        !b.has("form[action^='/admin/import/']").await,
        "no way to import"
    );
    assert_eq!(people().await, before, "nothing imported");

    b.goto("/admin/import").await;
    b.arrive("Import people and enrolments").await;
    b.attach("#file", &file("mis.csv", false)).await;
    b.click("main form button[type=submit]").await;
    b.arrive("Preview of mis.csv").await;
    assert!(b
        .text("main")
        .await
        .contains("New person: Lou Learner (lou@acme.test), learner"));
    b.click("form[action^='/admin/import/'] button[type=submit]")
        .await;
    b.arrive("Imported mis.csv").await;
    assert!(b.text("#import-emails-text").await.contains("of 5 sent"));
    assert_eq!(people().await, before + 5);
    let enrolled: i64 = sqlx::query_scalar("SELECT count(*) FROM enrolments")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(enrolled, 4);

    b.assert_accessible();
    b.close().await;
    server.abort();
}

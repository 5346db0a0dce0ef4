//! Bulk onboarding (issue 12 point 3): an admin uploads a CSV of people and enrolments,
//! reads what every row will do, and imports it all or nothing; the same file again
//! changes nothing; bad files and bad rows are refused with their reasons; the reports'
//! CSVs come back to change assignments; new people's emails leave from the queue.
use attest::db::users::Role;
use attest::demo::load::{load_if_empty, DEMO_PASSWORD};
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::http::{form_post_as, get, multipart_as, send, signed_in, Reply};

struct Admin {
    pool: PgPool,
    state: AppState,
    cookie: String,
}

async fn admin() -> Admin {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let state = AppState::new(pool.clone());
    let cookie = signed_in(state.clone(), "admin@demo.attest.test", DEMO_PASSWORD).await;
    Admin {
        pool,
        state,
        cookie,
    }
}

impl Admin {
    async fn upload(&self, name: &str, bytes: &[u8]) -> Reply {
        send(
            self.state.clone(),
            multipart_as(&self.cookie, "/admin/import", &[], &[(name, bytes)]),
        )
        .await
    }

    /// Uploads a file the importer can read; its preview's address.
    async fn uploaded(&self, bytes: &[u8]) -> String {
        let r = self.upload("people.csv", bytes).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        r.location.expect("the preview")
    }

    async fn get(&self, uri: &str) -> Reply {
        send(self.state.clone(), get(uri, Some(&self.cookie))).await
    }

    async fn post(&self, uri: &str, form: &str) -> Reply {
        send(self.state.clone(), form_post_as(&self.cookie, uri, form)).await
    }

    /// Confirms the preview at `preview` with the figures it shows.
    async fn confirm(&self, preview: &str) -> Reply {
        let page = self.get(preview).await;
        assert_eq!(page.status, StatusCode::OK);
        self.post(preview, &confirm_form(&page.body)).await
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    /// What the centre holds that an import may change.
    async fn footprint(&self) -> [i64; 5] {
        [
            self.count("SELECT count(*) FROM users").await,
            self.count("SELECT count(*) FROM user_roles").await,
            self.count("SELECT count(*) FROM enrolments").await,
            self.count("SELECT count(*) FROM activity_log").await,
            self.count("SELECT count(*) FROM mail_outbox").await,
        ]
    }
}

/// The hidden figures of the preview's "Import N rows" form, as the browser sends them.
fn confirm_form(body: &str) -> String {
    let mut pairs = Vec::new();
    for name in [
        "rows",
        "new_people",
        "updated_people",
        "new_enrolments",
        "updated_enrolments",
        "unchanged_rows",
    ] {
        let marker = format!("name=\"{name}\" value=\"");
        let at = body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {body}"))
            + marker.len();
        let value: String = body[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        pairs.push(format!("{name}={value}"));
    }
    pairs.join("&")
}

const FILE: &str = "Name,Email,Roles,Learner Email,Qualification Code,Major Code,Assessor Email,Trainee Assessor Email,IQA Email,Start Date,Planned End Date\r\n\
Sol Assessor,sol@demo.attest.test,assessor,,,,,,,,\r\n\
Nia Learner,nia@demo.attest.test,learner,,ATT/CS2/1,GEN,sol@demo.attest.test,,iqa@demo.attest.test,01/09/2026,2027-07-31\r\n\
Ned Learner,ned@demo.attest.test,,,ATT/CS2/1,TEAM,assessor@demo.attest.test,trainee@demo.attest.test,,,\r\n";

#[tokio::test]
async fn an_admin_previews_then_imports_people_and_enrolments_in_one_step() {
    let a = admin().await;
    let before = a.footprint().await;
    let preview = a.uploaded(FILE.as_bytes()).await;
    let page = a.get(&preview).await;
    assert_eq!(page.status, StatusCode::OK);
    for said in [
        "New person: Sol Assessor (sol@demo.attest.test), assessor",
        "New person: Nia Learner (nia@demo.attest.test), learner",
        "New enrolment on ATT/CS2/1 version 1, major GEN; assessor Sol Assessor; IQA",
        "starts 2026-09-01; planned end 2027-07-31",
        "Import 3 rows",
    ] {
        assert!(page.body.contains(said), "{said:?} in {}", page.body);
    }
    // The preview changed nothing.
    assert_eq!(a.footprint().await, before);

    let done = a.confirm(&preview).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let after = a.footprint().await;
    assert_eq!(after[0] - before[0], 3, "three people added");
    assert_eq!(after[2] - before[2], 2, "two enrolments");
    assert_eq!(
        after[4] - before[4],
        3,
        "a set-password email queued for each"
    );
    let sol_roles: Vec<String> = sqlx::query_scalar(
        "SELECT r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.email = 'sol@demo.attest.test'",
    )
    .fetch_all(&a.pool)
    .await
    .expect("roles");
    assert_eq!(sol_roles, vec![Role::Assessor.key().to_string()]);
    let (assessor, start, end): (String, Option<time::Date>, Option<time::Date>) = sqlx::query_as(
        "SELECT s.email, e.start_date, e.planned_end_date FROM enrolments e \
           JOIN users l ON l.id = e.learner_id JOIN users s ON s.id = e.assessor_id \
          WHERE l.email = 'nia@demo.attest.test'",
    )
    .fetch_one(&a.pool)
    .await
    .expect("Nia's enrolment");
    assert_eq!(assessor, "sol@demo.attest.test");
    assert_eq!(
        (start.map(|d| d.to_string()), end.map(|d| d.to_string())),
        (Some("2026-09-01".into()), Some("2027-07-31".into()))
    );
    // Logged: each person, each enrolment and its first audit, and the import.
    let logged: Vec<(String, i64)> = sqlx::query_as(
        "SELECT action, count(*) FROM activity_log WHERE detail ->> 'import' IS NOT NULL \
          GROUP BY action ORDER BY action",
    )
    .fetch_all(&a.pool)
    .await
    .expect("log");
    let expected = [
        ("audit", 2),
        ("enrolled", 2),
        ("people imported", 1),
        ("person added", 3),
    ];
    assert_eq!(logged, expected.map(|(a, n)| (a.to_string(), n)).to_vec());
    let audited = a
        .count("SELECT count(*) FROM audits WHERE enrolment_id IN (SELECT e.id FROM enrolments e JOIN users l ON l.id = e.learner_id WHERE l.email IN ('nia@demo.attest.test', 'ned@demo.attest.test'))")
        .await;
    assert_eq!(audited, 2, "each new enrolment has its first audit");
    let done_page = a.get(&preview).await;
    assert!(
        done_page.body.contains("Imported people.csv"),
        "{}",
        done_page.body
    );
    assert!(
        done_page.body.contains("0 of 3 sent, 3 waiting"),
        "{}",
        done_page.body
    );
    let log = a.get("/admin/log?kind=imports").await;
    assert!(
        log.body
            .contains("Imported people.csv: 3 new people, 0 updated; 2 new enrolments, 0 updated"),
        "{}",
        log.body
    );
}

#[tokio::test]
async fn the_same_file_uploaded_twice_changes_nothing_the_second_time() {
    let a = admin().await;
    let first = a.uploaded(FILE.as_bytes()).await;
    assert_eq!(a.confirm(&first).await.status, StatusCode::SEE_OTHER);
    let before = a.footprint().await;
    let second = a.uploaded(FILE.as_bytes()).await;
    let page = a.get(&second).await;
    assert!(
        page.body
            .contains("Nothing to import: every row matches your centre already"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("action=\"/admin/import/"),
        "no button to import nothing"
    );
    assert!(
        page.body.contains("Unchanged enrolment on ATT/CS2/1"),
        "{}",
        page.body
    );
    // Even a forged confirmation writes nothing.
    let forged = a
        .post(&second, "rows=3&new_people=0&updated_people=0&new_enrolments=0&updated_enrolments=0&unchanged_rows=3")
        .await;
    assert_eq!(forged.status, StatusCode::CONFLICT);
    assert_eq!(a.footprint().await, before);
    // Confirming the first upload again does nothing either.
    let again = a.post(&first, "rows=3&new_people=3&updated_people=0&new_enrolments=2&updated_enrolments=0&unchanged_rows=0").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(a.footprint().await, before);
}

#[tokio::test]
async fn a_file_with_bad_rows_names_each_and_imports_nothing() {
    let a = admin().await;
    let before = a.footprint().await;
    let file = "name,email,roles,learner_email,qualification_code,major_code,assessor_email\n\
Good Person,good@demo.attest.test,iqa,,,,\n\
Amira Again,amira@demo.attest.test,assessor,,,,\n\
Bad Code,badcode@demo.attest.test,learner,,NOPE/1,GEN,assessor@demo.attest.test\n\
Bad Major,badmajor@demo.attest.test,learner,,ATT/CS2/1,XYZ,assessor@demo.attest.test\n";
    let preview = a.uploaded(file.as_bytes()).await;
    let page = a.get(&preview).await;
    for said in [
        "3 rows of people.csv have problems",
        "This email is a learner&#39;s account at your centre",
        "No qualification at your centre has the code NOPE/1",
        "ATT/CS2/1 version 1 has no major XYZ; its majors are GEN, SPEC, TEAM",
        "<strong>major_code</strong>",
    ] {
        assert!(page.body.contains(said), "{said:?} in {}", page.body);
    }
    assert!(
        !page.body.contains("action=\"/admin/import/"),
        "no import button while rows have problems"
    );
    let forced = a
        .post(&preview, "rows=4&new_people=1&updated_people=0&new_enrolments=0&updated_enrolments=0&unchanged_rows=0")
        .await;
    assert_eq!(forced.status, StatusCode::CONFLICT);
    assert_eq!(
        a.footprint().await,
        before,
        "all or nothing: the good row waits too"
    );
}

#[tokio::test]
async fn bad_files_are_refused_at_upload_with_the_reason_and_nothing_is_kept() {
    let a = admin().await;
    let mut huge = String::from("name,email,roles\n");
    for i in 0..=attest::domain::onboarding::MAX_ROWS {
        huge.push_str(&format!("P{i},p{i}@x.test,learner\n"));
    }
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "latin1.csv",
            b"name,email,roles\nZo\xEB,zoe2@x.test,learner\n",
            "is not UTF-8 text (line 2",
        ),
        (
            "enrol.csv",
            b"learner_email,qualification_code,assessor_email\na@x.test,ATT/CS2/1,b@x.test\n",
            "has no major_code column",
        ),
        ("", b"", "Select a CSV file"),
        ("empty.csv", b"", "The file is empty"),
        ("header.csv", b"name,email,roles\n", "The file is empty"),
        ("huge.csv", huge.as_bytes(), "more than 100,000 rows"),
    ];
    for (name, bytes, says) in cases {
        let r = a.upload(name, bytes).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains(says), "{name}: {says:?} in {}", r.body);
        assert!(
            r.body.contains("id=\"file-error\""),
            "{name}: the message is beside the field"
        );
    }
    assert_eq!(a.count("SELECT count(*) FROM imports").await, 0);
}

#[tokio::test]
async fn the_enrolments_report_csv_edited_and_uploaded_back_changes_assignments() {
    let a = admin().await;
    // A second assessor to move an enrolment to.
    let staff = a
        .uploaded(b"name,email,roles\nSol Assessor,sol@demo.attest.test,assessor\n")
        .await;
    assert_eq!(a.confirm(&staff).await.status, StatusCode::SEE_OTHER);
    let csv = a.get("/admin/enrolments.csv?sort=learner").await;
    assert_eq!(csv.status, StatusCode::OK);
    // Exported and uploaded as it is: nothing to do.
    let same = a.uploaded(csv.body.as_bytes()).await;
    assert!(a.get(&same).await.body.contains("Nothing to import"));
    // Amira's row moves to Sol.
    let edited: String = csv
        .body
        .lines()
        .map(|line| {
            if line.contains("amira@demo.attest.test") {
                line.replacen("assessor@demo.attest.test", "sol@demo.attest.test", 1)
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    let preview = a.uploaded(edited.as_bytes()).await;
    let page = a.get(&preview).await;
    assert!(page.body.contains("Import 1 row"), "{}", page.body);
    assert!(
        page.body.contains("assessor Tom Okafor → Sol Assessor"),
        "names who it moves from and to: {}",
        page.body
    );
    assert_eq!(a.confirm(&preview).await.status, StatusCode::SEE_OTHER);
    let assessor: String = sqlx::query_scalar(
        "SELECT s.email FROM enrolments e JOIN users l ON l.id = e.learner_id \
           JOIN users s ON s.id = e.assessor_id WHERE l.email = 'amira@demo.attest.test'",
    )
    .fetch_one(&a.pool)
    .await
    .expect("Amira's assessor");
    assert_eq!(assessor, "sol@demo.attest.test");
    let logged = a
        .count("SELECT count(*) FROM activity_log WHERE action = 'assignments changed' AND detail ->> 'import' IS NOT NULL")
        .await;
    assert_eq!(logged, 1);
}

#[tokio::test]
async fn the_people_report_csv_comes_back_unchanged_and_renames_by_file() {
    let a = admin().await;
    let csv = a.get("/admin/people.csv").await;
    let same = a.uploaded(csv.body.as_bytes()).await;
    assert!(a.get(&same).await.body.contains("Nothing to import"));
    let renamed = csv.body.replacen("Ben ", "Benjamin ", 1);
    let preview = a.uploaded(renamed.as_bytes()).await;
    let page = a.get(&preview).await;
    assert!(
        page.body.contains("Updated person: name Ben"),
        "{}",
        page.body
    );
    assert_eq!(a.confirm(&preview).await.status, StatusCode::SEE_OTHER);
    let name: String =
        sqlx::query_scalar("SELECT display_name FROM users WHERE email = 'ben@demo.attest.test'")
            .fetch_one(&a.pool)
            .await
            .expect("Ben");
    assert!(name.starts_with("Benjamin "), "{name}");
}

#[tokio::test]
async fn a_centre_changed_since_the_preview_is_not_imported() {
    let a = admin().await;
    let preview = a.uploaded(FILE.as_bytes()).await;
    let page = a.get(&preview).await;
    // Someone adds Sol by hand meanwhile.
    let added = a
        .post(
            "/admin/people",
            "display_name=Sol+Assessor&email=sol%40demo.attest.test&kind=staff&role=assessor",
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let before = a.footprint().await;
    let r = a.post(&preview, &confirm_form(&page.body)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body.contains("your centre changed since the preview"),
        "{}",
        r.body
    );
    assert_eq!(a.footprint().await, before);
}

#[tokio::test]
async fn emails_that_will_not_arrive_are_listed_and_sent_again() {
    let a = admin().await;
    let preview = a.uploaded(FILE.as_bytes()).await;
    assert_eq!(a.confirm(&preview).await.status, StatusCode::SEE_OTHER);
    // The mail server refused Nia's message for good.
    sqlx::query(
        "UPDATE jobs SET state = 'failed', finished_at = now(), last_error = 'mailbox unavailable' \
          WHERE id = (SELECT m.job_id FROM mail_outbox m JOIN users u ON u.id = m.user_id \
                       WHERE u.email = 'nia@demo.attest.test')",
    )
    .execute(&a.pool)
    .await
    .expect("a failed job");
    let emails = a.get(&format!("{preview}/emails")).await;
    assert!(emails.body.contains("1 will not arrive"), "{}", emails.body);
    assert!(
        emails.body.contains("nia@demo.attest.test"),
        "{}",
        emails.body
    );
    let resent = a.post(&format!("{preview}/resend"), "").await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER);
    let queued = a
        .count(
            "SELECT count(*) FROM mail_outbox m JOIN users u ON u.id = m.user_id JOIN jobs j ON j.id = m.job_id \
              WHERE u.email = 'nia@demo.attest.test' AND j.state = 'queued'",
        )
        .await;
    assert_eq!(queued, 1, "a new link is on its way");
    let emails = a.get(&format!("{preview}/emails")).await;
    assert!(!emails.body.contains("will not arrive"), "{}", emails.body);
}

#[tokio::test]
async fn an_upload_id_not_of_the_centre_is_404() {
    let a = admin().await;
    let preview = a.uploaded(FILE.as_bytes()).await;
    let other = a.get(&format!("/admin/import/{}", Uuid::new_v4())).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(preview.starts_with("/admin/import/"));
}

#[tokio::test]
async fn the_template_downloaded_from_the_page_imports_as_it_stands() {
    let a = admin().await;
    let page = a.get("/admin/import").await;
    assert!(page.body.contains("href=\"/admin/import/template.csv\""));
    let template = a.get("/admin/import/template.csv").await;
    assert_eq!(template.status, StatusCode::OK);
    assert!(
        template.body.contains(",ATT/CS2/1,"),
        "the centre's own qualification: {}",
        template.body
    );
    let preview = a.uploaded(template.body.as_bytes()).await;
    let p = a.get(&preview).await;
    assert!(p.body.contains("Import 3 rows"), "{}", p.body);
    assert_eq!(a.confirm(&preview).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_employer_column_links_enrolments_to_the_centres_employers() {
    let a = admin().await;
    assert_eq!(
        a.post("/admin/employers", "name=Northwind+Care")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let file = "name,email,roles,qualification_code,major_code,assessor_email,employer\n\
Nia Learner,nia@demo.attest.test,learner,ATT/CS2/1,GEN,assessor@demo.attest.test,northwind care\n\
Ned Learner,ned@demo.attest.test,learner,ATT/CS2/1,GEN,assessor@demo.attest.test,Southwind\n";
    let preview = a.uploaded(file.as_bytes()).await;
    let page = a.get(&preview).await;
    assert!(
        page.body
            .contains("<strong>employer</strong>: No employer at your centre is named Southwind"),
        "{}",
        page.body
    );
    let fixed = a.uploaded(file.replace("Southwind", "").as_bytes()).await;
    let page = a.get(&fixed).await;
    assert!(
        page.body.contains("employer Northwind Care"),
        "{}",
        page.body
    );
    assert_eq!(a.confirm(&fixed).await.status, StatusCode::SEE_OTHER);
    let employers: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT l.email, w.name FROM enrolments e JOIN users l ON l.id = e.learner_id \
           LEFT JOIN employers w ON w.id = e.employer_id \
          WHERE l.email IN ('nia@demo.attest.test', 'ned@demo.attest.test') ORDER BY l.email",
    )
    .fetch_all(&a.pool)
    .await
    .expect("enrolments");
    assert_eq!(
        employers,
        vec![
            ("ned@demo.attest.test".to_string(), None),
            (
                "nia@demo.attest.test".to_string(),
                Some("Northwind Care".to_string())
            ),
        ]
    );
}

//! The centre's log (issue 12): the entries about the centre rather than one enrolment,
//! newest first, a hundred a page reached by keyset links, filtered by kind, person and
//! days, read in words, downloadable as CSV, and never another centre's.
use attest::db::centres::{self, Centre};
use attest::db::users::Role;
use attest::db::{bulk_audit_runs, qualifications};
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{person, tiny};
use crate::http::{enc, form_post, form_post_as, get, send, signed_in, Reply};

const PASSWORD: &str = "a long enough password";

struct Log {
    pool: PgPool,
    acme: Centre,
    bravo: Centre,
    ada: Uuid,
    abe: Uuid,
    ann: Uuid,
    bea: Uuid,
}

/// An entry as the fixture wrote it (read back from the table).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Entry {
    id: i64,
    action: String,
    actor_id: Option<Uuid>,
    day: String,
}

/// Acme: admins Ada and Abe, an assessor Ann, a learner Lee; what they did through the
/// pages (a person added, the settings changed, a sign-in lock cleared), 240 more entries
/// of every kind over three days in January 2026 by Ada, Abe and attest, and entries
/// about enrolments, which are not the centre's log. Bravo: its admin Bea, and entries
/// of its own.
async fn log() -> Log {
    let pool = test_pool().await;
    let hash = password::hash(PASSWORD).expect("hash");
    let acme = centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let bravo = centres::create(&pool, "bravo", "Bravo College")
        .await
        .expect("centre");
    let ada = person(
        &pool,
        acme.id,
        "ada@acme.test",
        "Ada Admin",
        &[Role::Admin],
        &hash,
    )
    .await;
    let abe = person(
        &pool,
        acme.id,
        "abe@acme.test",
        "Abe Admin",
        &[Role::Admin],
        &hash,
    )
    .await;
    let ann = person(
        &pool,
        acme.id,
        "ann@acme.test",
        "Ann Assessor",
        &[Role::Assessor],
        &hash,
    )
    .await;
    person(
        &pool,
        acme.id,
        "lee@acme.test",
        "Lee Learner",
        &[Role::Learner],
        &hash,
    )
    .await;
    let bea = person(
        &pool,
        bravo.id,
        "bea@bravo.test",
        "Bea Bravo",
        &[Role::Admin],
        &hash,
    )
    .await;
    let kinds = [
        (
            "person added",
            "{\"email\": \"x@acme.test\", \"roles\": [\"learner\"]}",
        ),
        ("password link emailed", "{\"to\": \"x@acme.test\"}"),
        ("sign-in unlocked", "{\"email\": \"x@acme.test\"}"),
        ("centre settings changed", "{\"auto_audit\": true}"),
        (
            "signing key rotated",
            "{\"new_key\": \"key-2\", \"retired_key\": \"key-1\"}",
        ),
        (
            "qualification imported",
            "{\"code\": \"Q/1\", \"version\": 1}",
        ),
        ("bulk audit started", "{\"total\": 3}"),
        ("something new", "{\"reason\": \"testing\"}"),
    ];
    for i in 0..240i32 {
        let (action, detail) = kinds[usize::try_from(i).expect("i") % kinds.len()];
        let actor = match i % 3 {
            0 => Some(ada),
            1 => Some(abe),
            _ => None,
        };
        sqlx::query(
            "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail, at) \
             VALUES ($1, NULL, $2, $3, $4::jsonb, \
                     timestamptz '2026-01-10 00:00:00+00' + make_interval(days => $5, mins => $6))",
        )
        .bind(acme.id)
        .bind(actor)
        .bind(action)
        .bind(detail)
        .bind(i % 3)
        .bind(i)
        .execute(&pool)
        .await
        .expect("an entry");
    }
    for centre in [acme.id, bravo.id] {
        sqlx::query(
            "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
             SELECT $1, gen_random_uuid(), NULL, 'tick', '{}' FROM generate_series(1, 30)",
        )
        .bind(centre)
        .execute(&pool)
        .await
        .expect("enrolments' entries");
    }
    sqlx::query(
        "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         SELECT $1, NULL, $2, 'person added', jsonb_build_object('email', 'secret-' || n || '@bravo.test') \
           FROM generate_series(1, 5) n",
    )
    .bind(bravo.id)
    .bind(bea)
    .execute(&pool)
    .await
    .expect("Bravo's entries");
    let l = Log {
        pool,
        acme,
        bravo,
        ada,
        abe,
        ann,
        bea,
    };
    // What the pages do, logged as they do it.
    let state = AppState::new(l.pool.clone());
    let ada_cookie = signed_in(state.clone(), "ada@acme.test", PASSWORD).await;
    let added = send(
        state.clone(),
        form_post_as(
            &ada_cookie,
            "/admin/people",
            &format!(
                "display_name={}&email=zoe%40acme.test&kind=staff&role=assessor&role=iqa",
                enc("=Zoë Ōtaki")
            ),
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let settings = send(
        state.clone(),
        form_post_as(&ada_cookie, "/admin/settings", ""),
    )
    .await;
    assert_eq!(settings.status, StatusCode::SEE_OTHER, "{}", settings.body);
    send(
        state.clone(),
        form_post(
            "/login",
            "email=ann%40acme.test&password=not+her+password",
            "192.0.2.5",
        ),
    )
    .await;
    let abe_cookie = signed_in(state.clone(), "abe@acme.test", PASSWORD).await;
    let unlocked = send(
        state,
        form_post_as(&abe_cookie, &format!("/admin/people/{ann}/unlock"), ""),
    )
    .await;
    assert_eq!(unlocked.status, StatusCode::SEE_OTHER);
    l
}

impl Log {
    async fn get(&self, who: &str, uri: &str) -> Reply {
        let state = AppState::new(self.pool.clone());
        let cookie = signed_in(state.clone(), who, PASSWORD).await;
        send(state, get(uri, Some(&cookie))).await
    }

    async fn page(&self, uri: &str) -> String {
        let r = self.get("ada@acme.test", uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        r.body
    }

    /// Acme's own entries, newest first, those `keep` keeps.
    async fn expected(&self, keep: impl Fn(&Entry) -> bool) -> Vec<i64> {
        let all: Vec<Entry> = sqlx::query_as(
            "SELECT id, action, actor_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day \
               FROM activity_log WHERE centre_id = $1 AND enrolment_id IS NULL ORDER BY id DESC",
        )
        .bind(self.acme.id)
        .fetch_all(&self.pool)
        .await
        .expect("the log");
        all.iter().filter(|e| keep(e)).map(|e| e.id).collect()
    }

    /// Every entry the view shows, following its "Older entries" links to the end.
    async fn every_page(&self, uri: &str) -> (Vec<i64>, usize) {
        let mut seen = Vec::new();
        let mut next = Some(uri.to_string());
        let mut pages = 0;
        while let Some(uri) = next {
            let body = self.page(&uri).await;
            let on_page = entries_in(&body);
            assert!(on_page.len() <= 100, "{uri}: at most 100 a page");
            seen.extend(on_page);
            pages += 1;
            next = link(&body, "page-older");
        }
        (seen, pages)
    }

    /// The CSV's rows (header first).
    async fn csv(&self, who: &str, uri: &str) -> Vec<Vec<String>> {
        let r = self.get(who, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        let body = r.body.strip_prefix('\u{feff}').expect("a byte-order mark");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body.as_bytes())
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect()
    }
}

/// The entries a page shows, in its order.
fn entries_in(body: &str) -> Vec<i64> {
    body.split("<tr data-entry=\"")
        .skip(1)
        .map(|rest| {
            rest.split('"')
                .next()
                .expect("id")
                .parse()
                .expect("an entry id")
        })
        .collect()
}

/// The address of the paging link with this id, if the page has it.
fn link(body: &str, id: &str) -> Option<String> {
    let needle = format!("id=\"{id}\" href=\"");
    let start = body.find(&needle)? + needle.len();
    let href = body[start..].split('"').next()?;
    Some(href.replace("&#38;", "&").replace("&amp;", "&"))
}

/// The "What they did" cells, in order.
fn sentences(body: &str) -> Vec<String> {
    body.split("<tr data-entry=\"")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("<td>").collect();
            cells[3].split("</td>").next().expect("cell").to_string()
        })
        .collect()
}

#[tokio::test]
async fn the_log_shows_the_centres_own_entries_newest_first_in_words() {
    let l = log().await;
    let body = l.page("/admin/log").await;
    assert!(body.contains("<h1>Centre log</h1>"));
    let shown = entries_in(&body);
    assert_eq!(shown, l.expected(|_| true).await[..100].to_vec());
    let words = sentences(&body);
    // The newest three are what the pages did, by whom, to whom, in words.
    assert_eq!(
        words[0],
        "Cleared the failed sign-ins counted against Ann Assessor (ann@acme.test)"
    );
    assert_eq!(words[1], "Turned automatic audits off");
    assert!(
        words[2] == "Added =Zoë Ōtaki (zoe@acme.test) as Assessor, IQA"
            || words[3] == "Added =Zoë Ōtaki (zoe@acme.test) as Assessor, IQA",
        "{words:?}"
    );
    assert!(body.contains("<td>Abe Admin</td>") && body.contains("<td>Ada Admin</td>"));
    assert!(body.contains("<td>attest (automatic)</td>"));
    assert!(
        words
            .iter()
            .all(|w| !w.contains('{') && !w.contains("&#34;")),
        "no raw JSON: {words:?}"
    );
    assert!(words
        .iter()
        .any(|w| w.starts_with("Something new (reason: testing)")));
    assert!(!body.contains("bravo.test"), "another centre's entries");
    // The admin's home links to it.
    let home = l.page("/").await;
    assert!(home.contains(r#"<a href="/admin/log">Centre log</a>"#));
    let _ = (l.abe, l.bea, &l.bravo);
}

#[tokio::test]
async fn pages_of_a_hundred_reach_every_entry_once_and_lead_back() {
    let l = log().await;
    let all = l.expected(|_| true).await;
    assert!(all.len() > 240);
    let (seen, pages) = l.every_page("/admin/log").await;
    assert_eq!(seen, all, "every entry once, newest first");
    assert_eq!(pages, all.len().div_ceil(100));
    // From the last page, newer entries lead back up, and "Newest entries" to the start.
    let mut uri = "/admin/log".to_string();
    for _ in 1..pages {
        let body = l.page(&uri).await;
        uri = link(&body, "page-older").expect("older");
    }
    let last = l.page(&uri).await;
    let newer = link(&last, "page-newer").expect("newer");
    assert_eq!(entries_in(&l.page(&newer).await), all[100..200].to_vec());
    assert_eq!(
        link(&last, "page-newest").as_deref(),
        Some("/admin/log"),
        "back to the newest"
    );
}

#[tokio::test]
async fn filters_by_kind_who_and_days_show_exactly_the_matching_entries_and_the_csv_too() {
    let l = log().await;
    let people = ["person added", "password link resent"];
    let cases: Vec<(String, Vec<i64>)> = vec![
        (
            "kind=people".into(),
            l.expected(|e| people.contains(&e.action.as_str())).await,
        ),
        (
            "kind=keys".into(),
            l.expected(|e| e.action == "signing key rotated").await,
        ),
        (
            "kind=other".into(),
            l.expected(|e| e.action == "something new").await,
        ),
        (
            "who=attest".into(),
            l.expected(|e| e.actor_id.is_none()).await,
        ),
        (
            format!("who={}", l.abe),
            l.expected(|e| e.actor_id == Some(l.abe)).await,
        ),
        (
            "from=2026-01-11&to=2026-01-11".into(),
            l.expected(|e| e.day == "2026-01-11").await,
        ),
        (
            "from=11%2F01%2F2026".into(),
            l.expected(|e| e.day.as_str() >= "2026-01-11").await,
        ),
        (
            format!("kind=settings&who={}&to=2026-01-12", l.ada),
            l.expected(|e| {
                e.action == "centre settings changed"
                    && e.actor_id == Some(l.ada)
                    && e.day.as_str() <= "2026-01-12"
            })
            .await,
        ),
        (format!("who={}", l.ann), Vec::new()),
    ];
    for (query, expected) in cases {
        let (seen, _) = l.every_page(&format!("/admin/log?{query}")).await;
        assert_eq!(seen, expected, "{query}");
        let rows = l
            .csv("ada@acme.test", &format!("/admin/log.csv?{query}"))
            .await;
        let mut oldest_first = expected.clone();
        oldest_first.reverse();
        let in_csv: Vec<i64> = rows[1..]
            .iter()
            .map(|r| r[0].parse().expect("entry id"))
            .collect();
        assert_eq!(in_csv, oldest_first, "{query}: the CSV, oldest first");
    }
    let body = l.page("/admin/log?kind=people").await;
    assert!(body.contains(r#"<option value="people" selected>People and accounts</option>"#));
    assert!(body.contains("Download every entry that matches as CSV"));
}

#[tokio::test]
async fn the_csv_has_ids_words_and_the_detail_with_formulas_neutralised() {
    let l = log().await;
    let rows = l.csv("ada@acme.test", "/admin/log.csv?kind=people").await;
    assert_eq!(
        rows[0],
        [
            "entry_id",
            "time",
            "actor_id",
            "actor",
            "action",
            "person_id",
            "person",
            "what",
            "detail"
        ]
    );
    let zoe = rows
        .iter()
        .find(|r| r[7].contains("Zoë"))
        .expect("the person added through the page");
    assert_eq!(zoe[3], "Ada Admin");
    assert_eq!(zoe[2], l.ada.to_string());
    assert_eq!(zoe[4], "person added");
    assert!(Uuid::parse_str(&zoe[5]).is_ok(), "the person's id");
    assert_eq!(zoe[6], "'=Zoë Ōtaki", "a formula is neutralised");
    assert_eq!(zoe[7], "Added =Zoë Ōtaki (zoe@acme.test) as Assessor, IQA");
    assert!(zoe[8].contains("\"roles\""), "the detail as recorded");
    assert!(rows[1..]
        .iter()
        .all(|r| r[1].len() == 20 && r[1].ends_with('Z')));
}

#[tokio::test]
async fn bad_filters_answer_the_page_with_a_message_never_a_failure() {
    let l = log().await;
    let all = l.expected(|_| true).await;
    for (query, field, says) in [
        (
            "kind=nonsense",
            "kind",
            "Choose a kind of change from the list",
        ),
        ("who=not-an-id", "who", "Choose a person from the list"),
        (
            "from=2026-02-30",
            "from",
            "Enter the from date as a real date",
        ),
        (
            "from=2026-01-12&to=2026-01-10",
            "to",
            "must be the same as or after",
        ),
        (
            "before=abc",
            "page",
            "That page of the log could not be found",
        ),
        (
            "after=-5",
            "page",
            "That page of the log could not be found",
        ),
        (
            "kind=%00%FF",
            "kind",
            "Choose a kind of change from the list",
        ),
    ] {
        let r = l.get("ada@acme.test", &format!("/admin/log?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}");
        assert!(r.body.contains(says), "{query}: {says}");
        assert!(
            r.body.contains(&format!("id=\"{field}-error\"")) || field == "page",
            "{query}"
        );
        assert!(r.body.contains("error-summary"), "{query}: summary on top");
        let csv = l
            .get("ada@acme.test", &format!("/admin/log.csv?{query}"))
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{query} CSV");
    }
    // A filter that cannot be read is left out: the rest of the view stands.
    let body = l.page("/admin/log?kind=nonsense&who=attest").await;
    let attest_only = l.expected(|e| e.actor_id.is_none()).await;
    assert_eq!(
        entries_in(&body),
        attest_only[..100.min(attest_only.len())].to_vec()
    );
    // What was typed in a date is kept.
    let body = l.page("/admin/log?from=yesterday").await;
    assert!(body.contains(r#"value="yesterday""#));
    assert_eq!(entries_in(&body), all[..100].to_vec());
}

#[tokio::test]
async fn another_centres_entries_never_appear_even_through_forged_filters() {
    let l = log().await;
    // Bravo's admin names Acme's people in the filters: told so, shown only Bravo.
    for uri in [
        format!("/admin/log?who={}", l.ada),
        format!("/admin/log?who={}&kind=people", l.abe),
        "/admin/log".to_string(),
    ] {
        let r = l.get("bea@bravo.test", &uri).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("acme.test"), "{uri}");
        assert!(
            !r.body.contains("Ada Admin") && !r.body.contains("Zoë"),
            "{uri}"
        );
        if uri.contains("who=") {
            assert!(r.body.contains("Choose a person from the list"), "{uri}");
        }
    }
    let bravo: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM activity_log WHERE centre_id = $1 AND enrolment_id IS NULL ORDER BY id DESC",
    )
    .bind(l.bravo.id)
    .fetch_all(&l.pool)
    .await
    .expect("Bravo's log");
    let body = l.get("bea@bravo.test", "/admin/log").await.body;
    assert_eq!(entries_in(&body), bravo);
    for uri in [
        format!("/admin/log.csv?who={}", l.ada),
        "/admin/log.csv".to_string(),
        "/admin/log.csv?kind=people".to_string(),
    ] {
        let rows = l.csv("bea@bravo.test", &uri).await;
        assert!(
            rows[1..].iter().all(|r| r[7].contains("bravo.test")),
            "{uri}: only Bravo's"
        );
        assert!(
            !rows.iter().flatten().any(|c| c.contains("acme.test")),
            "{uri}"
        );
    }
    // Paging from another centre's entry id shows nothing of theirs either.
    let acme_entry = l.expected(|_| true).await[0];
    let body = l
        .get(
            "bea@bravo.test",
            &format!("/admin/log?before={}", acme_entry + 1),
        )
        .await
        .body;
    assert!(entries_in(&body).iter().all(|id| bravo.contains(id)));
}

#[tokio::test]
async fn only_the_centres_admins_have_the_log() {
    let l = log().await;
    for who in ["ann@acme.test", "lee@acme.test"] {
        for uri in ["/admin/log", "/admin/log.csv", "/admin/log?kind=people"] {
            assert_eq!(
                l.get(who, uri).await.status,
                StatusCode::NOT_FOUND,
                "{who} {uri}"
            );
        }
    }
    let anonymous = send(AppState::new(l.pool.clone()), get("/admin/log", None)).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_bulk_audit_is_written_to_the_centres_log_with_the_run() {
    let l = log().await;
    let q = qualifications::import(&l.pool, l.acme.id, &tiny("TINY/9"), None)
        .await
        .expect("import");
    let run = bulk_audit_runs::create(
        &l.pool,
        l.acme.id,
        Some(l.ada),
        Some(q.qualification_id),
        12,
    )
    .await
    .expect("run");
    bulk_audit_runs::fail(&l.pool, run, "the server stopped")
        .await
        .expect("failed");
    let body = l.page("/admin/log?kind=bulk-audits").await;
    let words = sentences(&body);
    assert_eq!(
        words[..2],
        [
            "A bulk audit stopped after 0 of 12 enrolments: the server stopped".to_string(),
            "Started a bulk audit of the 12 enrolments on TINY/9".to_string(),
        ]
    );
    let started: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activity_log WHERE centre_id = $1 AND enrolment_id IS NULL \
            AND action = 'bulk audit started' AND detail->>'bulk_audit' = $2",
    )
    .bind(l.acme.id)
    .bind(run.to_string())
    .fetch_one(&l.pool)
    .await
    .expect("count");
    assert_eq!(started, 1, "the run's entry names it");
}

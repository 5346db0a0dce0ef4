//! Apprenticeships and their off-the-job log (issue 14, points 1–3) through the app: the
//! admin sets up the plan (the centre's default, or an override with its reason) and
//! breaks; the learner logs hours; the assessor approves and rejects; an approved entry
//! changed goes back to pending; only approved hours count, kept by the database as the
//! log changes and equal to a recount; entries in the future, inside a break or past 24
//! hours a day are refused with the reason and change nothing; every change is logged.
use attest::demo::load::{load_if_empty, DEMO_PASSWORD};
use attest::testing::test_pool;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::http::{form_post_as, get, send, signed_in, Reply};

pub struct Scene {
    pub pool: PgPool,
    pub state: AppState,
    pub admin: String,
    pub learner: String,
    pub assessor: String,
    pub enrolment: Uuid,
    pub today: Date,
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub async fn scene() -> Scene {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let state = AppState::new(pool.clone());
    let who = |email: &'static str| signed_in(state.clone(), email, DEMO_PASSWORD);
    let admin = who("admin@demo.attest.test").await;
    let learner = who("amira@demo.attest.test").await;
    let assessor = who("assessor@demo.attest.test").await;
    let enrolment: Uuid = sqlx::query_scalar(
        "SELECT e.id FROM enrolments e JOIN users u ON u.id = e.learner_id \
          WHERE u.email = 'amira@demo.attest.test' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("Amira's enrolment");
    Scene {
        pool,
        state,
        admin,
        learner,
        assessor,
        enrolment,
        today: OffsetDateTime::now_utc().date(),
    }
}

#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Kept {
    approved_minutes: i64,
    pending_minutes: i64,
    pending_entries: i32,
}

impl Scene {
    pub async fn post(&self, cookie: &str, path: &str, body: &str) -> Reply {
        send(
            self.state.clone(),
            form_post_as(
                cookie,
                &format!("/enrolments/{}{path}", self.enrolment),
                body,
            ),
        )
        .await
    }

    pub async fn page(&self, cookie: &str, path: &str) -> String {
        let uri = format!("/enrolments/{}{path}", self.enrolment);
        let r = send(self.state.clone(), get(&uri, Some(cookie))).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        r.body
    }

    /// A 40-week apprenticeship that started 20 weeks ago, 30 hours a week.
    pub async fn plan(&self) {
        let r = self
            .post(
                &self.admin,
                "/apprenticeship",
                &format!(
                    "start={}&planned_end={}&weekly_hours=30",
                    iso(self.today - Duration::weeks(20)),
                    iso(self.today + Duration::weeks(20))
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }

    pub async fn log(&self, cookie: &str, days_ago: i64, hours: u32, what: &str) -> Reply {
        self.post(
            cookie,
            "/otj",
            &format!(
                "day={}&hours={hours}&minutes=0&activity=Shadowing&what={}",
                iso(self.today - Duration::days(days_ago)),
                what.replace(' ', "+")
            ),
        )
        .await
    }

    pub async fn entry(&self, what: &str) -> Uuid {
        sqlx::query_scalar("SELECT id FROM otj_entries WHERE what = $1")
            .bind(what)
            .fetch_one(&self.pool)
            .await
            .expect("the entry")
    }

    pub async fn kept(&self) -> Kept {
        sqlx::query_as(
            "SELECT approved_minutes, pending_minutes, pending_entries FROM apprenticeships \
              WHERE enrolment_id = $1",
        )
        .bind(self.enrolment)
        .fetch_one(&self.pool)
        .await
        .expect("the apprenticeship")
    }

    pub async fn recounted(&self) -> Kept {
        sqlx::query_as(
            "SELECT coalesce(sum(minutes) FILTER (WHERE state = 'approved'), 0)::bigint AS approved_minutes, \
                    coalesce(sum(minutes) FILTER (WHERE state = 'pending'), 0)::bigint AS pending_minutes, \
                    count(*) FILTER (WHERE state = 'pending')::int AS pending_entries \
               FROM otj_entries WHERE enrolment_id = $1",
        )
        .bind(self.enrolment)
        .fetch_one(&self.pool)
        .await
        .expect("the recount")
    }

    async fn actions(&self) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT action FROM activity_log WHERE enrolment_id = $1 \
               AND (action LIKE 'OTJ%' OR action LIKE 'apprenticeship%' OR action LIKE 'break%') ORDER BY id",
        )
        .bind(self.enrolment)
        .fetch_all(&self.pool)
        .await
        .expect("the log")
    }

    /// Signs in a person of the learner's employer who follows the enrolment.
    pub async fn employer_following(&self) -> String {
        let centre: Uuid = sqlx::query_scalar("SELECT centre_id FROM enrolments WHERE id = $1")
            .bind(self.enrolment)
            .fetch_one(&self.pool)
            .await
            .expect("centre");
        let employer = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO employers (id, centre_id, name) VALUES ($1, $2, 'Riverside Care')",
        )
        .bind(employer)
        .bind(centre)
        .execute(&self.pool)
        .await
        .expect("employer");
        sqlx::query("UPDATE enrolments SET employer_id = $2 WHERE id = $1")
            .bind(self.enrolment)
            .bind(employer)
            .execute(&self.pool)
            .await
            .expect("the learner's employer");
        let hash = attest::web::auth::password::hash("employer-password-1").expect("hash");
        let person = attest::db::users::create(
            &self.pool,
            &attest::db::users::NewUser {
                centre_id: centre,
                email: "erin@riverside.test",
                display_name: "Erin Mentor",
                password_hash: Some(&hash),
                kind: attest::db::users::UserKind::Employer,
                roles: &[attest::db::users::Role::Employer],
                employer_id: Some(employer),
            },
        )
        .await
        .expect("Erin");
        sqlx::query(
            "INSERT INTO enrolment_employer_people (enrolment_id, employer_id, user_id) VALUES ($1, $2, $3)",
        )
        .bind(self.enrolment)
        .bind(employer)
        .bind(person.id)
        .execute(&self.pool)
        .await
        .expect("Erin follows");
        signed_in(
            self.state.clone(),
            "erin@riverside.test",
            "employer-password-1",
        )
        .await
    }

    async fn entries(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM otj_entries")
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

#[tokio::test]
async fn the_learner_logs_hours_the_assessor_decides_and_only_approved_hours_count() {
    let s = scene().await;
    let before = s.page(&s.learner, "/otj").await;
    assert!(before.contains("not an apprenticeship"), "{before}");
    s.plan().await;
    // 30 hours a week at the default 20 %: 6 hours a week over 40 weeks less leave.
    let a = s.page(&s.learner, "/otj").await;
    assert!(a.contains("Where the hours stand"));
    assert!(a.contains("<svg class=\"chart\""), "the chart is drawn");
    assert!(a.contains("Cumulative off-the-job hours at the end of each week"));

    for (days, hours, what) in [
        (14, 3, "Workshop on infection control"),
        (7, 2, "Shadowed the ward sister"),
        (3, 4, "Filling in forms at my desk"),
    ] {
        let r = s.log(&s.learner, days, hours, what).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    assert_eq!(
        s.kept().await,
        Kept {
            approved_minutes: 0,
            pending_minutes: 9 * 60,
            pending_entries: 3
        },
        "logged hours wait for a decision"
    );

    let workshop = s.entry("Workshop on infection control").await;
    let shadowing = s.entry("Shadowed the ward sister").await;
    let desk = s.entry("Filling in forms at my desk").await;
    for e in [workshop, shadowing] {
        let r = s
            .post(
                &s.assessor,
                &format!("/otj/{e}/decision"),
                "decision=approve",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let r = s
        .post(
            &s.assessor,
            &format!("/otj/{desk}/decision"),
            "decision=reject&reason=Normal+duties%2C+not+training",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        s.kept().await,
        Kept {
            approved_minutes: 5 * 60,
            pending_minutes: 0,
            pending_entries: 0
        }
    );
    let page = s.page(&s.learner, "/otj").await;
    assert!(page.contains("<dt>Approved</dt><dd>5 hours</dd>"), "{page}");
    assert!(
        page.contains("Normal duties, not training"),
        "the learner sees why"
    );

    // A decided entry cannot be decided again.
    let again = s
        .post(
            &s.assessor,
            &format!("/otj/{desk}/decision"),
            "decision=approve",
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // The learner changes an approved entry: it goes back to pending and stops counting.
    let r = s
        .post(
            &s.learner,
            &format!("/otj/{shadowing}"),
            &format!(
                "day={}&hours=2&minutes=30&activity=Shadowing&what=Shadowed+the+ward+sister",
                iso(s.today - Duration::days(7))
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        s.kept().await,
        Kept {
            approved_minutes: 3 * 60,
            pending_minutes: 150,
            pending_entries: 1
        }
    );
    assert_eq!(s.kept().await, s.recounted().await, "kept equals a recount");
    // An approved entry is not withdrawn (its hours count); a rejected one is.
    let workshop_withdrawn = s
        .post(&s.learner, &format!("/otj/{workshop}/withdraw"), "")
        .await;
    assert_eq!(workshop_withdrawn.status, StatusCode::CONFLICT);
    let r = s
        .post(&s.learner, &format!("/otj/{desk}/withdraw"), "")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        s.kept().await,
        s.recounted().await,
        "still equal after a withdrawal"
    );
    assert_eq!(
        s.actions().await,
        [
            "apprenticeship planned",
            "OTJ entry logged",
            "OTJ entry logged",
            "OTJ entry logged",
            "OTJ entry approved",
            "OTJ entry approved",
            "OTJ entry rejected",
            "OTJ entry changed",
            "OTJ entry withdrawn",
        ]
    );
    let changed: serde_json::Value =
        sqlx::query_scalar("SELECT detail FROM activity_log WHERE action = 'OTJ entry changed'")
            .fetch_one(&s.pool)
            .await
            .expect("the change");
    assert_eq!(changed["was"]["minutes"], 120, "the log keeps what it was");
    assert_eq!(changed["minutes"], 150);
    assert_eq!(changed["was_state"], "approved");
}

#[tokio::test]
async fn entries_in_the_future_in_a_break_or_past_24_hours_are_refused_with_the_reason() {
    let s = scene().await;
    s.plan().await;
    let r = s
        .post(
            &s.admin,
            "/apprenticeship/breaks",
            &format!(
                "from={}&to={}&reason=Surgery",
                iso(s.today - Duration::days(10)),
                iso(s.today - Duration::days(8))
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let ok = s
        .log(&s.learner, 1, 20, "A long day at the skills centre")
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let entries = s.entries().await;
    for (days, hours, message) in [
        (-1, 1, "An entry cannot be dated in the future"),
        (9, 1, "This day is inside a break in learning"),
        (
            1,
            5,
            "The entries of one day would come to more than 24 hours",
        ),
        (200, 1, "This day is before the apprenticeship started"),
    ] {
        let r = s.log(&s.learner, days, hours, "Typed and kept").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(r.body.contains(message), "{message}: {}", r.body);
        assert!(r.body.contains("Typed and kept"), "what was typed is kept");
        assert!(r.body.contains("id=\"day-error\"") || r.body.contains("id=\"hours-error\""));
    }
    let blank = s
        .post(
            &s.learner,
            "/otj",
            "day=&hours=x&minutes=&activity=Nope&what=",
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Enter the day",
        "Enter the hours as a whole number",
        "Select the kind of activity",
        "Say what was done",
    ] {
        assert!(blank.body.contains(message), "{message}");
    }
    let unknown = s
        .post(
            &s.learner,
            "/otj",
            &format!(
                "day={}&hours=1&activity=Shadowing&what=x&criteria=999+9.9",
                iso(s.today)
            ),
        )
        .await;
    assert!(
        unknown.body.contains("Enter criteria of this learner"),
        "{}",
        unknown.body
    );
    assert!(unknown.body.contains("as unit and number, like 201 1.1"));
    assert_eq!(s.entries().await, entries, "nothing refused was stored");

    // An overlapping break is refused too, and a break ahead moves the end out.
    let overlap = s
        .post(
            &s.admin,
            "/apprenticeship/breaks",
            &format!(
                "from={}&to={}&reason=Again",
                iso(s.today - Duration::days(9)),
                iso(s.today)
            ),
        )
        .await;
    assert_eq!(overlap.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(overlap
        .body
        .contains("This break overlaps another break in learning"));
    let adjusted: Date = sqlx::query_scalar("SELECT adjusted_end_on FROM apprenticeships")
        .fetch_one(&s.pool)
        .await
        .expect("end");
    assert_eq!(
        adjusted,
        s.today + Duration::weeks(20) + Duration::days(3),
        "three days paused"
    );
}

#[tokio::test]
async fn entries_link_criteria_by_reference_and_evidence_of_the_portfolio() {
    let s = scene().await;
    s.plan().await;
    let (code, number): (String, String) = sqlx::query_as(
        "SELECT u.code, c.number FROM criteria c JOIN units u ON u.id = c.unit_id \
           JOIN enrolments e ON e.version_id = c.version_id WHERE e.id = $1 ORDER BY c.ordinal LIMIT 1",
    )
    .bind(s.enrolment)
    .fetch_one(&s.pool)
    .await
    .expect("a criterion");
    let evidence: Uuid =
        sqlx::query_scalar("SELECT id FROM evidence WHERE enrolment_id = $1 LIMIT 1")
            .bind(s.enrolment)
            .fetch_one(&s.pool)
            .await
            .expect("Amira's evidence");
    let r = s
        .post(
            &s.assessor,
            "/otj",
            &format!(
                "day={}&hours=1&activity=Mentoring&what=Mentoring+session&criteria={}+{}&evidence={evidence}",
                iso(s.today),
                code,
                number
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.page(&s.assessor, "/otj").await;
    assert!(
        page.contains(&format!("Criteria: {code} {number}")),
        "{page}"
    );
    assert!(
        page.contains(&format!("/evidence/{evidence}\"")),
        "the evidence is linked"
    );
}

#[tokio::test]
async fn an_override_of_the_default_plan_needs_a_reason_and_the_margin_moves_the_flag() {
    let s = scene().await;
    let start = iso(s.today - Duration::weeks(20));
    let end = iso(s.today + Duration::weeks(20));
    let r = s
        .post(
            &s.admin,
            "/apprenticeship",
            &format!("start={start}&planned_end={end}&weekly_hours=30&planned_hours=150"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Say why the plan differs from the centre"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"150\""), "what was typed is kept");
    let r = s
        .post(
            &s.admin,
            "/apprenticeship",
            &format!("start={start}&planned_end={end}&weekly_hours=30&planned_hours=150&reason=Prior+learning+recognised"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.page(&s.assessor, "/otj").await;
    assert!(page.contains("150 hours"), "the override is the plan");
    assert!(page.contains("Prior learning recognised"));
    // Half the programme run and nothing approved: behind at a 10 % margin, and not at
    // 100 %; the flag moves with the centre's margin at once.
    let behind = || async {
        sqlx::query_scalar::<_, Option<Date>>("SELECT behind_from FROM apprenticeships")
            .fetch_one(&s.pool)
            .await
            .expect("flag")
            .is_some_and(|d| d <= s.today)
    };
    assert!(behind().await);
    assert!(page.contains("Behind on off-the-job hours"));
    // A break ahead: what the centre-wide recomputation gives must be what the break's
    // own write path gave.
    let r = s
        .post(
            &s.admin,
            "/apprenticeship/breaks",
            &format!(
                "from={}&to={}&reason=Surgery",
                iso(s.today + Duration::days(5)),
                iso(s.today + Duration::days(30))
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let kept = || async {
        sqlx::query_scalar::<_, Option<Date>>("SELECT behind_from FROM apprenticeships")
            .fetch_one(&s.pool)
            .await
            .expect("flag")
    };
    let by_the_break = kept().await;
    let settings = |margin: u8| {
        format!("rule=percent&percent=20&margin={margin}&review_weeks=12&activity_types=Shadowing%0AMentoring")
    };
    let r = send(
        s.state.clone(),
        form_post_as(&s.admin, "/admin/settings/apprenticeships", &settings(100)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!behind().await, "a margin of 100 % flags no one");
    let r = send(
        s.state.clone(),
        form_post_as(&s.admin, "/admin/settings/apprenticeships", &settings(10)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(behind().await);
    assert_eq!(
        kept().await,
        by_the_break,
        "the centre's recomputation agrees"
    );
    // Approving enough hours clears it.
    let logged = s.log(&s.learner, 1, 24, "Block release week one").await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    for days in 2..=4 {
        let r = s
            .log(&s.learner, days, 24, &format!("Block release day {days}"))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM otj_entries")
        .fetch_all(&s.pool)
        .await
        .expect("ids");
    for e in ids {
        let r = s
            .post(
                &s.assessor,
                &format!("/otj/{e}/decision"),
                "decision=approve",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    assert!(!behind().await, "96 hours approved of a 75-hour target");
}

#[tokio::test]
async fn the_employer_follows_the_hours_on_their_learner_page() {
    let s = scene().await;
    s.plan().await;
    let r = s
        .log(&s.learner, 2, 3, "Practical training on the hoist")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let e = s.entry("Practical training on the hoist").await;
    s.post(
        &s.assessor,
        &format!("/otj/{e}/decision"),
        "decision=approve",
    )
    .await;
    let cookie = s.employer_following().await;
    let r = send(
        s.state.clone(),
        get(
            &format!("/employer/learners/{}", s.enrolment),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("<dt>Approved</dt><dd>3 hours</dd>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<svg class=\"chart\""));
}

//! OTJ entries arriving together are logged together (`db::otj_writer`): under the
//! apprenticeship's lock, each entry of a batch is checked against the day's committed
//! entries and those before it in the batch, so a day never passes 24 hours however the
//! entries arrive; each answers for itself, and the kept minutes equal a recount.
use attest::db::batch_writer::Batched;
use attest::db::otj_writer::{Logged, NewEntry};
use attest::domain::otj::ValidEntry;
use axum::http::StatusCode;
use futures_util::future::join_all;
use time::Duration;
use uuid::Uuid;

use crate::apprenticeship::{iso, scene, Scene};

fn hour_on(s: &Scene, enrolment: Uuid, actor: Uuid, days_ago: i64, what: &str) -> NewEntry {
    NewEntry {
        id: Uuid::now_v7(),
        enrolment_id: enrolment,
        actor,
        entry: ValidEntry {
            day: s.today - Duration::days(days_ago),
            minutes: 60,
            activity: "Shadowing".into(),
            what: what.into(),
            evidence: Vec::new(),
            criteria: Vec::new(),
        },
        today: s.today,
    }
}

async fn learner_id(s: &Scene) -> Uuid {
    sqlx::query_scalar("SELECT learner_id FROM enrolments WHERE id = $1")
        .bind(s.enrolment)
        .fetch_one(&s.pool)
        .await
        .expect("learner")
}

async fn day_minutes(s: &Scene, days_ago: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(sum(minutes), 0)::bigint FROM otj_entries \
          WHERE enrolment_id = $1 AND day = $2 AND state <> 'rejected'",
    )
    .bind(s.enrolment)
    .bind(s.today - Duration::days(days_ago))
    .fetch_one(&s.pool)
    .await
    .expect("the day")
}

#[tokio::test]
async fn one_batch_checks_each_entry_against_those_before_it_on_the_same_day() {
    let s = scene().await;
    s.plan().await;
    let learner = learner_id(&s).await;
    // 20 hours already on the day; a batch of six one-hour entries on it, one on
    // another day, and one on an enrolment that is no apprenticeship.
    for _ in 0..2 {
        let r = s.log(&s.learner, 3, 10, "Ten hours on the ward").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let other: Uuid = sqlx::query_scalar("SELECT id FROM enrolments WHERE id <> $1 LIMIT 1")
        .bind(s.enrolment)
        .fetch_one(&s.pool)
        .await
        .expect("another enrolment");
    let mut batch: Vec<NewEntry> = (0..6)
        .map(|i| hour_on(&s, s.enrolment, learner, 3, &format!("Hour {i}")))
        .collect();
    batch.insert(2, hour_on(&s, s.enrolment, learner, 4, "Another day"));
    batch.push(hour_on(&s, other, learner, 3, "Not an apprenticeship"));
    let mut conn = s.pool.acquire().await.expect("connection");
    let answers = NewEntry::write_many(&mut conn, &batch)
        .await
        .expect("the batch");
    let logged = |i: usize| Logged::Entry(batch[i].id);
    assert_eq!(answers.len(), batch.len());
    // Four hours fill the day to 24 (the entry of another day goes between); the last
    // two are refused with the reason.
    let first_five: Vec<Logged> = (0..5).map(logged).collect();
    assert_eq!(&answers[..5], &first_five[..]);
    for refused in [&answers[5], &answers[6]] {
        match refused {
            Logged::Refused(e) => {
                assert_eq!(e.field, "hours");
                assert!(e.message.contains("more than 24 hours"), "{}", e.message);
            }
            other => panic!("refused, not {other:?}"),
        }
    }
    assert_eq!(answers[7], Logged::NoApprenticeship);
    assert_eq!(day_minutes(&s, 3).await, 24 * 60);
    assert_eq!(day_minutes(&s, 4).await, 60);
    assert_eq!(s.kept().await, s.recounted().await);
    let logged_actions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activity_log WHERE enrolment_id = $1 AND action = 'OTJ entry logged'",
    )
    .bind(s.enrolment)
    .fetch_one(&s.pool)
    .await
    .expect("the log");
    assert_eq!(
        logged_actions,
        2 + 5,
        "one activity entry per entry logged, none for refusals"
    );
}

#[tokio::test]
async fn entries_posted_all_at_once_never_pass_24_hours_a_day() {
    let s = scene().await;
    s.plan().await;
    let day = iso(s.today - Duration::days(2));
    let bodies: Vec<String> = (0..30)
        .map(|i| format!("day={day}&hours=1&minutes=0&activity=Shadowing&what=Hour+{i}"))
        .collect();
    let posts = bodies.iter().map(|b| s.post(&s.learner, "/otj", b));
    let replies = join_all(posts).await;
    let logged = replies
        .iter()
        .filter(|r| r.status == StatusCode::SEE_OTHER)
        .count();
    let refused: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::UNPROCESSABLE_ENTITY)
        .collect();
    assert_eq!(logged, 24, "a day holds 24 one-hour entries");
    assert_eq!(refused.len(), 6);
    for r in refused {
        assert!(r.body.contains("more than 24 hours"), "{}", r.body);
    }
    assert_eq!(day_minutes(&s, 2).await, 24 * 60);
    assert_eq!(s.kept().await, s.recounted().await);
}

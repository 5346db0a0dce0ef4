//! Ticks on a remembered portfolio read (`web::portfolio::remembered`): after the item's
//! page, ticks go without a read of their own while what it read still holds, and the
//! moment it does not (signed out on another server, the account, the enrolment's
//! people or its status changed), the tick changes nothing on it and is judged afresh,
//! as before.
use attest::db::{activity, qualifications, ticks};
use attest::domain::ticks::Layer;
use attest::web::AppState;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::http::{form_post_as, get, send, Reply};
use crate::portfolio::{demo, tick_form, Demo};

/// The assessor has opened one of Amira's items on `server`.
struct Opened {
    d: Demo,
    server: AppState,
    tom: String,
    item: Uuid,
    page: String,
    /// Criteria of the item without an assessor's tick.
    free: Vec<Uuid>,
}

async fn opened() -> Opened {
    let d = demo().await;
    let server = AppState::new(d.pool.clone());
    let tom = d.as_("assessor").await;
    let e = &d.amira;
    let item = attest::db::evidence::list_for_enrolment(&d.pool, e.id)
        .await
        .expect("list")[0]
        .id;
    let page = format!("/enrolments/{}/evidence/{item}", e.id);
    let shown = send(server.clone(), get(&page, Some(&tom))).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let version = qualifications::load_version(&d.pool, e.version_id)
        .await
        .expect("version");
    let on_item = ticks::list_for_evidence(&d.pool, item)
        .await
        .expect("ticks");
    let free = version
        .criterion_ids
        .iter()
        .copied()
        .filter(|c| {
            !on_item
                .iter()
                .any(|t| t.criterion == *c && t.layer == Layer::Assessor)
        })
        .take(3)
        .collect();
    Opened {
        d,
        server,
        tom,
        item,
        page,
        free,
    }
}

impl Opened {
    async fn tick(&self, criterion: Uuid) -> Reply {
        send(
            self.server.clone(),
            form_post_as(
                &self.tom,
                &format!("{}/ticks", self.page),
                &tick_form(criterion, "tick"),
            ),
        )
        .await
    }

    async fn assessor_ticked(&self, criterion: Uuid) -> bool {
        ticks::list_for_evidence(&self.d.pool, self.item)
            .await
            .expect("ticks")
            .iter()
            .any(|t| t.criterion == criterion && t.layer == Layer::Assessor)
    }

    async fn logged(&self) -> usize {
        activity::for_enrolment(&self.d.pool, self.d.amira.id)
            .await
            .expect("log")
            .len()
    }

    async fn sql(&self, statement: &str) {
        sqlx::query(statement)
            .bind(self.d.amira.id)
            .execute(&self.d.pool)
            .await
            .expect(statement);
    }
}

fn sent_to_sign_in(r: &Reply) -> bool {
    r.status == StatusCode::SEE_OTHER
        && r.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login"))
}

#[tokio::test]
async fn ticks_after_the_page_go_on_its_read_and_each_lands_with_its_entry() {
    let o = opened().await;
    let logged = o.logged().await;
    for (n, &criterion) in o.free[..2].iter().enumerate() {
        let r = o.tick(criterion).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(o.assessor_ticked(criterion).await, "tick {n} landed");
        assert_eq!(
            o.server.remembered.used(),
            n as u64 + 1,
            "tick {n} read nothing"
        );
    }
    assert_eq!(o.logged().await, logged + 2, "each tick has its entry");
}

#[tokio::test]
async fn signed_out_on_another_server_a_tick_on_a_remembered_read_changes_nothing() {
    let o = opened().await;
    let other = AppState::new(o.d.pool.clone());
    let out = send(other, form_post_as(&o.tom, "/logout", "")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let logged = o.logged().await;

    let r = o.tick(o.free[0]).await;
    assert!(sent_to_sign_in(&r), "{:?} {:?}", r.status, r.location);
    assert!(!o.assessor_ticked(o.free[0]).await, "nothing was ticked");
    assert_eq!(o.logged().await, logged, "nothing was logged");
    assert_eq!(o.server.remembered.used(), 0);
}

#[tokio::test]
async fn ended_everywhere_or_deactivated_a_tick_on_a_remembered_read_changes_nothing() {
    let o = opened().await;
    o.sql(
        "UPDATE users SET session_generation = session_generation + 1 \
         WHERE id = (SELECT assessor_id FROM enrolments WHERE id = $1)",
    )
    .await;
    let r = o.tick(o.free[0]).await;
    assert!(sent_to_sign_in(&r), "{:?} {:?}", r.status, r.location);
    assert!(!o.assessor_ticked(o.free[0]).await, "nothing was ticked");

    let o = opened().await;
    o.sql("UPDATE users SET active = false WHERE id = (SELECT assessor_id FROM enrolments WHERE id = $1)")
        .await;
    let r = o.tick(o.free[0]).await;
    assert!(sent_to_sign_in(&r), "{:?} {:?}", r.status, r.location);
    assert!(!o.assessor_ticked(o.free[0]).await, "nothing was ticked");
}

#[tokio::test]
async fn without_the_assessor_role_a_tick_on_a_remembered_read_is_not_found() {
    let o = opened().await;
    // Tom stays signed in as a trainee assessor: the read's capacity no longer holds.
    o.sql(
        "INSERT INTO user_roles (user_id, kind, role) \
         SELECT id, kind, 'trainee_assessor' FROM users \
         WHERE id = (SELECT assessor_id FROM enrolments WHERE id = $1)",
    )
    .await;
    o.sql(
        "DELETE FROM user_roles WHERE role = 'assessor' \
         AND user_id = (SELECT assessor_id FROM enrolments WHERE id = $1)",
    )
    .await;
    let r = o.tick(o.free[0]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(!o.assessor_ticked(o.free[0]).await, "nothing was ticked");
    assert_eq!(o.server.remembered.used(), 0);
}

#[tokio::test]
async fn taken_off_the_enrolment_the_assessor_cannot_tick_on_a_remembered_read() {
    let o = opened().await;
    sqlx::query(
        "INSERT INTO user_roles (user_id, kind, role) \
         SELECT id, kind, 'assessor' FROM users WHERE email = 'admin@demo.attest.test'",
    )
    .execute(&o.d.pool)
    .await
    .expect("grant");
    o.sql(
        "UPDATE enrolments SET assessor_id = \
         (SELECT id FROM users WHERE email = 'admin@demo.attest.test') WHERE id = $1",
    )
    .await;
    let r = o.tick(o.free[0]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(!o.assessor_ticked(o.free[0]).await, "nothing was ticked");
}

#[tokio::test]
async fn once_the_enrolment_moved_on_a_tick_on_a_remembered_read_is_judged_in_its_new_status() {
    let o = opened().await;
    o.sql("UPDATE enrolments SET status = 'withdrawn' WHERE id = $1")
        .await;
    let r = o.tick(o.free[0]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(!o.assessor_ticked(o.free[0]).await, "nothing was ticked");
}

#[tokio::test]
async fn others_changes_to_the_enrolment_leave_the_read_standing() {
    let o = opened().await;
    // Claims, evidence and audits move the enrolment on; its people and status stay.
    o.sql("UPDATE enrolments SET updated_at = now() WHERE id = $1")
        .await;
    for (n, &criterion) in o.free[..2].iter().enumerate() {
        let r = o.tick(criterion).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(o.assessor_ticked(criterion).await, "tick {n} landed");
        assert_eq!(
            o.server.remembered.used(),
            n as u64 + 1,
            "tick {n} read nothing"
        );
    }
}

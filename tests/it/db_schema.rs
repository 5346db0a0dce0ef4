//! The schema refuses impossible states even when application code is bypassed.
use attest::db::evidence::{self, EvidenceKind, NewEvidence};
use attest::db::users::{self, NewUser, Role, UserKind};
use attest::db::{activity, centres, enrolments, qualifications, ticks, DbError};
use attest::domain::credential_number::CredentialNumber;
use attest::domain::ticks::Layer;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{criteria, tiny, world, World};

fn constraint_of(err: sqlx::Error) -> DbError {
    DbError::from(err)
}

async fn add_evidence(w: &World) -> Uuid {
    evidence::add(
        &w.pool,
        &NewEvidence {
            enrolment_id: w.enrolment.id,
            title: "Item",
            description: "",
            kind: EvidenceKind::Photo,
            added_by: w.learner.id,
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn status_outside_the_seven_is_refused() {
    let w = world().await;
    let err = sqlx::query("UPDATE enrolments SET status = 'finished' WHERE id = $1")
        .bind(w.enrolment.id)
        .execute(&w.pool)
        .await
        .unwrap_err();
    assert!(
        matches!(constraint_of(err), DbError::Constraint { ref constraint, .. } if constraint == "enrolments_status_check")
    );
}

/// A credential number in the register's canonical form.
pub fn number(value: u64) -> String {
    CredentialNumber::from_value(value)
        .expect("60 bits")
        .to_string()
}

pub async fn insert_credential(pool: &PgPool, w: &World, number: &str) -> Result<Uuid, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO credentials (number, enrolment_id, centre_id, learner_name, qualification_code, \
         qualification_title, qualification_level, major_code, major_title, centre_name) \
         VALUES ($1, $2, $3, 'Lee', 'TINY/1', 'Tiny', 2, 'ALL', 'All', 'Acme') RETURNING id",
    )
    .bind(number)
    .bind(w.enrolment.id)
    .bind(w.centre.id)
    .fetch_one(pool)
    .await?)
}

#[tokio::test]
async fn an_enrolment_has_at_most_one_live_credential_and_cancelling_needs_a_reason() {
    let w = world().await;
    let first = insert_credential(&w.pool, &w, &number(1)).await.unwrap();
    let err = insert_credential(&w.pool, &w, &number(2))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::LiveCredentialExists), "{err:?}");

    let blank = sqlx::query(
        "UPDATE credentials SET cancelled_at = now(), cancel_reason = ' ' WHERE id = $1",
    )
    .bind(first)
    .execute(&w.pool)
    .await
    .unwrap_err();
    assert!(
        matches!(constraint_of(blank), DbError::Constraint { ref constraint, .. } if constraint == "credentials_cancel_reason")
    );

    sqlx::query(
        "UPDATE credentials SET cancelled_at = now(), cancel_reason = 'wrong name' WHERE id = $1",
    )
    .bind(first)
    .execute(&w.pool)
    .await
    .unwrap();
    insert_credential(&w.pool, &w, &number(2)).await.unwrap();

    let del = sqlx::query("DELETE FROM credentials WHERE id = $1")
        .bind(first)
        .execute(&w.pool)
        .await
        .unwrap_err();
    assert!(matches!(constraint_of(del), DbError::AppendOnly));
}

#[tokio::test]
async fn a_tick_on_a_criterion_of_another_version_is_refused() {
    let w = world().await;
    let mut changed = tiny("TINY/1");
    changed.title = "Tiny certificate (2025)".into();
    let v2 = qualifications::import(&w.pool, w.centre.id, &changed, None)
        .await
        .unwrap();
    let foreign = criteria(&w.pool, v2.version_id).await;
    let e = add_evidence(&w).await;
    let err = crate::ticking::tick(&w.pool, e, foreign[0], Layer::Assessor, w.assessor.id)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::CriterionNotInVersion), "{err:?}");
    let err = ticks::tick_many(&w.pool, e, &foreign, Layer::Learner, w.learner.id)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::CriterionNotInVersion), "{err:?}");
}

#[tokio::test]
async fn evidence_with_ticks_cannot_be_deleted() {
    let w = world().await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let ticked = add_evidence(&w).await;
    let unticked = add_evidence(&w).await;
    crate::ticking::tick(&w.pool, ticked, c[0], Layer::Learner, w.learner.id)
        .await
        .unwrap();
    let err = evidence::delete(&w.pool, ticked).await.unwrap_err();
    assert!(matches!(err, DbError::EvidenceHasTicks), "{err:?}");
    evidence::delete(&w.pool, unticked).await.unwrap();
    assert!(matches!(
        evidence::get(&w.pool, unticked).await,
        Err(DbError::NotFound)
    ));
    assert!(evidence::get(&w.pool, ticked).await.is_ok());
}

#[tokio::test]
async fn learner_and_staff_roles_never_mix_in_one_account() {
    let w = world().await;
    let mixed = NewUser {
        centre_id: w.centre.id,
        email: "mix@acme.test",
        display_name: "Mix",
        password_hash: None,
        kind: UserKind::Learner,
        roles: &[Role::Learner, Role::Assessor],
        employer_id: None,
    };
    let err = users::create(&w.pool, &mixed).await.unwrap_err();
    assert!(matches!(err, DbError::LearnerRoleMix), "{err:?}");
    assert!(users::find_by_email(&w.pool, w.centre.id, "mix@acme.test")
        .await
        .unwrap()
        .is_none());

    let err = users::grant_role(&w.pool, w.assessor.id, Role::Learner)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::LearnerRoleMix), "{err:?}");
    let err = users::grant_role(&w.pool, w.learner.id, Role::Admin)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::LearnerRoleMix), "{err:?}");
    // Turning a learner's account into a staff account while it holds the learner role.
    let err = sqlx::query("UPDATE users SET kind = 'staff' WHERE id = $1")
        .bind(w.learner.id)
        .execute(&w.pool)
        .await
        .unwrap_err();
    assert!(matches!(constraint_of(err), DbError::LearnerRoleMix));

    users::grant_role(&w.pool, w.assessor.id, Role::Iqa)
        .await
        .unwrap();
    let u = users::get(&w.pool, w.assessor.id).await.unwrap();
    assert_eq!(u.roles, vec![Role::Assessor, Role::Iqa]);
}

#[tokio::test]
async fn emails_are_unique_per_centre_regardless_of_case() {
    let w = world().await;
    let dup = NewUser {
        centre_id: w.centre.id,
        email: "ANN@Acme.test",
        display_name: "Ann again",
        password_hash: None,
        kind: UserKind::Staff,
        roles: &[Role::Admin],
        employer_id: None,
    };
    assert!(matches!(
        users::create(&w.pool, &dup).await,
        Err(DbError::DuplicateEmail)
    ));
    let found = users::find_by_email(&w.pool, w.centre.id, "Ann@ACME.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, w.assessor.id);

    let other = centres::create(&w.pool, "other", "Other").await.unwrap();
    users::create(
        &w.pool,
        &NewUser {
            centre_id: other.id,
            ..dup
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        centres::create(&w.pool, "acme2", "ACME training").await,
        Err(DbError::DuplicateCentre)
    ));
    assert_eq!(
        centres::find_by_name(&w.pool, "acme TRAINING")
            .await
            .unwrap()
            .unwrap()
            .id,
        w.centre.id
    );
    assert_eq!(
        centres::find_by_slug(&w.pool, "acme")
            .await
            .unwrap()
            .unwrap()
            .id,
        w.centre.id
    );
}

#[tokio::test]
async fn the_activity_log_is_append_only() {
    let w = world().await;
    let before = enrolments::get(&w.pool, w.enrolment.id)
        .await
        .unwrap()
        .last_activity_at;
    let id = activity::record(
        &w.pool,
        w.centre.id,
        Some(w.enrolment.id),
        Some(w.assessor.id),
        "tick",
        json!({"criterion": "1.1"}),
    )
    .await
    .unwrap();
    let entries = activity::for_enrolment(&w.pool, w.enrolment.id)
        .await
        .unwrap();
    assert_eq!((entries.len(), entries[0].id), (1, id));
    assert_eq!(entries[0].detail, json!({"criterion": "1.1"}));
    assert!(
        enrolments::get(&w.pool, w.enrolment.id)
            .await
            .unwrap()
            .last_activity_at
            > before
    );

    for sql in [
        "UPDATE activity_log SET action = 'nothing' WHERE id = $1",
        "DELETE FROM activity_log WHERE id = $1",
    ] {
        let err = sqlx::query(sql)
            .bind(id)
            .execute(&w.pool)
            .await
            .unwrap_err();
        assert!(matches!(constraint_of(err), DbError::AppendOnly), "{sql}");
    }
    assert!(sqlx::query("TRUNCATE activity_log")
        .execute(&w.pool)
        .await
        .is_err());
    assert_eq!(
        activity::for_centre(&w.pool, w.centre.id, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// The log and ticks name centres, enrolments and people without foreign keys (migration
/// 0012): those rows can never be deleted, so no name can come to dangle.
#[tokio::test]
async fn centres_people_and_enrolments_are_never_deleted() {
    let w = world().await;
    for (sql, id) in [
        ("DELETE FROM enrolments WHERE id = $1", w.enrolment.id),
        ("DELETE FROM users WHERE id = $1", w.assessor.id),
        ("DELETE FROM centres WHERE id = $1", w.centre.id),
    ] {
        let err = sqlx::query(sql)
            .bind(id)
            .execute(&w.pool)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("never deleted"), "{sql}: {err}");
    }
    for table in ["enrolments", "users", "centres"] {
        assert!(sqlx::query(&format!("TRUNCATE {table} CASCADE"))
            .execute(&w.pool)
            .await
            .is_err());
    }
    assert!(enrolments::get(&w.pool, w.enrolment.id).await.is_ok());
}

#[tokio::test]
async fn iqa_decisions_target_a_unit_or_an_item_and_actions_need_feedback() {
    let w = world().await;
    let e = add_evidence(&w).await;
    let unit: Uuid = qualifications::load_version(&w.pool, w.version.version_id)
        .await
        .unwrap()
        .unit_ids[0];
    let insert = |unit: Option<Uuid>,
                  evidence: Option<Uuid>,
                  decision: &'static str,
                  feedback: &'static str| {
        sqlx::query(
            "INSERT INTO iqa_decisions (enrolment_id, version_id, unit_id, evidence_id, iqa_id, decision, feedback) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(w.enrolment.id)
        .bind(w.version.version_id)
        .bind(unit)
        .bind(evidence)
        .bind(w.iqa.id)
        .bind(decision)
        .bind(feedback)
        .execute(&w.pool)
    };
    insert(Some(unit), None, "agreed", "").await.unwrap();
    insert(None, Some(e), "action_required", "Add a witness statement")
        .await
        .unwrap();
    for (u, ev, d, f, name) in [
        (
            Some(unit),
            Some(e),
            "agreed",
            "",
            "iqa_decisions_unit_xor_evidence",
        ),
        (None, None, "agreed", "", "iqa_decisions_unit_xor_evidence"),
        (
            Some(unit),
            None,
            "action_required",
            " ",
            "iqa_decisions_feedback_for_action",
        ),
        (
            Some(unit),
            None,
            "maybe",
            "",
            "iqa_decisions_decision_check",
        ),
    ] {
        let err = constraint_of(insert(u, ev, d, f).await.unwrap_err());
        assert!(
            matches!(err, DbError::Constraint { ref constraint, .. } if constraint == name),
            "{name}: {err:?}"
        );
    }
}

#[tokio::test]
async fn jobs_are_queued_once_per_idempotency_key() {
    let w = world().await;
    let queue = || {
        sqlx::query("INSERT INTO jobs (kind, payload, idempotency_key) VALUES ('generate_credential', '{}', 'cred:1')")
            .execute(&w.pool)
    };
    queue().await.unwrap();
    let err = constraint_of(queue().await.unwrap_err());
    assert!(
        matches!(err, DbError::Constraint { ref constraint, .. } if constraint == "jobs_idempotency_key_key")
    );
    let bad = sqlx::query("UPDATE jobs SET state = 'running'")
        .execute(&w.pool)
        .await
        .unwrap_err();
    assert!(
        matches!(constraint_of(bad), DbError::Constraint { ref constraint, .. } if constraint == "jobs_running_is_locked")
    );
}

#[tokio::test]
async fn the_session_table_has_the_layout_the_session_store_expects() {
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;
    let w = world().await;
    // The store the app signs people in with, on the table the migrations made: a record
    // saved comes back whole, and its end is the table's `expiry_date`.
    let store = tower_sessions_sqlx_store::PostgresStore::new(w.pool.clone());
    let mut record = Record {
        id: Id::default(),
        data: [("user_id".to_string(), json!(w.learner.id))].into(),
        expiry_date: time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("ns")
            + time::Duration::hours(1),
    };
    store.create(&mut record).await.expect("create");
    assert_eq!(
        store.load(&record.id).await.expect("load"),
        Some(record.clone())
    );
    let ends: time::OffsetDateTime =
        sqlx::query_scalar("SELECT expiry_date FROM tower_sessions.session WHERE id = $1")
            .bind(record.id.to_string())
            .fetch_one(&w.pool)
            .await
            .expect("the row");
    assert_eq!(ends, record.expiry_date);
    store.delete(&record.id).await.expect("delete");
    assert_eq!(store.load(&record.id).await.expect("load"), None);
}

/// Migration 0011 was edited after release (lz4 only where the server has it): a database
/// that applied its first text is still accepted, and its record moves to the new text;
/// any other checksum is still refused.
#[tokio::test]
async fn a_database_migrated_by_a_released_text_of_an_edited_migration_is_accepted() {
    let w = world().await;
    let mut conn = w.pool.acquire().await.expect("conn");
    let set = |checksum: &'static str| {
        sqlx::query("UPDATE _sqlx_migrations SET checksum = decode($1, 'hex') WHERE version = 11")
            .bind(checksum)
    };
    set("e6b19a77f22b9122d45e3dc264e1e727468614a99db25dbd53c6354697c2b40dc18836874317c90cb248ba226e180f26")
        .execute(&mut *conn)
        .await
        .expect("the released text's checksum");
    attest::db::migrate(&mut conn).await.expect("accepted");
    let recorded: Vec<u8> =
        sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = 11")
            .fetch_one(&mut *conn)
            .await
            .expect("row");
    let current = attest::db::MIGRATOR
        .iter()
        .find(|m| m.version == 11)
        .expect("0011");
    assert_eq!(recorded, current.checksum.as_ref());

    set("00").execute(&mut *conn).await.expect("tampered");
    let refused = attest::db::migrate(&mut conn).await;
    assert!(
        matches!(
            refused,
            Err(sqlx::migrate::MigrateError::VersionMismatch(11))
        ),
        "{refused:?}"
    );
}

/// Issue 16, point 4: servers started together on an empty database (or `attest
/// migrate` beside them) take turns under the advisory lock: every one succeeds, and
/// each migration is applied by exactly one of them, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_migrating_an_empty_database_together_apply_each_migration_once() {
    use sqlx::ConnectOptions;
    let cluster = attest::testing::cluster();
    let name = attest::testing::empty_database().await;
    // Four connections at once, as four servers' starts: while one holds the lock the
    // others wait in PostgreSQL.
    let starts = (0..4).map(|_| {
        let options = cluster.connect_options(&name);
        async move {
            let mut conn = options.connect().await.expect("connecting");
            attest::db::migrate(&mut conn).await
        }
    });
    let mut applied = Vec::new();
    for done in futures_util::future::join_all(starts).await {
        applied.extend(done.expect("migrated"));
    }
    applied.sort_unstable();
    let every: Vec<i64> = attest::db::MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(
        applied, every,
        "each migration applied once, by one of them"
    );
    let mut conn = cluster
        .connect_options(&name)
        .connect()
        .await
        .expect("connecting");
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(recorded as usize, every.len());
    assert_eq!(
        attest::db::migrate(&mut conn).await.expect("again"),
        Vec::<i64>::new(),
        "nothing left to do"
    );
}

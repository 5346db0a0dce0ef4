//! Bulk audits against a real PostgreSQL: the same results as auditing one by one, and
//! safe beside single audits and transitions running at the same time.
use attest::db::bulk_audit::{audit_in_chunks, BulkAudited};
use attest::db::centres::{self, Centre};
use attest::db::evidence::{self, EvidenceKind, NewEvidence};
use attest::db::users::{Role, User};
use attest::db::{activity, audits, enrolments, qualifications, ticks, DbError};
use attest::domain::outcome::Outcome;
use attest::domain::status::{Action, Status};
use attest::domain::ticks::Layer;
use attest::testing::{test_pool, test_pool_with};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{learner, new_enrolment, staff, two_majors};

/// A centre with the two-major qualification (criteria 0–1 are unit one, 2–3 unit two;
/// major ALL needs both units, FIRST only unit one) in two versions.
struct Fixture {
    pool: PgPool,
    centre: Centre,
    admin: User,
    assessor: User,
    /// (version id, criterion ids) of versions 1 and 2.
    versions: Vec<(Uuid, Vec<Uuid>)>,
    learners: usize,
}

async fn fixture(pool: PgPool) -> Fixture {
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .unwrap();
    let admin = staff(&pool, centre.id, "ada@acme.test", &[Role::Admin]).await;
    let assessor = staff(&pool, centre.id, "ann@acme.test", &[Role::Assessor]).await;
    let mut versions = Vec::new();
    for title in ["Two majors", "Two majors (revised)"] {
        let mut q = two_majors("TWO/1");
        q.title = title.into();
        let v = qualifications::import(&pool, centre.id, &q, None)
            .await
            .unwrap();
        let loaded = qualifications::load_version(&pool, v.version_id)
            .await
            .unwrap();
        versions.push((v.version_id, loaded.criterion_ids));
    }
    Fixture {
        pool,
        centre,
        admin,
        assessor,
        versions,
        learners: 0,
    }
}

impl Fixture {
    /// Enrol a new learner on `major` of version `version` (0 or 1), confirm the criteria
    /// at `confirmed` (criterion 0 twice, on two items, when listed), add a learner claim
    /// on everything (which must not count), and walk the status to `status`.
    async fn enrol(
        &mut self,
        version: usize,
        major: &str,
        confirmed: &[usize],
        status: Status,
    ) -> Uuid {
        self.learners += 1;
        let pool = &self.pool;
        let l = learner(
            pool,
            self.centre.id,
            &format!("l{:02}@acme.test", self.learners),
        )
        .await;
        let (version_id, criteria) = self.versions[version].clone();
        let major_id = qualifications::major_id(pool, version_id, major)
            .await
            .unwrap();
        let e = enrolments::create(
            pool,
            &new_enrolment(&self.centre, &l, &self.assessor, version_id, major_id),
            Some(self.admin.id),
        )
        .await
        .unwrap()
        .id;
        let mut items = Vec::new();
        for title in ["Log", "Observation"] {
            let item = evidence::add(
                pool,
                &NewEvidence {
                    enrolment_id: e,
                    title,
                    description: "",
                    kind: EvidenceKind::Product,
                    added_by: l.id,
                },
            )
            .await
            .unwrap()
            .id;
            items.push(item);
        }
        ticks::tick_many(pool, items[0], &criteria, Layer::Learner, l.id)
            .await
            .unwrap();
        let chosen: Vec<Uuid> = confirmed.iter().map(|&c| criteria[c]).collect();
        ticks::tick_many(pool, items[0], &chosen, Layer::Assessor, self.assessor.id)
            .await
            .unwrap();
        if confirmed.contains(&0) {
            crate::ticking::tick(
                pool,
                items[1],
                criteria[0],
                Layer::Assessor,
                self.assessor.id,
            )
            .await
            .unwrap();
        }
        let path: &[Status] = match status {
            Status::NotYetAchieved => &[],
            Status::ReadyToBeRequested => &[Status::ReadyToBeRequested],
            Status::GeneratingCredential => {
                &[Status::ReadyToBeRequested, Status::GeneratingCredential]
            }
            Status::AwaitingIssue => &[
                Status::ReadyToBeRequested,
                Status::GeneratingCredential,
                Status::AwaitingIssue,
            ],
            Status::CredentialFailedToGenerate => &[
                Status::ReadyToBeRequested,
                Status::GeneratingCredential,
                Status::CredentialFailedToGenerate,
            ],
            Status::CredentialIssued => &[
                Status::ReadyToBeRequested,
                Status::GeneratingCredential,
                Status::AwaitingIssue,
                Status::CredentialIssued,
            ],
            Status::Withdrawn => &[
                Status::ReadyToBeRequested,
                Status::GeneratingCredential,
                Status::AwaitingIssue,
                Status::Withdrawn,
            ],
        };
        let mut from = Status::NotYetAchieved;
        for &to in path {
            enrolments::transition(pool, e, from, to, Some(self.admin.id), Some("set up"))
                .await
                .unwrap();
            from = to;
        }
        e
    }
}

/// Every kind of enrolment an audit meets, twice over so that chunks of 5 split them
/// differently: audits that move the status either way, audits that leave it, and
/// statuses where an audit changes nothing.
async fn mixed(pool: PgPool) -> (Fixture, Vec<Uuid>) {
    use Status::*;
    let mut f = fixture(pool).await;
    let kinds: [(usize, &str, &[usize], Status); 12] = [
        (0, "ALL", &[], NotYetAchieved),
        (0, "ALL", &[0, 1], NotYetAchieved),
        (0, "ALL", &[0, 1, 2, 3], NotYetAchieved),
        (0, "ALL", &[0], ReadyToBeRequested),
        (0, "ALL", &[0, 1, 2, 3], ReadyToBeRequested),
        (0, "ALL", &[0, 1], GeneratingCredential),
        (0, "ALL", &[0, 1, 2, 3], AwaitingIssue),
        (0, "ALL", &[], Withdrawn),
        (0, "FIRST", &[0, 1], NotYetAchieved),
        (0, "ALL", &[2, 3], CredentialFailedToGenerate),
        (1, "ALL", &[0, 1, 2, 3], CredentialIssued),
        (1, "ALL", &[0, 1, 2, 3], NotYetAchieved),
    ];
    let mut ids = Vec::new();
    for _ in 0..2 {
        for (version, major, confirmed, status) in kinds {
            ids.push(f.enrol(version, major, confirmed, status).await);
        }
    }
    (f, ids)
}

/// From, to, actor, reason.
type HistoryLine = (Option<Status>, Status, Option<Uuid>, Option<String>);

/// What an audit left behind for one enrolment, without the ids and times that differ
/// between two databases.
#[derive(Debug, PartialEq)]
struct Trace {
    outcome: Outcome,
    report: attest::domain::audit::AuditReport,
    confirmed: i32,
    actor: Option<Uuid>,
    status: Status,
    history: Vec<HistoryLine>,
}

async fn trace(pool: &PgPool, enrolment: Uuid) -> Trace {
    let all = audits::audit_history(pool, enrolment).await.unwrap();
    assert_eq!(all.len(), 1, "one audit of {enrolment}");
    let a = &all[0];
    Trace {
        outcome: a.outcome,
        report: a.report.clone(),
        confirmed: a.confirmed_criteria,
        actor: a.actor_id,
        status: enrolments::get(pool, enrolment).await.unwrap().status,
        history: enrolments::history(pool, enrolment)
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.from, h.to, h.actor_id, h.reason))
            .collect(),
    }
}

#[tokio::test]
async fn bulk_audits_give_what_auditing_each_enrolment_singly_gives() {
    let (one, one_ids) = mixed(test_pool().await).await;
    let (bulk, bulk_ids) = mixed(test_pool().await).await;

    for &id in &one_ids {
        match audits::audit_enrolment(&one.pool, id, Some(one.admin.id)).await {
            // Withdrawn allows no audit; the bulk run passes it over the same way.
            Err(DbError::Refused(_)) => {}
            other => {
                other.unwrap();
            }
        }
    }
    let mut reports = Vec::new();
    let mut asked = bulk_ids.clone();
    asked.push(bulk_ids[3]); // a repeat is audited once
    let done = audit_in_chunks(&bulk.pool, &asked, Some(bulk.admin.id), 5, |d, t| {
        reports.push((d, t))
    })
    .await
    .unwrap();
    // Chunks of 5, several at a time, each reported as it commits: 0, then one report per
    // chunk (5 chunks for 24 enrolments), rising to all 24.
    assert_eq!(reports.len(), 6, "{reports:?}");
    assert_eq!((reports[0], reports[5]), ((0, 24), (24, 24)));
    assert!(reports.windows(2).all(|w| w[0].0 < w[1].0), "{reports:?}");
    // Withdrawn enrolments are passed over: no audit, as a single audit refuses them.
    let withdrawn = one_ids.len() - done.len();
    assert!(withdrawn > 0, "the mix includes Withdrawn enrolments");

    let mut moved = 0;
    for (i, (&a, &b)) in one_ids.iter().zip(&bulk_ids).enumerate() {
        if enrolments::get(&bulk.pool, b).await.unwrap().status == Status::Withdrawn {
            for (pool, id) in [(&one.pool, a), (&bulk.pool, b)] {
                let audited = audits::audit_history(pool, id).await.unwrap();
                assert!(
                    audited.is_empty(),
                    "enrolment {i} is Withdrawn: not audited"
                );
            }
            assert!(
                done.iter().all(|d| d.enrolment_id != b),
                "enrolment {i} passed over"
            );
            continue;
        }
        let single = trace(&one.pool, a).await;
        let mut in_bulk = trace(&bulk.pool, b).await;
        // The actors are the same person in each database, under different ids.
        assert_eq!(single.actor, Some(one.admin.id));
        assert_eq!(in_bulk.actor, Some(bulk.admin.id));
        in_bulk.actor = single.actor;
        for h in &mut in_bulk.history {
            if h.2 == Some(bulk.admin.id) {
                h.2 = Some(one.admin.id);
            }
        }
        assert_eq!(single, in_bulk, "enrolment {i}");

        let r: &BulkAudited = done.iter().find(|d| d.enrolment_id == b).unwrap();
        assert_eq!((r.outcome, r.after), (in_bulk.outcome, in_bulk.status));
        let latest = audits::latest_audit(&bulk.pool, b).await.unwrap().unwrap();
        assert_eq!(latest.id, r.audit_id);
        moved += usize::from(r.changed_status());

        let logged: Vec<_> = activity::for_enrolment(&bulk.pool, b)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "audit")
            .collect();
        assert_eq!(logged.len(), 1, "one audit entry in the activity log");
        assert_eq!(logged[0].actor_id, Some(bulk.admin.id));
        assert_eq!(logged[0].detail["outcome"], r.outcome.label());
        assert_eq!(logged[0].detail["audit"], r.audit_id.to_string());
    }
    // Per pair of kinds: NYA → Ready (all confirmed, FIRST, version 2), Ready → NYA.
    assert_eq!(moved, 8);
    let statuses: Vec<Status> = done.iter().map(|d| d.after).collect();
    // Audited in a later status, recorded with no move; Withdrawn ones were passed over.
    assert!(statuses.contains(&Status::AwaitingIssue) && !statuses.contains(&Status::Withdrawn));
}

#[tokio::test]
async fn an_unknown_enrolment_stops_the_run_with_its_chunk_unwritten() {
    let (f, ids) = mixed(test_pool().await).await;
    let mut asked = ids[..4].to_vec();
    asked.push(Uuid::from_u128(u128::MAX)); // sorts last: in the second chunk
    let mut reports = Vec::new();
    let err = audit_in_chunks(&f.pool, &asked, None, 3, |d, t| reports.push((d, t)))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::NotFound), "{err:?}");
    assert_eq!(reports, vec![(0, 5), (3, 5)]);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audits")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(
        audited, 3,
        "the first chunk committed, the second wrote nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_audits_and_transitions_during_a_bulk_run_corrupt_nothing() {
    use Status::*;
    let mut f = fixture(test_pool_with(12).await).await;
    let mut claimed = Vec::new(); // unit one confirmed; unit two confirmed during the run
    let mut ready = Vec::new(); // everything confirmed; a credential requested during the run
    let mut idle = Vec::new(); // nothing confirmed; audited singly during the run
    for _ in 0..15 {
        claimed.push(f.enrol(0, "ALL", &[0, 1], NotYetAchieved).await);
        ready.push(f.enrol(0, "ALL", &[0, 1, 2, 3], ReadyToBeRequested).await);
        idle.push(f.enrol(0, "ALL", &[], NotYetAchieved).await);
    }
    let all: Vec<Uuid> = claimed.iter().chain(&ready).chain(&idle).copied().collect();
    let criteria = f.versions[0].1.clone();

    let pool = f.pool.clone();
    let admin = f.admin.id;
    let ids = all.clone();
    let bulk =
        tokio::spawn(async move { audit_in_chunks(&pool, &ids, Some(admin), 4, |_, _| {}).await });
    let mut singles = Vec::new();
    for i in 0..15 {
        let (pool, assessor) = (f.pool.clone(), f.assessor.id);
        let (c, r, n) = (claimed[i], ready[i], idle[i]);
        let unit_two = criteria[2..4].to_vec();
        singles.push(tokio::spawn(async move {
            let item = evidence::add(
                &pool,
                &NewEvidence {
                    enrolment_id: c,
                    title: "Second unit",
                    description: "",
                    kind: EvidenceKind::Observation,
                    added_by: assessor,
                },
            )
            .await?
            .id;
            ticks::tick_many(&pool, item, &unit_two, Layer::Assessor, assessor).await?;
            audits::audit_enrolment(&pool, c, Some(assessor)).await?;
            enrolments::apply_action(
                &pool,
                r,
                &Action::RequestCredential {
                    outcome: Outcome::AllMajorsAchieved,
                    open_iqa_actions: 0,
                },
                Some(assessor),
                None,
            )
            .await?;
            audits::audit_enrolment(&pool, n, Some(assessor)).await?;
            Ok::<_, DbError>(())
        }));
    }
    for s in singles {
        s.await.unwrap().unwrap();
    }
    let done = bulk.await.unwrap().unwrap();
    assert_eq!(done.len(), 45);

    for &id in &all {
        let e = enrolments::get(&f.pool, id).await.unwrap();
        // The history is one unbroken chain ending in the status the enrolment has.
        let history = enrolments::history(&f.pool, id).await.unwrap();
        let mut at = None;
        for h in &history {
            assert_eq!(h.from, at, "history of {id} is a chain");
            at = Some(h.to);
        }
        assert_eq!(at, Some(e.status));
        let audits = audits::audit_history(&f.pool, id).await.unwrap();
        assert_eq!(
            audits.iter().filter(|a| a.actor_id == Some(admin)).count(),
            1,
            "exactly one bulk audit of {id}"
        );
        // What the bulk run says it did agrees with the status machine.
        let r = done.iter().find(|d| d.enrolment_id == id).unwrap();
        let expected_after = attest::domain::status::decide(r.before, &Action::Audit(r.outcome))
            .unwrap()
            .target(r.before);
        assert_eq!(r.after, expected_after);
        if matches!(e.status, NotYetAchieved | ReadyToBeRequested) {
            // The latest audit decided the status.
            let latest = &audits[0];
            assert_eq!(
                e.status == ReadyToBeRequested,
                latest.outcome.assigned_achieved(),
                "{id} is {} after {}",
                e.status,
                latest.outcome
            );
        }
    }
    for &id in &claimed {
        let e = enrolments::get(&f.pool, id).await.unwrap();
        let latest = audits::latest_audit(&f.pool, id).await.unwrap().unwrap();
        assert_eq!(
            (e.status, latest.outcome),
            (ReadyToBeRequested, Outcome::AllMajorsAchieved)
        );
    }
    for &id in &ready {
        assert_eq!(
            enrolments::get(&f.pool, id).await.unwrap().status,
            GeneratingCredential
        );
    }
    for &id in &idle {
        assert_eq!(
            enrolments::get(&f.pool, id).await.unwrap().status,
            NotYetAchieved
        );
    }
}

/// An audit reads a portfolio; it does not change it. It is logged, but it must not
/// count as activity, or a month-end bulk audit hides every learner who has gone quiet
/// (the caseload flags 30 days without activity).
#[tokio::test]
async fn a_bulk_audit_is_logged_but_leaves_last_activity_where_it_was() {
    let mut f = fixture(test_pool().await).await;
    let e = f
        .enrol(0, "ALL", &[0, 1, 2, 3], Status::NotYetAchieved)
        .await;
    sqlx::query(
        "UPDATE enrolments SET last_activity_at = now() - interval '40 days' WHERE id = $1",
    )
    .bind(e)
    .execute(&f.pool)
    .await
    .unwrap();
    let before = enrolments::get(&f.pool, e).await.unwrap().last_activity_at;
    audit_in_chunks(&f.pool, &[e], Some(f.admin.id), 5, |_, _| {})
        .await
        .unwrap();
    let after = enrolments::get(&f.pool, e).await.unwrap();
    assert_eq!(after.status, Status::ReadyToBeRequested, "the audit ran");
    assert_eq!(after.last_activity_at, before);
    let log = activity::for_enrolment(&f.pool, e).await.unwrap();
    assert_eq!(log.last().map(|l| l.action.as_str()), Some("audit"));
}

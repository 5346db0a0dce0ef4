//! The load-test centre (`attest bench-fixture`, used by `benches/load.sh`): one learner
//! on a qualification with evidence ticked the way a real portfolio fills up, so the
//! pages a load test asks for have real work to do.
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::evidence::{EvidenceKind, NewEvidence};
use crate::db::users::{NewUser, Role, UserKind};
use crate::db::{self, audits, centres, enrolments, evidence, qualifications, ticks, users};
use crate::domain::qualification::Qualification;
use crate::domain::ticks::Layer;
use crate::web::auth::password;
use crate::web::files::FileStore;

pub(crate) const BENCH_CENTRE_SLUG: &str = "bench";
/// The benchmark centre holds no real data; one password for every account.
pub const BENCH_PASSWORD: &str = "attest-bench-2026";

/// The accounts, by role: (role, email).
pub const ACCOUNTS: [(&str, &str); 5] = [
    ("admin", "admin@bench.attest.test"),
    ("assessor", "assessor@bench.attest.test"),
    ("trainee", "trainee@bench.attest.test"),
    ("iqa", "iqa@bench.attest.test"),
    ("learner", "learner@bench.attest.test"),
];

/// What a load test needs to address the fixture.
#[derive(Debug, Clone)]
pub struct BenchFixture {
    pub centre_id: Uuid,
    pub enrolment_id: Uuid,
    /// Every evidence item, oldest first.
    pub evidence_ids: Vec<Uuid>,
    /// The item whose page is measured: one from the middle, ticked in every layer.
    pub evidence_id: Uuid,
    /// Criteria with no tick in any layer on `evidence_id`: safe to tick and untick
    /// over and over without touching the fixture's own ticks.
    pub free_criteria: Vec<Uuid>,
    pub tick_count: u64,
}

/// Loads the centre with `q` and one enrolment with `items` evidence items. Refuses if
/// the centre is already there: a load test starts from a known state.
pub async fn load(pool: &PgPool, q: &Qualification, items: usize) -> anyhow::Result<BenchFixture> {
    if centres::find_by_slug(pool, BENCH_CENTRE_SLUG)
        .await?
        .is_some()
    {
        anyhow::bail!("the benchmark centre is already loaded: use an empty database");
    }
    let centre = centres::create(pool, BENCH_CENTRE_SLUG, "Benchmark Centre").await?;
    let hash = password::hash(BENCH_PASSWORD)?;
    let mut ids = Vec::new();
    for (role, email) in ACCOUNTS {
        let (kind, roles): (UserKind, &[Role]) = match role {
            "admin" => (UserKind::Staff, &[Role::Admin]),
            "assessor" => (UserKind::Staff, &[Role::Assessor]),
            "trainee" => (UserKind::Staff, &[Role::TraineeAssessor]),
            "iqa" => (UserKind::Staff, &[Role::Iqa]),
            _ => (UserKind::Learner, &[Role::Learner]),
        };
        let name = format!("Bench {role}");
        let new = NewUser {
            centre_id: centre.id,
            email,
            display_name: &name,
            password_hash: Some(&hash),
            kind,
            roles,
            employer_id: None,
        };
        ids.push(users::create(pool, &new).await?.id);
    }
    let (admin, assessor, trainee, iqa, learner) = (ids[0], ids[1], ids[2], ids[3], ids[4]);
    let imported = qualifications::import(pool, centre.id, q, Some(admin)).await?;
    let version = qualifications::load_version(pool, imported.version_id).await?;
    let enrolment = enrolments::create(
        pool,
        &enrolments::NewEnrolment {
            centre_id: centre.id,
            learner_id: learner,
            version_id: version.version_id,
            major_id: version.major_ids[0],
            assessor_id: assessor,
            trainee_assessor_id: Some(trainee),
            iqa_id: Some(iqa),
        },
        Some(admin),
    )
    .await?
    .id;

    let by_unit = unit_criteria(q, &version.criterion_ids);
    let mut evidence_ids = Vec::with_capacity(items);
    let mut tick_count = 0;
    for i in 0..items {
        let plan = ItemPlan::new(i, &by_unit);
        let by = if plan.observation { assessor } else { learner };
        let title = format!("Evidence {} for unit {}", i + 1, q.units[plan.unit].code);
        let new = NewEvidence {
            enrolment_id: enrolment,
            title: &title,
            description: "Written account with photographs, checked against the unit's criteria.",
            kind: if plan.observation {
                EvidenceKind::Observation
            } else {
                EvidenceKind::Document
            },
            added_by: by,
        };
        let item = evidence::add(pool, &new).await?.id;
        db::activity::record(
            pool,
            centre.id,
            Some(enrolment),
            Some(by),
            "evidence added",
            json!({ "evidence": item, "title": title }),
        )
        .await?;
        for (layer, who, criteria) in [
            (Layer::Learner, learner, &plan.claimed),
            (Layer::TraineeAssessor, trainee, &plan.trainee),
            (Layer::Assessor, assessor, &plan.confirmed),
        ] {
            tick_count += ticks::tick_many(pool, item, criteria, layer, who).await?;
        }
        evidence_ids.push(item);
    }
    audits::audit_enrolment(pool, enrolment, Some(assessor)).await?;

    let middle = items / 2;
    let evidence_id = *evidence_ids
        .get(middle)
        .ok_or_else(|| anyhow::anyhow!("the benchmark needs at least one evidence item"))?;
    let plan = ItemPlan::new(middle, &by_unit);
    let free_criteria = version
        .criterion_ids
        .iter()
        .filter(|c| !plan.touches(c))
        .take(128)
        .copied()
        .collect();
    Ok(BenchFixture {
        centre_id: centre.id,
        enrolment_id: enrolment,
        evidence_ids,
        evidence_id,
        free_criteria,
        tick_count,
    })
}

/// The rest of the assessor's caseload: `n` more learners, each enrolled like the first
/// with a copy of its evidence and ticks (set-based copies: seconds, not minutes).
/// Returns each enrolment with the copy of the measured item, `evidence_id`; its
/// `free_criteria` are free on every copy. A load test ticks on all of them at once,
/// as a centre's assessors do, each on their own learner.
pub async fn load_caseload(
    pool: &PgPool,
    f: &BenchFixture,
    n: usize,
) -> anyhow::Result<Vec<(Uuid, Uuid)>> {
    let main = enrolments::get(pool, f.enrolment_id).await?;
    let hash = password::hash(BENCH_PASSWORD)?;
    let mut copies = Vec::with_capacity(n);
    for i in 0..n {
        let email = format!("learner{}@bench.attest.test", i + 2);
        let name = format!("Bench learner {}", i + 2);
        let learner = users::create(
            pool,
            &NewUser {
                centre_id: f.centre_id,
                email: &email,
                display_name: &name,
                password_hash: Some(&hash),
                kind: UserKind::Learner,
                roles: &[Role::Learner],
                employer_id: None,
            },
        )
        .await?
        .id;
        let copy = enrolments::create(
            pool,
            &enrolments::NewEnrolment {
                centre_id: main.centre_id,
                learner_id: learner,
                version_id: main.version_id,
                major_id: main.major_id,
                assessor_id: main.assessor_id,
                trainee_assessor_id: main.trainee_assessor_id,
                iqa_id: main.iqa_id,
            },
            None,
        )
        .await?
        .id;
        let mut tx = pool.begin().await?;
        sqlx::query!(
            "INSERT INTO evidence (enrolment_id, version_id, title, description, kind, added_by, added_at) \
             SELECT $2, version_id, title, description, kind, \
                    CASE WHEN added_by = $3 THEN $4 ELSE added_by END, added_at \
             FROM evidence WHERE enrolment_id = $1",
            main.id,
            copy,
            main.learner_id,
            learner,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO ticks (evidence_id, criterion_id, layer, enrolment_id, version_id, ticked_by, ticked_at) \
             SELECT ne.id, t.criterion_id, t.layer, ne.enrolment_id, ne.version_id, \
                    CASE WHEN t.ticked_by = $3 THEN $4 ELSE t.ticked_by END, t.ticked_at \
             FROM ticks t JOIN evidence oe ON oe.id = t.evidence_id \
             JOIN evidence ne ON ne.enrolment_id = $2 AND ne.title = oe.title \
             WHERE t.enrolment_id = $1",
            main.id,
            copy,
            main.learner_id,
            learner,
        )
        .execute(&mut *tx)
        .await?;
        let item: Uuid = sqlx::query_scalar!(
            "SELECT ne.id FROM evidence ne JOIN evidence oe ON oe.title = ne.title \
             WHERE oe.id = $1 AND ne.enrolment_id = $2",
            f.evidence_id,
            copy,
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        audits::audit_enrolment(pool, copy, None).await?;
        copies.push((copy, item));
    }
    Ok(copies)
}

/// Criterion ids grouped by unit, in the qualification's order.
fn unit_criteria(q: &Qualification, criterion_ids: &[Uuid]) -> Vec<Vec<Uuid>> {
    let mut rest = criterion_ids;
    q.units
        .iter()
        .map(|u| {
            let n = u.outcomes.iter().map(|o| o.criteria.len()).sum::<usize>();
            let (head, tail) = rest.split_at(n.min(rest.len()));
            rest = tail;
            head.to_vec()
        })
        .collect()
}

/// What one evidence item covers. Item i is mostly about unit i (wrapping) and a little
/// about the next unit: the learner claims about three quarters of the first unit's
/// criteria and a few of the next; on two items in three the assessor has reviewed it
/// and confirmed most claims plus one criterion the learner missed; every fourth item
/// carries trainee ticks awaiting countersignature; every fifth is an observation.
struct ItemPlan {
    unit: usize,
    observation: bool,
    claimed: Vec<Uuid>,
    trainee: Vec<Uuid>,
    confirmed: Vec<Uuid>,
}

impl ItemPlan {
    fn new(i: usize, by_unit: &[Vec<Uuid>]) -> ItemPlan {
        let units = by_unit.len().max(1);
        let unit = i % units;
        let main = by_unit.get(unit).map(Vec::as_slice).unwrap_or_default();
        let next = by_unit
            .get((i + 1) % units)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut claimed: Vec<Uuid> = main
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 4 != 3)
            .map(|(_, c)| *c)
            .collect();
        claimed.extend(next.iter().take(3));
        let reviewed = i % 3 != 2;
        let mut confirmed: Vec<Uuid> = if reviewed {
            claimed
                .iter()
                .enumerate()
                .filter(|(k, _)| k % 5 != 4)
                .map(|(_, c)| *c)
                .collect()
        } else {
            Vec::new()
        };
        if reviewed {
            confirmed.extend(main.get(3));
        }
        let trainee = if i % 4 == 1 {
            claimed.iter().skip(1).step_by(3).copied().collect()
        } else {
            Vec::new()
        };
        ItemPlan {
            unit,
            observation: i % 5 == 4,
            claimed,
            trainee,
            confirmed,
        }
    }

    fn touches(&self, criterion: &Uuid) -> bool {
        self.claimed.contains(criterion)
            || self.trainee.contains(criterion)
            || self.confirmed.contains(criterion)
    }
}

/// Every item's text as the reading job leaves it, at once (the fixture runs no worker):
/// the main portfolio's items read and ranked (with the model when there is one, so that
/// a server with the model finds nothing to rank again), each copy's text and ranking
/// copied from its original (the same title, as its ticks are), and the jobs queued for
/// them dropped.
pub async fn texts_read(
    pool: &PgPool,
    files: &FileStore,
    model: Option<&crate::jobs::suggestions::Model>,
    f: &BenchFixture,
) -> anyhow::Result<()> {
    for id in &f.evidence_ids {
        crate::jobs::evidence_text::read_item(pool, files, model, *id)
            .await
            .map_err(|e| anyhow::anyhow!("reading a bench item: {e}"))?;
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO evidence_texts (evidence_id, wanted, done, text, files, read_at, \
                                     whole, suggestions, suggested_by) \
         SELECT ne.id, 1, 1, ot.text, ot.files, ot.read_at, ot.whole, ot.suggestions, ot.suggested_by \
           FROM evidence oe JOIN evidence_texts ot ON ot.evidence_id = oe.id \
           JOIN enrolments e ON e.centre_id = $2 AND e.id <> $1 \
           JOIN evidence ne ON ne.enrolment_id = e.id AND ne.title = oe.title \
          WHERE oe.enrolment_id = $1 \
         ON CONFLICT (evidence_id) DO UPDATE \
            SET done = evidence_texts.wanted, text = excluded.text, files = excluded.files, \
                read_at = excluded.read_at, whole = excluded.whole, \
                suggestions = excluded.suggestions, suggested_by = excluded.suggested_by",
        f.enrolment_id,
        f.centre_id,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM jobs WHERE kind = ANY($1) AND state = 'queued'",
        &[
            crate::db::evidence_texts::READ_JOB.to_string(),
            crate::db::suggestions::CRITERION_VECTORS_JOB.to_string(),
            crate::db::suggestions::EXAMPLES_JOB.to_string(),
        ]
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

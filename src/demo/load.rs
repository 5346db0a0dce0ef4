//! Loads the demo centre: one qualification, its staff and learners in different
//! states, so every page has something real to show.
use anyhow::Context;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::evidence::{EvidenceKind, NewEvidence};
use crate::db::users::{NewUser, Role, UserKind};
use crate::db::{self, audits, centres, enrolments, evidence, qualifications, ticks, users};
use crate::domain::import::{self, Format};
use crate::domain::ticks::Layer;
use crate::domain::Qualification;
use crate::web::auth::password;

pub const DEMO_CENTRE_SLUG: &str = "demo";
/// Shared by every demo account: the demo is for looking around, never for real data.
pub const DEMO_PASSWORD: &str = "attest-demo-2026";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub role: &'static str,
    pub name: &'static str,
    pub email: &'static str,
}

const STAFF: [(&str, &str, &str, &[Role]); 4] = [
    (
        "admin",
        "Priya Shah",
        "admin@demo.attest.test",
        &[Role::Admin],
    ),
    (
        "assessor",
        "Tom Okafor",
        "assessor@demo.attest.test",
        &[Role::Assessor],
    ),
    (
        "trainee assessor",
        "Lena Kowalski",
        "trainee@demo.attest.test",
        &[Role::TraineeAssessor],
    ),
    (
        "IQA",
        "Margaret Doyle",
        "iqa@demo.attest.test",
        &[Role::Iqa],
    ),
];

const LEARNERS: [(&str, &str, &str); 4] = [
    (
        "learner: claims only",
        "Amira Hassan",
        "amira@demo.attest.test",
    ),
    (
        "learner: partly confirmed",
        "Ben Carter",
        "ben@demo.attest.test",
    ),
    (
        "learner: a major achieved",
        "Zoë Ōtaki-Ngata",
        "zoe@demo.attest.test",
    ),
    (
        "learner: just enrolled",
        "Nguyễn Thị Minh Khai",
        "minh@demo.attest.test",
    ),
];

pub fn logins() -> Vec<DemoLogin> {
    STAFF
        .iter()
        .map(|(role, name, email, _)| DemoLogin { role, name, email })
        .chain(
            LEARNERS
                .iter()
                .map(|(role, name, email)| DemoLogin { role, name, email }),
        )
        .collect()
}

/// What `serve --demo` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoState {
    Loaded,
    AlreadyThere,
    /// The database holds other centres: the demo is not mixed into real data.
    Skipped,
}

/// `load_if_empty_with` without the model: suggestions ranked on words alone.
pub async fn load_if_empty(pool: &PgPool) -> anyhow::Result<DemoState> {
    load_if_empty_with(pool, None).await
}

/// Loads the demo centre into an empty database, its items read and ranked with `model`.
pub async fn load_if_empty_with(
    pool: &PgPool,
    model: Option<&crate::jobs::suggestions::Model>,
) -> anyhow::Result<DemoState> {
    if centres::find_by_slug(pool, DEMO_CENTRE_SLUG)
        .await?
        .is_some()
    {
        return Ok(DemoState::AlreadyThere);
    }
    if !centres::list(pool).await?.is_empty() {
        return Ok(DemoState::Skipped);
    }
    load(pool, model).await?;
    Ok(DemoState::Loaded)
}

async fn load(
    pool: &PgPool,
    model: Option<&crate::jobs::suggestions::Model>,
) -> anyhow::Result<()> {
    let q = import::parse(super::DEMO_QUALIFICATION, Format::Toml)
        .map_err(|e| anyhow::anyhow!("demo qualification: {e}"))?;
    let centre = centres::create(pool, DEMO_CENTRE_SLUG, "Northgate College (demo)").await?;
    // One hash for every demo account: Argon2 is slow on purpose.
    let hash = password::hash(DEMO_PASSWORD)?;
    let mut staff = Vec::new();
    for (_, name, email, roles) in STAFF {
        let new = NewUser {
            centre_id: centre.id,
            email,
            display_name: name,
            password_hash: Some(&hash),
            kind: UserKind::Staff,
            roles,
            employer_id: None,
        };
        staff.push(users::create(pool, &new).await?.id);
    }
    let (admin, assessor, trainee, iqa) = (staff[0], staff[1], staff[2], staff[3]);
    let mut learners = Vec::new();
    for (_, name, email) in LEARNERS {
        let new = NewUser {
            centre_id: centre.id,
            email,
            display_name: name,
            password_hash: Some(&hash),
            kind: UserKind::Learner,
            roles: &[Role::Learner],
            employer_id: None,
        };
        learners.push(users::create(pool, &new).await?.id);
    }
    let imported = qualifications::import(pool, centre.id, &q, Some(admin)).await?;
    let version = qualifications::load_version(pool, imported.version_id).await?;
    let demo = Demo {
        pool,
        centre: centre.id,
        q: &version.qualification,
        criterion_ids: &version.criterion_ids,
    };
    let enrol = |learner: Uuid, major: &'static str, with_trainee: bool| {
        let major_id = version.major_ids[version.qualification.major_index(major).unwrap_or(0)];
        enrolments::NewEnrolment {
            centre_id: centre.id,
            learner_id: learner,
            version_id: version.version_id,
            major_id,
            assessor_id: assessor,
            trainee_assessor_id: with_trainee.then_some(trainee),
            iqa_id: Some(iqa),
        }
    };

    // Amira: claims only — nothing confirmed yet.
    let amira = enrolments::create(pool, &enrol(learners[0], "GEN", false), Some(admin))
        .await?
        .id;
    let log = demo
        .evidence(
            amira,
            learners[0],
            "Customer feedback log",
            EvidenceKind::Document,
            "Feedback forms from three weeks on the service desk, with my replies.",
        )
        .await?;
    demo.tick(
        log,
        learners[0],
        Layer::Learner,
        &[
            ("201", "1.1"),
            ("201", "1.2"),
            ("201", "2.1"),
            ("203", "1.1"),
        ],
    )
    .await?;
    let photo = demo
        .evidence(
            amira,
            learners[0],
            "Photo of the returns desk display",
            EvidenceKind::Photo,
            "The display I set up to explain the returns policy.",
        )
        .await?;
    demo.tick(
        photo,
        learners[0],
        Layer::Learner,
        &[("202", "1.1"), ("201", "2.1")],
    )
    .await?;

    // Ben: units 201 and part of 202 confirmed, a trainee tick awaiting countersignature.
    let ben = enrolments::create(pool, &enrol(learners[1], "GEN", true), Some(admin))
        .await?
        .id;
    let obs = demo
        .evidence(
            ben,
            assessor,
            "Observation: handling a refund request",
            EvidenceKind::Observation,
            "Observed at the customer service desk on a busy Saturday.",
        )
        .await?;
    let all_201 = demo.unit_criteria("201");
    demo.tick(obs, assessor, Layer::Assessor, &all_201).await?;
    demo.tick(
        obs,
        assessor,
        Layer::Assessor,
        &[("202", "1.1"), ("202", "1.2"), ("202", "1.3")],
    )
    .await?;
    let replies = demo
        .evidence(
            ben,
            learners[1],
            "Written replies to customer emails",
            EvidenceKind::Document,
            "Five anonymised replies to customer emails.",
        )
        .await?;
    demo.tick(
        replies,
        learners[1],
        Layer::Learner,
        &[("202", "2.1"), ("202", "2.2")],
    )
    .await?;
    demo.tick(replies, trainee, Layer::TraineeAssessor, &[("202", "2.1")])
        .await?;

    // Zoë: Elective set B of the specialist major achieved.
    let zoe = enrolments::create(pool, &enrol(learners[2], "SPEC", true), Some(admin))
        .await?
        .id;
    let discussion = demo
        .evidence(
            zoe,
            assessor,
            "Professional discussion: digital service",
            EvidenceKind::ProfessionalDiscussion,
            "Recorded discussion covering chat, email and self-service support.",
        )
        .await?;
    for unit in ["201", "202", "230", "231"] {
        demo.tick(
            discussion,
            assessor,
            Layer::Assessor,
            &demo.unit_criteria(unit),
        )
        .await?;
    }

    // Minh: just enrolled on the team-leading major.
    let minh = enrolments::create(pool, &enrol(learners[3], "TEAM", false), Some(admin))
        .await?
        .id;

    // Each audit writes its own activity entry.
    for enrolment in [amira, ben, zoe, minh] {
        audits::audit_enrolment(pool, enrolment, None).await?;
    }
    // The items' texts as the reading job would leave them, so that the demo starts with
    // none queued. Its items have no files: the store is never opened.
    let files = crate::web::files::FileStore::new(
        std::env::temp_dir().join("attest-files"),
        crate::web::files::DEFAULT_MAX_BYTES,
    );
    crate::jobs::evidence_text::read_centre_now(pool, &files, model, centre.id)
        .await
        .map_err(|e| anyhow::anyhow!("reading the demo's evidence: {e}"))?;
    crate::db::suggestions::drop_queued_vectors(pool, centre.id).await?;
    Ok(())
}

struct Demo<'a> {
    pool: &'a PgPool,
    centre: Uuid,
    q: &'a Qualification,
    criterion_ids: &'a [Uuid],
}

impl Demo<'_> {
    async fn evidence(
        &self,
        enrolment: Uuid,
        by: Uuid,
        title: &str,
        kind: EvidenceKind,
        description: &str,
    ) -> anyhow::Result<Uuid> {
        let new = NewEvidence {
            enrolment_id: enrolment,
            title,
            description,
            kind,
            added_by: by,
        };
        let id = evidence::add(self.pool, &new).await?.id;
        db::activity::record(
            self.pool,
            self.centre,
            Some(enrolment),
            Some(by),
            "evidence added",
            json!({ "evidence": id, "title": title }),
        )
        .await?;
        Ok(id)
    }

    fn unit_criteria(&self, unit: &str) -> Vec<(String, String)> {
        self.q
            .units
            .iter()
            .filter(|u| u.code == unit)
            .flat_map(|u| u.outcomes.iter().flat_map(|o| o.criteria.iter()))
            .map(|c| (unit.to_string(), c.number.clone()))
            .collect()
    }

    fn criterion_id(&self, unit: &str, number: &str) -> anyhow::Result<Uuid> {
        let mut ordinal = 0;
        for u in &self.q.units {
            for c in u.outcomes.iter().flat_map(|o| o.criteria.iter()) {
                if u.code == unit && c.number == number {
                    return Ok(self.criterion_ids[ordinal]);
                }
                ordinal += 1;
            }
        }
        anyhow::bail!("demo names criterion {unit} {number}, which the demo qualification lacks")
    }

    async fn tick<U: AsRef<str>, N: AsRef<str>>(
        &self,
        evidence: Uuid,
        by: Uuid,
        layer: Layer,
        criteria: &[(U, N)],
    ) -> anyhow::Result<()> {
        let ids = criteria
            .iter()
            .map(|(u, n)| self.criterion_id(u.as_ref(), n.as_ref()))
            .collect::<anyhow::Result<Vec<Uuid>>>()
            .context("demo ticks")?;
        ticks::tick_many(self.pool, evidence, &ids, layer, by).await?;
        Ok(())
    }
}

//! Fixtures shared by the database tests.
use attest::db::centres::{self, Centre};
use attest::db::enrolments::{self, Enrolment, NewEnrolment};
use attest::db::evidence::{self, EvidenceKind, NewEvidence};
use attest::db::qualifications::{self, ImportOutcome};
use attest::db::users::{self, NewUser, Role, User, UserKind};
use attest::domain::qualification::{
    Criterion, Group, Major, Outcome, Qualification, RuleSet, Unit,
};
use attest::testing::test_pool;
use sqlx::PgPool;
use uuid::Uuid;

/// `units` units of `criteria` criteria each (one outcome per 5 criteria).
pub fn units(n: usize, criteria: usize) -> Vec<Unit> {
    (0..n)
        .map(|u| Unit {
            code: format!("{}", 201 + u),
            title: format!("Unit {}", 201 + u),
            level: 2 + (u % 2) as u8,
            credits: 3 + (u % 4) as u32,
            outcomes: (0..criteria.div_ceil(5))
                .map(|o| Outcome {
                    number: format!("{}", o + 1),
                    title: format!("Outcome {}", o + 1),
                    criteria: (o * 5..criteria.min(o * 5 + 5))
                        .map(|c| Criterion {
                            number: format!("{}.{}", o + 1, c - o * 5 + 1),
                            text: format!("Criterion {c} of unit {u}"),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

pub fn group(title: &str, units: Vec<usize>) -> Group {
    Group {
        title: title.into(),
        units,
        all: true,
        min_units: None,
        min_credits: None,
        max_credits: None,
    }
}

pub fn major(code: &str, groups: Vec<Group>) -> Major {
    Major {
        code: code.into(),
        title: format!("Major {code}"),
        implicit: false,
        rule_sets: vec![RuleSet {
            title: code.into(),
            min_credits: None,
            min_credits_at_level: Vec::new(),
            barred: Vec::new(),
            groups,
        }],
    }
}

/// 2 units × 2 criteria, one major "ALL" needing every unit.
pub fn tiny(code: &str) -> Qualification {
    Qualification {
        code: code.into(),
        title: "Tiny certificate".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(2, 2),
        majors: vec![major("ALL", vec![group("Mandatory", vec![0, 1])])],
    }
}

/// `tiny` plus a second major "FIRST" that needs only the first unit.
pub fn two_majors(code: &str) -> Qualification {
    let mut q = tiny(code);
    q.majors
        .push(major("FIRST", vec![group("Unit one", vec![0])]));
    q
}

/// The size the import target is set for: 60 units × 25 criteria, 6 majors × 2 rule sets.
pub fn big(code: &str) -> Qualification {
    let units = units(60, 25);
    let majors = (0..6)
        .map(|m| Major {
            code: format!("M{m}"),
            title: format!("Major {m}"),
            implicit: false,
            rule_sets: (0..2)
                .map(|r| {
                    let start = (m * 7 + r * 13) % 40;
                    RuleSet {
                        title: format!("Rule set {r}"),
                        min_credits: Some(30),
                        min_credits_at_level: vec![attest::domain::qualification::LevelCredits {
                            level: 3,
                            credits: 10,
                        }],
                        barred: vec![vec![start + 10, start + 11]],
                        groups: vec![
                            group("Mandatory", (start..start + 10).collect()),
                            Group {
                                min_credits: Some(12),
                                all: false,
                                ..group("Options", (start + 10..start + 20).collect())
                            },
                        ],
                    }
                })
                .collect(),
        })
        .collect();
    Qualification {
        code: code.into(),
        title: "Big diploma".into(),
        level: 3,
        awarding_body: "Test Body".into(),
        units,
        majors,
    }
}

pub async fn staff(pool: &PgPool, centre: Uuid, email: &str, roles: &[Role]) -> User {
    users::create(
        pool,
        &NewUser {
            centre_id: centre,
            email,
            display_name: email,
            password_hash: None,
            kind: UserKind::Staff,
            roles,
            employer_id: None,
        },
    )
    .await
    .expect("creating a member of staff")
}

pub async fn learner(pool: &PgPool, centre: Uuid, email: &str) -> User {
    users::create(
        pool,
        &NewUser {
            centre_id: centre,
            email,
            display_name: email,
            password_hash: None,
            kind: UserKind::Learner,
            roles: &[Role::Learner],
            employer_id: None,
        },
    )
    .await
    .expect("creating a learner")
}

/// A centre with an assessor, a trainee, an IQA and a learner enrolled on `q`'s
/// first major.
pub struct World {
    pub pool: PgPool,
    pub centre: Centre,
    pub assessor: User,
    pub trainee: User,
    pub iqa: User,
    pub learner: User,
    pub version: ImportOutcome,
    pub enrolment: Enrolment,
}

pub async fn world_with(q: &Qualification) -> World {
    let pool = test_pool().await;
    let centre = centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let assessor = staff(&pool, centre.id, "ann@acme.test", &[Role::Assessor]).await;
    let trainee = staff(&pool, centre.id, "tom@acme.test", &[Role::TraineeAssessor]).await;
    let iqa = staff(&pool, centre.id, "ivy@acme.test", &[Role::Iqa]).await;
    let learner = learner(&pool, centre.id, "lee@acme.test").await;
    let version = qualifications::import(&pool, centre.id, q, None)
        .await
        .expect("import");
    let major_id = qualifications::major_id(&pool, version.version_id, &q.majors[0].code)
        .await
        .expect("major");
    let enrolment = enrolments::create(
        &pool,
        &new_enrolment(&centre, &learner, &assessor, version.version_id, major_id),
        Some(assessor.id),
    )
    .await
    .expect("enrolment");
    World {
        pool,
        centre,
        assessor,
        trainee,
        iqa,
        learner,
        version,
        enrolment,
    }
}

pub async fn world() -> World {
    world_with(&tiny("TINY/1")).await
}

pub fn new_enrolment(
    centre: &Centre,
    learner: &User,
    assessor: &User,
    version_id: Uuid,
    major_id: Uuid,
) -> NewEnrolment {
    NewEnrolment {
        centre_id: centre.id,
        learner_id: learner.id,
        version_id,
        major_id,
        assessor_id: assessor.id,
        trainee_assessor_id: None,
        iqa_id: None,
    }
}

/// The criterion ids of a version, by ordinal.
pub async fn criteria(pool: &PgPool, version_id: Uuid) -> Vec<Uuid> {
    qualifications::load_version(pool, version_id)
        .await
        .expect("load version")
        .criterion_ids
}

/// A `DATABASE_URL` for a test's own database on the harness's unix socket, for
/// running the `attest` binary against it.
pub fn database_url(pool: &PgPool) -> String {
    let options = pool.connect_options();
    format!(
        "postgres://{}@localhost/{}?host={}",
        options.get_username(),
        options.get_database().expect("database name"),
        attest::testing::cluster().socket_dir().display()
    )
}

/// A document the learner adds to the world's enrolment.
pub async fn add_evidence(w: &World, title: &str) -> Uuid {
    evidence::add(
        &w.pool,
        &NewEvidence {
            enrolment_id: w.enrolment.id,
            title,
            description: "",
            kind: EvidenceKind::Document,
            added_by: w.learner.id,
        },
    )
    .await
    .expect("adding evidence")
    .id
}

/// An account with a password hash, a learner's if `roles` is the learner role alone.
pub async fn person(
    pool: &PgPool,
    centre: Uuid,
    email: &str,
    name: &str,
    roles: &[Role],
    hash: &str,
) -> Uuid {
    let kind = if roles == [Role::Learner] {
        UserKind::Learner
    } else {
        UserKind::Staff
    };
    users::create(
        pool,
        &NewUser {
            centre_id: centre,
            email,
            display_name: name,
            password_hash: Some(hash),
            kind,
            roles,
            employer_id: None,
        },
    )
    .await
    .expect("person")
    .id
}

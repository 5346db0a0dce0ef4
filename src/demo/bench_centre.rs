//! The benchmark centre at a real centre's size (`attest bench-fixture --enrolments N`):
//! beside the load test's 32 learners of one assessor, N in all, spread over 30
//! assessors, 10 trainees and 5 IQAs as a provider's are. Each new learner's portfolio
//! is a copy of some or all of the first learner's evidence and ticks (about 2,000 in
//! three layers), their last activity is spread over two months, some have IQA actions
//! open, every one is audited, and some hold a credential issued in the last year.
//!
//! Copies are made set-based, a chunk of learners per statement, with the triggers off
//! (`session_replication_role`): what the enrolment's own triggers would fill in (the
//! version's totals, the learner's name for sorting and searching, the account's kept
//! roles) is written out, and
//! the kept figures of migration 0014 are counted once at the end by the database's own
//! recount, which the tests hold equal to the triggers.
use sqlx::PgPool;
use uuid::Uuid;

use super::bench::{BenchFixture, BENCH_PASSWORD};
use crate::db::{bulk_audit, figures};
use crate::domain::credential_number::CredentialNumber;
use crate::web::auth::password;

/// Learners copied per statement.
const CHUNK: usize = 500;
pub(crate) const ASSESSORS: usize = 30;
pub(crate) const TRAINEES: usize = 10;
pub(crate) const IQAS: usize = 5;

/// How far through their portfolios the copied learners are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// A centre whose learners are mostly well on: three in five hold the whole
    /// portfolio (about 2,200 ticks), the rest are partway (5 to 59 of its 60 items),
    /// one in ten has every criterion confirmed. The 10,000-enrolment benchmark.
    Established,
    /// A large provider taking learners on all year: one in ten holds the whole
    /// portfolio, the rest are early starters with 3 to 8 items (about 200 ticks), one
    /// in twenty (half of the whole portfolios) has every criterion confirmed. About
    /// 480 ticks a learner: what 100,000 enrolments fit on one machine's disk with.
    Growing,
}

impl Mix {
    /// Evidence items copied for the `n`th learner, of the first portfolio's 60.
    fn items(self, n: usize) -> i32 {
        let items = match self {
            Mix::Established if n % 5 < 3 => 60,
            Mix::Established => 5 + (n * 13) % 55,
            Mix::Growing if n.is_multiple_of(10) => 60,
            Mix::Growing => 3 + (n * 7) % 6,
        };
        i32::try_from(items).unwrap_or(60)
    }

    /// Whether the `n`th learner has every criterion confirmed (achieving their
    /// majors): always one who holds the whole portfolio.
    fn complete(self, n: usize) -> bool {
        match self {
            Mix::Established => n % 10 == 2,
            Mix::Growing => n.is_multiple_of(20),
        }
    }
}

/// Who a benchmark signs in as, at this size.
#[derive(Debug, Clone)]
pub struct CentreFixture {
    pub enrolments: usize,
    /// An assessor with about N / 30 learners (the first assessor has the 32 of the
    /// caseload load test).
    pub big_assessor: String,
    pub big_assessor_learners: i64,
    /// An IQA with about N / 5 enrolments.
    pub big_iqa: String,
    pub big_iqa_enrolments: i64,
    /// An employer's person following about N / 20 learners.
    pub big_employer: String,
    pub big_employer_learners: i64,
}

const FIRST_NAMES: [&str; 16] = [
    "Amira", "Ben", "Chloe", "Dev", "Eilidh", "Femi", "Grace", "Hamza", "Isla", "Jakub", "Kezia",
    "Liam", "Maya", "Nguyễn", "Olu", "Zoë",
];
const SURNAMES: [&str; 16] = [
    "Adeyemi", "Brown", "Carter", "Davies", "Evans", "Fraser", "Gill", "Hassan", "Iqbal", "Jones",
    "Kowalski", "Lewis", "Murphy", "Ōtaki", "Patel", "Smith",
];

/// Grows the fixture's centre to `total` enrolments. The fixture must hold its first
/// learner and the caseload copies already (`bench::load`, `bench::load_caseload`).
pub async fn grow(
    pool: &PgPool,
    f: &BenchFixture,
    total: usize,
    mix: Mix,
) -> anyhow::Result<CentreFixture> {
    let hash = password::hash(BENCH_PASSWORD)?;
    let main = crate::db::enrolments::get(pool, f.enrolment_id).await?;
    let staff = |role: &'static str, n: usize| {
        let hash = hash.clone();
        async move {
            let ids: Vec<Uuid> = sqlx::query_scalar!(
                "WITH new AS (INSERT INTO users (centre_id, email, display_name, password_hash, kind) \
                   SELECT $1, $2 || g || '@bench.attest.test', initcap($2) || ' ' || g, $3, 'staff' \
                   FROM generate_series(2, $4 + 1) g ORDER BY g RETURNING id, kind) \
                 INSERT INTO user_roles (user_id, kind, role) SELECT id, kind, $5 FROM new RETURNING user_id",
                f.centre_id,
                role.replace("_assessor", ""),
                &hash,
                i32::try_from(n).unwrap_or(0),
                role,
            )
            .fetch_all(pool)
            .await?;
            anyhow::Ok(ids)
        }
    };
    // The first of each is the fixture's own account.
    let mut assessors = vec![main.assessor_id];
    assessors.extend(staff("assessor", ASSESSORS - 1).await?);
    let mut trainees = vec![main.trainee_assessor_id.unwrap_or(main.assessor_id)];
    trainees.extend(staff("trainee_assessor", TRAINEES - 1).await?);
    let mut iqas = vec![main.iqa_id.unwrap_or(main.assessor_id)];
    iqas.extend(staff("iqa", IQAS - 1).await?);

    let existing = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM enrolments WHERE centre_id = $1"#,
        f.centre_id
    )
    .fetch_one(pool)
    .await?;
    let first = usize::try_from(existing).unwrap_or(0);
    let mut made: Vec<Uuid> = Vec::new();
    let mut n = first;
    while n < total {
        let size = CHUNK.min(total - n);
        made.extend(
            copy_chunk(
                pool, f, &main, n, size, mix, &hash, &assessors, &trainees, &iqas,
            )
            .await?,
        );
        n += size;
    }
    // Audited for real (the latest outcome, and Ready to be Requested where it holds).
    for ids in made.chunks(2_000) {
        bulk_audit::audit_many(pool, ids, None, |_, _| {}).await?;
    }
    settle(pool, f.centre_id, &made).await?;
    for ids in made.chunks(2_000) {
        figures::recount(pool, ids).await?;
        // The report's queues (migration 0039), which the copies' triggers left.
        sqlx::query!("SELECT enrolment_queues_fill($1)", ids)
            .execute(pool)
            .await?;
        // The quiet ones' copy (migration 0050), which the copies' triggers left too.
        sqlx::query!("SELECT quiet_enrolments_fill($1)", ids)
            .execute(pool)
            .await?;
    }
    // Each enrolment row was written four times over by the passes above, which a
    // centre's rows never are (they are inserted once and updated in place): the copies
    // left behind would make every read of the table three times the size it is.
    let big_employer_learners = employer(pool, f.centre_id, &hash).await?;
    // The people list's kept counts (migration 0038), which the copies' triggers left.
    sqlx::query!("SELECT centre_people_recount($1)", f.centre_id)
        .execute(pool)
        .await?;
    // The centre's tallies, quiet tallies and sample learners (migrations 0053, 0056,
    // 0058), likewise.
    sqlx::query!(
        "SELECT centre_tallies_recount($1), quiet_tallies_recount($1), sample_learners_recount($1)",
        f.centre_id
    )
    .execute(pool)
    .await?;
    sqlx::query!("VACUUM FULL enrolments").execute(pool).await?;
    // The second account of each role carries the largest share of learners.
    let assessor = sqlx::query_as!(
        BusiestStaff,
        r#"SELECT u.email, count(*) AS "caseload!" FROM enrolments e JOIN users u ON u.id = e.assessor_id
            WHERE e.centre_id = $1 AND u.email = 'assessor2@bench.attest.test'
            GROUP BY u.email"#,
        f.centre_id
    )
    .fetch_one(pool)
    .await?;
    let iqa = sqlx::query_as!(
        BusiestStaff,
        r#"SELECT u.email, count(*) AS "caseload!" FROM enrolments e JOIN users u ON u.id = e.iqa_id
            WHERE e.centre_id = $1 AND u.email = 'iqa2@bench.attest.test'
            GROUP BY u.email"#,
        f.centre_id
    )
    .fetch_one(pool)
    .await?;
    Ok(CentreFixture {
        enrolments: total,
        big_assessor: assessor.email,
        big_assessor_learners: assessor.caseload,
        big_iqa: iqa.email,
        big_iqa_enrolments: iqa.caseload,
        big_employer: EMPLOYER_EMAIL.to_string(),
        big_employer_learners,
    })
}

const EMPLOYER_EMAIL: &str = "employer1@bench.attest.test";

/// An employer whose workplace mentor follows one learner in twenty (issue 13): what
/// their home and learner pages are measured with. Returns how many they follow.
async fn employer(pool: &PgPool, centre_id: Uuid, hash: &str) -> anyhow::Result<i64> {
    let mut tx = pool.begin().await?;
    let employer = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO employers (id, centre_id, name, contact_name) \
         VALUES ($1, $2, 'Bench Care Ltd', 'Employer 1')",
        employer,
        centre_id
    )
    .execute(&mut *tx)
    .await?;
    let person = sqlx::query_scalar!(
        "WITH new AS (INSERT INTO users (centre_id, email, display_name, password_hash, kind, employer_id) \
                      VALUES ($1, $2, 'Employer 1', $3, 'employer', $4) RETURNING id, kind) \
         INSERT INTO user_roles (user_id, kind, role) SELECT id, kind, 'employer' FROM new RETURNING user_id",
        centre_id,
        EMPLOYER_EMAIL,
        hash,
        employer
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE enrolments SET employer_id = $2 WHERE centre_id = $1 \
            AND abs(hashtext(id::text || 'employer')) % 20 = 0",
        centre_id,
        employer
    )
    .execute(&mut *tx)
    .await?;
    let followed = sqlx::query!(
        "INSERT INTO enrolment_employer_people (enrolment_id, employer_id, user_id) \
         SELECT id, employer_id, $2 FROM enrolments WHERE employer_id = $1",
        employer,
        person
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(i64::try_from(followed).unwrap_or(i64::MAX))
}

/// A staff account and how many enrolments name it.
struct BusiestStaff {
    email: String,
    caseload: i64,
}

/// `size` learners, numbered from `from`, each enrolled like the first learner and given
/// a copy of the first `items` of its evidence items (all of them for most).
#[allow(clippy::too_many_arguments)]
async fn copy_chunk(
    pool: &PgPool,
    f: &BenchFixture,
    main: &crate::db::enrolments::Enrolment,
    from: usize,
    size: usize,
    mix: Mix,
    hash: &str,
    assessors: &[Uuid],
    trainees: &[Uuid],
    iqas: &[Uuid],
) -> anyhow::Result<Vec<Uuid>> {
    let numbers: Vec<i32> = (from..from + size)
        .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
        .collect();
    let names: Vec<String> = (from..from + size)
        .map(|n| {
            format!(
                "{} {} {n}",
                FIRST_NAMES[(n * 7) % FIRST_NAMES.len()],
                SURNAMES[(n * 11 / 3) % SURNAMES.len()]
            )
        })
        .collect();
    let assessor: Vec<Uuid> = (from..from + size)
        .map(|n| assessors[1 + n % (assessors.len() - 1)])
        .collect();
    let trainee: Vec<Option<Uuid>> = (from..from + size)
        .map(|n| (n % 3 == 0).then(|| trainees[n % trainees.len()]))
        .collect();
    let iqa: Vec<Uuid> = (from..from + size).map(|n| iqas[n % iqas.len()]).collect();
    let items: Vec<i32> = (from..from + size).map(|n| mix.items(n)).collect();
    let complete: Vec<bool> = (from..from + size).map(|n| mix.complete(n)).collect();
    let mut tx = pool.begin().await?;
    // Triggers (and foreign-key checks) off for the copy: the figures are recounted at
    // the end. Only a superuser may; elsewhere the triggers keep them, slower.
    triggers_off(&mut tx).await?;
    // In learner order, so that `items` and `complete` line up with them.
    let made = sqlx::query!(
        r#"WITH spec AS (SELECT * FROM UNNEST($1::int4[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[])
                         AS s(n, name, assessor, trainee, iqa)),
              learners AS (INSERT INTO users (centre_id, email, display_name, password_hash, kind,
                                              role_ranks)
                           SELECT $6, 'member' || n || '@bench.attest.test', name, $7, 'learner',
                                  ARRAY[role_rank('learner')]
                           FROM spec ORDER BY n RETURNING id, email, display_name),
              roles AS (INSERT INTO user_roles (user_id, kind, role)
                        SELECT id, 'learner', 'learner' FROM learners),
              made AS (INSERT INTO enrolments (id, centre_id, learner_id, version_id, major_id,
                                               assessor_id, trainee_assessor_id, iqa_id,
                                               criteria_total, unit_total, learner_sort, learner_search)
                       SELECT gen_random_uuid(), $6, l.id, $8, $9, s.assessor, s.trainee, s.iqa,
                              v.criteria_count, v.unit_count, lower(l.display_name),
                              lower(l.display_name) || ' ' || lower(l.email)
                       FROM spec s JOIN learners l ON l.email = 'member' || s.n || '@bench.attest.test'
                       JOIN qualification_versions v ON v.id = $8
                       RETURNING id, learner_id),
              history AS (INSERT INTO enrolment_status_history (enrolment_id, to_status, reason)
                          SELECT id, 'not_yet_achieved', 'enrolled' FROM made)
         SELECT m.id AS "id!", s.n AS "n!" FROM made m JOIN learners l ON l.id = m.learner_id
           JOIN spec s ON l.email = 'member' || s.n || '@bench.attest.test'
         ORDER BY s.n"#,
        &numbers,
        &names,
        &assessor,
        &trainee as &[Option<Uuid>],
        &iqa,
        f.centre_id,
        hash,
        main.version_id,
        main.major_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = made.iter().map(|m| m.id).collect();
    let learner_of_main = main.learner_id;
    // Each new enrolment's items: the first `items` of the main portfolio's, in order.
    sqlx::query!(
        "WITH spec AS (SELECT * FROM UNNEST($1::uuid[], $2::int4[]) AS s(enrolment_id, items)), \
              source AS (SELECT ev.*, row_number() OVER (ORDER BY ev.added_at, ev.id) AS k \
                         FROM evidence ev WHERE ev.enrolment_id = $3) \
         INSERT INTO evidence (enrolment_id, version_id, title, description, kind, added_by, added_at) \
         SELECT s.enrolment_id, src.version_id, src.title, src.description, src.kind, \
                CASE WHEN src.added_by = $4 THEN e.learner_id ELSE src.added_by END, src.added_at \
         FROM spec s JOIN source src ON src.k <= s.items JOIN enrolments e ON e.id = s.enrolment_id",
        &ids,
        &items,
        main.id,
        learner_of_main,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO ticks (evidence_id, criterion_id, layer, enrolment_id, version_id, ticked_by, ticked_at) \
         SELECT ne.id, t.criterion_id, t.layer, ne.enrolment_id, ne.version_id, \
                CASE t.layer WHEN 'learner' THEN e.learner_id \
                             WHEN 'assessor' THEN e.assessor_id \
                             ELSE COALESCE(e.trainee_assessor_id, t.ticked_by) END, t.ticked_at \
         FROM evidence ne \
         JOIN enrolments e ON e.id = ne.enrolment_id \
         JOIN evidence oe ON oe.enrolment_id = $2 AND oe.title = ne.title \
         JOIN ticks t ON t.evidence_id = oe.id \
         WHERE ne.enrolment_id = ANY($1)",
        &ids,
        main.id,
    )
    .execute(&mut *tx)
    .await?;
    // Those the mix completes have every criterion confirmed (on their first item):
    // they achieve their majors, and some are issued their credential (`settle`).
    let completed: Vec<Uuid> = ids
        .iter()
        .zip(&complete)
        .filter_map(|(id, done)| done.then_some(*id))
        .collect();
    sqlx::query!(
        "INSERT INTO ticks (evidence_id, criterion_id, layer, enrolment_id, version_id, ticked_by, ticked_at) \
         SELECT first_item.id, c.id, 'assessor', e.id, e.version_id, e.assessor_id, now() \
         FROM enrolments e \
         JOIN LATERAL (SELECT id FROM evidence WHERE enrolment_id = e.id ORDER BY added_at, id LIMIT 1) first_item ON true \
         JOIN criteria c ON c.version_id = e.version_id \
         WHERE e.id = ANY($1) \
         ON CONFLICT (evidence_id, criterion_id, layer) DO NOTHING",
        &completed,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ids)
}

async fn triggers_off(tx: &mut sqlx::PgConnection) -> anyhow::Result<()> {
    let superuser = sqlx::query_scalar!(
        r#"SELECT rolsuper AS "rolsuper!" FROM pg_roles WHERE rolname = current_user"#
    )
    .fetch_one(&mut *tx)
    .await?;
    if superuser {
        sqlx::query!("SET LOCAL session_replication_role = replica")
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// What makes a centre look lived in, spread by each learner's place in `made` (so that
/// every grown centre has some of each, never none by chance): last activity over the
/// last five weeks (four in 35 quiet for over 30 days), IQA actions open on one in
/// twenty, and on about a half of those Ready to be Requested a credential requested and
/// issued in the last twelve months.
async fn settle(pool: &PgPool, centre_id: Uuid, made: &[Uuid]) -> anyhow::Result<()> {
    // Credential numbers as the register writes them, from a range of their own.
    let numbers: Vec<String> = (0..made.len() as u64)
        .filter_map(|n| CredentialNumber::from_value(0x0BE4_C000_0000 + n))
        .map(|n| n.to_string())
        .collect();
    let mut tx = pool.begin().await?;
    triggers_off(&mut tx).await?;
    sqlx::query!(
        "UPDATE enrolments e SET last_activity_at = now() - make_interval(days => (m.n::int * 11) % 35) \
           FROM unnest($1::uuid[]) WITH ORDINALITY AS m(id, n) WHERE e.id = m.id",
        made,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO iqa_decisions (enrolment_id, version_id, unit_id, iqa_id, decision, feedback) \
         SELECT e.id, e.version_id, (SELECT u.id FROM units u WHERE u.version_id = e.version_id \
                                     ORDER BY u.ordinal LIMIT 1), e.iqa_id, 'action_required', \
                'Check the witness statement covers 1.2' \
           FROM unnest($1::uuid[]) WITH ORDINALITY AS m(id, n) JOIN enrolments e ON e.id = m.id \
          WHERE e.iqa_id IS NOT NULL AND m.n % 20 = 1",
        made,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "WITH chosen AS (SELECT e.*, row_number() OVER (ORDER BY e.id) AS n FROM enrolments e \
                         WHERE e.id = ANY($1) AND e.status = 'ready_to_be_requested' \
                           AND abs(hashtext(e.id::text || 'credential')) % 2 = 0), \
              issued AS (UPDATE enrolments e SET status = 'credential_issued' FROM chosen c \
                         WHERE e.id = c.id RETURNING e.id) \
         INSERT INTO credentials (number, enrolment_id, centre_id, learner_name, qualification_code, \
                                  qualification_title, qualification_level, major_code, major_title, \
                                  centre_name, requested_at, generated_at, issued_at, status_list_index) \
         SELECT ($3::text[])[c.n], c.id, c.centre_id, l.display_name, q.code, v.title, \
                v.level, m.code, m.title, ce.name, \
                now() - make_interval(days => (c.n::int * 7) % 360 + 2), \
                now() - make_interval(days => (c.n::int * 7) % 360 + 1), \
                now() - make_interval(days => (c.n::int * 7) % 360), \
                ce.next_status_list_index + c.n::int - 1 \
           FROM chosen c JOIN users l ON l.id = c.learner_id \
           JOIN qualification_versions v ON v.id = c.version_id \
           JOIN qualifications q ON q.id = v.qualification_id \
           JOIN majors m ON m.id = c.major_id JOIN centres ce ON ce.id = $2",
        made,
        centre_id,
        &numbers,
    )
    .execute(&mut *tx)
    .await?;
    // What `credentials_status_list_index` would have given them, in one step.
    sqlx::query!(
        "UPDATE centres SET next_status_list_index = \
             (SELECT coalesce(max(status_list_index) + 1, 0) FROM credentials WHERE centre_id = $1) \
         WHERE id = $1",
        centre_id,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

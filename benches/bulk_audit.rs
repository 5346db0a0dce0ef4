//! Bulk audit end to end against a real PostgreSQL (the test harness's throwaway
//! cluster): 10,000 enrolments on the 60 × 25 benchmark qualification, about 40 % of
//! each one's criteria confirmed by an assessor tick (some 6 million ticks), audited
//! with `audit_many`: reading ticks, writing audits, per-major rows, status moves,
//! history and activity entries. Target: ≤ 5 s.
//!
//! `cargo test --benches` runs this once as a smoke test; then (no `--bench` argument)
//! the fixture has 200 enrolments so that the set-up stays short.
//!
//! `BULK_AUDIT_DATA=FOLDER` audits 10,000 enrolments of a centre loaded by `attest
//! bench-fixture` into that data folder instead (issue 16: 10,000 of a 100,000-enrolment
//! database), chosen across the whole centre. Each run adds their audits and activity
//! entries to that database, as a centre's month-end would.
//!
//!   BULK_AUDIT_DATA=/work/bench/g100k/data cargo bench --bench bulk_audit
use std::time::{Duration, Instant};

use attest::db::bulk_audit::audit_many;
use attest::db::{centres, qualifications};
use attest::demo::large::{large_qualification, typical_confirmed};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use sqlx::PgPool;
use uuid::Uuid;

const ENROLMENTS: usize = 10_000;
const SMOKE_ENROLMENTS: usize = 200;
/// Different confirmed sets (`typical_confirmed` seeds), spread over the enrolments.
const PATTERNS: usize = 4;

struct Fixture {
    pool: PgPool,
    admin: Uuid,
    enrolments: Vec<Uuid>,
    /// The loaded data folder's database, closed (its cluster stopped) at the end.
    loaded: Option<attest::startup::Database>,
    /// The cluster's postmaster, whose processes' CPU time is counted.
    postmaster: Option<u32>,
}

/// `n` enrolments of the largest centre of an already loaded data folder, and its admin.
async fn loaded(data: &std::path::Path, n: usize) -> Fixture {
    let database = attest::startup::Database::open(data)
        .await
        .expect("the loaded data folder's database");
    let pool = database.pool.clone();
    let centre: Uuid = sqlx::query_scalar(
        "SELECT centre_id FROM enrolments GROUP BY centre_id ORDER BY count(*) DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a loaded centre");
    let admin: Uuid = sqlx::query_scalar(
        "SELECT u.id FROM users u WHERE u.centre_id = $1 \
            AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'admin') \
          ORDER BY u.id LIMIT 1",
    )
    .bind(centre)
    .fetch_one(&pool)
    .await
    .expect("the centre's admin");
    // Spread over the centre (every kind of portfolio the mix has), the same each run.
    let enrolments: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM enrolments WHERE centre_id = $1 ORDER BY hashtext(id::text) LIMIT $2",
    )
    .bind(centre)
    .bind(i64::try_from(n).expect("count"))
    .fetch_all(&pool)
    .await
    .expect("enrolments");
    let (total, ticks): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM enrolments WHERE centre_id = $1), \
                (SELECT count(*) FROM ticks WHERE enrolment_id = ANY($2))",
    )
    .bind(centre)
    .bind(&enrolments)
    .fetch_one(&pool)
    .await
    .expect("sizes");
    eprintln!(
        "loaded centre: {} of its {total} enrolments, holding {ticks} ticks in all layers",
        enrolments.len()
    );
    let postmaster = std::fs::read_to_string(data.join("postgres/postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()));
    Fixture {
        pool,
        admin,
        enrolments,
        loaded: Some(database),
        postmaster,
    }
}

/// Everything is inserted with set-based statements (generate_series / UNNEST), so
/// that 10,000 enrolments and their ticks take seconds, not minutes.
async fn fixture(n: usize) -> Fixture {
    let pool = attest::testing::test_pool_with(4).await;
    let centre = centres::create(&pool, "bench", "Benchmark centre")
        .await
        .expect("centre")
        .id;
    let q = large_qualification("BENCH/BULK");
    let version = qualifications::import(&pool, centre, &q, None)
        .await
        .expect("import")
        .version_id;
    let staff: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO users (centre_id, email, display_name, kind) \
         VALUES ($1, 'admin@bench.test', 'Admin', 'staff'), ($1, 'assessor@bench.test', 'Assessor', 'staff') \
         RETURNING id",
    )
    .bind(centre)
    .fetch_all(&pool)
    .await
    .expect("staff");
    let (admin, assessor) = (staff[0], staff[1]);
    // Learners and their enrolments, the majors taken in turn.
    let enrolments: Vec<Uuid> = sqlx::query_scalar(
        "WITH l AS ( \
           INSERT INTO users (centre_id, email, display_name, kind) \
           SELECT $1, 'learner' || i || '@bench.test', 'Learner ' || i, 'learner' FROM generate_series(1, $3) AS i \
           RETURNING id), \
         numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM l), \
         majors AS (SELECT id, ordinal FROM majors WHERE version_id = $2) \
         INSERT INTO enrolments (centre_id, learner_id, version_id, major_id, assessor_id) \
         SELECT $1, n.id, $2, m.id, $4 FROM numbered n \
         JOIN majors m ON m.ordinal = n.i % (SELECT count(*) FROM majors) \
         RETURNING id",
    )
    .bind(centre)
    .bind(version)
    .bind(i32::try_from(n).expect("count"))
    .bind(assessor)
    .fetch_all(&pool)
    .await
    .expect("enrolments");
    assert_eq!(enrolments.len(), n);
    sqlx::query(
        "INSERT INTO enrolment_status_history (enrolment_id, to_status, reason) \
         SELECT id, 'not_yet_achieved', 'enrolled' FROM UNNEST($1::uuid[]) AS id",
    )
    .bind(&enrolments)
    .execute(&pool)
    .await
    .expect("history");
    sqlx::query(
        "INSERT INTO evidence (enrolment_id, version_id, title, kind, added_by) \
         SELECT id, $2, 'Portfolio', 'product', $3 FROM UNNEST($1::uuid[]) AS id",
    )
    .bind(&enrolments)
    .bind(version)
    .bind(assessor)
    .execute(&pool)
    .await
    .expect("evidence");
    // Each enrolment confirms one of a few typical sets of criteria.
    let (mut seeds, mut ordinals) = (Vec::new(), Vec::new());
    for seed in 0..PATTERNS {
        for o in typical_confirmed(&q, seed).ordinals() {
            seeds.push(seed as i32);
            ordinals.push(o as i32);
        }
    }
    // Every 50th enrolment has every criterion confirmed (pattern PATTERNS), so that
    // its audit moves it to Ready to be Requested: status changes and history too.
    for o in 0..q.criterion_count() {
        seeds.push(PATTERNS as i32);
        ordinals.push(o as i32);
    }
    let pattern: Vec<i32> = (0..n)
        .map(|i| if i % 50 == 0 { PATTERNS } else { i % PATTERNS } as i32)
        .collect();
    let start = Instant::now();
    // The rows are made from existing evidence and criteria, so the foreign-key checks
    // (a trigger per row, minutes for millions of rows) are skipped for this statement.
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("replica role");
    let ticks = sqlx::query(
        "INSERT INTO ticks (evidence_id, criterion_id, layer, enrolment_id, version_id, ticked_by) \
         SELECT ev.id, c.id, 'assessor', ev.enrolment_id, ev.version_id, $5 \
         FROM UNNEST($1::uuid[], $2::int4[]) AS e(id, seed) \
         JOIN evidence ev ON ev.enrolment_id = e.id \
         JOIN UNNEST($3::int4[], $4::int4[]) AS p(seed, ordinal) ON p.seed = e.seed \
         JOIN criteria c ON c.version_id = ev.version_id AND c.ordinal = p.ordinal",
    )
    .bind(&enrolments)
    .bind(&pattern)
    .bind(&seeds)
    .bind(&ordinals)
    .bind(assessor)
    .execute(&mut *tx)
    .await
    .expect("ticks")
    .rows_affected();
    tx.commit().await.expect("commit");
    // As autovacuum would have by the time anyone audits: statistics for the planner.
    sqlx::query("VACUUM (FREEZE, ANALYZE) ticks")
        .execute(&pool)
        .await
        .expect("vacuum");
    eprintln!(
        "fixture: {n} enrolments, {ticks} assessor ticks ({:.0} % of {} criteria each) in {:.1} s",
        100.0 * ticks as f64 / (n * q.criterion_count()) as f64,
        q.criterion_count(),
        start.elapsed().as_secs_f64()
    );
    Fixture {
        pool,
        admin,
        enrolments,
        loaded: None,
        postmaster: attest::testing::cluster().pid(),
    }
}

fn bench(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { ENROLMENTS } else { SMOKE_ENROLMENTS };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let data = std::env::var_os("BULK_AUDIT_DATA").map(std::path::PathBuf::from);
    let mut f = match &data {
        Some(data) => rt.block_on(loaded(data, n)),
        None => rt.block_on(fixture(n)),
    };
    let run = |f: &Fixture| {
        let done = rt
            .block_on(audit_many(&f.pool, &f.enrolments, Some(f.admin), |_, _| {}))
            .expect("bulk audit");
        assert_eq!(done.len(), f.enrolments.len());
        done
    };
    // The first run is the one that moves statuses (and writes their history).
    let cpu = cpu_seconds(f.postmaster);
    let start = Instant::now();
    let first = run(&f);
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(f.postmaster) - cpu;
    let moved = first.iter().filter(|d| d.changed_status()).count();
    if f.loaded.is_none() {
        assert_eq!(moved, n.div_ceil(50));
    }
    eprintln!(
        "first bulk audit of {n} enrolments, end to end: {wall:.2} s wall clock, {cpu:.2} s of CPU \
         (this process and the database's) ({moved} moved to Ready to be Requested)"
    );
    let mut group = c.benchmark_group("bulk audit");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(30));
    group.bench_function(format!("audit_many, {n} enrolments"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                run(&f);
            }
            start.elapsed()
        })
    });
    group.finish();
    if let Some(database) = f.loaded.take() {
        rt.block_on(database.close());
    }
}

/// CPU time used so far by this process and the cluster's processes: on a machine
/// shared with other work, the wall clock says as much about the neighbours as about us.
fn cpu_seconds(postmaster: Option<u32>) -> f64 {
    let stat = |pid: &str| -> Option<(u32, f64)> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
        let ppid = fields.get(1)?.parse().ok()?;
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some((ppid, ticks))
    };
    let mut procs = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let (Ok(pid), Some((ppid, ticks))) = (name.parse::<u32>(), stat(&name)) {
                procs.push((pid, ppid, ticks));
            }
        }
    }
    // The cluster's process and every process under it (server, backends, workers).
    let mut ours = vec![std::process::id()];
    ours.extend(postmaster);
    let mut i = 1;
    while i < ours.len() {
        let parent = ours[i];
        ours.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    procs
        .iter()
        .filter(|p| ours.contains(&p.0))
        .map(|p| p.2)
        .sum::<f64>()
        / hz
}

criterion_group!(benches, bench);
criterion_main!(benches);

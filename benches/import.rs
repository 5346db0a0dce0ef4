//! Importing the 60 × 25 benchmark qualification (6 majors × 2 rule sets) into a real
//! PostgreSQL (the test harness's throwaway cluster). Target: ≤ 300 ms.
use std::time::{Duration, Instant};

use attest::db::{centres, qualifications};
use attest::demo::large::large_qualification;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (pool, centre) = rt.block_on(async {
        let pool = attest::testing::test_pool().await;
        let centre = centres::create(&pool, "bench", "Benchmark centre")
            .await
            .expect("centre");
        (pool, centre.id)
    });
    let mut group = c.benchmark_group("import");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(15));
    let mut n = 0u64;
    group.bench_function(
        "new qualification (60 units × 25 criteria, 6 majors × 2 rule sets)",
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // A fresh code each time, so every import writes a whole new version.
                    n += 1;
                    let q = large_qualification(&format!("BENCH/{n}"));
                    let start = Instant::now();
                    let outcome = rt
                        .block_on(qualifications::import(&pool, centre, &q, None))
                        .expect("import");
                    total += start.elapsed();
                    assert!(outcome.created);
                }
                total
            })
        },
    );
    group.bench_function("identical re-import (no new version)", |b| {
        let q = large_qualification("BENCH/SAME");
        rt.block_on(qualifications::import(&pool, centre, &q, None))
            .expect("import");
        b.iter(|| {
            let outcome = rt
                .block_on(qualifications::import(&pool, centre, &q, None))
                .expect("import");
            assert!(!outcome.created);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Auditing one enrolment on the 60 × 25 qualification with 6 majors × 2 rule sets and
//! 3 barred sets per rule set. Target: median ≤ 10 µs.
use attest::demo::large::{large_qualification, typical_confirmed};
use attest::domain::audit::audit;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let q = large_qualification("BENCH/1");
    let confirmed = typical_confirmed(&q, 0);
    let report = audit(&q, 0, &confirmed).expect("audit");
    eprintln!(
        "confirmed {} of {} criteria; majors achieved: {}",
        confirmed.count(),
        q.criterion_count(),
        report.majors.iter().filter(|m| m.achieved).count()
    );
    c.bench_function(
        "audit one enrolment (60 units × 25 criteria, 6 majors × 2 rule sets)",
        |b| b.iter(|| audit(black_box(&q), black_box(0), black_box(&confirmed))),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);

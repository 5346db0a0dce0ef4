//! Auditing one enrolment on the 60 × 25 qualification with 6 majors × 2 rule sets and
//! 3 barred sets, about 45 % of criteria confirmed. Target: median ≤ 10 µs.
use attest::demo::large::{large_qualification, typical_confirmed};
use attest::domain::audit::{audit, AuditPlan};
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
    // How the app audits: the version's plan is built once and reused per enrolment.
    let plan = AuditPlan::new(&q);
    c.bench_function("audit one enrolment with the version's plan", |b| {
        b.iter(|| plan.audit(black_box(0), black_box(&confirmed)))
    });
    // A one-off audit that also builds the plan.
    c.bench_function("audit one enrolment, plan included", |b| {
        b.iter(|| audit(black_box(&q), black_box(0), black_box(&confirmed)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

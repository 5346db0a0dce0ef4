//! Rendering one credential PDF: the certificate and a 20-unit transcript, fonts loaded
//! once beforehand as the server does at start. Target: ≤ 300 ms per PDF (SPEC §6).
use attest::credentials::{render, Fonts};
use attest::demo::certificate::sample_certificate;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let fonts = Fonts::from_env().expect("credential fonts installed (see README)");
    let cert = sample_certificate("Nguyễn Thị Minh Khai", 20);
    let pdf = render(&cert, &fonts).expect("render");
    eprintln!("one PDF: {} bytes", pdf.len());
    c.bench_function("render one credential PDF (20 units)", |b| {
        b.iter(|| render(black_box(&cert), black_box(&fonts)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

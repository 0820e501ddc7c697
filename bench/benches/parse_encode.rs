//! Wall-clock parse and encode times: picoauth next to oauth2-rs and serde_json,
//! on the same bytes in the same run. `cargo bench` in `bench/`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use picoauth_bench::{
    core_encode, core_parse, oauth2_encode, oauth2_parse, parse_cases, rfc_provider, serde_parse,
    EncodeCase, OauthClients,
};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    let mut buf = [0u8; 4096];
    for case in parse_cases() {
        let wire = case.wire.as_slice();
        g.bench_with_input(BenchmarkId::new("picoauth", case.name), wire, |b, w| {
            b.iter(|| core_parse(case.kind, black_box(w), &mut buf))
        });
        g.bench_with_input(BenchmarkId::new("oauth2", case.name), wire, |b, w| {
            b.iter(|| oauth2_parse(case.expect, black_box(w)))
        });
        g.bench_with_input(BenchmarkId::new("serde_json", case.name), wire, |b, w| {
            b.iter(|| serde_parse(case.kind, black_box(w)))
        });
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let rfc = rfc_provider();
    let clients = OauthClients::new();
    let mut out = [0u8; 1024];
    for case in EncodeCase::ALL {
        g.bench_function(BenchmarkId::new("picoauth", case.name()), |b| {
            b.iter(|| core_encode(black_box(case), &rfc, &mut out))
        });
        g.bench_function(BenchmarkId::new("oauth2", case.name()), |b| {
            b.iter(|| oauth2_encode(black_box(case), &clients))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = parse, encode
}
criterion_main!(benches);

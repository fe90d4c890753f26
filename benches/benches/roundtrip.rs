//! Per-request cost of each way to carry the reference session, and how ours scales.
//!
//! Run with `cargo bench -p session-benches --bench roundtrip`; see BENCHMARKS.md.

#[path = "../common/mod.rs"]
mod common;

use std::hint::black_box;

use common::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::StatusCode;

fn round_trip(c: &mut Criterion) {
    let trips = RoundTrips::new();
    let mut group = c.benchmark_group("round_trip");
    for (name, way) in [
        ("ours_codec", Way::Ours),
        ("ours_codec_padded", Way::OursPadded),
        ("floor_postcard_gcmsiv_base64", Way::Floor),
        ("cookie_private_jar_json", Way::PrivateJar),
        ("axum_extra_private_cookie_jar", Way::AxumExtra),
    ] {
        group.bench_function(name, |b| b.iter(|| trips.run(way)));
    }
    group.finish();
}

fn service(c: &mut Criterion) {
    let services = Services::new();
    let mut group = c.benchmark_group("service");
    group.bench_function("ours_touch", |b| {
        b.iter(|| {
            let response = services.call(Route::Update);
            assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
            black_box(response)
        })
    });
    group.bench_function("ours_read", |b| {
        b.iter(|| {
            let response = services.call(Route::Read);
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers().get_all("set-cookie").iter().count(), 0);
            black_box(response)
        })
    });
    group.bench_function("ours_untouched", |b| {
        b.iter(|| black_box(services.call(Route::Untouched)))
    });
    group.bench_function("no_session_layer", |b| {
        b.iter(|| black_box(services.call(Route::NoLayer)))
    });
    group.bench_function("trivial_layer", |b| {
        b.iter(|| black_box(services.call(Route::TrivialLayer)))
    });
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let scaling = Scaling::new();
    let mut group = c.benchmark_group("scaling");
    for (i, size) in SCALING.into_iter().enumerate() {
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("ours_codec", size), |b| {
            b.iter(|| scaling.ours(i))
        });
        group.bench_function(BenchmarkId::new("floor", size), |b| {
            b.iter(|| scaling.floor(i))
        });
    }
    group.finish();
}

criterion_group!(benches, round_trip, service, scaling);
criterion_main!(benches);

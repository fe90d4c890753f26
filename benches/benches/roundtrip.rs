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

/// Payload sizes for the scaling run: 64 B up to what five cookies hold.
pub const SCALING: [usize; 7] = [64, 512, 2048, 4096, 8192, 12_288, 14_800];

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    let codec = codec(settings().with_max_cookies(5));
    let mut floor = Floor::new();
    for size in SCALING {
        let value = blob(size);
        let header = cookie_header(&pairs(&ours_first(&codec, &value)));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("ours_codec", size),
            &header,
            |b, header| {
                b.iter(|| {
                    black_box(ours::<Blob>(&codec, black_box(header), |v| {
                        v.last_seen += 1
                    }))
                })
            },
        );
        let floor_header = cookie_header(&pairs(&[floor.seal(&value)]));
        group.bench_with_input(
            BenchmarkId::new("floor", size),
            &floor_header,
            |b, header| {
                b.iter(|| {
                    black_box(floor.round_trip::<Blob>(black_box(header), |v| v.last_seen += 1))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, round_trip, service, scaling);
criterion_main!(benches);

//! Per-request cost of each way to carry the reference session, and how ours scales.
//!
//! Run with `cargo bench -p session-benches --bench roundtrip`; see BENCHMARKS.md.

#[path = "../common/mod.rs"]
mod common;

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use common::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Request, StatusCode, header::COOKIE};
use session_runtime::Session;
use tower::ServiceExt as _;

fn touch(r: &mut Reference) {
    r.last_seen += 1;
}

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");

    let codec = default_codec();
    let header = cookie_header(&pairs(&ours_first(&codec, &reference())));
    group.bench_function("ours_codec", |b| {
        b.iter(|| black_box(ours::<Reference>(&codec, black_box(&header), touch)))
    });

    let padded = padded_codec();
    let padded_header = cookie_header(&pairs(&ours_first(&padded, &reference())));
    group.bench_function("ours_codec_padded", |b| {
        b.iter(|| black_box(ours::<Reference>(&padded, black_box(&padded_header), touch)))
    });

    let floor = Floor::new();
    let floor_header = cookie_header(&pairs(&[floor.seal(&reference())]));
    group.bench_function("floor_postcard_gcmsiv_base64", |b| {
        b.iter(|| black_box(floor.round_trip::<Reference>(black_box(&floor_header), touch)))
    });

    let jar_key = private_jar_key();
    let jar_header = cookie_header(&pairs(&[private_jar_first(&jar_key, &reference())]));
    group.bench_function("cookie_private_jar_json", |b| {
        b.iter(|| {
            black_box(private_jar::<Reference>(
                &jar_key,
                black_box(&jar_header),
                touch,
            ))
        })
    });

    let extra_key = axum_extra_key();
    let mut extra_headers = HeaderMap::new();
    extra_headers.insert(COOKIE, HeaderValue::from_str(&jar_header).expect("header"));
    group.bench_function("axum_extra_private_cookie_jar", |b| {
        b.iter(|| {
            black_box(axum_extra_jar::<Reference>(
                &extra_key,
                black_box(&extra_headers),
                touch,
            ))
        })
    });
    group.finish();
}

async fn touched(mut session: Session<Reference>) -> StatusCode {
    match session.update(touch) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::PAYLOAD_TOO_LARGE,
    }
}

fn service(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let layer = settings()
        .with_clock(session_runtime::ManualClock::new(NOW))
        .build()
        .expect("layer");
    let app = Router::new()
        .route("/touch", get(touched))
        .route("/read", get(read_only))
        .route("/untouched", get(|| async { StatusCode::OK }))
        .layer(layer);
    let bare = Router::new().route("/untouched", get(|| async { StatusCode::OK }));
    // What axum charges for any layer (it boxes and clones the layered route per request): the
    // part of the untouched cost that is not ours.
    let trivial = Router::new()
        .route("/untouched", get(|| async { StatusCode::OK }))
        .layer(tower::util::MapRequestLayer::new(|r: Request<Body>| r));
    let header = cookie_header(&pairs(&ours_first(&default_codec(), &reference())));
    let request = |path: &str| {
        Request::get(path)
            .header(COOKIE, header.as_str())
            .body(Body::empty())
            .expect("request")
    };

    let mut group = c.benchmark_group("service");
    group.bench_function("ours_touch", |b| {
        b.iter(|| {
            let response = rt
                .block_on(app.clone().oneshot(request("/touch")))
                .expect("infallible");
            assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
            black_box(response)
        })
    });
    group.bench_function("ours_read", |b| {
        b.iter(|| {
            let response = rt
                .block_on(app.clone().oneshot(request("/read")))
                .expect("infallible");
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers().get_all("set-cookie").iter().count(), 0);
            black_box(response)
        })
    });
    group.bench_function("ours_untouched", |b| {
        b.iter(|| black_box(rt.block_on(app.clone().oneshot(request("/untouched")))))
    });
    group.bench_function("no_session_layer", |b| {
        b.iter(|| black_box(rt.block_on(bare.clone().oneshot(request("/untouched")))))
    });
    group.bench_function("trivial_layer", |b| {
        b.iter(|| black_box(rt.block_on(trivial.clone().oneshot(request("/untouched")))))
    });
    group.finish();
}

/// Payload sizes for the scaling run: 64 B up to what five cookies hold.
pub const SCALING: [usize; 7] = [64, 512, 2048, 4096, 8192, 12_288, 14_800];

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    let codec = codec(settings().with_max_cookies(5));
    let floor = Floor::new();
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

//! Allocations per codec round trip (ours against the floor) and per request through the
//! service (against the same router without a session), counted on this thread only.
//!
//! Run with `cargo run --release -p session-benches --example allocs`.
//!
//! Naming `allocation_counter` links its counting global allocator into this binary alone: the
//! criterion benches, the size table and the load server keep the system allocator.

#[path = "../common/mod.rs"]
mod common;

use allocation_counter::{AllocationInfo, measure};
use common::*;

/// Calls per measurement; the figures are per call.
const CALLS: u32 = 1000;

/// Allocations and bytes allocated per call of `f`, after one call to warm up (thread-local
/// state, first buffer growth).
fn per_call(mut f: impl FnMut()) -> (f64, f64) {
    f();
    let AllocationInfo {
        count_total,
        bytes_total,
        ..
    } = measure(|| (0..CALLS).for_each(|_| f()));
    let per = |n: u64| n as f64 / f64::from(CALLS);
    (per(count_total), per(bytes_total))
}

fn row(name: &str, (count, bytes): (f64, f64)) {
    println!("| {name} | {count:.1} | {bytes:.0} |");
}

fn main() {
    println!("| per call | allocations | bytes allocated |");
    println!("|---|---:|---:|");

    let trips = RoundTrips::new();
    for (name, way) in [
        ("codec round trip (open, change, seal)", Way::Ours),
        (
            "codec round trip, padding to 256-char buckets",
            Way::OursPadded,
        ),
        ("codec open alone", Way::OursOpen),
        ("floor round trip", Way::Floor),
    ] {
        row(name, per_call(|| trips.run(way)));
    }
    row(
        "the reference value alone (what deserializing it allocates)",
        per_call(|| drop(reference())),
    );

    let services = Services::new();
    for (name, route) in [
        ("service: update", Route::Update),
        (
            "service: update, max_cookies = 1 (no removal line)",
            Route::UpdateOneCookie,
        ),
        ("service: read", Route::Read),
        (
            "service: route that never takes the session",
            Route::Untouched,
        ),
        ("no layer: same no-op route", Route::NoLayer),
        (
            "a layer that does nothing: same no-op route",
            Route::TrivialLayer,
        ),
    ] {
        row(name, per_call(|| drop(services.call(route))));
    }
}

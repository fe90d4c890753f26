//! One contender in a loop, for a profiler: `valgrind --tool=callgrind` (instructions, exact
//! and unaffected by a loaded host) or `valgrind --tool=dhat` (where each allocation comes from).
//!
//! ```sh
//! cargo build --release -p session-benches --example profile
//! valgrind --tool=callgrind --callgrind-out-file=cg.out \
//!     target/release/examples/profile update 20000
//! callgrind_annotate --inclusive=yes cg.out | head -60
//! ```
//!
//! Contenders: `floor`, `codec`, `open`, `update`, `update-one-cookie`, `read`, `untouched`, `no-layer`,
//! `trivial-layer`,
//! and `codec@BYTES` / `floor@BYTES`: a round trip of a [`Blob`] of about that many bytes of
//! payload (up to eight cookies, so 16 KiB fits). The setup (keys, routers, the first cookies)
//! is counted too; subtract a run with 0 calls, or compare two call counts, to get the cost per
//! call (`scripts/codec-instructions.sh` does).

#[path = "../common/mod.rs"]
mod common;

use std::hint::black_box;

use common::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "codec".into());
    let calls: u32 = args.next().map_or(10_000, |n| n.parse().expect("a number"));
    let trips = RoundTrips::new();
    let services = Services::new();
    let run: Box<dyn Fn()> = match which.as_str() {
        "floor" => Box::new(|| trips.run(Way::Floor)),
        "codec" => Box::new(|| trips.run(Way::Ours)),
        "open" => Box::new(|| trips.run(Way::OursOpen)),
        "update" => Box::new(|| drop(black_box(services.call(Route::Update)))),
        "update-one-cookie" => Box::new(|| drop(black_box(services.call(Route::UpdateOneCookie)))),
        "read" => Box::new(|| drop(black_box(services.call(Route::Read)))),
        "untouched" => Box::new(|| drop(black_box(services.call(Route::Untouched)))),
        "no-layer" => Box::new(|| drop(black_box(services.call(Route::NoLayer)))),
        "trivial-layer" => Box::new(|| drop(black_box(services.call(Route::TrivialLayer)))),
        other => match other.split_once('@') {
            Some((way @ ("codec" | "floor"), size)) => {
                let size = size.parse().expect("a payload size in bytes");
                let scaling = Scaling::with_sizes(&[size], 8);
                if way == "codec" {
                    Box::new(move || scaling.ours(0))
                } else {
                    Box::new(move || scaling.floor(0))
                }
            }
            _ => panic!("unknown contender {other}"),
        },
    };
    (0..calls).for_each(|_| run());
}

//! The codec round trip against the floor and the peers, and the service routes against the
//! same route without a session, timed side by side: every round times one batch of each
//! contender, in an order rotated from round to round, and reports the median time per call
//! and the medians of each round's ratio and difference to the round's baseline. Criterion
//! measures one contender after another, so a host whose speed drifts (other builds, a noisy
//! neighbour) skews its ratios; within one round, both sides see the same host.
//!
//! Time is this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: on a shared host
//! the time the thread spends descheduled would otherwise land on whichever batch was running.
//! Everything measured runs on this thread (the service on a current-thread runtime).
//!
//! Run with `cargo run --release -p session-benches --example interleaved -- [rounds] [calls]`
//! (default 101 rounds of 500 calls).

#[path = "../common/mod.rs"]
mod common;

use std::hint::black_box;

use rustix::time::{ClockId, clock_gettime};

use common::*;

type Run<'a> = Box<dyn FnMut() + 'a>;

/// Times `contenders` (the first is the baseline) over `rounds` rounds of `calls` calls each,
/// prints one table row per contender, and returns each contender's µs per call, round by round.
fn compare(
    title: &str,
    rounds: usize,
    calls: u32,
    contenders: Vec<(&str, Run<'_>)>,
) -> Vec<Vec<f64>> {
    let (names, runs): (Vec<&str>, Vec<Run<'_>>) = contenders.into_iter().unzip();
    let times = measure(rounds, calls, runs);
    println!("\n{title}: {rounds} rounds of {calls} calls, thread CPU time\n");
    println!(
        "| contender | median µs | median ratio to {} | median difference µs |",
        names[0]
    );
    println!("|---|---:|---:|---:|");
    for (i, name) in names.iter().enumerate() {
        let per_round = |f: fn(f64, f64) -> f64| {
            median((0..rounds).map(|r| f(times[i][r], times[0][r])).collect())
        };
        println!(
            "| {name} | {:.2} | {:.3} | {:+.2} |",
            median(times[i].clone()),
            per_round(|t, base| t / base),
            per_round(|t, base| t - base),
        );
    }
    times
}

/// Each of `runs`' µs per call, round by round: every round times `calls` calls of each, in an
/// order rotated from round to round, after one warm-up batch of each.
fn measure(rounds: usize, calls: u32, mut runs: Vec<Run<'_>>) -> Vec<Vec<f64>> {
    let n = runs.len();
    let mut times = vec![Vec::with_capacity(rounds); n];
    for run in &mut runs {
        (0..calls).for_each(|_| run());
    }
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let run = &mut runs[i];
            let start = cpu_ns();
            (0..calls).for_each(|_| run());
            times[i].push((cpu_ns() - start) as f64 / 1e3 / f64::from(calls));
        }
    }
    times
}

/// This thread's CPU time, in nanoseconds.
fn cpu_ns() -> i64 {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    t.tv_sec * 1_000_000_000 + t.tv_nsec
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number"));
    let rounds = args.next().unwrap_or(101);
    let calls = args.next().map_or(500, |c: usize| c as u32);

    let trips = &RoundTrips::new();
    let way = |way: Way| -> Run<'_> { Box::new(move || trips.run(way)) };
    drop(compare(
        "Codec round trip",
        rounds,
        calls,
        vec![
            ("floor", way(Way::Floor)),
            ("ours, codec", way(Way::Ours)),
            ("ours, codec, padded", way(Way::OursPadded)),
            ("`cookie` private jar + JSON", way(Way::PrivateJar)),
            ("axum-extra PrivateCookieJar + JSON", way(Way::AxumExtra)),
        ],
    ));

    let services = &Services::new();
    let route =
        |route: Route| -> Run<'_> { Box::new(move || drop(black_box(services.call(route)))) };
    let t = compare(
        "Through the service",
        rounds,
        calls,
        vec![
            ("no layer", route(Route::NoLayer)),
            ("a layer that does nothing", route(Route::TrivialLayer)),
            (
                "SessionLayer, route never takes the session",
                route(Route::Untouched),
            ),
            ("SessionLayer, handler reads", route(Route::Read)),
            ("SessionLayer, handler updates", route(Route::Update)),
            (
                "SessionLayer, handler updates, max_cookies = 1",
                route(Route::UpdateOneCookie),
            ),
            ("codec open alone (no router)", way(Way::OursOpen)),
            ("codec round trip alone (no router)", way(Way::Ours)),
        ],
    );
    // What the service adds beyond the codec's own work, round by round: the update route's
    // time over the route without a layer (and over the route under a layer that does
    // nothing, issue 17's baseline), less a codec round trip; the read route's, less an open.
    let (none, trivial, read, update, one_cookie, open, round_trip) =
        (&t[0], &t[1], &t[3], &t[4], &t[5], &t[6], &t[7]);
    println!("\n| the service beyond the codec (median over rounds) | µs |\n|---|---:|");
    // (label, route, baseline route, the codec's part)
    type Row<'a> = (&'a str, &'a [f64], &'a [f64], &'a [f64]);
    let rows: [Row<'_>; 4] = [
        (
            "update − no layer − codec round trip",
            update,
            none,
            round_trip,
        ),
        ("read − no layer − codec open", read, none, open),
        (
            "update − a layer that does nothing − codec round trip (issue 17: ≤ +0.5)",
            update,
            trivial,
            round_trip,
        ),
        (
            "read − a layer that does nothing − codec open (issue 17: ≤ +0.3)",
            read,
            trivial,
            open,
        ),
    ];
    for (label, route, base, codec) in rows {
        let beyond = median((0..rounds).map(|r| route[r] - base[r] - codec[r]).collect());
        println!("| {label} | {beyond:+.2} |");
    }
    let removal = median((0..rounds).map(|r| update[r] - one_cookie[r]).collect());
    println!(
        "| the removal line of `session.1` (update − update with max_cookies = 1) | {removal:+.2} |"
    );

    let scaling = &Scaling::new();
    println!("\nScaling (at most five cookies): {rounds} rounds of {calls} calls per size\n");
    println!("| payload (bytes) | floor µs | ours µs | median ratio to the floor |");
    println!("|---:|---:|---:|---:|");
    for (i, size) in SCALING.into_iter().enumerate() {
        let t = measure(
            rounds,
            calls,
            vec![
                Box::new(move || scaling.floor(i)),
                Box::new(move || scaling.ours(i)),
            ],
        );
        let ratio = median((0..rounds).map(|r| t[1][r] / t[0][r]).collect());
        println!(
            "| {size} | {:.2} | {:.2} | {ratio:.3} |",
            median(t[0].clone()),
            median(t[1].clone())
        );
    }
}

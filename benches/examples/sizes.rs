//! Prints the cookie-size tables of BENCHMARKS.md.
//!
//! Run with `cargo run --release -p session-benches --example sizes`.

#[path = "../common/mod.rs"]
mod common;

use axum::http::{HeaderMap, HeaderValue, header::COOKIE};
use common::*;

fn value_len(set_cookie: &str) -> usize {
    let start = set_cookie.find('=').map_or(0, |i| i + 1);
    set_cookie.find(';').unwrap_or(set_cookie.len()) - start
}

/// How many cookies `lines` set, their values' characters, and the lines' bytes in all.
fn totals(lines: &[String]) -> (usize, usize, usize) {
    let set: Vec<&String> = lines.iter().filter(|l| !l.contains("Max-Age=0")).collect();
    let values = set.iter().map(|l| value_len(l)).sum();
    let bytes = lines.iter().map(String::len).sum();
    (set.len(), values, bytes)
}

fn main() {
    let value = reference();
    let postcard_len = postcard::to_allocvec(&value).expect("encode").len();
    let json_len = serde_json::to_string(&value).expect("json").len();
    println!("Reference session: {postcard_len} bytes of postcard, {json_len} bytes of JSON.\n");
    println!("| way | cookie value (chars) | Set-Cookie lines | Set-Cookie bytes in all |");
    println!("|---|---:|---:|---:|");

    let row = |name: &str, lines: &[String]| {
        let (_, values, bytes) = totals(lines);
        println!("| {name} | {values} | {} | {bytes} |", lines.len());
    };
    row(
        "session-runtime (default config)",
        &ours_first(&default_codec(), &value),
    );
    row(
        "session-runtime, padding to 256-char buckets",
        &ours_first(&padded_codec(), &value),
    );
    row(
        "session-runtime, max_cookies = 1",
        &ours_first(&codec(settings().with_max_cookies(1)), &value),
    );
    let mut floor = Floor::new();
    row(
        "floor: postcard + AES-256-GCM-SIV + base64url",
        &[floor.seal(&value)],
    );
    let jar_key = private_jar_key();
    let jar_line = private_jar_first(&jar_key, &value);
    row(
        "cookie private jar + serde_json",
        std::slice::from_ref(&jar_line),
    );
    let mut headers = HeaderMap::new();
    let header = cookie_header(&pairs(std::slice::from_ref(&jar_line)));
    headers.insert(COOKIE, HeaderValue::from_str(&header).expect("header"));
    let extra = axum_extra_jar::<Reference>(&axum_extra_key(), &headers, |_| {});
    let extra_lines: Vec<String> = extra
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    row("axum-extra PrivateCookieJar + serde_json", &extra_lines);

    println!("\nScaling (max_cookies = 5):\n");
    println!(
        "| payload (bytes) | chunks | cookie value (chars) | Set-Cookie bytes in all | floor value (chars) |"
    );
    println!("|---:|---:|---:|---:|---:|");
    let codec5 = codec(settings().with_max_cookies(5));
    for size in [64, 512, 2048, 4096, 8192, 12_288, 14_800] {
        let blob = blob(size);
        let lines = ours_first(&codec5, &blob);
        let (chunks, values, bytes) = totals(&lines);
        let floor_len = value_len(&floor.seal(&blob));
        println!("| {size} | {chunks} | {values} | {bytes} | {floor_len} |");
    }
}

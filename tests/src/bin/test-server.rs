//! The test app as a process, for the HTTP tests that stop, restart and upgrade a server.
//!
//! Run with `test-server v1|v2 [primary-key-base64] [fallback-key-base64]`; it prints
//! `listening on <addr>` once it accepts connections, and serves until killed.

use session_runtime::{Key, Keys, SessionLayer};
use session_tests::{AppV1, AppV2, TestSchema, loopback, router, serve};

fn layer<T: TestSchema>(keys: Keys) -> SessionLayer<T> {
    loopback(keys).build().expect("valid test configuration")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let key = |i: usize| {
        args.get(i)
            .map(|text| Key::from_base64(text).expect("a valid base64 key"))
    };
    let mut keys = Keys::new(key(1).unwrap_or_else(Key::generate));
    if let Some(fallback) = key(2) {
        keys = keys.with_fallback(fallback);
    }
    let app = match args.first().map(String::as_str) {
        Some("v1") => router(layer::<AppV1>(keys)),
        Some("v2") => router(layer::<AppV2>(keys)),
        _ => {
            eprintln!("usage: test-server v1|v2 [primary-key] [fallback-key]");
            std::process::exit(2);
        }
    };
    let (addr, task) = serve(app).await;
    println!("listening on {addr}");
    let _ = task.await;
}

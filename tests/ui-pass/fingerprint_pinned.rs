//! A pinned fingerprint that matches compiles.
use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, fingerprint = "1b7b33a5a3550bae")]
struct Cart {
    user_id: u64,
}

fn main() {
    assert_eq!(Cart::FINGERPRINT, "1b7b33a5a3550bae");
}

use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

// Pinned when `note` had `max_len = 64`; tightening the bound must not slip through.
#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, fingerprint = "791099bd8787eba2")]
struct Cart {
    user_id: u64,
    #[session(max_len = 32)]
    note: String,
}

fn main() {}

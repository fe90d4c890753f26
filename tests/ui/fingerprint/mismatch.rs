use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, fingerprint = "0000000000000000")]
struct Cart {
    user_id: u64,
}

fn main() {}

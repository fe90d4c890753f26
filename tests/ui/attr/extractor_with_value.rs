use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, extractor = true)]
struct Cart {
    user_id: u64,
}

fn main() {}

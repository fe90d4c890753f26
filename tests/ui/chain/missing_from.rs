use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct CartV1 {
    user_id: u32,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, previous = CartV1)]
struct Cart {
    user_id: u64,
}

fn main() {}

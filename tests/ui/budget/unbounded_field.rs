use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, max_cookies = 2)]
struct Cart {
    user_id: u64,
    items: Vec<u32>,
}

fn main() {}

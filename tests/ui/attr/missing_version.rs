use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(max_cookies = 1)]
struct Cart {
    user_id: u64,
}

fn main() {}

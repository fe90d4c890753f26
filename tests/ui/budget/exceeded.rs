use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, max_cookies = 1)]
struct Cart {
    user_id: u64,
    #[session(max_len = 4000)]
    note: String,
}

fn main() {}

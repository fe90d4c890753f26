use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, max_cookies = 1)]
struct Cart {
    pair: (String, u8),
}

fn main() {}

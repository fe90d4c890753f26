use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct Cart {
    #[session(max_len = 4, each = 8)]
    roles: Vec<String>,
}

fn main() {}

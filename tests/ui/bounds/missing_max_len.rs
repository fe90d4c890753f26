use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, max_cookies = 1)]
struct Cart {
    #[session(each(max_len = 16))]
    roles: Vec<String>,
}

fn main() {}

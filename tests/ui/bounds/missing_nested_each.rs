use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, max_cookies = 1)]
struct Cart {
    #[session(max_len = 2, each(max_len = 3))]
    grid: Vec<Vec<String>>,
}

fn main() {}

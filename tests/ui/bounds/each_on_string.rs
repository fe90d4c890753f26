use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct Cart {
    #[session(max_len = 8, each(max_len = 2))]
    note: String,
}

fn main() {}

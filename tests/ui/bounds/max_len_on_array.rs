use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct Cart {
    #[session(max_len = 3, each(max_len = 8))]
    lines: [String; 3],
}

fn main() {}

use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct Cart {
    #[session(max_length = 8)]
    items: Vec<u32>,
}

fn main() {}

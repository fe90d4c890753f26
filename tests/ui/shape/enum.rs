use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
enum Cart {
    Empty,
    Full(Vec<u32>),
}

fn main() {}

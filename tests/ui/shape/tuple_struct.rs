use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct Cart(u64, Vec<u32>);

fn main() {}

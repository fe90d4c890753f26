use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, migrate = upgrade)]
struct Cart {
    user_id: u64,
}

fn upgrade(old: Cart) -> Cart {
    old
}

fn main() {}

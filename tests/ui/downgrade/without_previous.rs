use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, downgrade = to_v1)]
struct Cart {
    user_id: u64,
}

fn to_v1(new: &Cart) -> Cart {
    Cart { user_id: new.user_id }
}

fn main() {}

use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 3)]
struct CartV3 {
    user_id: u64,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, previous = CartV3)]
struct Cart {
    user_id: u64,
}

impl From<CartV3> for Cart {
    fn from(old: CartV3) -> Self {
        Cart { user_id: old.user_id }
    }
}

fn main() {}

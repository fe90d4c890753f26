use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(Serialize, Deserialize)]
struct CartV1 {
    user_id: u64,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, previous = CartV1)]
struct Cart {
    user_id: u64,
}

impl From<CartV1> for Cart {
    fn from(old: CartV1) -> Self {
        Cart { user_id: old.user_id }
    }
}

fn main() {}

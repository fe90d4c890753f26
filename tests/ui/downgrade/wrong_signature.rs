use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct CartV1 {
    user_id: u32,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, previous = CartV1, downgrade = to_v1)]
struct Cart {
    user_id: u64,
}

impl From<CartV1> for Cart {
    fn from(old: CartV1) -> Self {
        Cart { user_id: old.user_id.into() }
    }
}

// Takes the session by value: a down-migration only reads it.
fn to_v1(new: Cart) -> CartV1 {
    CartV1 { user_id: new.user_id as u32 }
}

fn main() {}

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Key, SessionLayer};

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct CartV1 {
    user_id: u32,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, previous = CartV1)]
struct CartV2 {
    user_id: u64,
}

impl From<CartV1> for CartV2 {
    fn from(old: CartV1) -> Self {
        CartV2 { user_id: old.user_id.into() }
    }
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 3, previous = CartV2, downgrade = to_v2)]
struct Cart {
    user_id: u64,
}

impl From<CartV2> for Cart {
    fn from(old: CartV2) -> Self {
        Cart { user_id: old.user_id }
    }
}

fn to_v2(new: &Cart) -> CartV2 {
    CartV2 { user_id: new.user_id }
}

fn main() {
    // Only the immediate previous version can be written.
    let _ = SessionLayer::<Cart>::builder(Key::generate()).writing::<CartV1>();
}

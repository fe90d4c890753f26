use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Key, SessionLayer};

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct CartV1 {
    user_id: u32,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, previous = CartV1)]
struct Cart {
    user_id: u64,
}

impl From<CartV1> for Cart {
    fn from(old: CartV1) -> Self {
        Cart { user_id: old.user_id.into() }
    }
}

// A `From<&Cart>` is not a down-migration: `writing` takes the derive's `downgrade` only.
impl From<&Cart> for CartV1 {
    fn from(new: &Cart) -> Self {
        CartV1 { user_id: new.user_id as u32 }
    }
}

fn main() {
    let _ = SessionLayer::<Cart>::builder(Key::generate()).writing::<CartV1>();
}

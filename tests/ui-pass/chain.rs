//! A three-version chain: `From` for one step, a `migrate` fn for the next.
use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

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
        CartV2 { user_id: u64::from(old.user_id) }
    }
}

mod migrations {
    pub fn v3_from_v2(old: super::CartV2) -> super::Cart {
        super::Cart { user_id: old.user_id, note: String::new() }
    }
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 5, previous = CartV2, migrate = migrations::v3_from_v2, max_cookies = 1)]
struct Cart {
    user_id: u64,
    #[session(max_len = 100)]
    note: String,
}

fn main() {
    assert_eq!(Cart::OLDEST_VERSION, 1);
    assert_eq!(Cart::VERSION, 5);
}

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, SessionBound};

#[derive(SessionBound, Serialize, Deserialize)]
struct Item {
    sku: u32,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct Cart {
    #[session(max_len = 4)]
    item: Item,
}

fn main() {}

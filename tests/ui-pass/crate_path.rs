//! `crate = path` for crates that re-export session-runtime under another name.
mod reexport {
    pub use session_runtime as sessions;
}

use reexport::sessions::{CookieSession, SessionBound};
use serde::{Deserialize, Serialize};

#[derive(SessionBound, Serialize, Deserialize)]
#[session(crate = reexport::sessions)]
struct Item {
    sku: u32,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(crate = reexport::sessions, version = 1, max_cookies = 1)]
struct Cart {
    #[session(max_len = 4)]
    items: Vec<Item>,
}

fn main() {
    assert_eq!(Cart::NAME, "Cart");
}

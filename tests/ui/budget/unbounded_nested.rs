use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(Serialize, Deserialize)]
struct Item {
    sku: u32,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, budget = 2000)]
struct Cart {
    #[session(max_len = 8)]
    items: Vec<Item>,
}

fn main() {}

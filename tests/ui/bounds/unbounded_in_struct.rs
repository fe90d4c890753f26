use serde::{Deserialize, Serialize};
use session_runtime::SessionBound;

#[derive(SessionBound, Serialize, Deserialize)]
struct Item {
    sku: u32,
    name: String,
}

fn main() {}

use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct Cart {
    #[session(max_len = 4, each(max_len = 8), key(max_len = 8))]
    prefs: std::collections::BTreeMap<String, u32>,
}

fn main() {}

use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, max_cookies = 2)]
struct Cart {
    #[session(max_len = 128)]
    prefs: std::collections::BTreeMap<String, u32>,
}

fn main() {}

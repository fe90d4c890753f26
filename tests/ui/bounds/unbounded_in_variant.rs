use serde::{Deserialize, Serialize};
use session_runtime::SessionBound;

#[derive(SessionBound, Serialize, Deserialize)]
enum Contact {
    None,
    Email(String),
}

fn main() {}

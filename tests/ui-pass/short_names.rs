//! Schemas and bounded types with the one-letter names generated code might use for its own
//! generic parameters: none of them may collide.
use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, SessionBound};

#[derive(SessionBound, Serialize, Deserialize)]
struct T {
    #[session(max_len = 4)]
    tags: Vec<u8>,
}

#[derive(SessionBound, Serialize, Deserialize)]
enum B {
    One(T),
    Two { t: T },
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, extractor)]
struct K {
    n: u8,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 2, previous = K, max_cookies = 1, extractor)]
struct S {
    t: T,
    b: B,
}

impl From<K> for S {
    fn from(_: K) -> Self {
        S { t: T { tags: Vec::new() }, b: B::One(T { tags: Vec::new() }) }
    }
}

// The read-only extractors are generic over the router state: they must apply to `S`.
fn takes_extractor<E: axum::extract::FromRequestParts<()>>() {}

fn main() {
    takes_extractor::<S>();
    takes_extractor::<K>();
    assert_eq!(S::MAX_ENCODED_LEN, Some((1 + 4) + (1 + 1 + 4)));
}

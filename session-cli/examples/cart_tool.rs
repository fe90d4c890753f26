//! A schema's own `session-tool`: what a user adds to their crate (as `src/bin/session-tool.rs`)
//! to see the payload of their cookies and the sizes of their schema.
//!
//! Run with
//!
//! ```sh
//! cargo run -p session-cli --example cart_tool -- sizes
//! SESSION_KEY=… cargo run -p session-cli --example cart_tool -- inspect --cookie 'session=…'
//! ```

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, SessionBound};

#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy)]
struct Item {
    sku: u32,
    qty: u16,
}

#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1)]
struct CartV1 {
    user_id: u64,
    items: Vec<u32>,
}

#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 2, previous = CartV1, max_cookies = 2)]
struct Cart {
    user_id: u64,
    #[session(max_len = 500)]
    items: Vec<Item>,
}

impl From<CartV1> for Cart {
    fn from(old: CartV1) -> Self {
        Cart {
            user_id: old.user_id,
            items: old
                .items
                .into_iter()
                .map(|sku| Item { sku, qty: 1 })
                .collect(),
        }
    }
}

fn main() -> std::process::ExitCode {
    session_cli::run::<Cart>(std::env::args())
}

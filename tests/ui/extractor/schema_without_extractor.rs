//! A handler that takes the schema itself: the schema is a read-only extractor only with
//! `#[session(extractor)]`. axum reports the handler as a whole; `#[axum::debug_handler]`
//! (what its error suggests) checks each argument as `check` does here, and that error names
//! the attribute to add.
use axum::Router;
use axum::extract::FromRequestParts;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use session_runtime::CookieSession;

#[derive(CookieSession, Serialize, Deserialize, Default)]
#[session(version = 1)]
struct Cart {
    items: Vec<u32>,
}

async fn page(cart: Cart) -> String {
    cart.items.len().to_string()
}

fn check<E: FromRequestParts<()>>() {}

fn main() {
    let _: Router = Router::new().route("/", get(page));
    check::<Cart>();
}

//! What the integration tests share, in one place so no test file redefines it:
//!
//! - the fixtures: one set of schemas (the golden cart chain and the test app's two deploys),
//!   keys and values;
//! - the support helpers: the fixed `NOW`, codecs under the golden key, cookie text as a
//!   browser handles it, and an HTTP client with a cookie jar;
//! - the test app the HTTP tests and the `test-server` binary serve, on axum and on actix-web.
//!
//! Everything is re-exported here: `use session_tests::{CartV3, NOW, codec};`.

mod actix_app;
mod app;
mod fixtures;
mod support;

pub use actix_app::{ActixServer, actix_routes, serve_actix, start_actix};
pub use app::{TestSchema, loopback, router, serve, start};
pub use fixtures::{
    AppV1, AppV2, CartV1, CartV2, CartV3, Currency, Item, big_cart, cart_v3_from_v2, golden_key,
    key, one_each,
};
pub use support::{
    CookieJar, NOW, at, base, chunk_pairs, codec, cookie_header, get_with_cookie, jar_client,
    jar_names, meta, pair, sent_back, set_cookies, set_pairs, settings, text,
};

/// The root README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The runtime's crate documentation (what docs.rs and crates.io show) is this repository's
/// README, word for word: one document, doctested through both.
#[cfg(test)]
#[test]
fn the_crate_docs_are_the_readme() {
    assert_eq!(
        include_str!("../../README.md"),
        include_str!("../../session-runtime/README.md"),
        "copy README.md to session-runtime/README.md"
    );
}

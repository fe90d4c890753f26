//! Frozen sessions of every schema version the shop has shipped, in `tests/golden/`: a change
//! to `src/schema.rs` that would log users out fails here, before it is deployed.
//!
//! A sample missing from `tests/golden/` is written on the first run; check it in. Existing
//! samples are never rewritten.

// The schema file itself, compiled into this test, so the samples check the shop's real types
// (its items are public for the actix-web shop, unreachable here).
#[allow(dead_code, unreachable_pub)]
#[path = "../src/schema.rs"]
mod schema;

use schema::{Line, Shop, ShopV1};
use session_runtime::testing::{Samples, assert_samples_open};

const GOLDEN: &str = "tests/golden";

// The schema derives no `PartialEq`; the samples compare values field by field.
impl PartialEq for ShopV1 {
    fn eq(&self, other: &Self) -> bool {
        self.user == other.user && self.cart == other.cart
    }
}

impl PartialEq for Shop {
    fn eq(&self, other: &Self) -> bool {
        self.user == other.user && self.cart == other.cart
    }
}

#[test]
fn sessions_of_every_shipped_version_still_open() {
    Samples::new(GOLDEN)
        .sample(&ShopV1 {
            user: Some("ada".into()),
            cart: vec![1001, 1002, 1003],
        })
        .sample(&Shop {
            user: "ada".into(),
            cart: vec![
                Line { sku: 1001, qty: 2 },
                Line { sku: 1002, qty: 1 },
                Line {
                    sku: 70_000,
                    qty: 300,
                },
            ],
        })
        .freeze();
    assert_samples_open::<Shop>(GOLDEN);
}

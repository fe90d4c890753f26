//! Every schema, key and value the tests share.
//!
//! Two version chains of one cart: `CartV1 → CartV2 → CartV3`, which the golden cookies freeze
//! (their field order and types are the wire format: never change them), and `AppV1 → AppV2`,
//! the two deploys the test app serves. Both chains turn v1's bare SKUs into [`Item`]s the
//! same way ([`one_each`]).

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Key, SessionBound};

/// The fixed key the golden cookies are sealed with: bytes 0..32 XOR 0x5a.
pub fn golden_key() -> Key {
    let bytes: Vec<u8> = (0u8..32).map(|b| b ^ 0x5a).collect();
    Key::from_bytes(&bytes).expect("valid test key")
}

/// A fixed key per `seed`: different seeds give different keys, none of them the golden key.
pub fn key(seed: u8) -> Key {
    let bytes: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(31) ^ seed).collect();
    Key::from_bytes(&bytes).expect("valid test key")
}

/// One cart line: the item type of both chains.
#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Item {
    /// The product.
    pub sku: u32,
    /// How many.
    pub qty: u16,
}

/// The v1 → v2 migration of both chains: one of each SKU.
pub fn one_each(skus: Vec<u32>) -> Vec<Item> {
    skus.into_iter().map(|sku| Item { sku, qty: 1 }).collect()
}

/// Cart version 1: no budget, SKUs only.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 1)]
pub struct CartV1 {
    /// The user.
    pub user_id: u32,
    /// SKUs, one of each.
    #[session(max_len = 16)]
    pub items: Vec<u32>,
}

/// Cart version 2: a wider id, quantities and a note, within two cookies.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 2, previous = CartV1, max_cookies = 2)]
pub struct CartV2 {
    /// The user.
    pub user_id: u64,
    /// The lines.
    #[session(max_len = 32)]
    pub items: Vec<Item>,
    /// A note to the shop.
    #[session(max_len = 64)]
    pub note: String,
}

impl From<CartV1> for CartV2 {
    fn from(old: CartV1) -> Self {
        CartV2 {
            user_id: u64::from(old.user_id),
            items: one_each(old.items),
            note: String::new(),
        }
    }
}

/// A currency: unit variants and one with data, so enums are covered.
#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Currency {
    /// Euro (the default).
    #[default]
    Eur,
    /// US dollar.
    Usd,
    /// Any other, by ISO code.
    Other([u8; 3]),
}

/// Cart version 3: up to three cookies, migrated from v2 by a function.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 3, previous = CartV2, migrate = cart_v3_from_v2, max_cookies = 3, extractor)]
pub struct CartV3 {
    /// The user.
    pub user_id: u64,
    /// The lines.
    #[session(max_len = 300)]
    pub items: Vec<Item>,
    /// A note to the shop.
    #[session(max_len = 4000)]
    pub note: String,
    /// The currency.
    pub currency: Currency,
    /// A coupon code.
    pub coupon: Option<[u8; 8]>,
}

/// The v2 → v3 migration.
pub fn cart_v3_from_v2(old: CartV2) -> CartV3 {
    CartV3 {
        user_id: old.user_id,
        items: old.items,
        note: old.note,
        currency: Currency::Eur,
        coupon: None,
    }
}

/// A v3 cart big enough to need three cookies.
pub fn big_cart() -> CartV3 {
    CartV3 {
        user_id: u64::MAX - 1,
        items: (0..300)
            .map(|i| Item {
                sku: 0xFFFF_0000 + i,
                qty: 0xFFF0 + (i as u16 % 15),
            })
            .collect(),
        note: "n".repeat(4000),
        currency: Currency::Other(*b"CHF"),
        coupon: Some(*b"WELCOME1"),
    }
}

/// The test app's previous deploy: no budget, so its size is only checked when a change is
/// made.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 1, extractor)]
pub struct AppV1 {
    /// The logged-in user.
    #[session(max_len = 32)]
    pub user: String,
    /// SKUs, one of each.
    pub items: Vec<u32>,
}

/// The test app's current deploy: lines with quantities and a visit counter.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 2, previous = AppV1, downgrade = app_v1_from, max_cookies = 3, extractor)]
pub struct AppV2 {
    /// The logged-in user.
    #[session(max_len = 32)]
    pub user: String,
    /// The lines.
    #[session(max_len = 1000)]
    pub items: Vec<Item>,
    /// Requests that counted a visit.
    pub visits: u32,
}

impl From<AppV1> for AppV2 {
    fn from(old: AppV1) -> Self {
        AppV2 {
            user: old.user,
            items: one_each(old.items),
            visits: 0,
        }
    }
}

/// The down-migration of a rolling deploy's first phase: what the previous build can read.
/// Quantities and the visit counter have no place in version 1 and are dropped.
fn app_v1_from(new: &AppV2) -> AppV1 {
    AppV1 {
        user: new.user.clone(),
        items: new.items.iter().map(|line| line.sku).collect(),
    }
}

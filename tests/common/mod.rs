//! Schemas and keys shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Key, SessionBound};

/// The fixed key the golden cookies are sealed with: bytes 0..32 XOR 0x5a.
pub fn golden_key() -> Key {
    let bytes: Vec<u8> = (0u8..32).map(|b| b ^ 0x5a).collect();
    Key::from_bytes(&bytes).expect("valid test key")
}

/// A second fixed key, for rotation tests.
pub fn other_key() -> Key {
    let bytes: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(7) ^ 0xc3).collect();
    Key::from_bytes(&bytes).expect("valid test key")
}

#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 1)]
pub struct CartV1 {
    pub user_id: u32,
    #[session(max_len = 16)]
    pub items: Vec<u32>,
}

#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Item {
    pub sku: u32,
    pub qty: u16,
}

#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 2, previous = CartV1, max_cookies = 2)]
pub struct CartV2 {
    pub user_id: u64,
    #[session(max_len = 32)]
    pub items: Vec<Item>,
    #[session(max_len = 64)]
    pub note: String,
}

impl From<CartV1> for CartV2 {
    fn from(old: CartV1) -> Self {
        CartV2 {
            user_id: u64::from(old.user_id),
            items: old
                .items
                .into_iter()
                .map(|sku| Item { sku, qty: 1 })
                .collect(),
            note: String::new(),
        }
    }
}

#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Currency {
    #[default]
    Eur,
    Usd,
    Other([u8; 3]),
}

#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 3, previous = CartV2, migrate = cart_v3_from_v2, max_cookies = 3)]
pub struct CartV3 {
    pub user_id: u64,
    #[session(max_len = 300)]
    pub items: Vec<Item>,
    #[session(max_len = 4000)]
    pub note: String,
    pub currency: Currency,
    pub coupon: Option<[u8; 8]>,
}

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

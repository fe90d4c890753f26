//! The shop's session schema, in its current and previous versions.

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, SessionBound};

/// The longest user name kept, in characters (4 bytes each at most).
pub(crate) const NAME_MAX_CHARS: usize = 16;

/// Version 1, as the previous deploy wrote it: a user and a list of SKUs.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, Default)]
#[session(version = 1)]
pub struct ShopV1 {
    /// The logged-in user's name.
    pub user: Option<String>,
    /// The SKUs in the cart.
    pub cart: Vec<u32>,
}

/// One cart line.
#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The product.
    pub sku: u32,
    /// How many.
    pub qty: u16,
}

/// Version 2: cart lines with quantities, up to 1000 of them, which takes three cookies; also a
/// read-only extractor (`extractor`), for handlers that only read it.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, Default)]
#[session(version = 2, previous = ShopV1, max_cookies = 3, extractor)]
pub struct Shop {
    /// The logged-in user's name, empty when anonymous.
    #[session(max_len = 64)]
    pub user: String,
    /// The cart's lines.
    #[session(max_len = 1000)]
    pub cart: Vec<Line>,
}

impl From<ShopV1> for Shop {
    fn from(old: ShopV1) -> Self {
        Shop {
            user: old.user.unwrap_or_default(),
            cart: old
                .cart
                .into_iter()
                .map(|sku| Line { sku, qty: 1 })
                .collect(),
        }
    }
}

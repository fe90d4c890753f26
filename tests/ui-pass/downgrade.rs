//! A rolling deploy's first phase: version 3 reads 1 to 3 and writes 2 through its `downgrade`;
//! the chain of every version is on `SCHEMA`.
use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Downgrade, Key, SessionLayer};

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1)]
struct CartV1 {
    items: Vec<u32>,
}

#[derive(CookieSession, Serialize, Deserialize, Debug, PartialEq)]
#[session(version = 2, previous = CartV1, max_cookies = 1)]
struct CartV2 {
    #[session(max_len = 16)]
    items: Vec<u32>,
}

impl From<CartV1> for CartV2 {
    fn from(old: CartV1) -> Self {
        CartV2 { items: old.items.into_iter().take(16).collect() }
    }
}

mod deploy {
    pub fn to_v2(new: &super::Cart) -> super::CartV2 {
        super::CartV2 { items: new.items.iter().map(|&(sku, _)| sku).collect() }
    }
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 3, previous = CartV2, downgrade = deploy::to_v2)]
struct Cart {
    items: Vec<(u32, u16)>,
}

impl From<CartV2> for Cart {
    fn from(old: CartV2) -> Self {
        Cart { items: old.items.into_iter().map(|sku| (sku, 1)).collect() }
    }
}

fn main() {
    let cart = Cart { items: vec![(7, 3), (9, 1)] };
    assert_eq!(cart.downgrade(), CartV2 { items: vec![7, 9] });
    let phase_one = SessionLayer::<Cart>::builder(Key::generate()).writing::<CartV2>().build();
    assert!(phase_one.is_ok());

    let versions: Vec<_> = Cart::SCHEMA.chain().map(|v| (v.version, v.name)).collect();
    assert_eq!(versions, [(3, "Cart"), (2, "CartV2"), (1, "CartV1")]);
    assert_eq!(Cart::SCHEMA.previous, Some(&CartV2::SCHEMA));
    assert_eq!(Cart::SCHEMA.previous.and_then(|v| v.max_encoded_len), Some(1 + 16 * 5));
}

//! `SessionBound` on every shape, nested in a budgeted schema.
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use session_runtime::{Bounded, CookieSession, SessionBound};

#[derive(SessionBound, Serialize, Deserialize)]
struct Named {
    sku: u32,
    #[session(max_len = 8)]
    label: String,
}

#[derive(SessionBound, Serialize, Deserialize)]
struct Tuple(u16, [u8; 4]);

#[derive(SessionBound, Serialize, Deserialize)]
struct Unit;

#[derive(SessionBound, Serialize, Deserialize)]
enum Choice {
    None,
    One(u8),
    Two { a: u64, b: Option<i32> },
}

#[derive(SessionBound, Serialize, Deserialize)]
enum Never {}

#[derive(SessionBound, Serialize, Deserialize)]
struct Pair<T> {
    left: T,
    right: T,
    #[serde(skip)]
    marker: PhantomData<T>,
}

#[derive(CookieSession, Serialize, Deserialize)]
#[session(version = 1, budget = 4000)]
struct Cart {
    #[session(max_len = 4)]
    named: Vec<Named>,
    tuple: Tuple,
    unit: Unit,
    choice: Choice,
    pair: Pair<u32>,
    #[session(max_len = 3)]
    choices: std::collections::BTreeMap<u8, Choice>,
}

fn main() {
    assert_eq!(<Tuple as Bounded>::MAX_ENCODED_LEN, 3 + 4);
    assert_eq!(<Unit as Bounded>::MAX_ENCODED_LEN, 0);
    assert_eq!(<Never as Bounded>::MAX_ENCODED_LEN, 0);
    assert_eq!(<Choice as Bounded>::MAX_ENCODED_LEN, 1 + 10 + 1 + 5);
    assert!(Cart::MAX_ENCODED_LEN.is_some());
}

//! One schema per shape the attribute language bounds, each with its exact worst case worked
//! out by hand in postcard bytes: a length or count is a varint (1 byte up to 127, 2 up to
//! 16383), an `Option` one tag byte, a `u32` at most 5 bytes, a `u16` 3, arrays no length.
//!
//! `tests/derive.rs` includes this file as a module to check the same schemas at run time.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use session_runtime::{Bounded, CookieSession, SessionBound};

/// A user's own type: 5 + 3 = 8 bytes.
#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Line {
    pub(crate) sku: u32,
    pub(crate) qty: u16,
}

/// `Option<String>`: options are transparent, `max_len` bounds the string inside.
/// 1 tag + 1 length + 8 bytes = 10.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct OptionString {
    #[session(max_len = 8)]
    pub(crate) locale: Option<String>,
}

/// `Option<Vec<T>>`: 1 tag + 1 length + 4 × 8 = 34.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct OptionVec {
    #[session(max_len = 4)]
    pub(crate) lines: Option<Vec<Line>>,
}

/// `Vec<String>`: 1 length + 3 × (1 + 16) = 52.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct VecString {
    #[session(max_len = 3, each(max_len = 16))]
    pub(crate) roles: Vec<String>,
}

/// `Vec<Vec<u8>>`: 1 length + 2 × (1 + 32) = 67.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct VecBytes {
    #[session(max_len = 2, each(max_len = 32))]
    pub(crate) keys: Vec<Vec<u8>>,
}

/// `BTreeMap<String, u32>`: 2 length (128 > 127) + 128 × ((1 + 32) + 5) = 4866.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 2)]
pub(crate) struct MapStringU32 {
    #[session(max_len = 128, key(max_len = 32))]
    pub(crate) prefs: BTreeMap<String, u32>,
}

/// `HashMap<String, Vec<u8>>`: 1 length + 4 × ((1 + 16) + (1 + 64)) = 329.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct MapStringBytes {
    #[session(max_len = 4, key(max_len = 16), value(max_len = 64))]
    pub(crate) blobs: HashMap<String, Vec<u8>>,
}

/// Sets of strings: each 1 length + 5 × (1 + 10) = 56; 112 for both.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct Sets {
    #[session(max_len = 5, each(max_len = 10))]
    pub(crate) sorted: BTreeSet<String>,
    #[session(max_len = 5, each(max_len = 10))]
    pub(crate) hashed: HashSet<String>,
}

/// `Box<str>`: 1 length + 20 = 21.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct BoxStr {
    #[session(max_len = 20)]
    pub(crate) name: Box<str>,
}

/// Nested options: 1 tag + 1 tag + 1 length + 6 = 9.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct NestedOption {
    #[session(max_len = 6)]
    pub(crate) nick: Option<Option<String>>,
}

/// `[String; 3]`: no length, 3 × (1 + 12) = 39.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct ArrayString {
    #[session(each(max_len = 12))]
    pub(crate) lines: [String; 3],
}

/// `Vec<Vec<String>>`, nested `each`: 1 length + 2 × (1 length + 3 × (1 + 4)) = 33.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct Grid {
    #[session(max_len = 2, each(max_len = 3, each(max_len = 4)))]
    pub(crate) cells: Vec<Vec<String>>,
}

/// A user's struct with bounded fields: (1 + 40) + (1 + 2 × (1 + 10)) + 5 = 69.
#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Default)]
pub(crate) struct Address {
    #[session(max_len = 40)]
    pub(crate) street: String,
    #[session(max_len = 2, each(max_len = 10))]
    pub(crate) extra: Vec<String>,
    pub(crate) zip: [u8; 5],
}

/// A tuple struct: 1 length + 3 × (1 + 8) = 28.
#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Default)]
pub(crate) struct Tags(#[session(max_len = 3, each(max_len = 8))] pub(crate) Vec<String>);

/// An enum: 1 tag byte (3 variants) + the largest variant, `Email` with 1 + 64 = 65: 66.
/// (`Phone` is 1 + 2 × ((1 + 4) + (1 + 16)) = 45.)
#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Default)]
pub(crate) enum Contact {
    #[default]
    None,
    Email(#[session(max_len = 64)] String),
    Phone {
        #[session(max_len = 2, key(max_len = 4), value(max_len = 16))]
        numbers: BTreeMap<String, String>,
    },
}

/// Users' own types as fields: 69 + 28 + 66 + (1 + 2 × 66) = 296.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
pub(crate) struct Profile {
    pub(crate) address: Address,
    pub(crate) tags: Tags,
    pub(crate) contact: Contact,
    #[session(max_len = 2)]
    pub(crate) more: Vec<Contact>,
}

pub(crate) fn assert_worst_cases() {
    assert_eq!(OptionString::MAX_ENCODED_LEN, Some(10));
    assert_eq!(OptionVec::MAX_ENCODED_LEN, Some(34));
    assert_eq!(VecString::MAX_ENCODED_LEN, Some(52));
    assert_eq!(VecBytes::MAX_ENCODED_LEN, Some(67));
    assert_eq!(MapStringU32::MAX_ENCODED_LEN, Some(4866));
    assert_eq!(MapStringBytes::MAX_ENCODED_LEN, Some(329));
    assert_eq!(Sets::MAX_ENCODED_LEN, Some(112));
    assert_eq!(BoxStr::MAX_ENCODED_LEN, Some(21));
    assert_eq!(NestedOption::MAX_ENCODED_LEN, Some(9));
    assert_eq!(ArrayString::MAX_ENCODED_LEN, Some(39));
    assert_eq!(Grid::MAX_ENCODED_LEN, Some(33));
    assert_eq!(<Address as Bounded>::MAX_ENCODED_LEN, 69);
    assert_eq!(<Tags as Bounded>::MAX_ENCODED_LEN, 28);
    assert_eq!(<Contact as Bounded>::MAX_ENCODED_LEN, 66);
    assert_eq!(Profile::MAX_ENCODED_LEN, Some(296));
}

fn main() {
    assert_worst_cases();
}

//! What the derive generates, checked at run time: worst cases against postcard, the version
//! chain, fingerprints, budgets and the `max_len` checks.

mod common;

use common::{CartV1, CartV2, CartV3, Item};
use serde::{Deserialize, Serialize};
use session_runtime::{Bounded, BoundsError, Budget, CookieSession, SessionBound};

#[test]
fn worst_case_is_exact_for_maximal_values() {
    // u64: 10; 32 items of (u32: 5, u16: 3) with a 1-byte length; 64 bytes of note with 1.
    assert_eq!(CartV2::MAX_ENCODED_LEN, Some(10 + 1 + 32 * 8 + 1 + 64));
    let full = CartV2 {
        user_id: u64::MAX,
        items: vec![
            Item {
                sku: u32::MAX,
                qty: u16::MAX
            };
            32
        ],
        note: "x".repeat(64),
    };
    full.check_bounds().expect("within bounds");
    let encoded = postcard::to_allocvec(&full).expect("encode");
    assert_eq!(Some(encoded.len()), CartV2::MAX_ENCODED_LEN);
    // No budget, no compile-time worst case.
    assert_eq!(CartV1::MAX_ENCODED_LEN, None);
}

#[test]
fn versions_and_names_follow_the_chain() {
    assert_eq!((CartV1::VERSION, CartV1::OLDEST_VERSION), (1, 1));
    assert_eq!((CartV2::VERSION, CartV2::OLDEST_VERSION), (2, 1));
    assert_eq!((CartV3::VERSION, CartV3::OLDEST_VERSION), (3, 1));
    assert_eq!(CartV3::NAME, "CartV3");
}

#[test]
fn fingerprints_are_stable_and_follow_the_fields() {
    // Snapshots: a change here means the wire format of a test schema changed.
    assert_eq!(CartV1::FINGERPRINT.len(), 16);
    assert!(CartV1::FINGERPRINT.bytes().all(|b| b.is_ascii_hexdigit()));
    let all = [
        CartV1::FINGERPRINT,
        CartV2::FINGERPRINT,
        CartV3::FINGERPRINT,
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }

    mod a {
        #[derive(session_runtime::CookieSession, serde::Serialize, serde::Deserialize)]
        #[session(version = 1)]
        pub(super) struct Cart {
            pub(super) x: u32,
        }
    }
    mod b {
        #[derive(session_runtime::CookieSession, serde::Serialize, serde::Deserialize)]
        #[session(version = 1)]
        pub(super) struct Cart {
            pub(super) x: u64,
        }
    }
    mod c {
        #[derive(session_runtime::CookieSession, serde::Serialize, serde::Deserialize)]
        #[session(version = 1, max_cookies = 1)]
        pub(super) struct Cart {
            pub(super) x: u32,
        }
    }
    mod d {
        #[derive(session_runtime::CookieSession, serde::Serialize, serde::Deserialize)]
        #[session(version = 2)]
        pub(super) struct Cart {
            pub(super) x: u32,
        }
    }
    assert_ne!(
        a::Cart::FINGERPRINT,
        b::Cart::FINGERPRINT,
        "field type changed"
    );
    assert_eq!(
        a::Cart::FINGERPRINT,
        c::Cart::FINGERPRINT,
        "a budget is not wire format"
    );
    assert_ne!(
        a::Cart::FINGERPRINT,
        d::Cart::FINGERPRINT,
        "version is part of it"
    );
}

#[test]
fn fingerprints_follow_the_bounds() {
    // A tighter bound can make old cookies fail to open, so it must change the fingerprint
    // (and so force a version bump with a migration), like a change of type does.
    macro_rules! cart {
        ($name:ident $(#[$bound:meta])?) => {
            mod $name {
                #[derive(session_runtime::CookieSession, serde::Serialize, serde::Deserialize)]
                #[session(version = 1)]
                pub(super) struct Cart {
                    $(#[$bound])?
                    pub(super) tags: Vec<String>,
                }
            }
        };
    }
    cart!(unbounded);
    cart!(len8 #[session(max_len = 8)]);
    cart!(len9 #[session(max_len = 9)]);
    cart!(each4 #[session(max_len = 8, each(max_len = 4))]);
    cart!(each5 #[session(max_len = 8, each(max_len = 5))]);
    cart!(each4_written_first #[session(each(max_len = 4), max_len = 8)]);
    let all = [
        unbounded::Cart::FINGERPRINT,
        len8::Cart::FINGERPRINT,
        len9::Cart::FINGERPRINT,
        each4::Cart::FINGERPRINT,
        each5::Cart::FINGERPRINT,
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b, "every bound is part of the fingerprint");
        }
    }
    assert_eq!(
        each4::Cart::FINGERPRINT,
        each4_written_first::Cart::FINGERPRINT,
        "the order keys are written in is not"
    );
}

#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Tagged {
    id: u16,
    #[session(max_len = 3)]
    tags: Vec<u8>,
}

#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[session(version = 1, budget = 2000)]
struct Nested {
    #[session(max_len = 2)]
    entries: Vec<Tagged>,
}

#[test]
fn bounds_are_checked_at_every_level() {
    let mut nested = Nested {
        entries: vec![Tagged {
            id: 1,
            tags: vec![1, 2, 3],
        }],
    };
    assert_eq!(nested.check_bounds(), Ok(()));

    nested.entries[0].tags.push(4);
    assert_eq!(
        nested.check_bounds(),
        Err(BoundsError {
            type_name: "Tagged",
            field: "tags",
            len: 4,
            max: 3,
            unit: "bytes",
        })
    );

    nested.entries[0].tags.pop();
    nested
        .entries
        .extend([nested.entries[0].clone(), nested.entries[0].clone()]);
    let err = nested.check_bounds().expect_err("three entries");
    assert_eq!(
        (err.type_name, err.field, err.len, err.max),
        ("Nested", "entries", 3, 2)
    );
    assert!(err.to_string().contains("max_len of 2"), "{err}");
}

#[derive(SessionBound, Serialize, Deserialize)]
enum Shape {
    Dot,
    Line(u8, u8),
    Label {
        #[session(max_len = 10)]
        text: String,
        size: u32,
    },
}

#[test]
fn enum_worst_case_is_the_largest_variant_plus_its_tag() {
    assert_eq!(<Shape as Bounded>::MAX_ENCODED_LEN, 1 + (1 + 10) + 5);
    let label = Shape::Label {
        text: "é".repeat(5),
        size: u32::MAX,
    };
    assert_eq!(
        postcard::to_allocvec(&label).expect("encode").len(),
        <Shape as Bounded>::MAX_ENCODED_LEN
    );
    let long = Shape::Label {
        text: "x".repeat(11),
        size: 0,
    };
    assert_eq!(long.check_bounds().expect_err("too long").field, "text");
    assert_eq!(Shape::Dot.check_bounds(), Ok(()));
    assert_eq!(Shape::Line(1, 2).check_bounds(), Ok(()));
}

mod budgets {
    use super::*;

    #[derive(CookieSession, Serialize, Deserialize)]
    #[session(version = 1, max_cookies = 2)]
    pub(super) struct Cookies {
        pub(super) x: u8,
    }

    #[derive(CookieSession, Serialize, Deserialize)]
    #[session(version = 1, budget = 1000)]
    pub(super) struct Bytes {
        pub(super) x: u8,
    }

    #[derive(CookieSession, Serialize, Deserialize)]
    #[session(version = 1, max_cookies = 2, budget = 1000)]
    pub(super) struct BothBytesTighter {
        pub(super) x: u8,
    }

    #[derive(CookieSession, Serialize, Deserialize)]
    #[session(version = 1, max_cookies = 1, budget = 100000)]
    pub(super) struct BothCookiesTighter {
        pub(super) x: u8,
    }
}

#[test]
fn budgets_take_the_tighter_of_both_keys() {
    assert_eq!(budgets::Cookies::BUDGET, Budget::Cookies(2));
    assert_eq!(budgets::Bytes::BUDGET, Budget::Bytes(1000));
    assert_eq!(budgets::BothBytesTighter::BUDGET, Budget::Bytes(1000));
    assert_eq!(budgets::BothCookiesTighter::BUDGET, Budget::Cookies(1));
    assert_eq!(CartV1::BUDGET, Budget::Unbounded);
}

#[test]
fn decode_refuses_trailing_bytes_and_unknown_versions() {
    let mut bytes = postcard::to_allocvec(&CartV1 {
        user_id: 7,
        items: vec![1],
    })
    .expect("encode");
    assert_eq!(CartV1::decode(1, &bytes).expect("decodes").user_id, 7);
    bytes.push(0);
    assert!(CartV1::decode(1, &bytes).is_err());
    assert!(matches!(
        CartV3::decode(9, &[]),
        Err(session_runtime::SchemaError::UnknownVersion {
            found: 9,
            newest: 3
        })
    ));
}

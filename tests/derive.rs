//! What the derive generates, checked at run time: worst cases against postcard, the version
//! chain, fingerprints, budgets and the `max_len` checks.

use serde::{Deserialize, Serialize};
use session_runtime::{Bounded, BoundsError, Budget, CookieSession, SessionBound};
use session_tests::{CartV1, CartV2, CartV3, Item};

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
fn the_schema_chain_links_every_version_with_its_constants() {
    let chain: Vec<_> = CartV3::SCHEMA.chain().collect();
    assert_eq!(
        chain
            .iter()
            .map(|v| (v.version, v.name))
            .collect::<Vec<_>>(),
        [(3, "CartV3"), (2, "CartV2"), (1, "CartV1")]
    );
    assert_eq!(*chain[1], CartV2::SCHEMA);
    assert_eq!(chain[1].fingerprint, CartV2::FINGERPRINT);
    assert_eq!(chain[1].max_encoded_len, CartV2::MAX_ENCODED_LEN);
    assert_eq!(chain[1].budget, CartV2::BUDGET);
    assert_eq!(chain[2].previous, None);
    assert_eq!(CartV1::PREVIOUS, None);
    assert_eq!(CartV3::PREVIOUS, Some(&CartV2::SCHEMA));
    // The oldest version read is the chain's end.
    assert_eq!(
        chain.last().map(|v| v.version),
        Some(CartV3::OLDEST_VERSION)
    );
}

#[test]
fn downgrade_writes_what_the_previous_version_holds() {
    use session_runtime::Downgrade;
    use session_tests::{AppV1, AppV2};

    let new = AppV2 {
        user: "ada".into(),
        items: vec![Item { sku: 7, qty: 3 }, Item { sku: 9, qty: 1 }],
        visits: 4,
    };
    let old: AppV1 = new.downgrade();
    assert_eq!(
        old,
        AppV1 {
            user: "ada".into(),
            items: vec![7, 9]
        }
    );
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

#[path = "ui-pass/bound_every_shape.rs"]
mod shapes;

mod every_shape {
    use super::shapes::*;
    use session_runtime::{BoundsError, CookieSession};

    fn text(len: usize) -> String {
        "x".repeat(len)
    }

    /// `len` bytes, different for every `i`.
    fn distinct(i: usize, len: usize) -> String {
        format!("{i:0len$}")
    }

    /// A maximal value passes its bounds and encodes to exactly the schema's worst case.
    fn assert_exact<T: CookieSession>(value: &T) {
        value
            .check_bounds()
            .expect("a maximal value is within its bounds");
        let len = postcard::to_allocvec(value).expect("encode").len();
        assert_eq!(Some(len), T::MAX_ENCODED_LEN, "{}", T::NAME);
    }

    fn broken(
        type_name: &'static str,
        field: &'static str,
        len: usize,
        max: usize,
        unit: &'static str,
    ) -> Result<(), BoundsError> {
        Err(BoundsError {
            type_name,
            field,
            len,
            max,
            unit,
        })
    }

    #[test]
    fn worst_cases_are_exact() {
        assert_worst_cases();
        let line = Line {
            sku: u32::MAX,
            qty: u16::MAX,
        };
        let email = Contact::Email(text(64));
        assert_exact(&OptionString {
            locale: Some(text(8)),
        });
        assert_exact(&OptionVec {
            lines: Some(vec![line; 4]),
        });
        assert_exact(&VecString {
            roles: vec![text(16); 3],
        });
        assert_exact(&VecBytes {
            keys: vec![vec![u8::MAX; 32]; 2],
        });
        assert_exact(&MapStringU32 {
            prefs: (0..128).map(|i| (distinct(i, 32), u32::MAX)).collect(),
        });
        assert_exact(&MapStringBytes {
            blobs: (0..4).map(|i| (distinct(i, 16), vec![1; 64])).collect(),
        });
        assert_exact(&Sets {
            sorted: (0..5).map(|i| distinct(i, 10)).collect(),
            hashed: (0..5).map(|i| distinct(i, 10)).collect(),
        });
        assert_exact(&BoxStr {
            name: text(20).into(),
        });
        assert_exact(&NestedOption {
            nick: Some(Some(text(6))),
        });
        assert_exact(&ArrayString {
            lines: [text(12), text(12), text(12)],
        });
        assert_exact(&Grid {
            cells: vec![vec![text(4); 3]; 2],
        });
        assert_exact(&Profile {
            address: Address {
                street: text(40),
                extra: vec![text(10); 2],
                zip: [u8::MAX; 5],
            },
            tags: Tags(vec![text(8); 3]),
            contact: email.clone(),
            more: vec![email; 2],
        });
    }

    #[test]
    fn every_bound_is_checked_and_named() {
        let locale = OptionString {
            locale: Some(text(9)),
        };
        assert_eq!(
            locale.check_bounds(),
            broken("OptionString", "locale", 9, 8, "bytes")
        );
        assert_eq!(
            locale.check_bounds().expect_err("too long").to_string(),
            "`OptionString.locale` holds 9 bytes, more than its max_len of 8"
        );
        assert_eq!(OptionString { locale: None }.check_bounds(), Ok(()));
        assert_eq!(
            OptionVec {
                lines: Some(vec![Line::default(); 5])
            }
            .check_bounds(),
            broken("OptionVec", "lines", 5, 4, "items")
        );
        assert_eq!(
            VecString {
                roles: vec![text(17)]
            }
            .check_bounds(),
            broken("VecString", "roles.each", 17, 16, "bytes")
        );
        assert_eq!(
            VecString {
                roles: vec![text(1); 4]
            }
            .check_bounds(),
            broken("VecString", "roles", 4, 3, "items")
        );
        assert_eq!(
            VecBytes {
                keys: vec![vec![0; 33]]
            }
            .check_bounds(),
            broken("VecBytes", "keys.each", 33, 32, "bytes")
        );
        assert_eq!(
            MapStringU32 {
                prefs: [(text(33), 1)].into()
            }
            .check_bounds(),
            broken("MapStringU32", "prefs.key", 33, 32, "bytes")
        );
        assert_eq!(
            MapStringU32 {
                prefs: (0..129).map(|i| (distinct(i, 3), 0)).collect()
            }
            .check_bounds(),
            broken("MapStringU32", "prefs", 129, 128, "entries")
        );
        assert_eq!(
            MapStringBytes {
                blobs: [(text(1), vec![0; 65])].into()
            }
            .check_bounds(),
            broken("MapStringBytes", "blobs.value", 65, 64, "bytes")
        );
        assert_eq!(
            Sets {
                sorted: [text(11)].into(),
                hashed: [].into()
            }
            .check_bounds(),
            broken("Sets", "sorted.each", 11, 10, "bytes")
        );
        assert_eq!(
            BoxStr {
                name: text(21).into()
            }
            .check_bounds(),
            broken("BoxStr", "name", 21, 20, "bytes")
        );
        assert_eq!(
            NestedOption {
                nick: Some(Some(text(7)))
            }
            .check_bounds(),
            broken("NestedOption", "nick", 7, 6, "bytes")
        );
        assert_eq!(NestedOption { nick: Some(None) }.check_bounds(), Ok(()));
        assert_eq!(
            ArrayString {
                lines: [text(13), text(0), text(0)]
            }
            .check_bounds(),
            broken("ArrayString", "lines.each", 13, 12, "bytes")
        );
        assert_eq!(
            Grid {
                cells: vec![vec![text(5)]]
            }
            .check_bounds(),
            broken("Grid", "cells.each.each", 5, 4, "bytes")
        );
        assert_eq!(
            Grid {
                cells: vec![vec![text(1); 4]]
            }
            .check_bounds(),
            broken("Grid", "cells.each", 4, 3, "items")
        );
    }

    #[test]
    fn bounds_inside_users_types_name_their_type() {
        let profile = |change: fn(&mut Profile)| {
            let mut profile = Profile::default();
            change(&mut profile);
            profile.check_bounds()
        };
        assert_eq!(profile(|_| ()), Ok(()));
        assert_eq!(
            profile(|p| p.address.extra = vec![text(11)]),
            broken("Address", "extra.each", 11, 10, "bytes")
        );
        let tuple = profile(|p| p.tags = Tags(vec![text(1); 4]));
        assert_eq!(tuple, broken("Tags", "0", 4, 3, "items"));
        assert_eq!(
            tuple.expect_err("four tags").to_string(),
            "`Tags.0` holds 4 items, more than its max_len of 3"
        );
        assert_eq!(
            profile(|p| p.contact = Contact::Email(text(65))),
            broken("Contact::Email", "0", 65, 64, "bytes")
        );
        assert_eq!(
            profile(|p| {
                p.contact = Contact::Phone {
                    numbers: [(text(5), text(1))].into(),
                }
            }),
            broken("Contact::Phone", "numbers.key", 5, 4, "bytes")
        );
        assert_eq!(
            profile(|p| p.more = vec![Contact::None; 3]),
            broken("Profile", "more", 3, 2, "items")
        );
        assert_eq!(
            profile(|p| p.more = vec![Contact::Email(text(65))]),
            broken("Contact::Email", "0", 65, 64, "bytes")
        );
    }
}

mod shadow {
    use serde::{Deserialize, Serialize};
    use session_runtime::SessionBound;

    /// A user's own type that happens to be called `Option`: it has bounds to check.
    #[derive(SessionBound, Serialize, Deserialize, Default, Debug)]
    pub(crate) struct Option<T> {
        #[session(max_len = 2)]
        pub(crate) items: Vec<T>,
    }
}

#[derive(CookieSession, Serialize, Deserialize, Default, Debug)]
#[session(version = 1, max_cookies = 1)]
struct UsesShadow {
    list: shadow::Option<u8>,
}

#[test]
fn a_type_named_option_that_is_not_the_prelude_one_is_still_checked() {
    let fits = UsesShadow {
        list: shadow::Option { items: vec![1, 2] },
    };
    assert!(fits.check_bounds().is_ok());
    let over = UsesShadow {
        list: shadow::Option {
            items: vec![1, 2, 3],
        },
    };
    assert!(
        over.check_bounds().is_err(),
        "the shadowing type's bound was skipped"
    );
}

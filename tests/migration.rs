//! Sessions written by older schema versions migrate; newer ones are refused with a typed error.

use session_runtime::{CookieSession, OpenError, SchemaError};
use session_tests::{CartV1, CartV2, CartV3, Currency, Item, NOW, codec, meta};

fn v1() -> CartV1 {
    CartV1 {
        user_id: 42,
        items: vec![7, 8],
    }
}

#[test]
fn chain_metadata() {
    assert_eq!(
        (CartV1::VERSION, CartV2::VERSION, CartV3::VERSION),
        (1, 2, 3)
    );
    assert_eq!(
        (
            CartV1::OLDEST_VERSION,
            CartV2::OLDEST_VERSION,
            CartV3::OLDEST_VERSION
        ),
        (1, 1, 1)
    );
    assert_eq!(CartV3::NAME, "CartV3");
}

#[test]
fn v1_and_v2_cookies_migrate_to_v3_and_ask_for_a_reseal() {
    let codec = codec("session", 3);
    let meta = meta();
    let from_v1 = codec.seal(&v1(), &meta).expect("seal v1").cookie_header();
    let opened = codec
        .open::<CartV3>(&from_v1, NOW)
        .expect("opens")
        .expect("some");
    assert_eq!(
        opened.value,
        CartV3 {
            user_id: 42,
            items: vec![Item { sku: 7, qty: 1 }, Item { sku: 8, qty: 1 }],
            note: String::new(),
            currency: Currency::Eur,
            coupon: None,
        }
    );
    assert_eq!(opened.reseal.migrated_from, Some(1));
    assert_eq!(
        opened.meta, meta,
        "migration keeps the session id and timestamps"
    );

    let v2 = CartV2 {
        user_id: 9,
        items: vec![Item { sku: 1, qty: 3 }],
        note: "gift".into(),
    };
    let from_v2 = codec.seal(&v2, &meta).expect("seal v2").cookie_header();
    let opened = codec
        .open::<CartV3>(&from_v2, NOW)
        .expect("opens")
        .expect("some");
    assert_eq!(opened.value.note, "gift");
    assert_eq!(opened.value.items, v2.items);
    assert_eq!(opened.reseal.migrated_from, Some(2));

    // The middle of the chain reads v1 too.
    let opened = codec
        .open::<CartV2>(&from_v1, NOW)
        .expect("opens")
        .expect("some");
    assert_eq!(opened.value, CartV2::from(v1()));

    // The current version is not flagged.
    let current = codec
        .seal(&opened.value, &meta)
        .expect("seal")
        .cookie_header();
    let again = codec
        .open::<CartV2>(&current, NOW)
        .expect("opens")
        .expect("some");
    assert!(!again.reseal.needed());
}

#[test]
fn a_newer_version_is_refused_with_the_typed_error() {
    let codec = codec("session", 3);
    let meta = meta();
    let from_v3 = codec
        .seal(&CartV3::default(), &meta)
        .expect("seal")
        .cookie_header();
    assert_eq!(
        codec.open::<CartV2>(&from_v3, NOW),
        Err(OpenError::Schema(SchemaError::UnknownVersion {
            found: 3,
            newest: 2
        }))
    );
    assert_eq!(
        codec.open::<CartV1>(&from_v3, NOW),
        Err(OpenError::Schema(SchemaError::UnknownVersion {
            found: 3,
            newest: 1
        }))
    );
}

#[test]
fn decode_walks_the_chain_directly() {
    let bytes = postcard::to_allocvec(&v1()).expect("encode");
    let v3 = CartV3::decode(1, &bytes).expect("v1 bytes decode as v3");
    assert_eq!(v3.user_id, 42);
    assert!(matches!(
        CartV3::decode(0, &bytes),
        Err(SchemaError::UnknownVersion { found: 0, .. })
    ));
    assert!(matches!(
        CartV3::decode(4, &bytes),
        Err(SchemaError::UnknownVersion {
            found: 4,
            newest: 3
        })
    ));
    let mut junk = bytes.clone();
    junk.push(0);
    assert!(matches!(
        CartV1::decode(1, &junk),
        Err(SchemaError::Decode {
            type_name: "CartV1",
            version: 1
        })
    ));
}

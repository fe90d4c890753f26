//! Property tests: whatever a schema can hold seals and opens back to the same value, under
//! any valid configuration, and never beyond the worst case the derive computed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use session_runtime::{Codec, CookieSession, Padding, SessionId, SessionMeta};
use session_tests::{CartV3, Currency, Item, codec, settings};

/// Every kind of field the derive bounds, under a byte budget.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[session(version = 1, budget = 7000)]
struct Kitchen {
    small: u8,
    wide: i128,
    flag: bool,
    letter: char,
    ratio: f64,
    pair: (u16, i32),
    fixed: [u8; 5],
    maybe: Option<u64>,
    #[session(max_len = 24)]
    name: String,
    #[session(max_len = 8)]
    tags: BTreeSet<u32>,
    #[session(max_len = 6)]
    counts: BTreeMap<u8, i64>,
    #[session(max_len = 4)]
    scores: HashMap<u16, Currency>,
    #[session(max_len = 10)]
    items: Vec<Item>,
}

/// No budget: nothing bounded at compile time, only the sealed size at run time.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[session(version = 7)]
struct Loose {
    words: Vec<String>,
    nested: Vec<Vec<u8>>,
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::Eur),
        Just(Currency::Usd),
        any::<[u8; 3]>().prop_map(Currency::Other)
    ]
}

fn item() -> impl Strategy<Value = Item> {
    (any::<u32>(), any::<u16>()).prop_map(|(sku, qty)| Item { sku, qty })
}

fn cart() -> impl Strategy<Value = CartV3> {
    (
        any::<u64>(),
        prop::collection::vec(item(), 0..=300),
        "\\PC{0,1000}",
        currency(),
        any::<Option<[u8; 8]>>(),
    )
        .prop_map(|(user_id, items, note, currency, coupon)| CartV3 {
            user_id,
            items,
            note,
            currency,
            coupon,
        })
}

fn kitchen() -> impl Strategy<Value = Kitchen> {
    (
        (
            any::<u8>(),
            any::<i128>(),
            any::<bool>(),
            any::<char>(),
            -1e300f64..1e300,
        ),
        (
            any::<(u16, i32)>(),
            any::<[u8; 5]>(),
            any::<Option<u64>>(),
            "\\PC{0,6}",
        ),
        (
            prop::collection::btree_set(any::<u32>(), 0..=8),
            prop::collection::btree_map(any::<u8>(), any::<i64>(), 0..=6),
            prop::collection::hash_map(any::<u16>(), currency(), 0..=4),
            prop::collection::vec(item(), 0..=10),
        ),
    )
        .prop_map(
            |(
                (small, wide, flag, letter, ratio),
                (pair, fixed, maybe, name),
                (tags, counts, scores, items),
            )| Kitchen {
                small,
                wide,
                flag,
                letter,
                ratio,
                pair,
                fixed,
                maybe,
                name,
                tags,
                counts,
                scores,
                items,
            },
        )
}

fn codecs() -> impl Strategy<Value = Codec> {
    (
        "[a-z][a-z0-9_-]{0,15}",
        3u8..=6,
        prop_oneof![
            Just(Padding::None),
            (16usize..=256).prop_map(|q| Padding::Bucket(q * 4))
        ],
        any::<bool>(),
    )
        .prop_map(|(name, max, padding, persistent)| {
            let settings = settings(&name, max).with_padding(padding);
            let settings = if persistent {
                settings.with_persistent(Duration::from_secs(86_400))
            } else {
                settings.with_browser_session()
            };
            settings.build_codec().expect("valid settings")
        })
}

fn meta() -> impl Strategy<Value = SessionMeta> {
    (
        any::<[u8; 16]>(),
        1_600_000_000u32..2_000_000_000,
        0u32..600,
    )
        .prop_map(|(id, issued, idle)| SessionMeta {
            id: SessionId(id),
            issued_at: issued,
            last_access: issued + idle,
        })
}

fn round_trip<T: CookieSession + PartialEq + std::fmt::Debug>(
    codec: Codec,
    value: &T,
    meta: &SessionMeta,
) -> Result<(), TestCaseError> {
    let sealed = codec.seal(value, meta).expect("fits");
    for h in &sealed.headers {
        prop_assert!(h.len() <= 4096);
    }
    if let Some(worst) = T::MAX_ENCODED_LEN {
        let payload = postcard::to_allocvec(value).expect("encode").len();
        prop_assert!(payload <= worst, "{payload} > worst case {worst}");
    }
    let cookie = sealed.cookie_header();
    let opened = codec
        .open::<T>(&cookie, meta.last_access)
        .expect("opens")
        .expect("a session");
    prop_assert_eq!(&opened.value, value);
    prop_assert_eq!(&opened.meta, meta);
    prop_assert!(!opened.reseal.needed());
    prop_assert_eq!(opened.chunks, sealed.chunks);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn carts_round_trip(codec in codecs(), cart in cart(), meta in meta()) {
        round_trip(codec, &cart, &meta)?;
    }

    #[test]
    fn every_field_kind_round_trips(codec in codecs(), value in kitchen(), meta in meta()) {
        round_trip(codec, &value, &meta)?;
    }

    #[test]
    fn unbounded_schemas_round_trip(
        words in prop::collection::vec("\\PC{0,20}", 0..50),
        nested in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..20),
        meta in meta(),
    ) {
        round_trip(codec("loose", 4), &Loose { words, nested }, &meta)?;
    }
}

#[test]
fn worst_case_is_exact_for_a_full_value() {
    let full = Kitchen {
        small: u8::MAX,
        wide: i128::MIN,
        flag: true,
        letter: char::MAX,
        ratio: f64::MAX,
        pair: (u16::MAX, i32::MIN),
        fixed: [0xFF; 5],
        maybe: Some(u64::MAX),
        name: "é".repeat(12),
        tags: (u32::MAX - 7..=u32::MAX).collect(),
        counts: (0..6).map(|k| (u8::MAX - k, i64::MIN)).collect(),
        scores: (0..4)
            .map(|k| (u16::MAX - k, Currency::Other([0xFF; 3])))
            .collect(),
        items: vec![
            Item {
                sku: u32::MAX,
                qty: u16::MAX
            };
            10
        ],
    };
    let encoded = postcard::to_allocvec(&full).expect("encode").len();
    assert_eq!(Some(encoded), Kitchen::MAX_ENCODED_LEN);
    assert_eq!(Loose::MAX_ENCODED_LEN, None);
}

//! Golden cookies: sealed values checked in under `tests/golden/`, which every future release
//! must keep opening to the same data. One file per schema version used in the tests, plus a
//! three-cookie session, a padded one, and a flash cookie.
//!
//! A missing file is written by `GOLDEN_BLESS=1 cargo test -p session-tests --test golden`;
//! existing files are never rewritten.
//!
//! The last test reads a golden cookie by hand, following `docs/FORMAT.md` and using the AEAD,
//! HKDF and postcard crates directly, so the document and the code cannot drift apart.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_runtime::{
    Codec, CookieSession, FlashMessage, Level, ManualClock, Opened, Padding, SessionId,
    SessionLayerBuilder, SessionMeta,
};
use session_tests::{
    AppV2, CartV1, CartV2, CartV3, Currency, Item, at, big_cart, cart_v3_from_v2, get_with_cookie,
    golden_key, loopback, set_cookies, settings, start,
};

/// When every golden cookie was sealed.
const SEALED_AT: u32 = 1_763_800_000;

fn meta() -> SessionMeta {
    SessionMeta {
        id: SessionId(*b"golden-session-1"),
        issued_at: SEALED_AT,
        last_access: SEALED_AT + 5,
    }
}

/// The settings the golden cookies were sealed with: no timeouts, so they open at any date.
fn timeless(name: &str, max_cookies: u8) -> SessionLayerBuilder<CartV3> {
    settings(name, max_cookies)
        .with_idle_timeout(None)
        .with_absolute_timeout(None)
}

fn codec() -> Codec {
    timeless("session", 4).build_codec().expect("settings")
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(name)
}

/// Reads a golden `Cookie` header, writing it first when blessing a new one.
fn golden<T: CookieSession>(name: &str, codec: &Codec, value: &T) -> String {
    let file = path(name);
    if !file.exists() && std::env::var_os("GOLDEN_BLESS").is_some() {
        let header = codec.seal(value, &meta()).expect("seal").cookie_header();
        std::fs::write(&file, format!("{header}\n")).expect("write golden file");
    }
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with GOLDEN_BLESS=1)", file.display()))
        .trim_end()
        .to_owned()
}

fn open<T: CookieSession>(codec: &Codec, header: &str) -> Opened<T> {
    codec
        .open::<T>(header, SEALED_AT + 10)
        .expect("golden cookie opens")
        .expect("golden cookie holds a session")
}

fn v1() -> CartV1 {
    CartV1 {
        user_id: 1815,
        items: vec![3, 1, 4, 1, 5],
    }
}

fn v2() -> CartV2 {
    CartV2 {
        user_id: 4_294_967_377,
        items: vec![Item { sku: 1000, qty: 2 }, Item { sku: 1001, qty: 3 }],
        note: "ring at the back".into(),
    }
}

fn v3() -> CartV3 {
    CartV3 {
        user_id: 7,
        items: vec![Item { sku: 42, qty: 1 }],
        note: "Grüße".into(),
        currency: Currency::Other(*b"CHF"),
        coupon: Some(*b"SPRING26"),
    }
}

#[test]
fn v1_golden_opens_as_v1_and_migrates() {
    let header = golden("cart-v1.cookie", &codec(), &v1());
    let opened = open::<CartV1>(&codec(), &header);
    assert_eq!(opened.value, v1());
    assert_eq!(opened.meta, meta());
    let migrated = open::<CartV3>(&codec(), &header);
    assert_eq!(migrated.value, cart_v3_from_v2(CartV2::from(v1())));
    assert_eq!(migrated.reseal.migrated_from, Some(1));
}

#[test]
fn v2_golden_opens_as_v2_and_migrates() {
    let header = golden("cart-v2.cookie", &codec(), &v2());
    assert_eq!(open::<CartV2>(&codec(), &header).value, v2());
    let migrated = open::<CartV3>(&codec(), &header);
    assert_eq!(migrated.value, cart_v3_from_v2(v2()));
    assert_eq!(migrated.reseal.migrated_from, Some(2));
}

#[test]
fn v3_golden_opens() {
    let header = golden("cart-v3.cookie", &codec(), &v3());
    let opened = open::<CartV3>(&codec(), &header);
    assert_eq!(opened.value, v3());
    assert!(!opened.reseal.needed());
}

#[test]
fn three_cookie_golden_opens() {
    let header = golden("cart-v3-three-cookies.cookie", &codec(), &big_cart());
    assert_eq!(header.matches("; ").count(), 2, "three cookies");
    let opened = open::<CartV3>(&codec(), &header);
    assert_eq!(opened.value, big_cart());
    assert_eq!(opened.chunks, 3);
}

#[test]
fn padded_golden_opens() {
    let padded = timeless("session", 4)
        .with_padding(Padding::Bucket(512))
        .build_codec()
        .expect("settings");
    let header = golden("cart-v3-padded.cookie", &padded, &v3());
    assert_eq!(header.len() - "session=".len(), 512);
    // Padding is self-describing: a reader configured without padding opens it too.
    assert_eq!(open::<CartV3>(&codec(), &header).value, v3());
    assert_eq!(open::<CartV3>(&padded, &header).value, v3());
}

/// Opens the v2 golden cookie with nothing but `docs/FORMAT.md` and the primitive crates.
#[test]
fn format_document_matches_the_golden_bytes() {
    use aes_gcm_siv::aead::AeadInOut;
    use aes_gcm_siv::{Aes256GcmSiv, KeyInit, Nonce, Tag};

    let header = golden("cart-v2.cookie", &codec(), &v2());
    let value = header
        .strip_prefix("session=")
        .expect("one cookie named session");
    let mut envelope = URL_SAFE_NO_PAD.decode(value).expect("unpadded base64url");

    let master: Vec<u8> = (0u8..32).map(|b| b ^ 0x5a).collect();
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, &master);
    let mut key_id = [0u8; 1];
    hk.expand(b"session-runtime v1 key id", &mut key_id)
        .expect("hkdf");
    let mut seal_key = [0u8; 32];
    hk.expand(
        b"session-runtime v1 AES-256-GCM-SIV seal key",
        &mut seal_key,
    )
    .expect("hkdf");

    assert_eq!(envelope[0], 1, "format byte");
    assert_eq!(envelope[1], key_id[0], "key id");
    assert_eq!(envelope[2], 1, "chunk count");
    assert_eq!(&URL_SAFE_NO_PAD.encode(&envelope[..3]), &value[..4]);

    let mut ad = envelope[..3].to_vec();
    ad.extend_from_slice(b"session");
    let (head, rest) = envelope.split_at_mut(15);
    let (body, tag) = rest.split_at_mut(rest.len() - 16);
    let cipher = Aes256GcmSiv::new_from_slice(&seal_key).expect("key");
    let nonce = Nonce::try_from(&head[3..15]).expect("nonce");
    let tag = Tag::try_from(&*tag).expect("tag");
    cipher
        .decrypt_inout_detached(&nonce, &ad, (&mut *body).into(), &tag)
        .expect("authentic");

    assert_eq!(u16::from_le_bytes([body[0], body[1]]), 2, "schema version");
    assert_eq!(body[2], 0, "flags");
    assert_eq!(&body[3..19], b"golden-session-1");
    assert_eq!(
        u32::from_le_bytes(body[19..23].try_into().expect("4")),
        SEALED_AT
    );
    assert_eq!(
        u32::from_le_bytes(body[23..27].try_into().expect("4")),
        SEALED_AT + 5
    );
    let payload: CartV2 = postcard::from_bytes(&body[27..]).expect("postcard payload");
    assert_eq!(payload, v2());
    assert_eq!(postcard::to_allocvec(&v2()).expect("encode"), &body[27..]);
}

/// The flash cookie's payload as `docs/FORMAT.md` describes it: a mirror of the runtime's
/// private flash bag, used here only to write the golden file.
#[derive(CookieSession, serde::Serialize, serde::Deserialize)]
#[session(version = 1, max_cookies = 1)]
struct FlashBagV1 {
    #[session(max_len = 4)]
    messages: Vec<FlashMessage>,
}

/// The middleware still shows the messages of a flash cookie written to the documented layout.
#[tokio::test]
async fn the_golden_flash_cookie_still_shows_its_messages() {
    let bag = FlashBagV1 {
        messages: vec![
            FlashMessage {
                level: Level::Success,
                text: "Saved!".into(),
            },
            FlashMessage {
                level: Level::Error,
                text: "Not saved: ünïcödé ✓".into(),
            },
        ],
    };
    let flash_codec = timeless("session_flash", 1)
        .build_codec()
        .expect("settings");
    let header = golden("flash-v1.cookie", &flash_codec, &bag);

    // The flash cookie lives 10 minutes from its issue time.
    let layer = loopback::<AppV2>(golden_key())
        .with_clock(ManualClock::new(SEALED_AT + 60))
        .build()
        .expect("layer");
    let (url, server) = start(layer).await;
    let response = get_with_cookie(&reqwest::Client::new(), at(&url, "flashes"), &header).await;
    let removal = set_cookies(&response)
        .iter()
        .any(|v| v.starts_with("session_flash=; Max-Age=0"));
    let body = response.text().await.expect("body");
    server.abort();
    assert_eq!(body, "success:Saved!|error:Not saved: ünïcödé ✓");
    assert!(removal, "taken flashes remove their cookie");
}

//! The bodies of the fuzz targets, one public function per target, each using only the
//! runtime's public API (`Codec`, `SessionLayer`, `Key`, the schema trait) so the targets keep
//! working while the runtime's internals move. `fuzz_targets/*.rs` only call these; the replay
//! test (`tests/replay.rs`) runs the checked-in corpora and regressions through them on a
//! plain `cargo test`.
//!
//! Every target asserts more than "no panic" where a property is cheap to state: a session that
//! opens re-seals and opens to the same value; a schema value that decodes re-encodes and
//! decodes to itself; the service never answers 500, and what it writes it can read back.

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use serde::Serialize;
use session_runtime::{
    BadCookiePolicy, Codec, CookieSession, Level, ManualClock, Opened, Padding, Session,
    SessionError, SessionLayer, SessionLayerBuilder,
};
use tower::ServiceExt as _;

/// The integration tests' schemas and fixed keys, shared with the tests rather than copied so
/// the two cannot drift.
pub use session_tests::{AppV1, AppV2, CartV1, CartV2, CartV3, Item, big_cart, golden_key};

/// When the golden cookies (`tests/golden/`) were sealed; the targets' clocks stand just after.
pub const SEALED_AT: u32 = 1_763_800_000;
/// The time the codec targets open at: the golden cookies are live then.
pub const NOW: u32 = SEALED_AT + 10;

/// The golden cookies' settings: `session`, up to 4 cookies, no timeouts.
pub fn golden_settings() -> SessionLayerBuilder<CartV3> {
    SessionLayer::<CartV3>::builder(golden_key())
        .with_max_cookies(4)
        .with_idle_timeout(None)
        .with_absolute_timeout(None)
}

/// Codecs the cookie targets open through, with whether an opened session must re-seal within
/// the budget (only without padding: padding can push a session that fit over the budget).
static CODECS: LazyLock<Vec<(Codec, bool)>> = LazyLock::new(|| {
    vec![
        (
            golden_settings()
                .build_codec()
                .expect("golden settings are valid"),
            true,
        ),
        // Default timeouts and a padded, tighter configuration: other branches of the same
        // pipeline (expiry, padding on re-seal, three cookies at most).
        (
            SessionLayer::<CartV3>::builder(golden_key())
                .with_max_cookies(3)
                .with_padding(Padding::Bucket(512))
                .build_codec()
                .expect("padded settings are valid"),
            false,
        ),
    ]
});

/// (a) An arbitrary `Cookie` header, as bytes, opened as a three-cookie schema: cookie parsing,
/// chunk reassembly, base64, the envelope and the payload.
pub fn cookie_header(data: &[u8]) {
    open_everywhere(data);
}

/// (b) Envelope bytes behind a valid-looking prefix, as one or more cookie values.
///
/// The first byte chooses the mode and the chunk count. Even: the rest is nonce, ciphertext and
/// tag, so opening must reject it without the key. Odd: the rest is a *plaintext* (sealed
/// header, payload, padding), sealed here with the golden key as `docs/FORMAT.md` describes, so
/// the fuzzer gets past authentication into everything that parses decrypted bytes.
pub fn envelope(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let count = 1 + (mode >> 1) % 4;
    let envelope = if mode & 1 == 1 {
        seal_plaintext(rest, count, "session")
    } else {
        let mut envelope = vec![1, golden_key().id(), count];
        envelope.extend_from_slice(rest);
        envelope
    };
    let value = URL_SAFE_NO_PAD.encode(&envelope);
    let header = split_into_cookies("session", &value, count);
    open_everywhere(header.as_bytes());
}

/// (c) Arbitrary bytes decoded as every version of every schema the tests use.
pub fn payload(data: &[u8]) {
    decode_all::<CartV1>(data);
    decode_all::<CartV2>(data);
    decode_all::<CartV3>(data);
    decode_all::<AppV1>(data);
    decode_all::<AppV2>(data);
}

/// (d) A `Cookie` header that starts with a `session_flash=` cookie, through the whole service
/// on the route that takes the flashes.
pub fn flash(data: &[u8]) {
    let mut cookie = b"session_flash=".to_vec();
    cookie.extend_from_slice(data);
    let Ok(value) = HeaderValue::from_bytes(&cookie) else {
        return;
    };
    let mut request = Request::get("/flashes")
        .body(Body::empty())
        .expect("request");
    request.headers_mut().insert(http::header::COOKIE, value);
    check_service(&SERVICES[0], request);
}

/// (e) Arbitrary request headers through `SessionLayer` around a small router.
///
/// The first byte picks the route (and method) and the bad-cookie policy; each following line
/// is one header, `name: value`. Lines that are not a valid header are dropped, as a server's
/// parser would refuse them before the service sees them.
pub fn service(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (method, path) = &ROUTES[usize::from(selector & 0x0f) % ROUTES.len()];
    let service = &SERVICES[usize::from(selector >> 7)];
    let mut request = Request::builder()
        .method(method.clone())
        .uri(*path)
        .body(Body::empty())
        .expect("request");
    for line in rest.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            request.headers_mut().append(name, value);
        }
    }
    check_service(service, request);
}

/// Opens the header through every codec; what opens must re-seal and open to the same session.
fn open_everywhere(header: &[u8]) {
    for (codec, must_fit) in CODECS.iter() {
        if let Ok(Some(opened)) = codec.open::<CartV3>(header, NOW) {
            reseal_and_reopen(codec, &opened, *must_fit);
        }
    }
}

fn reseal_and_reopen<T>(codec: &Codec, opened: &Opened<T>, must_fit: bool)
where
    T: CookieSession + PartialEq + std::fmt::Debug,
{
    // A cookie over its schema's bounds is refused when opened (issue 11, item 3).
    if let Err(e) = opened.value.check_bounds() {
        panic!("opened a session outside its bounds: {e}: {opened:?}");
    }
    match codec.seal(&opened.value, &opened.meta) {
        Ok(sealed) => {
            let header = sealed.cookie_header();
            let again = codec
                .open::<T>(&header, NOW)
                .unwrap_or_else(|e| panic!("a re-sealed session does not open: {e}: {header}"))
                .expect("a re-sealed session is there");
            assert_eq!(again.value, opened.value, "value changed by a round trip");
            assert_eq!(again.meta, opened.meta, "meta changed by a round trip");
        }
        // Migration can grow a session past the budget it fitted as an older version.
        Err(SessionError::TooLarge { .. })
            if !must_fit || opened.reseal.migrated_from.is_some() => {}
        Err(e) => panic!("a session that opened cannot be re-sealed: {e}: {opened:?}"),
    }
}

/// Decodes `bytes` as each version `T` knows, one below and one above; a value that decodes
/// must re-encode and decode as the current version to itself.
fn decode_all<T>(bytes: &[u8])
where
    T: CookieSession + Serialize + PartialEq + std::fmt::Debug,
{
    for version in 0..=T::VERSION + 1 {
        let Ok(value) = T::decode(version, bytes) else {
            continue;
        };
        assert!(
            (1..=T::VERSION).contains(&version),
            "{} decoded an unknown version {version}",
            T::NAME
        );
        let encoded = postcard::to_allocvec(&value).expect("a decoded value encodes");
        let again = T::decode(T::VERSION, &encoded)
            .unwrap_or_else(|e| panic!("{} re-encoded value does not decode: {e}", T::NAME));
        assert_eq!(again, value, "{} changed by a round trip", T::NAME);
    }
}

/// Seals `plaintext` (the sealed header and what follows it) under the golden key, as
/// `docs/FORMAT.md` specifies: HKDF-SHA256 seal key, AES-256-GCM-SIV, associated data = the
/// three prefix bytes then the cookie name. The nonce is fixed: this is test input, not a
/// session.
pub fn seal_plaintext(plaintext: &[u8], count: u8, cookie_name: &str) -> Vec<u8> {
    use aes_gcm_siv::aead::AeadInOut;
    use aes_gcm_siv::{Aes256GcmSiv, KeyInit, Nonce};

    static CIPHER: LazyLock<Aes256GcmSiv> = LazyLock::new(|| {
        let master: Vec<u8> = (0u8..32).map(|b| b ^ 0x5a).collect();
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, &master);
        let mut seal_key = [0u8; 32];
        hk.expand(
            b"session-runtime v1 AES-256-GCM-SIV seal key",
            &mut seal_key,
        )
        .expect("32 bytes is a valid HKDF output length");
        Aes256GcmSiv::new_from_slice(&seal_key).expect("a 32-byte key")
    });

    let prefix = [1, golden_key().id(), count];
    let nonce = [0x24u8; 12];
    let mut envelope = Vec::with_capacity(3 + 12 + plaintext.len() + 16);
    envelope.extend_from_slice(&prefix);
    envelope.extend_from_slice(&nonce);
    envelope.extend_from_slice(plaintext);
    let mut ad = prefix.to_vec();
    ad.extend_from_slice(cookie_name.as_bytes());
    let tag = CIPHER
        .encrypt_inout_detached(&Nonce::from(nonce), &ad, (&mut envelope[15..]).into())
        .expect("a fuzz input is within AES-GCM-SIV limits");
    envelope.extend_from_slice(tag.as_slice());
    envelope
}

/// `name=…; name.1=…; …`: `value` cut into `count` nearly equal pieces, each but the last a
/// whole number of base64 quanta, as the runtime writes them.
pub fn split_into_cookies(name: &str, value: &str, count: u8) -> String {
    let count = usize::from(count.max(1));
    let per = value.len().div_ceil(count).next_multiple_of(4).max(4);
    let mut pieces: Vec<&str> = value
        .as_bytes()
        .chunks(per)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    pieces.resize(count, "");
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| match i {
            0 => format!("{name}={piece}"),
            i => format!("{name}.{i}={piece}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Routes of the service target: every way a handler touches a session.
const ROUTES: [(Method, &str); 10] = [
    (Method::GET, "/read"),
    (Method::POST, "/update"),
    (Method::POST, "/login"),
    (Method::POST, "/flash"),
    (Method::GET, "/flashes"),
    (Method::POST, "/clear"),
    (Method::GET, "/required"),
    (Method::GET, "/maybe"),
    (Method::GET, "/untouched"),
    (Method::POST, "/grow"),
];

/// The service under both bad-cookie policies, and the runtime that drives it.
struct Harness {
    router: Router,
    runtime: tokio::runtime::Runtime,
}

static SERVICES: LazyLock<[Harness; 2]> = LazyLock::new(|| {
    [
        harness(BadCookiePolicy::FreshSession),
        harness(BadCookiePolicy::Reject),
    ]
});

fn harness(policy: BadCookiePolicy) -> Harness {
    let layer = SessionLayer::<CartV3>::builder(golden_key())
        .with_secure(false)
        .with_max_cookies(4)
        .with_bad_cookie_policy(policy)
        // The golden cookies are live at this time under the default timeouts.
        .with_clock(ManualClock::new(SEALED_AT + 60))
        .build()
        .expect("valid settings");
    let router = Router::new()
        .route("/read", get(read))
        .route("/update", post(update))
        .route("/login", post(login))
        .route("/flash", post(add_flash))
        .route("/flashes", get(take_flashes))
        .route("/clear", post(clear))
        .route(
            "/required",
            get(|cart: CartV3| async move { cart.items.len().to_string() }),
        )
        .route(
            "/maybe",
            get(|cart: Option<CartV3>| async move { format!("{}", cart.is_some()) }),
        )
        .route("/untouched", get(|| async { "untouched" }))
        .route("/grow", post(grow))
        .layer(layer);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    Harness { router, runtime }
}

async fn read(session: Session<CartV3>) -> String {
    let new = session.is_new();
    let cart = session.get();
    format!("new={new} user={} items={}", cart.user_id, cart.items.len())
}

async fn update(mut session: Session<CartV3>) -> Result<String, SessionError> {
    session.update(|cart| {
        cart.user_id = cart.user_id.wrapping_add(1);
        cart.items.push(Item { sku: 1, qty: 1 });
        cart.items.len().to_string()
    })
}

/// Grows the cart past its `max_len` in one update: must be refused (413), never sealed.
async fn grow(mut session: Session<CartV3>) -> Result<String, SessionError> {
    session.update(|cart| {
        cart.items.extend((0..400).map(|sku| Item { sku, qty: 9 }));
        cart.items.len().to_string()
    })
}

async fn login(mut session: Session<CartV3>) -> Result<&'static str, SessionError> {
    session.regenerate()?;
    session.update(|cart| cart.user_id = 42)?;
    Ok("hello")
}

async fn add_flash(mut session: Session<CartV3>) -> Result<&'static str, SessionError> {
    session.flash(Level::Warning, "fuzzed");
    Ok("flashed")
}

async fn take_flashes(mut session: Session<CartV3>) -> String {
    session
        .take_flashes()
        .iter()
        .map(|f| format!("{}:{}", f.level.as_str(), f.text))
        .collect::<Vec<_>>()
        .join("|")
}

async fn clear(mut session: Session<CartV3>) -> &'static str {
    session.clear();
    "bye"
}

/// Sends `request`; never a 500, and the cookies the response sets must open on the next
/// request as a session that is not new.
fn check_service(harness: &Harness, request: Request<Body>) {
    let response = harness
        .runtime
        .block_on(harness.router.clone().oneshot(request))
        .expect("the router is infallible");
    let status = response.status();
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "a 500");

    // What the browser would send back: every cookie set with a value, none of the removals.
    let mut jar = Vec::new();
    let mut writes_session = false;
    for value in response.headers().get_all(http::header::SET_COOKIE) {
        let text = value
            .to_str()
            .unwrap_or_else(|_| panic!("a Set-Cookie that is not visible ASCII: {value:?}"));
        let pair = text.split(';').next().unwrap_or_default();
        let Some((name, cookie_value)) = pair.split_once('=') else {
            panic!("a Set-Cookie without a name: {text}");
        };
        if cookie_value.is_empty() {
            continue;
        }
        writes_session |= name == "session";
        jar.push(pair.to_owned());
    }
    if !writes_session {
        return;
    }
    let mut again = Request::get("/read").body(Body::empty()).expect("request");
    again.headers_mut().insert(
        http::header::COOKIE,
        HeaderValue::from_str(&jar.join("; ")).expect("cookies we set are a valid header"),
    );
    let response = harness
        .runtime
        .block_on(harness.router.clone().oneshot(again))
        .expect("the router is infallible");
    assert_eq!(response.status(), StatusCode::OK, "our own cookie: {jar:?}");
    let body = harness
        .runtime
        .block_on(axum::body::to_bytes(response.into_body(), 1 << 20))
        .expect("a small body");
    assert!(
        body.starts_with(b"new=false"),
        "the session we wrote did not open: {}",
        String::from_utf8_lossy(&body)
    );
}

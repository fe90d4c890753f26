//! The reference session and one function per way of carrying it, shared by the criterion
//! benches, the size table and the load server.
#![allow(dead_code, unreachable_pub)]

use std::cell::RefCell;
use std::hint::black_box;

use aes_gcm_siv::aead::{AeadInOut, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce, Tag};
use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use session_runtime::{
    Codec, CookieSession, Key, ManualClock, Padding, Session, SessionError, SessionLayer,
    SessionLayerBuilder, SessionMeta,
};
use tower::ServiceExt as _;

/// The reference session of the benchmark issue.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[session(version = 1)]
pub struct Reference {
    pub user_id: u64,
    pub username: String,
    pub roles: Vec<String>,
    pub csrf: [u8; 32],
    pub cart: Vec<(u32, u16)>,
    pub flash: Option<String>,
    pub last_seen: i64,
}

/// The reference session's `user_id`.
pub const USER_ID: u64 = 4_294_967_377;

pub fn reference() -> Reference {
    let mut csrf = [0u8; 32];
    for (i, b) in csrf.iter_mut().enumerate() {
        *b = i as u8;
    }
    Reference {
        user_id: USER_ID,
        username: "ada.lovelace".into(),
        roles: vec!["admin".into(), "editor".into(), "viewer".into()],
        csrf,
        cart: (0..10).map(|i| (1000 + i, i as u16 + 1)).collect(),
        flash: Some("Saved!".into()),
        last_seen: 1_763_800_000,
    }
}

/// A session of about `payload` bytes once postcard-encoded, for the scaling runs.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[session(version = 1)]
pub struct Blob {
    /// A string, so serde copies it in one go: a `Vec<u8>` would go through serde's
    /// per-element path and measure serde, not the session layer.
    pub data: String,
    pub last_seen: i64,
}

pub fn blob(payload: usize) -> Blob {
    Blob {
        // One postcard byte per character; the length prefix and the i64 are the rest.
        data: "u".repeat(payload.saturating_sub(8)),
        last_seen: 1_763_800_000,
    }
}

pub const MASTER: [u8; 32] = [
    0x3c, 0x91, 0x0e, 0x5a, 0xd7, 0x22, 0x68, 0xb4, 0x19, 0xf3, 0x8e, 0x41, 0xa6, 0x0b, 0x7d, 0xc5,
    0x52, 0xe8, 0x33, 0x9f, 0x04, 0xba, 0x6e, 0x27, 0xd1, 0x85, 0x4c, 0xf0, 0x1a, 0x97, 0x63, 0x2e,
];

pub const NOW: u32 = 1_763_800_100;

pub fn key() -> Key {
    Key::from_bytes(&MASTER).expect("valid key")
}

/// The default settings under the benchmark key. The schema parameter only matters to
/// `build`; [`codec`] builds a codec that seals any schema.
pub fn settings() -> SessionLayerBuilder<Reference> {
    SessionLayer::<Reference>::builder(key())
}

pub fn codec(settings: SessionLayerBuilder<Reference>) -> Codec {
    settings.build_codec().expect("valid settings")
}

pub fn default_codec() -> Codec {
    codec(settings())
}

pub fn padded_codec() -> Codec {
    codec(settings().with_padding(Padding::Bucket(256)))
}

/// A request's `Cookie` header: the session cookies plus an unrelated one.
pub fn cookie_header(pairs: &[String]) -> String {
    let mut header = String::from("theme=dark");
    for pair in pairs {
        header.push_str("; ");
        header.push_str(pair);
    }
    header
}

/// `name=value` pairs from Set-Cookie lines, skipping removals.
pub fn pairs(set_cookies: &[String]) -> Vec<String> {
    set_cookies
        .iter()
        .filter(|line| !line.contains("Max-Age=0"))
        .map(|line| line.split(';').next().unwrap_or_default().to_owned())
        .collect()
}

/// Ours, through the codec: open, change, seal.
pub fn ours<T: CookieSession>(
    codec: &Codec,
    header: &str,
    change: impl FnOnce(&mut T),
) -> Vec<String> {
    let opened = codec
        .open::<T>(header, NOW)
        .expect("opens")
        .expect("present");
    let mut value = opened.value;
    change(&mut value);
    let mut meta = opened.meta;
    meta.last_access = NOW;
    codec.seal(&value, &meta).expect("seals").headers
}

pub fn ours_first<T: CookieSession>(codec: &Codec, value: &T) -> Vec<String> {
    let meta = SessionMeta::new(NOW).expect("random");
    codec.seal(value, &meta).expect("seals").headers
}

/// The change every round trip makes.
pub fn touch(r: &mut Reference) {
    r.last_seen += 1;
}

/// The change every scaling round trip makes.
pub fn bump(b: &mut Blob) {
    b.last_seen += 1;
}

/// A handler's answer to a session change: 413 when it did not fit.
pub fn status(result: Result<(), SessionError>) -> StatusCode {
    match result {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::PAYLOAD_TOO_LARGE,
    }
}

/// The update handler of the benches and the load server: [`touch`]es the session.
pub async fn update(mut session: Session<Reference>) -> StatusCode {
    status(session.update(touch))
}

/// The store benches' layer settings for every way: plain HTTP on loopback, and the idle
/// refresh pushed past a run (the default, 60 s, turns reads into writes once a cookie fetched
/// at the start is a minute old), so a read writes nothing.
pub fn store_settings() -> SessionLayerBuilder<Reference> {
    settings()
        .with_secure(false)
        .with_refresh_after(std::time::Duration::from_secs(20 * 60))
}

/// The store benches' first request: saves the reference session.
pub async fn init(mut session: Session<Reference>) -> StatusCode {
    status(session.insert(reference()))
}

/// [`update`], refusing a request whose session was not found (a fresh session would be saved
/// and look like a success).
pub async fn checked_write(mut session: Session<Reference>) -> StatusCode {
    if session.get().user_id != USER_ID {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    status(session.update(touch))
}

/// The read-only handler of the benches and the load server: reads the session, changes
/// nothing (so, within the refresh threshold, no Set-Cookie).
pub async fn read_only(session: Session<Reference>) -> StatusCode {
    looked_at(&session.get())
}

/// A read's answer: 200 for the reference session, 500 for anything else (a fresh session
/// would look like a success).
pub fn looked_at(value: &Reference) -> StatusCode {
    if value.user_id == USER_ID {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// A way of carrying the reference session, for the round-trip comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Ours, through the codec: open, change, seal.
    Ours,
    /// The same, padding to 256-character buckets.
    OursPadded,
    /// Ours, the opening half alone.
    OursOpen,
    /// The [`Floor`].
    Floor,
    /// The `cookie` crate's private jar with serde_json.
    PrivateJar,
    /// axum-extra's `PrivateCookieJar` with serde_json.
    AxumExtra,
}

/// Every [`Way`], each with the request cookies it reads, built once.
pub struct RoundTrips {
    codec: Codec,
    header: String,
    padded: Codec,
    padded_header: String,
    floor: RefCell<Floor>,
    floor_header: String,
    jar_key: cookie::Key,
    jar_header: String,
    extra_key: axum_extra::extract::cookie::Key,
    extra_headers: HeaderMap,
}

impl RoundTrips {
    pub fn new() -> Self {
        let codec = default_codec();
        let header = cookie_header(&pairs(&ours_first(&codec, &reference())));
        let padded = padded_codec();
        let padded_header = cookie_header(&pairs(&ours_first(&padded, &reference())));
        let mut floor = Floor::new();
        let floor_header = cookie_header(&pairs(&[floor.seal(&reference())]));
        let jar_key = private_jar_key();
        let jar_header = cookie_header(&pairs(&[private_jar_first(&jar_key, &reference())]));
        let mut extra_headers = HeaderMap::new();
        extra_headers.insert(COOKIE, HeaderValue::from_str(&jar_header).expect("header"));
        RoundTrips {
            codec,
            header,
            padded,
            padded_header,
            floor: RefCell::new(floor),
            floor_header,
            jar_key,
            jar_header,
            extra_key: axum_extra_key(),
            extra_headers,
        }
    }

    /// One round trip of `way`: its request cookies in, the reference session changed by
    /// [`touch`], its Set-Cookie lines out.
    pub fn run(&self, way: Way) {
        match way {
            Way::Ours => drop(black_box(ours::<Reference>(
                &self.codec,
                black_box(&self.header),
                touch,
            ))),
            Way::OursPadded => drop(black_box(ours::<Reference>(
                &self.padded,
                black_box(&self.padded_header),
                touch,
            ))),
            Way::OursOpen => drop(black_box(
                self.codec
                    .open::<Reference>(black_box(&self.header), NOW)
                    .expect("opens"),
            )),
            Way::Floor => drop(black_box(
                self.floor
                    .borrow_mut()
                    .round_trip::<Reference>(black_box(&self.floor_header), touch),
            )),
            Way::PrivateJar => drop(black_box(private_jar::<Reference>(
                &self.jar_key,
                black_box(&self.jar_header),
                touch,
            ))),
            Way::AxumExtra => drop(black_box(axum_extra_jar::<Reference>(
                &self.extra_key,
                black_box(&self.extra_headers),
                touch,
            ))),
        }
    }
}

impl Default for RoundTrips {
    fn default() -> Self {
        Self::new()
    }
}

/// Payload sizes for the scaling runs: 64 B up to what five cookies hold.
pub const SCALING: [usize; 7] = [64, 512, 2048, 4096, 8192, 12_288, 14_800];

/// Ours (at most five cookies) and the floor on a [`Blob`] of each [`SCALING`] size, each with
/// the request cookies it reads, built once.
pub struct Scaling {
    codec: Codec,
    floor: RefCell<Floor>,
    /// Per size: ours' `Cookie` header, the floor's.
    headers: Vec<(String, String)>,
}

impl Scaling {
    pub fn new() -> Self {
        Self::with_sizes(&SCALING, 5)
    }

    /// Ours with at most `max_cookies` cookies and the floor, on a [`Blob`] of each size.
    pub fn with_sizes(sizes: &[usize], max_cookies: u8) -> Self {
        let codec = codec(settings().with_max_cookies(max_cookies));
        let mut floor = Floor::new();
        let headers = sizes
            .iter()
            .map(|&size| {
                let value = blob(size);
                (
                    cookie_header(&pairs(&ours_first(&codec, &value))),
                    cookie_header(&pairs(&[floor.seal(&value)])),
                )
            })
            .collect();
        Scaling {
            codec,
            floor: RefCell::new(floor),
            headers,
        }
    }

    /// One round trip of ours at the `i`th size.
    pub fn ours(&self, i: usize) {
        let header = black_box(self.headers[i].0.as_str());
        drop(black_box(ours::<Blob>(&self.codec, header, bump)));
    }

    /// One round trip of the floor at the `i`th size.
    pub fn floor(&self, i: usize) {
        let header = black_box(self.headers[i].1.as_str());
        let mut floor = self.floor.borrow_mut();
        drop(black_box(floor.round_trip::<Blob>(header, bump)));
    }
}

impl Default for Scaling {
    fn default() -> Self {
        Self::new()
    }
}

/// A route of the in-process service comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `SessionLayer`, the handler [`update`]s the session.
    Update,
    /// The same with `max_cookies = 1`: the one cookie and no removal line for `session.1`,
    /// which the default settings (two cookies) send with every one-cookie write.
    UpdateOneCookie,
    /// `SessionLayer`, the handler only reads it ([`read_only`]).
    Read,
    /// `SessionLayer`, the handler never takes the session.
    Untouched,
    /// The same no-op handler with no layer at all.
    NoLayer,
    /// The same no-op handler behind a layer that does nothing: what axum charges for any
    /// layer (the layered route is boxed once more, and its future), the part of the
    /// untouched cost that is not ours.
    TrivialLayer,
}

/// The routers of the service comparison, each request sent in process on this thread
/// (`tower::ServiceExt::oneshot` on a current-thread runtime) with the reference session's
/// cookie: the router and the layer are measured, HTTP parsing is not. Each router is made
/// once with `with_state(())`, as `axum::serve` makes it: left without, axum converts every
/// handler into a route, and applies the layers to it, on every call.
pub struct Services {
    rt: tokio::runtime::Runtime,
    session: Router,
    one_cookie: Router,
    bare: Router,
    trivial: Router,
    cookie: String,
}

impl Services {
    pub fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let layer = settings()
            .with_clock(ManualClock::new(NOW))
            .build()
            .expect("layer");
        let noop = || get(|| async { StatusCode::OK });
        let session = Router::new()
            .route("/update", get(update))
            .route("/read", get(read_only))
            .route("/untouched", noop())
            .layer(layer)
            .with_state(());
        let one_cookie = Router::new()
            .route("/update", get(update))
            .layer(
                settings()
                    .with_max_cookies(1)
                    .with_clock(ManualClock::new(NOW))
                    .build()
                    .expect("layer"),
            )
            .with_state(());
        let bare = Router::new().route("/untouched", noop()).with_state(());
        let trivial = Router::new()
            .route("/untouched", noop())
            .layer(tower::util::MapRequestLayer::new(|r: Request<Body>| r))
            .with_state(());
        let cookie = cookie_header(&pairs(&ours_first(&default_codec(), &reference())));
        Services {
            rt,
            session,
            one_cookie,
            bare,
            trivial,
            cookie,
        }
    }

    /// One request to `route`, and its response.
    pub fn call(&self, route: Route) -> Response {
        let (router, path) = match route {
            Route::Update => (&self.session, "/update"),
            Route::UpdateOneCookie => (&self.one_cookie, "/update"),
            Route::Read => (&self.session, "/read"),
            Route::Untouched => (&self.session, "/untouched"),
            Route::NoLayer => (&self.bare, "/untouched"),
            Route::TrivialLayer => (&self.trivial, "/untouched"),
        };
        let request = Request::get(path)
            .header(COOKIE, self.cookie.as_str())
            .body(Body::empty())
            .expect("request");
        self.rt
            .block_on(router.clone().oneshot(request))
            .expect("infallible")
    }
}

impl Default for Services {
    fn default() -> Self {
        Self::new()
    }
}

/// The floor: what a careful implementer writes with the bare primitives, and nothing more:
/// postcard, AES-256-GCM-SIV and base64url, with no header, no key id, no associated data, no
/// expiry and one cookie. It seals and opens in place in one buffer kept across requests, and
/// draws nonces from a userspace CSPRNG (`rand`'s thread RNG: ChaCha, reseeded from the OS), so
/// it pays neither a system call per nonce nor a fresh `Vec` per step.
pub struct Floor {
    cipher: Aes256GcmSiv,
    buf: Vec<u8>,
}

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const FLOOR_ATTRIBUTES: &str = "; Path=/; Secure; HttpOnly; SameSite=Lax";

impl Floor {
    pub fn new() -> Self {
        Floor {
            cipher: Aes256GcmSiv::new_from_slice(&MASTER).expect("32-byte key"),
            buf: Vec::with_capacity(512),
        }
    }

    /// `value` sealed into one Set-Cookie line: `session=base64url(nonce | ciphertext | tag)`.
    pub fn seal<T: Serialize>(&mut self, value: &T) -> String {
        let mut buf = core::mem::take(&mut self.buf);
        buf.clear();
        buf.resize(NONCE_LEN, 0);
        let mut buf = postcard::to_extend(value, buf).expect("encode");
        seal_in_place(&self.cipher, &mut buf);
        let mut line = String::with_capacity(
            "session=".len() + (buf.len() * 4).div_ceil(3) + FLOOR_ATTRIBUTES.len(),
        );
        line.push_str("session=");
        URL_SAFE_NO_PAD.encode_string(&buf, &mut line);
        line.push_str(FLOOR_ATTRIBUTES);
        self.buf = buf;
        line
    }

    /// The value in a request's `Cookie` header.
    pub fn open<T: serde::de::DeserializeOwned>(&mut self, header: &str) -> T {
        let value = header
            .split("; ")
            .find_map(|pair| pair.strip_prefix("session="))
            .expect("cookie present");
        self.buf.clear();
        URL_SAFE_NO_PAD
            .decode_vec(value, &mut self.buf)
            .expect("base64");
        let plain = open_in_place(&self.cipher, &mut self.buf).expect("authentic");
        postcard::from_bytes(&self.buf[plain]).expect("decode")
    }

    pub fn round_trip<T: Serialize + serde::de::DeserializeOwned>(
        &mut self,
        header: &str,
        change: impl FnOnce(&mut T),
    ) -> String {
        let mut value: T = self.open(header);
        change(&mut value);
        self.seal(&value)
    }
}

/// Seals `buf` (room for the nonce, then the plaintext) in place: a fresh nonce in front, the
/// plaintext encrypted, the tag appended.
fn seal_in_place(cipher: &Aes256GcmSiv, buf: &mut Vec<u8>) {
    let (nonce, body) = buf.split_at_mut(NONCE_LEN);
    rand::rng().fill_bytes(nonce);
    let nonce = Nonce::try_from(&*nonce).expect("12 bytes");
    let tag = cipher
        .encrypt_inout_detached(&nonce, b"", body.into())
        .expect("encrypt");
    buf.extend_from_slice(&tag);
}

/// Opens nonce | ciphertext | tag in place: where the plaintext lies, or `None` for an
/// envelope too short or not authentic.
fn open_in_place(cipher: &Aes256GcmSiv, sealed: &mut [u8]) -> Option<std::ops::Range<usize>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, rest) = sealed.split_at_mut(NONCE_LEN);
    let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
    let nonce = Nonce::try_from(&*nonce).ok()?;
    let tag = Tag::try_from(&*tag).ok()?;
    cipher
        .decrypt_inout_detached(&nonce, b"", (&mut *body).into(), &tag)
        .ok()?;
    Some(NONCE_LEN..NONCE_LEN + body.len())
}

impl Default for Floor {
    fn default() -> Self {
        Self::new()
    }
}

/// The `cookie` crate's private jar with serde_json, used directly.
pub fn private_jar_key() -> cookie::Key {
    let mut master = [0u8; 64];
    master[..32].copy_from_slice(&MASTER);
    master[32..].copy_from_slice(&MASTER);
    master[63] ^= 0xff;
    cookie::Key::from(&master)
}

fn jar_cookie(json: String) -> cookie::Cookie<'static> {
    cookie::Cookie::build(("session", json))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .build()
}

pub fn private_jar_first<T: Serialize>(key: &cookie::Key, value: &T) -> String {
    let mut jar = cookie::CookieJar::new();
    jar.private_mut(key)
        .add(jar_cookie(serde_json::to_string(value).expect("json")));
    jar.delta().next().expect("one cookie").to_string()
}

pub fn private_jar<T: Serialize + serde::de::DeserializeOwned>(
    key: &cookie::Key,
    header: &str,
    change: impl FnOnce(&mut T),
) -> Vec<String> {
    let mut jar = cookie::CookieJar::new();
    for cookie in cookie::Cookie::split_parse(header.to_owned()).flatten() {
        jar.add_original(cookie);
    }
    let current = jar.private(key).get("session").expect("opens");
    let mut value: T = serde_json::from_str(current.value()).expect("json");
    change(&mut value);
    jar.private_mut(key)
        .add(jar_cookie(serde_json::to_string(&value).expect("json")));
    jar.delta().map(|c| c.to_string()).collect()
}

/// axum-extra's `PrivateCookieJar`, as its users use it: built from the request headers,
/// turned into response headers.
pub fn axum_extra_key() -> axum_extra::extract::cookie::Key {
    private_jar_key()
}

pub fn axum_extra_jar<T: Serialize + serde::de::DeserializeOwned>(
    key: &axum_extra::extract::cookie::Key,
    headers: &HeaderMap,
    change: impl FnOnce(&mut T),
) -> HeaderMap {
    use axum::response::IntoResponse as _;
    let jar = axum_extra::extract::PrivateCookieJar::from_headers(headers, key.clone());
    let current = jar.get("session").expect("opens");
    let mut value: T = serde_json::from_str(current.value()).expect("json");
    change(&mut value);
    let jar = jar.add(jar_cookie(serde_json::to_string(&value).expect("json")));
    let response = (jar, ()).into_response();
    response.headers().clone()
}

/// The sealed store floor: what any server-side session store that keeps the promises of
/// ours must do with the bare primitives, written inline with nothing else around it. Its id
/// cookie is sealed (AES-256-GCM-SIV over the 128-bit id and two timestamps: the cookie must
/// not be forgeable or readable), the store key is the SHA-256 of the id in hex (a store dump
/// must not name a usable cookie), and the entry is sealed at rest and decoded into the typed
/// session (memcached has no authentication; a handler reads a struct, not bytes). No header,
/// no key id, no expiry check, no markers, no revocation: the floor of the store modes, as
/// [`Floor`] is the cookie mode's. One buffer, kept across requests.
pub struct SealedFloor {
    cipher: Aes256GcmSiv,
    buf: Vec<u8>,
}

/// The sealed floor's id cookie: the id and two `u32` timestamps, sealed.
pub const SEALED_FLOOR_COOKIE: &str = "sealed";
const ID_LEN: usize = 16;

impl SealedFloor {
    pub fn new() -> Self {
        SealedFloor {
            cipher: Aes256GcmSiv::new_from_slice(&MASTER).expect("32-byte key"),
            buf: Vec::with_capacity(512),
        }
    }

    /// `plaintext` sealed: nonce | ciphertext | tag.
    fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.resize(NONCE_LEN, 0);
        out.extend_from_slice(plaintext);
        seal_in_place(&self.cipher, &mut out);
        out
    }

    /// A fresh session: its id cookie's value and its sealed entry.
    pub fn issue(&mut self, value: &Reference) -> ([u8; ID_LEN], String, Vec<u8>) {
        let mut id = [0u8; ID_LEN];
        rand::rng().fill_bytes(&mut id);
        let mut plain = [0u8; ID_LEN + 8];
        plain[..ID_LEN].copy_from_slice(&id);
        // Issued and last seen now.
        plain[ID_LEN..ID_LEN + 4].copy_from_slice(&NOW.to_le_bytes());
        plain[ID_LEN + 4..].copy_from_slice(&NOW.to_le_bytes());
        let cookie = URL_SAFE_NO_PAD.encode(self.seal(&plain));
        (id, cookie, self.entry(value))
    }

    /// The store key of the session whose id cookie has `value`: `prefix` and the id's
    /// SHA-256 in hex; `None` for a cookie that does not open.
    pub fn key(&mut self, prefix: &str, value: &str) -> Option<String> {
        self.buf.clear();
        URL_SAFE_NO_PAD.decode_vec(value, &mut self.buf).ok()?;
        let plain = open_in_place(&self.cipher, &mut self.buf)?;
        let id = self.buf.get(plain).filter(|p| p.len() == ID_LEN + 8)?;
        Some(Self::key_of(
            prefix,
            id[..ID_LEN].try_into().expect("16 bytes"),
        ))
    }

    /// The store key of id `id`.
    pub fn key_of(prefix: &str, id: &[u8; ID_LEN]) -> String {
        use sha2::Digest as _;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = sha2::Sha256::digest(id);
        let mut key = String::with_capacity(prefix.len() + 64);
        key.push_str(prefix);
        for byte in digest {
            key.push(char::from(HEX[usize::from(byte >> 4)]));
            key.push(char::from(HEX[usize::from(byte & 15)]));
        }
        key
    }

    /// `value` sealed for the store.
    pub fn entry(&mut self, value: &Reference) -> Vec<u8> {
        self.buf.clear();
        let buf = postcard::to_extend(value, core::mem::take(&mut self.buf)).expect("encode");
        let sealed = self.seal(&buf);
        self.buf = buf;
        self.buf.as_mut_slice().fill(0);
        sealed
    }

    /// The session in a stored entry; `None` for one that does not open or decode.
    pub fn open_entry(&self, mut entry: Vec<u8>) -> Option<Reference> {
        let plain = open_in_place(&self.cipher, &mut entry)?;
        postcard::from_bytes(&entry[plain]).ok()
    }
}

impl Default for SealedFloor {
    fn default() -> Self {
        Self::new()
    }
}

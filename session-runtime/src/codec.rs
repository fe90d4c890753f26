//! The pipeline, with no HTTP framework involved: a typed value → postcard payload → sealed
//! envelope → cookie chunks, and back.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use session_runtime::{CookieSession, Key, Reseal, SessionLayer, SessionMeta};
//!
//! #[derive(CookieSession, Serialize, Deserialize, Debug, PartialEq, Default)]
//! #[session(version = 1)]
//! struct Cart {
//!     user_id: u64,
//! }
//!
//! let layer = SessionLayer::<Cart>::builder(Key::generate()).with_cookie_name("cart").build()?;
//! let codec = layer.codec();
//! let now = 1_763_800_000;
//! let meta = SessionMeta::new(now)?;
//! let sealed = codec.seal(&Cart { user_id: 7 }, &meta)?;
//! let header = sealed.cookie_header(); // what the browser sends back: "cart=…"
//!
//! let opened = codec.open::<Cart>(&header, now + 60)?.expect("a session");
//! assert_eq!(opened.value, Cart { user_id: 7 });
//! assert_eq!(opened.reseal, Reseal::default());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::Cell;
use std::ops::Range;

use zeroize::Zeroize as _;

use crate::chunk::{self, Chunker, Gathered, Lines, SetCookie};
use crate::clock::Lifetime;
use crate::config::{Config, ConfigError, Padding};
use crate::envelope::{self, FLAG_PADDED, FLAG_STORED, Header, SessionMeta, Subject, TAG_LEN};
use crate::error::{OpenError, SessionError};
use crate::key::{KeySource, Keys};
use crate::schema::CookieSession;

/// Why an opened session should be sealed again on this response even if unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reseal {
    /// Opened with a fallback key: re-seal under the primary.
    pub fallback_key: bool,
    /// Written by an older schema version and migrated: re-seal as the current one.
    pub migrated_from: Option<u16>,
}

impl Reseal {
    /// Whether anything asks for a new cookie.
    pub fn needed(&self) -> bool {
        self.fallback_key || self.migrated_from.is_some()
    }
}

/// A session opened from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened<T> {
    /// The data, migrated to the current schema.
    pub value: T,
    /// Its id and timestamps.
    pub meta: SessionMeta,
    /// Whether it must be re-sealed.
    pub reseal: Reseal,
    /// How many cookies it came in (1 for a session from a store).
    pub chunks: u8,
    /// The subject tag sealed with it, if the application named one.
    pub(crate) subject: Option<Subject>,
    /// The place in the key set of the key that opened it (0: the primary).
    pub(crate) key_index: usize,
}

/// The Set-Cookie header values for one write: the chunks, then removals of every chunk name
/// above the new count, up to the configured maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookies {
    /// One `Set-Cookie` value per cookie, each within the configured per-cookie limit.
    pub headers: Vec<String>,
    /// How many of `headers` carry the session; the rest are removals.
    pub chunks: u8,
}

impl SetCookies {
    /// The `Cookie` request header a browser would send after receiving these: the chunks'
    /// `name=value` pairs joined with `; `. Useful in tests and tools.
    pub fn cookie_header(&self) -> String {
        chunk::cookie_header(self.headers.iter().map(String::as_str))
    }
}

/// Seals and opens sessions for one cookie configuration and key set: the layer's own, from
/// [`SessionLayer::codec`](crate::SessionLayer::codec), for tools and tests that need the raw
/// cookies.
///
/// Built once with the layer: it derives the ciphers and renders the cookie attributes then, so
/// sealing and opening do no key setup and no attribute formatting. Its keys are the layer's
/// [`KeySource`]: [`seal`](Self::seal), [`open`](Self::open) and [`inspect`](Self::inspect) use
/// the set as it is at the call, after any reload.
#[derive(Debug)]
pub struct Codec {
    keys: KeySource,
    chunker: Chunker,
    padding: Padding,
    lifetime: Lifetime,
    /// The cookie name and purpose, as bound into the associated data.
    binding: Vec<u8>,
}

impl Codec {
    pub(crate) fn new(
        keys: KeySource,
        config: &Config,
        lifetime: Lifetime,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Codec {
            keys,
            chunker: Chunker::new(config)?,
            binding: envelope::binding(&config.name, &config.purpose),
            padding: config.padding,
            lifetime,
        })
    }

    /// Checks that schema `T`'s worst case, padding included, fits the configured cookies.
    /// Schemas without a declared budget have no known worst case and always pass; their size is
    /// checked on every seal instead.
    pub(crate) fn check_schema<T: CookieSession>(&self) -> Result<(), ConfigError> {
        let Some(max_payload) = T::MAX_ENCODED_LEN else {
            return Ok(());
        };
        let worst = self.worst_value_len(max_payload);
        let available = self.capacity_total();
        if worst > available {
            return Err(ConfigError::SchemaTooLarge {
                type_name: T::NAME,
                worst,
                available,
                max_cookies: self.chunker.max_cookies(),
            });
        }
        Ok(())
    }

    pub(crate) fn chunker(&self) -> &Chunker {
        &self.chunker
    }

    pub(crate) fn lifetime(&self) -> &Lifetime {
        &self.lifetime
    }

    /// Cookie-value characters all configured cookies carry together.
    pub fn capacity_total(&self) -> usize {
        self.chunker.capacity_total()
    }

    /// Cookie-value characters one cookie carries with these name and attributes.
    pub fn capacity_per_cookie(&self) -> usize {
        self.chunker.capacity_total() / usize::from(self.chunker.max_cookies())
    }

    /// The sealed value length in characters, padding included, for a payload of
    /// `payload_len` bytes.
    pub fn value_len(&self, payload_len: usize) -> usize {
        let envelope = envelope::OVERHEAD + payload_len;
        envelope::base64_len(self.padding.padded_envelope_len(envelope))
    }

    /// [`value_len`](Self::value_len) with room for a subject tag and its generation: what a
    /// budget counts, since any handler may name a subject.
    pub(crate) fn worst_value_len(&self, payload_len: usize) -> usize {
        self.value_len(envelope::MAX_HEADER_EXTRA + payload_len)
    }

    /// Seals `value` with `meta`'s id and timestamps under the primary key, into Set-Cookie
    /// lines (removals of the unused chunk names included).
    pub fn seal<T: CookieSession>(
        &self,
        value: &T,
        meta: &SessionMeta,
    ) -> Result<SetCookies, SessionError> {
        let keys = self.keys.keys();
        let mut scratch = Scratch::take();
        let chunks = self.seal_into(&keys, value, meta, scratch.sealing())?;
        let removals = self.chunker.removals_from(chunks);
        let mut headers = Vec::with_capacity(usize::from(chunks) + removals.len());
        self.chunker
            .split_into(scratch.sealed(), chunks, &mut headers);
        headers.extend(removals.iter().map(SetCookie::to_text));
        Ok(SetCookies { headers, chunks })
    }

    /// The Set-Cookie lines of a sealed envelope in `chunks` cookies, then removals of the
    /// chunk names above them.
    pub(crate) fn lines(&self, sealed: &[u8], chunks: u8) -> Lines {
        self.chunker.lines(sealed, chunks)
    }

    /// Removals of every chunk name: the response to a logout or a bad cookie.
    pub(crate) fn removals(&self) -> &[SetCookie] {
        self.chunker.removals_from(0)
    }

    /// Seals `value` into `buf` as one cookie envelope; returns how many cookies it needs.
    pub(crate) fn seal_into<T: CookieSession>(
        &self,
        keys: &Keys,
        value: &T,
        meta: &SessionMeta,
        buf: &mut Vec<u8>,
    ) -> Result<u8, SessionError> {
        self.seal_form(keys, value, meta, None, Form::Cookie, buf)
    }

    /// Seals `value` in one of its three forms into `buf` under the primary of `keys`; returns
    /// how many cookies it needs (1 for the forms that are not chunked).
    pub(crate) fn seal_form<T: CookieSession>(
        &self,
        keys: &Keys,
        value: &T,
        meta: &SessionMeta,
        subject: Option<Subject>,
        form: Form,
        buf: &mut Vec<u8>,
    ) -> Result<u8, SessionError> {
        let header = Header {
            schema_version: T::VERSION,
            meta: *meta,
            subject,
        };
        self.seal_with(keys, header, form, buf, |buf| {
            value.check_bounds()?;
            encode_into(value, buf)
        })
    }

    /// Seals a payload already encoded by schema version `version` (a value that passed its
    /// bounds check, encoded with [`encode_into`]) in `form` (the cookie or the stored form):
    /// what [`seal_form`](Self::seal_form) writes for that value, without encoding it again.
    #[allow(clippy::too_many_arguments)] // seal_form's, with the payload for the value
    pub(crate) fn seal_encoded(
        &self,
        keys: &Keys,
        version: u16,
        payload: &[u8],
        meta: &SessionMeta,
        subject: Option<Subject>,
        form: Form,
        buf: &mut Vec<u8>,
    ) -> Result<u8, SessionError> {
        debug_assert!(form != Form::Id, "an id cookie carries no payload");
        let header = Header {
            schema_version: version,
            meta: *meta,
            subject,
        };
        self.seal_with(keys, header, form, buf, |buf| {
            buf.extend_from_slice(payload);
            Ok(())
        })
    }

    fn seal_with(
        &self,
        keys: &Keys,
        header: Header,
        form: Form,
        buf: &mut Vec<u8>,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), SessionError>,
    ) -> Result<u8, SessionError> {
        let padding = if form == Form::Id {
            Padding::None
        } else {
            self.padding
        };
        let mut flags = 0;
        if padding != Padding::None {
            flags |= FLAG_PADDED;
        }
        if form == Form::Id {
            flags |= FLAG_STORED;
        }
        envelope::begin(buf, &header, flags);
        if form != Form::Id {
            payload(buf)?;
        }
        let envelope_len = padding.padded_envelope_len(buf.len() + TAG_LEN);
        let value_len = envelope::base64_len(envelope_len);
        let budget = match form {
            Form::Cookie => self.capacity_total(),
            Form::Stored | Form::Id => MAX_STORED_LEN,
        };
        if value_len > budget {
            zeroize::Zeroize::zeroize(buf);
            return Err(SessionError::TooLarge {
                size: value_len,
                budget,
            });
        }
        if padding != Padding::None {
            envelope::pad(buf, envelope_len);
        }
        let count = match form {
            Form::Cookie => self.chunker.count_for(value_len),
            Form::Stored | Form::Id => 1,
        };
        envelope::finish(buf, keys.primary(), count, &self.binding)?;
        Ok(count)
    }

    /// Opens the session carried by a request's `Cookie` header at time `now` (Unix seconds).
    ///
    /// `Ok(None)`: no session cookie at all. `Err`: cookies were there but do not make a valid,
    /// live session of a known schema version (an id cookie of a server-side store included:
    /// open those through the layer).
    pub fn open<T: CookieSession>(
        &self,
        cookie_header: impl AsRef<[u8]>,
        now: u32,
    ) -> Result<Option<Opened<T>>, OpenError> {
        let Some(gathered) = self.gather(cookie_header.as_ref())? else {
            return Ok(None);
        };
        let keys = self.keys.keys();
        let mut scratch = Scratch::take();
        match self.open_gathered(&keys, &gathered, now, scratch.opening())? {
            Unsealed::Value(opened) => Ok(Some(opened)),
            Unsealed::InStore { .. } => Err(OpenError::Malformed),
        }
    }

    /// The session's chunks in one `Cookie` header.
    fn gather<'a>(&'a self, cookie_header: &'a [u8]) -> Result<Option<Gathered<'a>>, OpenError> {
        let mut gatherer = self.chunker.gatherer();
        for (name, value) in chunk::cookie_pairs([cookie_header]) {
            gatherer.offer(name, value);
        }
        gatherer.finish()
    }

    /// Opens a cookie without decoding its payload, whatever its schema or version, and without
    /// checking its timestamps: what [`Inspected`] lists.
    pub fn inspect(&self, cookie_header: impl AsRef<[u8]>) -> Result<Option<Inspected>, OpenError> {
        let Some(gathered) = self.gather(cookie_header.as_ref())? else {
            return Ok(None);
        };
        let mut scratch = Scratch::take();
        let buf = scratch.opening();
        gathered.decode_into(buf)?;
        let opened = envelope::open(buf, &self.keys.keys(), gathered.count(), &self.binding)?;
        Ok(Some(Inspected {
            key_id: gathered.prefix.key_id,
            fallback_key: opened.fallback_key,
            chunks: gathered.count(),
            schema_version: opened.header.schema_version,
            meta: opened.header.meta,
            stored: opened.stored,
            has_subject: opened.header.subject.is_some(),
            payload_len: opened.payload.len(),
        }))
    }

    /// Opens gathered chunks, using `buf` for the envelope. The caller zeroizes `buf`.
    pub(crate) fn open_gathered<T: CookieSession>(
        &self,
        keys: &Keys,
        gathered: &Gathered<'_>,
        now: u32,
        buf: &mut Vec<u8>,
    ) -> Result<Unsealed<T>, OpenError> {
        self.open_gathered_at(keys, gathered, now, buf)
            .map(|(unsealed, _)| unsealed)
    }

    /// [`open_gathered`](Self::open_gathered), also telling where in `buf` the decrypted
    /// payload lies.
    pub(crate) fn open_gathered_at<T: CookieSession>(
        &self,
        keys: &Keys,
        gathered: &Gathered<'_>,
        now: u32,
        buf: &mut Vec<u8>,
    ) -> Result<(Unsealed<T>, Range<usize>), OpenError> {
        gathered.decode_into(buf)?;
        self.open_envelope_at(keys, buf, gathered.count(), now)
    }

    /// Opens one envelope (from cookies or from a store) at `now`, also telling where in
    /// `buf` the decrypted payload lies.
    pub(crate) fn open_envelope_at<T: CookieSession>(
        &self,
        keys: &Keys,
        buf: &mut [u8],
        chunks: u8,
        now: u32,
    ) -> Result<(Unsealed<T>, Range<usize>), OpenError> {
        let opened = envelope::open(buf, keys, chunks, &self.binding)?;
        let Header {
            schema_version,
            meta,
            subject,
        } = opened.header;
        let payload = opened.payload_at..opened.payload_at + opened.payload.len();
        if opened.stored {
            // An id cookie is sent again only when what it carries changes, not on every save
            // of its entry: the entry's last access is the one checked against the idle timeout.
            self.lifetime.check_absolute(&meta, now)?;
            let unsealed = Unsealed::InStore {
                meta,
                subject,
                fallback_key: opened.fallback_key,
                key_index: opened.key_index,
            };
            return Ok((unsealed, payload));
        }
        self.lifetime.check(&meta, now)?;
        let value = T::decode(schema_version, opened.payload)?;
        value.check_bounds().map_err(OpenError::Bounds)?;
        let opened = Opened {
            value,
            meta,
            reseal: Reseal {
                fallback_key: opened.fallback_key,
                migrated_from: (schema_version != T::VERSION).then_some(schema_version),
            },
            chunks,
            subject,
            key_index: opened.key_index,
        };
        Ok((Unsealed::Value(opened), payload))
    }
}

/// What a sealed cookie says about itself, for tools (`session-tool inspect`): everything but
/// the payload, which needs the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inspected {
    /// The key id in the envelope.
    pub key_id: u8,
    /// Opened with a fallback key, not the primary.
    pub fallback_key: bool,
    /// How many cookies it came in.
    pub chunks: u8,
    /// The schema version that wrote the payload.
    pub schema_version: u16,
    /// The session id and timestamps.
    pub meta: SessionMeta,
    /// An id cookie: the session itself is in a server-side store.
    pub stored: bool,
    /// A subject tag is sealed with it.
    pub has_subject: bool,
    /// Bytes of payload.
    pub payload_len: usize,
}

/// Appends the postcard encoding of `value` to `buf`, in place: no buffer of its own, and on
/// error `buf` keeps what it had, for its owner to zeroize.
pub(crate) fn encode_into<T: serde::Serialize>(
    value: &T,
    buf: &mut Vec<u8>,
) -> Result<(), SessionError> {
    postcard::serialize_with_flavor(value, Extend(buf))
        .map_err(|e| SessionError::Encode(e.to_string()))
}

/// A postcard output that appends to a borrowed buffer.
struct Extend<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Extend<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    #[inline]
    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// Each thread's envelope buffer, lent to one seal or open at a time.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The most capacity a thread's envelope buffer keeps between uses: a session in every cookie a
/// layer may configure fits; the buffer of a large store entry is freed after use.
const SCRATCH_KEPT: usize = 64 * 1024;

/// This thread's envelope buffer, borrowed: sealing and opening reuse one buffer per thread
/// instead of allocating (and, for plaintext, zeroizing) a new one per call.
///
/// The buffer goes back when the `Scratch` drops, with what it held zeroized unless it was
/// marked [`sealed`](Self::sealed) (a sealed envelope is ciphertext). A nested use on the same
/// thread (a `Serialize` impl that seals) finds the slot empty and gets a fresh buffer.
pub(crate) struct Scratch {
    buf: Vec<u8>,
    /// The buffer may hold plaintext: zeroize it before it goes back.
    secret: bool,
}

impl Scratch {
    pub(crate) fn take() -> Self {
        Scratch {
            buf: SCRATCH.try_with(Cell::take).unwrap_or_default(),
            secret: true,
        }
    }

    /// The buffer, for decrypting or sealing into: zeroized when returned.
    pub(crate) fn opening(&mut self) -> &mut Vec<u8> {
        self.secret = true;
        &mut self.buf
    }

    /// The buffer, for sealing into: plaintext until [`sealed`](Self::sealed) is called.
    pub(crate) fn sealing(&mut self) -> &mut Vec<u8> {
        self.opening()
    }

    /// The sealed envelope, once sealing succeeded: ciphertext, so not zeroized on return.
    pub(crate) fn sealed(&mut self) -> &[u8] {
        self.secret = false;
        &self.buf
    }

    /// The buffer's contents.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.secret {
            // Only the used part: every earlier use zeroized its own.
            self.buf.as_mut_slice().zeroize();
        }
        self.buf.clear();
        if self.buf.capacity() <= SCRATCH_KEPT {
            let buf = core::mem::take(&mut self.buf);
            // Whatever the slot holds (empty, or a nested use's buffer) was cleared the same way.
            let _ = SCRATCH.try_with(|slot| slot.set(buf));
        }
    }
}

/// The forms a session is sealed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// The value, in chunked cookies.
    Cookie,
    /// The value, for a server-side store (no cookie budget).
    Stored,
    /// An id cookie: the header alone, flagged as stored.
    Id,
}

/// The most characters of sealed value a store entry may take (512 KiB of envelope).
pub(crate) const MAX_STORED_LEN: usize = 512 * 1024 * 4 / 3;

/// What an envelope opened into.
#[derive(Debug)]
pub(crate) enum Unsealed<T> {
    /// The session itself.
    Value(Opened<T>),
    /// An id cookie: the session is in the store under this id.
    InStore {
        meta: SessionMeta,
        subject: Option<Subject>,
        fallback_key: bool,
        key_index: usize,
    },
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::key::Key;

    const NOW: u32 = 1_763_800_000;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize, crate::CookieSession)]
    #[session(crate = crate, version = 1)]
    struct Note {
        text: String,
    }

    /// A session with a subject and its generation (header flag bits 2 and 3), frozen in
    /// `tests/golden/subject-generation.cookie` under the golden key (`0..32` XOR `0x5a`,
    /// tests/src/fixtures.rs) at `NOW`. Written when missing with `GOLDEN_BLESS=1`; every later
    /// build must open it as sealed.
    #[test]
    fn the_golden_subject_generation_cookie_opens() {
        let key: Vec<u8> = (0u8..32).map(|b| b ^ 0x5a).collect();
        let keys = Keys::new(Key::from_bytes(&key).expect("the golden key"));
        let config = Config {
            secure: false,
            ..Config::new("session")
        };
        let lifetime = Lifetime {
            idle: None,
            absolute: None,
            ..Lifetime::default()
        };
        let codec = Codec::new(keys.clone().into(), &config, lifetime).expect("codec");
        let meta = SessionMeta {
            id: crate::envelope::SessionId([0x42; 16]),
            issued_at: NOW,
            last_access: NOW,
        };
        let subject = Subject {
            tag: [0x17; crate::envelope::SUBJECT_LEN],
            generation: Some(0x0102_0304_0506_0708),
        };
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/golden/subject-generation.cookie");
        if !path.exists() && std::env::var_os("GOLDEN_BLESS").is_some() {
            let mut buf = Vec::new();
            let value = Note {
                text: "signed in".into(),
            };
            let chunks = codec
                .seal_form(&keys, &value, &meta, Some(subject), Form::Cookie, &mut buf)
                .expect("seal");
            let line = codec.lines(&buf, chunks).remove(0).into_bytes();
            let pair = String::from_utf8_lossy(&line);
            let pair = pair.split(';').next().expect("name=value");
            std::fs::write(&path, format!("{pair}\n")).expect("write the golden cookie");
        }
        let header = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (bless with GOLDEN_BLESS=1)", path.display()));
        let mut gatherer = codec.chunker().gatherer();
        for (name, value) in chunk::cookie_pairs([header.trim().as_bytes()]) {
            gatherer.offer(name, value);
        }
        let gathered = gatherer.finish().expect("gathered").expect("a session");
        let mut buf = Vec::new();
        let Unsealed::Value(opened) = codec
            .open_gathered::<Note>(&keys, &gathered, NOW + 60, &mut buf)
            .expect("the golden cookie opens")
        else {
            panic!("a session cookie, not an id cookie");
        };
        assert_eq!(opened.value.text, "signed in");
        assert_eq!(opened.meta, meta);
        assert_eq!(opened.subject, Some(subject));
    }

    fn codec(max_cookies: u8) -> Codec {
        let config = Config {
            max_cookies,
            ..Config::new("s")
        };
        Codec::new(Key::generate().into(), &config, Lifetime::default()).expect("codec")
    }

    /// A browser's cookies for one site: each Set-Cookie line sets or (`Max-Age=0`) removes its
    /// name, in the order the lines arrive.
    fn receive(jar: &mut Vec<(String, String)>, lines: &[String]) {
        for line in lines {
            let pair = line.split(';').next().expect("a pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            jar.retain(|(n, _)| n != name);
            if !line.contains("; Max-Age=0") {
                jar.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie_header(jar: &[(String, String)]) -> String {
        let pairs: Vec<String> = jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
        pairs.join("; ")
    }

    #[test]
    fn responses_of_different_chunk_counts_leave_a_readable_session_in_either_order() {
        let codec = codec(3);
        let meta = SessionMeta::new(NOW).expect("random");
        let large = Note {
            text: "x".repeat(codec.capacity_per_cookie()),
        };
        let small = Note { text: "y".into() };
        let two = codec.seal(&large, &meta).expect("seals");
        let one = codec.seal(&small, &meta).expect("seals");
        assert_eq!((two.chunks, one.chunks), (2, 1));
        for (first, second, last) in [(&two, &one, &small), (&one, &two, &large)] {
            let mut jar = Vec::new();
            receive(&mut jar, &first.headers);
            receive(&mut jar, &second.headers);
            let opened = codec.open::<Note>(cookie_header(&jar), NOW);
            assert_eq!(opened.expect("opens").expect("a session").value, *last);
        }
        // What the removal lines guard against: without them, the larger write's second
        // cookie outlives the later one-cookie write, which the reader then refuses.
        let mut jar = Vec::new();
        receive(&mut jar, &two.headers);
        receive(&mut jar, &one.headers[..1]);
        assert!(matches!(
            codec.open::<Note>(cookie_header(&jar), NOW),
            Err(OpenError::SurplusChunk { .. })
        ));
    }

    #[test]
    fn the_thread_buffer_comes_back_empty_and_nested_uses_get_their_own() {
        let mut outer = Scratch::take();
        outer.opening().extend_from_slice(b"plaintext");
        let mut inner = Scratch::take();
        assert!(
            inner.opening().is_empty(),
            "a nested use gets a buffer of its own"
        );
        drop(inner);
        drop(outer);
        let mut again = Scratch::take();
        assert!(again.opening().is_empty());
        assert!(
            again.opening().capacity() >= b"plaintext".len(),
            "kept for reuse"
        );
    }

    #[test]
    fn an_encoded_payload_seals_as_its_value_does() {
        let codec = codec(2);
        let meta = SessionMeta::new(NOW).expect("random");
        let note = Note {
            text: "hello".into(),
        };
        let mut payload = Vec::new();
        encode_into(&note, &mut payload).expect("encodes");
        let mut buf = Vec::new();
        let chunks = codec
            .seal_encoded(
                &codec.keys.keys(),
                Note::VERSION,
                &payload,
                &meta,
                None,
                Form::Cookie,
                &mut buf,
            )
            .expect("seals");
        let mut headers = Vec::new();
        codec.chunker.split_into(&buf, chunks, &mut headers);
        let sealed = SetCookies { headers, chunks };
        let opened = codec.open::<Note>(sealed.cookie_header(), NOW);
        assert_eq!(opened.expect("opens").expect("a session").value, note);

        // The stored form too: an entry sealed from the encoding opens into the value, and
        // its payload is that encoding (what a store-mode save keeps for the next change).
        let keys = codec.keys.keys();
        let mut entry = Vec::new();
        codec
            .seal_encoded(
                &keys,
                Note::VERSION,
                &payload,
                &meta,
                None,
                Form::Stored,
                &mut entry,
            )
            .expect("seals");
        let (unsealed, at) = codec
            .open_envelope_at::<Note>(&keys, &mut entry, 1, NOW)
            .expect("opens");
        assert_eq!(&entry[at], payload.as_slice());
        match unsealed {
            Unsealed::Value(opened) => assert_eq!(opened.value, note),
            Unsealed::InStore { .. } => panic!("an entry carries its value"),
        }
    }
}

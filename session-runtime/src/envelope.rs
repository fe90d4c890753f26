//! The sealed envelope: what one session looks like in bytes before it is base64-encoded and
//! split into cookies, and the one place that seals and opens it. `docs/FORMAT.md` describes the
//! same layout for readers of the wire.
//!
//! ```text
//! envelope  = format (1) | key id (1) | chunk count (1) | nonce (12) | ciphertext | tag (16)
//! plaintext = schema version (u16 LE) | flags (1) | session id (16)
//!           | issued-at (u32 LE) | last-access (u32 LE) | payload | [padding]
//! associated data = format | key id | chunk count | cookie name [| 0x00 | purpose]
//! ```
//!
//! The purpose is the application's own label (`with_purpose`), absent by default; `0x00`
//! cannot occur in a cookie name, so name and purpose cannot be confused.
//!
//! The first three bytes are exactly the first four base64 characters, so the chunk count can be
//! read from the first cookie alone; it is authenticated through the associated data.

use aes_gcm_siv::aead::AeadInOut;
use aes_gcm_siv::{Nonce, Tag};

use crate::error::{OpenError, SessionError};
use crate::key::{DerivedKey, Keys};
use crate::nonce::NONCE_LEN;

/// The envelope format this build writes and reads.
pub(crate) const FORMAT_VERSION: u8 = 1;
/// Bytes before the nonce: format, key id, chunk count.
pub(crate) const PREFIX_LEN: usize = 3;
/// AES-GCM-SIV tag bytes.
pub(crate) const TAG_LEN: usize = 16;
/// Bytes of the sealed session header inside the ciphertext.
pub(crate) const HEADER_LEN: usize = 2 + 1 + 16 + 4 + 4;
/// Everything the envelope adds to a payload, in bytes.
pub(crate) const OVERHEAD: usize = PREFIX_LEN + NONCE_LEN + HEADER_LEN + TAG_LEN;
/// Offset of the plaintext (and of the ciphertext) in the envelope.
pub(crate) const BODY_OFFSET: usize = PREFIX_LEN + NONCE_LEN;
/// Flag bit: the plaintext ends with padding whose length is its last two bytes (u16 LE).
pub(crate) const FLAG_PADDED: u8 = 0b0000_0001;
/// Flag bit: an id cookie. The payload is empty; the session lives in a server-side store,
/// sealed in an envelope of its own under a key derived from the session id.
pub(crate) const FLAG_STORED: u8 = 0b0000_0010;
/// Flag bit: the header is followed by a 16-byte subject tag (a hash of the subject the
/// application named at login), for "log out everywhere".
pub(crate) const FLAG_SUBJECT: u8 = 0b0000_0100;
/// Bytes of a subject tag.
pub(crate) const SUBJECT_LEN: usize = 16;
/// Flag bit: the subject tag is followed by the 8-byte generation of the subject's last "log
/// out everywhere" that the session was issued after (set only with [`FLAG_SUBJECT`]).
pub(crate) const FLAG_GENERATION: u8 = 0b0000_1000;
/// Bytes of a subject generation.
pub(crate) const GENERATION_LEN: usize = 8;
/// The most bytes a header can take beyond [`HEADER_LEN`]: what every size budget counts, since
/// any handler may name a subject.
pub(crate) const MAX_HEADER_EXTRA: usize = SUBJECT_LEN + GENERATION_LEN;
/// Bytes the padding trailer takes.
pub(crate) const PAD_TRAILER_LEN: usize = 2;

/// Characters of unpadded base64 for `bytes` bytes.
pub(crate) const fn base64_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

/// Characters of base64url cookie value for a payload of `payload_len` bytes, unpadded.
pub(crate) const fn sealed_value_len(payload_len: usize) -> usize {
    base64_len(OVERHEAD + MAX_HEADER_EXTRA + payload_len)
}

/// A session id: 128 random bits, fixed for the life of a session until
/// [`Session::regenerate`](crate::Session::regenerate) replaces it (at login).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// A fresh random id.
    pub(crate) fn random() -> Result<Self, SessionError> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|_| SessionError::Random)?;
        Ok(SessionId(id))
    }

    /// The id as 32 lowercase hex digits.
    ///
    /// # Warning
    /// With a server-side store the id is what finds the data; treat it like a password.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl core::fmt::Debug for SessionId {
    /// Shows the first four bytes only, enough to correlate log lines.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "SessionId({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// What a session is apart from its data: its id and timestamps, as sealed in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionMeta {
    /// The session id.
    pub id: SessionId,
    /// Creation (or last regeneration) time, Unix seconds.
    pub issued_at: u32,
    /// Last refresh time, Unix seconds.
    pub last_access: u32,
}

impl SessionMeta {
    /// A new session at `now` (Unix seconds) with a fresh random id.
    pub fn new(now: u32) -> Result<Self, SessionError> {
        Ok(SessionMeta {
            id: SessionId::random()?,
            issued_at: now,
            last_access: now,
        })
    }
}

/// The sealed header: the schema version of the payload, the session's meta, and the optional
/// subject tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) schema_version: u16,
    pub(crate) meta: SessionMeta,
    pub(crate) subject: Option<Subject>,
}

/// Who a session belongs to, as sealed: a tag of the subject the application named, and the
/// generation of that subject's last "log out everywhere" the session was issued after, when
/// the layer knew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Subject {
    pub(crate) tag: [u8; SUBJECT_LEN],
    pub(crate) generation: Option<u64>,
}

impl Header {
    fn write(&self, mut flags: u8, out: &mut Vec<u8>) {
        if self.subject.is_some() {
            flags |= FLAG_SUBJECT;
            if self.subject.is_some_and(|s| s.generation.is_some()) {
                flags |= FLAG_GENERATION;
            }
        }
        out.extend_from_slice(&self.schema_version.to_le_bytes());
        out.push(flags);
        out.extend_from_slice(&self.meta.id.0);
        out.extend_from_slice(&self.meta.issued_at.to_le_bytes());
        out.extend_from_slice(&self.meta.last_access.to_le_bytes());
        if let Some(subject) = &self.subject {
            out.extend_from_slice(&subject.tag);
            if let Some(generation) = subject.generation {
                out.extend_from_slice(&generation.to_le_bytes());
            }
        }
    }

    fn read(plain: &[u8]) -> Option<(Header, u8)> {
        let h: &[u8; HEADER_LEN] = plain.get(..HEADER_LEN)?.try_into().ok()?;
        let mut id = [0u8; 16];
        id.copy_from_slice(&h[3..19]);
        let header = Header {
            schema_version: u16::from_le_bytes([h[0], h[1]]),
            meta: SessionMeta {
                id: SessionId(id),
                issued_at: u32::from_le_bytes([h[19], h[20], h[21], h[22]]),
                last_access: u32::from_le_bytes([h[23], h[24], h[25], h[26]]),
            },
            subject: None,
        };
        Some((header, h[2]))
    }
}

/// The first three envelope bytes, as the first four base64 characters of the first cookie
/// carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix {
    pub(crate) format: u8,
    pub(crate) key_id: u8,
    pub(crate) chunk_count: u8,
}

impl Prefix {
    pub(crate) fn read(bytes: [u8; PREFIX_LEN]) -> Self {
        Prefix {
            format: bytes[0],
            key_id: bytes[1],
            chunk_count: bytes[2],
        }
    }
}

/// Starts an envelope in `buf`: room for the prefix and nonce, then the header. The caller
/// appends the payload and then calls [`finish`].
pub(crate) fn begin(buf: &mut Vec<u8>, header: &Header, flags: u8) {
    buf.clear();
    buf.resize(BODY_OFFSET, 0);
    header.write(flags, buf);
}

/// Appends padding so the finished envelope is `target_len` bytes long. `target_len` must leave
/// room for the trailer: at least `buf.len() + PAD_TRAILER_LEN + TAG_LEN`.
pub(crate) fn pad(buf: &mut Vec<u8>, target_len: usize) {
    let pad = target_len - TAG_LEN - buf.len();
    debug_assert!((PAD_TRAILER_LEN..=usize::from(u16::MAX)).contains(&pad));
    buf.resize(buf.len() + pad - PAD_TRAILER_LEN, 0);
    buf.extend_from_slice(&(pad as u16).to_le_bytes());
}

/// Seals the envelope begun in `buf` in place: writes the prefix and a fresh nonce, encrypts the
/// body and appends the tag.
pub(crate) fn finish(
    buf: &mut Vec<u8>,
    key: &DerivedKey,
    chunk_count: u8,
    binding: &[u8],
) -> Result<(), SessionError> {
    buf[0] = FORMAT_VERSION;
    buf[1] = key.id;
    buf[2] = chunk_count;
    crate::nonce::fill(&mut buf[PREFIX_LEN..BODY_OFFSET]).map_err(|_| SessionError::Random)?;
    let (head, body) = buf.split_at_mut(BODY_OFFSET);
    let nonce = Nonce::try_from(&head[PREFIX_LEN..]).expect("12-byte nonce");
    let ad = associated_data(&head[..PREFIX_LEN], binding);
    let tag = key
        .cipher
        .encrypt_inout_detached(&nonce, ad.as_slice(), body.into())
        .expect("a cookie-sized plaintext is within AES-GCM-SIV limits");
    buf.extend_from_slice(tag.as_slice());
    Ok(())
}

/// The result of opening an envelope.
#[derive(Debug)]
pub(crate) struct OpenedEnvelope<'a> {
    pub(crate) header: Header,
    /// An id cookie: the session is in a store.
    pub(crate) stored: bool,
    pub(crate) payload: &'a [u8],
    /// Where `payload` starts in the envelope buffer.
    pub(crate) payload_at: usize,
    pub(crate) fallback_key: bool,
    /// The place in the key set of the key that opened it (0: the primary).
    pub(crate) key_index: usize,
}

/// Opens the envelope in `buf` in place: checks the format and chunk count, finds the key by id,
/// decrypts and authenticates, and splits the header from the payload.
pub(crate) fn open<'a>(
    buf: &'a mut [u8],
    keys: &Keys,
    chunk_count: u8,
    binding: &[u8],
) -> Result<OpenedEnvelope<'a>, OpenError> {
    if buf.len() < OVERHEAD {
        return Err(OpenError::Malformed);
    }
    if buf[0] != FORMAT_VERSION {
        return Err(OpenError::UnknownFormat { found: buf[0] });
    }
    if buf[2] != chunk_count {
        return Err(OpenError::Tampered);
    }
    let key_id = buf[1];
    let (head, rest) = buf.split_at_mut(BODY_OFFSET);
    let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
    let nonce = Nonce::try_from(&head[PREFIX_LEN..]).expect("12-byte nonce");
    let tag = Tag::try_from(&*tag).expect("16-byte tag");
    let ad = associated_data(&head[..PREFIX_LEN], binding);

    let candidates = keys.candidates(key_id).count();
    if candidates == 0 {
        return Err(OpenError::UnknownKey { id: key_id });
    }
    // A failed attempt leaves `body` scrambled, so when two keys share the id (1 pair in 256)
    // the ciphertext is kept for the second try.
    let saved = (candidates > 1).then(|| body.to_vec());
    let mut opened_with = None;
    for (key, index) in keys.candidates(key_id) {
        if key
            .cipher
            .decrypt_inout_detached(&nonce, ad.as_slice(), (&mut *body).into(), &tag)
            .is_ok()
        {
            opened_with = Some(index);
            break;
        }
        if let Some(saved) = &saved {
            body.copy_from_slice(saved);
        }
    }
    let key_index = opened_with.ok_or(OpenError::Tampered)?;
    let fallback_key = key_index > 0;

    let body: &'a [u8] = body;
    let (mut header, flags) = Header::read(body).ok_or(OpenError::Malformed)?;
    if flags & !(FLAG_PADDED | FLAG_STORED | FLAG_SUBJECT | FLAG_GENERATION) != 0
        || (flags & FLAG_GENERATION != 0 && flags & FLAG_SUBJECT == 0)
    {
        return Err(OpenError::Malformed);
    }
    let mut payload = &body[HEADER_LEN..];
    let mut payload_at = BODY_OFFSET + HEADER_LEN;
    if flags & FLAG_SUBJECT != 0 {
        let tag = payload.get(..SUBJECT_LEN).ok_or(OpenError::Malformed)?;
        header.subject = Some(Subject {
            tag: tag.try_into().map_err(|_| OpenError::Malformed)?,
            generation: None,
        });
        payload = &payload[SUBJECT_LEN..];
        payload_at += SUBJECT_LEN;
    }
    if flags & FLAG_GENERATION != 0 {
        let generation = payload.get(..GENERATION_LEN).ok_or(OpenError::Malformed)?;
        let generation: [u8; GENERATION_LEN] =
            generation.try_into().map_err(|_| OpenError::Malformed)?;
        if let Some(subject) = &mut header.subject {
            subject.generation = Some(u64::from_le_bytes(generation));
        }
        payload = &payload[GENERATION_LEN..];
        payload_at += GENERATION_LEN;
    }
    if flags & FLAG_PADDED != 0 {
        let n = payload.len();
        let trailer: [u8; PAD_TRAILER_LEN] = n
            .checked_sub(PAD_TRAILER_LEN)
            .and_then(|start| payload[start..].try_into().ok())
            .ok_or(OpenError::Malformed)?;
        let pad = usize::from(u16::from_le_bytes(trailer));
        if pad < PAD_TRAILER_LEN || pad > n {
            return Err(OpenError::Malformed);
        }
        payload = &payload[..n - pad];
    }
    let stored = flags & FLAG_STORED != 0;
    if stored && !payload.is_empty() {
        return Err(OpenError::Malformed);
    }
    Ok(OpenedEnvelope {
        header,
        stored,
        payload,
        payload_at,
        fallback_key,
        key_index,
    })
}

/// The AEAD primitives the envelope seals and opens with, on raw 256-bit keys, for the
/// known-answer tests (RFC 8452, Wycheproof). Not public API.
#[doc(hidden)]
pub mod aead {
    use aes_gcm_siv::aead::AeadInOut;
    use aes_gcm_siv::{Aes256GcmSiv, KeyInit, Nonce, Tag};

    /// Encrypts `in_out` in place under `key` and `nonce`, authenticating `ad`; returns the tag.
    pub fn seal_detached(
        key: &[u8; 32],
        nonce: &[u8; 12],
        ad: &[u8],
        in_out: &mut [u8],
    ) -> [u8; 16] {
        let cipher = Aes256GcmSiv::new(key.into());
        let tag = cipher
            .encrypt_inout_detached(&Nonce::from(*nonce), ad, in_out.into())
            .expect("test vectors are within AES-GCM-SIV limits");
        tag.into()
    }

    /// Decrypts `in_out` in place; `false` (and scrambled `in_out`) when authentication fails.
    pub fn open_detached(
        key: &[u8; 32],
        nonce: &[u8; 12],
        ad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; 16],
    ) -> bool {
        let cipher = Aes256GcmSiv::new(key.into());
        cipher
            .decrypt_inout_detached(&Nonce::from(*nonce), ad, in_out.into(), &Tag::from(*tag))
            .is_ok()
    }
}

/// What a sealed value is bound to besides its prefix: the cookie name, then, if the
/// application set one, `0x00` and its purpose.
pub(crate) fn binding(cookie_name: &str, purpose: &str) -> Vec<u8> {
    let mut out = cookie_name.as_bytes().to_vec();
    if !purpose.is_empty() {
        out.push(0);
        out.extend_from_slice(purpose.as_bytes());
    }
    out
}

/// The associated data: the envelope prefix, then the binding (cookie name and purpose).
fn associated_data(prefix: &[u8], cookie_name: &[u8]) -> AssociatedData {
    let mut ad = AssociatedData {
        buf: [0; 64],
        len: 0,
        heap: Vec::new(),
    };
    let total = prefix.len() + cookie_name.len();
    if total <= ad.buf.len() {
        ad.buf[..prefix.len()].copy_from_slice(prefix);
        ad.buf[prefix.len()..total].copy_from_slice(cookie_name);
        ad.len = total;
    } else {
        ad.heap.extend_from_slice(prefix);
        ad.heap.extend_from_slice(cookie_name);
    }
    ad
}

/// Associated data on the stack for the usual short cookie names.
struct AssociatedData {
    buf: [u8; 64],
    len: usize,
    heap: Vec<u8>,
}

impl AssociatedData {
    fn as_slice(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.buf[..self.len]
        } else {
            &self.heap
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;

    fn header() -> Header {
        Header {
            schema_version: 3,
            meta: SessionMeta {
                id: SessionId([9; 16]),
                issued_at: 1_700_000_000,
                last_access: 1_700_000_100,
            },
            subject: None,
        }
    }

    fn seal(keys: &Keys, payload: &[u8], padded_to: Option<usize>, name: &str) -> Vec<u8> {
        let mut buf = Vec::new();
        begin(&mut buf, &header(), u8::from(padded_to.is_some()));
        buf.extend_from_slice(payload);
        if let Some(target) = padded_to {
            pad(&mut buf, target);
        }
        finish(&mut buf, keys.primary(), 1, name.as_bytes()).expect("random");
        buf
    }

    #[test]
    fn round_trip_and_layout() {
        let keys = Keys::new(Key::generate());
        let mut sealed = seal(&keys, b"hello", None, "session");
        assert_eq!(sealed.len(), OVERHEAD + 5);
        assert_eq!(&sealed[..3], &[FORMAT_VERSION, keys.primary_id(), 1]);
        let opened = open(&mut sealed, &keys, 1, b"session").expect("opens");
        assert_eq!(opened.header, header());
        assert_eq!(opened.payload, b"hello");
        assert!(!opened.fallback_key);
    }

    #[test]
    fn padding_round_trips() {
        let keys = Keys::new(Key::generate());
        let mut sealed = seal(&keys, b"hello", Some(120), "session");
        assert_eq!(sealed.len(), 120);
        let opened = open(&mut sealed, &keys, 1, b"session").expect("opens");
        assert_eq!(opened.payload, b"hello");
    }

    #[test]
    fn bad_padding_trailers_are_malformed_not_panics() {
        let keys = Keys::new(Key::generate());
        for (payload, trailer) in [
            (&b""[..], &b""[..]),
            (b"", b"\x01"),
            (b"ab", b"\x01\x00"),
            (b"ab", b"\xff\x00"),
        ] {
            let mut buf = Vec::new();
            begin(&mut buf, &header(), FLAG_PADDED);
            buf.extend_from_slice(payload);
            buf.extend_from_slice(trailer);
            finish(&mut buf, keys.primary(), 1, b"s").expect("random");
            assert_eq!(
                open(&mut buf, &keys, 1, b"s").err(),
                Some(OpenError::Malformed)
            );
        }
    }

    #[test]
    fn name_and_count_are_bound() {
        let keys = Keys::new(Key::generate());
        let sealed = seal(&keys, b"hello", None, "session");
        let mut other = sealed.clone();
        assert_eq!(
            open(&mut other, &keys, 1, b"session2").err(),
            Some(OpenError::Tampered)
        );
        let mut recounted = sealed.clone();
        recounted[2] = 2;
        assert_eq!(
            open(&mut recounted, &keys, 2, b"session").err(),
            Some(OpenError::Tampered)
        );
        let mut long_name = seal(&keys, b"x", None, &"n".repeat(100));
        assert!(open(&mut long_name, &keys, 1, "n".repeat(100).as_bytes()).is_ok());
    }

    #[test]
    fn the_purpose_is_bound() {
        let keys = Keys::new(Key::generate());
        let mut buf = Vec::new();
        begin(&mut buf, &header(), 0);
        finish(&mut buf, keys.primary(), 1, &binding("session", "app-a")).expect("random");
        let mut other = buf.clone();
        assert_eq!(
            open(&mut other, &keys, 1, &binding("session", "app-b")).err(),
            Some(OpenError::Tampered)
        );
        let mut none = buf.clone();
        assert_eq!(
            open(&mut none, &keys, 1, &binding("session", "")).err(),
            Some(OpenError::Tampered)
        );
        assert!(open(&mut buf, &keys, 1, &binding("session", "app-a")).is_ok());
        assert_eq!(binding("session", ""), b"session");
    }

    #[test]
    fn fallback_keys_open_and_are_flagged() {
        let old = Key::generate();
        let mut sealed = seal(&Keys::new(old.clone()), b"x", None, "s");
        let rotated = Keys::new(Key::generate()).with_fallback(old);
        let opened = open(&mut sealed, &rotated, 1, b"s").expect("fallback opens");
        assert!(opened.fallback_key);
        let mut again = seal(&Keys::new(Key::generate()), b"x", None, "s");
        let err = open(&mut again, &rotated, 1, b"s").err();
        assert!(matches!(
            err,
            Some(OpenError::UnknownKey { .. } | OpenError::Tampered)
        ));
    }

    #[test]
    fn base64_len_formula() {
        assert_eq!(base64_len(3), 4);
        assert_eq!(base64_len(4), 6);
    }
}

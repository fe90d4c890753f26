//! The sealed envelope: what one session looks like in bytes before it is base64-encoded and
//! split into cookies. `docs/FORMAT.md` describes the same layout for readers of the wire.
//!
//! ```text
//! envelope  = format (1) | key id (1) | chunk count (1) | nonce (12) | ciphertext | tag (16)
//! plaintext = schema version (u16 LE) | flags (1) | session id (16)
//!           | issued-at (u32 LE) | last-access (u32 LE) | payload | [padding]
//! associated data = format | key id | chunk count | cookie name
//! ```
//!
//! The first three bytes are exactly the first four base64 characters, so the chunk count can be
//! read from the first cookie alone; it is authenticated through the associated data.

use aes_gcm_siv::aead::AeadInOut;
use aes_gcm_siv::{Nonce, Tag};

use crate::error::OpenError;
use crate::key::{DerivedKey, Keys};

/// The envelope format this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Bytes before the nonce: format, key id, chunk count.
pub const PREFIX_LEN: usize = 3;
/// AES-GCM-SIV nonce bytes.
pub const NONCE_LEN: usize = 12;
/// AES-GCM-SIV tag bytes.
pub const TAG_LEN: usize = 16;
/// Bytes of the sealed session header inside the ciphertext.
pub const HEADER_LEN: usize = 2 + 1 + 16 + 4 + 4;
/// Everything the envelope adds to a payload, in bytes.
pub const OVERHEAD: usize = PREFIX_LEN + NONCE_LEN + HEADER_LEN + TAG_LEN;
/// Offset of the plaintext (and of the ciphertext) in the envelope.
pub const BODY_OFFSET: usize = PREFIX_LEN + NONCE_LEN;
/// Flag bit: the plaintext ends with padding whose length is its last two bytes (u16 LE).
pub const FLAG_PADDED: u8 = 0b0000_0001;
/// Bytes the padding trailer takes.
pub const PAD_TRAILER_LEN: usize = 2;

/// Characters of unpadded base64 for `bytes` bytes.
pub const fn base64_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

/// Characters of base64url cookie value for a payload of `payload_len` bytes, unpadded.
pub const fn sealed_value_len(payload_len: usize) -> usize {
    base64_len(OVERHEAD + payload_len)
}

/// A session id: 128 random bits, fixed for the life of a session until
/// [`regenerate`](crate::SessionMeta::regenerate) replaces it (at login).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// A fresh random id.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)?;
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

/// The sealed header: everything about a session except its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The schema version of the payload.
    pub schema_version: u16,
    /// The session id.
    pub id: SessionId,
    /// When the session was created (or last regenerated), Unix seconds.
    pub issued_at: u32,
    /// When a request last refreshed the session, Unix seconds.
    pub last_access: u32,
}

impl Header {
    fn write(&self, flags: u8, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.schema_version.to_le_bytes());
        out.push(flags);
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&self.issued_at.to_le_bytes());
        out.extend_from_slice(&self.last_access.to_le_bytes());
    }

    fn read(plain: &[u8]) -> Option<(Header, u8)> {
        let h: &[u8; HEADER_LEN] = plain.get(..HEADER_LEN)?.try_into().ok()?;
        let mut id = [0u8; 16];
        id.copy_from_slice(&h[3..19]);
        let header = Header {
            schema_version: u16::from_le_bytes([h[0], h[1]]),
            id: SessionId(id),
            issued_at: u32::from_le_bytes([h[19], h[20], h[21], h[22]]),
            last_access: u32::from_le_bytes([h[23], h[24], h[25], h[26]]),
        };
        Some((header, h[2]))
    }
}

/// Starts an envelope in `buf`: room for the prefix and nonce, then the header. The caller
/// appends the payload and then calls [`finish`].
pub(crate) fn begin(buf: &mut Vec<u8>, header: &Header, padded: bool) {
    buf.clear();
    buf.resize(BODY_OFFSET, 0);
    header.write(if padded { FLAG_PADDED } else { 0 }, buf);
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
    cookie_name: &str,
) -> Result<(), getrandom::Error> {
    buf[0] = FORMAT_VERSION;
    buf[1] = key.id;
    buf[2] = chunk_count;
    crate::nonce::fill(&mut buf[PREFIX_LEN..BODY_OFFSET])?;
    let (head, body) = buf.split_at_mut(BODY_OFFSET);
    let nonce = Nonce::try_from(&head[PREFIX_LEN..]).expect("12-byte nonce");
    let ad = associated_data(&head[..PREFIX_LEN], cookie_name);
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
    pub(crate) payload: &'a [u8],
    pub(crate) fallback_key: bool,
}

/// Opens the envelope in `buf` in place: checks the format and chunk count, finds the key by id,
/// decrypts and authenticates, and splits the header from the payload.
pub(crate) fn open<'a>(
    buf: &'a mut [u8],
    keys: &Keys,
    chunk_count: u8,
    cookie_name: &str,
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
    let ad = associated_data(&head[..PREFIX_LEN], cookie_name);

    let candidates = keys.candidates(key_id).count();
    if candidates == 0 {
        return Err(OpenError::UnknownKey { id: key_id });
    }
    // A failed attempt leaves `body` scrambled, so when two keys share the id (1 pair in 256)
    // the ciphertext is kept for the second try.
    let saved = (candidates > 1).then(|| body.to_vec());
    let mut opened_with = None;
    for (key, fallback) in keys.candidates(key_id) {
        if key
            .cipher
            .decrypt_inout_detached(&nonce, ad.as_slice(), (&mut *body).into(), &tag)
            .is_ok()
        {
            opened_with = Some(fallback);
            break;
        }
        if let Some(saved) = &saved {
            body.copy_from_slice(saved);
        }
    }
    let fallback_key = opened_with.ok_or(OpenError::Tampered)?;

    let body: &'a [u8] = body;
    let (header, flags) = Header::read(body).ok_or(OpenError::Malformed)?;
    let mut payload = &body[HEADER_LEN..];
    match flags {
        0 => {}
        FLAG_PADDED => {
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
        _ => return Err(OpenError::Malformed),
    }
    Ok(OpenedEnvelope {
        header,
        payload,
        fallback_key,
    })
}

/// The associated data: the envelope prefix, then the cookie name.
fn associated_data(prefix: &[u8], cookie_name: &str) -> AssociatedData {
    let mut ad = AssociatedData {
        buf: [0; 64],
        len: 0,
        heap: Vec::new(),
    };
    let total = prefix.len() + cookie_name.len();
    if total <= ad.buf.len() {
        ad.buf[..prefix.len()].copy_from_slice(prefix);
        ad.buf[prefix.len()..total].copy_from_slice(cookie_name.as_bytes());
        ad.len = total;
    } else {
        ad.heap.extend_from_slice(prefix);
        ad.heap.extend_from_slice(cookie_name.as_bytes());
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
            id: SessionId([9; 16]),
            issued_at: 1_700_000_000,
            last_access: 1_700_000_100,
        }
    }

    fn seal(keys: &Keys, payload: &[u8], padded_to: Option<usize>, name: &str) -> Vec<u8> {
        let mut buf = Vec::new();
        begin(&mut buf, &header(), padded_to.is_some());
        buf.extend_from_slice(payload);
        if let Some(target) = padded_to {
            pad(&mut buf, target);
        }
        finish(&mut buf, keys.primary(), 1, name).expect("random");
        buf
    }

    #[test]
    fn round_trip_and_layout() {
        let keys = Keys::new(Key::generate());
        let mut sealed = seal(&keys, b"hello", None, "session");
        assert_eq!(sealed.len(), OVERHEAD + 5);
        assert_eq!(&sealed[..3], &[FORMAT_VERSION, keys.primary_id(), 1]);
        let opened = open(&mut sealed, &keys, 1, "session").expect("opens");
        assert_eq!(opened.header, header());
        assert_eq!(opened.payload, b"hello");
        assert!(!opened.fallback_key);
    }

    #[test]
    fn padding_round_trips() {
        let keys = Keys::new(Key::generate());
        let mut sealed = seal(&keys, b"hello", Some(120), "session");
        assert_eq!(sealed.len(), 120);
        let opened = open(&mut sealed, &keys, 1, "session").expect("opens");
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
            begin(&mut buf, &header(), true);
            buf.extend_from_slice(payload);
            buf.extend_from_slice(trailer);
            finish(&mut buf, keys.primary(), 1, "s").expect("random");
            assert_eq!(
                open(&mut buf, &keys, 1, "s").err(),
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
            open(&mut other, &keys, 1, "session2").err(),
            Some(OpenError::Tampered)
        );
        let mut recounted = sealed.clone();
        recounted[2] = 2;
        assert_eq!(
            open(&mut recounted, &keys, 2, "session").err(),
            Some(OpenError::Tampered)
        );
        let mut long_name = seal(&keys, b"x", None, &"n".repeat(100));
        assert!(open(&mut long_name, &keys, 1, &"n".repeat(100)).is_ok());
    }

    #[test]
    fn fallback_keys_open_and_are_flagged() {
        let old = Key::generate();
        let mut sealed = seal(&Keys::new(old.clone()), b"x", None, "s");
        let rotated = Keys::new(Key::generate()).with_fallback(old);
        let opened = open(&mut sealed, &rotated, 1, "s").expect("fallback opens");
        assert!(opened.fallback_key);
        let mut again = seal(&Keys::new(Key::generate()), b"x", None, "s");
        let err = open(&mut again, &rotated, 1, "s").err();
        assert!(matches!(
            err,
            Some(OpenError::UnknownKey { .. } | OpenError::Tampered)
        ));
    }

    #[test]
    fn sealed_len_formula() {
        assert_eq!(sealed_value_len(0), base64_len(OVERHEAD));
        assert_eq!(base64_len(3), 4);
        assert_eq!(base64_len(4), 6);
    }
}

//! Master keys, the keys derived from them, and the primary + fallback key set.
//!
//! A [`Key`] is master key material: at least 32 random bytes. It is never used directly; the
//! sealing key and the one-byte key id are derived from it with HKDF-SHA256 under purpose strings
//! that name the algorithm and the format version, so the same master key can never produce the
//! same cipher key for another purpose or another format.

use core::fmt;

use aes_gcm_siv::{Aes256GcmSiv, KeyInit};
use base64::Engine as _;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// HKDF `info` for the AES-256-GCM-SIV sealing key of envelope format 1.
const SEAL_KEY_INFO: &[u8] = b"session-runtime v1 AES-256-GCM-SIV seal key";
/// HKDF `info` for the one-byte key id of envelope format 1.
const KEY_ID_INFO: &[u8] = b"session-runtime v1 key id";
/// The shortest master key accepted, in bytes.
pub(crate) const MIN_KEY_LEN: usize = 32;
/// The longest master key accepted, in bytes.
pub(crate) const MAX_KEY_LEN: usize = 1024;

/// Why key material was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Fewer than 32 bytes.
    #[error(
        "session key is {len} bytes; it needs at least {MIN_KEY_LEN} random bytes (try `Key::generate()` and store its base64)"
    )]
    TooShort {
        /// The length given.
        len: usize,
    },
    /// More than 1024 bytes: almost certainly the wrong file or variable.
    #[error("session key is {len} bytes; at most {MAX_KEY_LEN} are accepted")]
    TooLong {
        /// The length given.
        len: usize,
    },
    /// All zero, one repeated byte, a short repeated pattern or too few distinct bytes: a
    /// placeholder, not a random key.
    #[error(
        "session key looks like a placeholder (repeated or low-variety bytes); generate a random one with `Key::generate()`"
    )]
    Placeholder,
    /// Not valid base64 (standard or URL-safe, padded or not).
    #[error("session key is not valid base64")]
    Base64,
    /// The environment variable is unset or not Unicode.
    #[error("environment variable `{name}` with the session key is not set (or not Unicode)")]
    MissingEnv {
        /// The variable's name.
        name: String,
    },
    /// The operating system's random source failed.
    #[error("the operating system's random number source failed")]
    Random,
    /// The same key appears twice in one key set.
    #[error("the same key appears twice in the key set")]
    Duplicate,
}

/// A master key: at least 32 random bytes, zeroized on drop, never printed.
///
/// ```
/// use session_runtime::Key;
///
/// let key = Key::generate();
/// let text = key.to_base64(); // store this in your secret manager
/// let again = Key::from_base64(&text)?;
/// assert_eq!(key.id(), again.id());
/// // Debug shows the key id only.
/// assert!(!format!("{key:?}").contains(&text));
/// # Ok::<(), session_runtime::KeyError>(())
/// ```
pub struct Key {
    material: Zeroizing<Vec<u8>>,
}

impl Key {
    /// Takes key material, refusing short, overlong and placeholder keys.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        validate(bytes)?;
        Ok(Key {
            material: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// Decodes base64 (standard or URL-safe alphabet, with or without padding; surrounding
    /// whitespace is ignored) and checks the key as [`from_bytes`](Self::from_bytes) does.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let cleaned: Zeroizing<String> = Zeroizing::new(
            text.trim_end_matches('=')
                .chars()
                .map(|c| match c {
                    '+' => '-',
                    '/' => '_',
                    c => c,
                })
                .collect(),
        );
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(cleaned.as_bytes())
                .map_err(|_| KeyError::Base64)?,
        );
        Self::from_bytes(&bytes)
    }

    /// Reads a base64 key from the environment variable `name`.
    ///
    /// # Warning
    /// Environment variables are visible to anything that can read the process environment; a
    /// secret manager that injects the variable only into this process is the usual setup.
    pub fn from_env(name: &str) -> Result<Self, KeyError> {
        Self::from_lookup(name, |name| std::env::var(name).ok())
    }

    /// Reads the key from `name` like [`from_env`](Self::from_env), or, when the variable is
    /// not set at all, generates one and logs a warning: sessions sealed with it do not survive
    /// a restart and no other instance can open them. Meant for development; a variable that
    /// is set but invalid is still an error, never silently replaced.
    pub fn from_env_or_generate(name: &str) -> Result<Self, KeyError> {
        match Self::from_env(name) {
            Err(KeyError::MissingEnv { .. }) => {
                tracing::warn!(
                    variable = name,
                    "no session key configured; generated one: sessions will not survive a restart or reach another instance"
                );
                Self::try_generate()
            }
            other => other,
        }
    }

    fn from_lookup(
        name: &str,
        lookup: impl FnOnce(&str) -> Option<String>,
    ) -> Result<Self, KeyError> {
        let value = Zeroizing::new(lookup(name).ok_or_else(|| KeyError::MissingEnv {
            name: name.to_owned(),
        })?);
        Self::from_base64(&value)
    }

    /// A fresh 32-byte key from the operating system's random source.
    ///
    /// # Panics
    /// Only if the operating system cannot produce random bytes at all; use
    /// [`try_generate`](Self::try_generate) to handle that.
    pub fn generate() -> Self {
        Self::try_generate().expect("the operating system's random source failed")
    }

    /// A fresh 32-byte key, or an error if the random source failed.
    pub fn try_generate() -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new(vec![0u8; MIN_KEY_LEN]);
        getrandom::fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Self::from_bytes(&bytes)
    }

    /// The key as URL-safe base64 without padding, to store it.
    ///
    /// # Warning
    /// This is the secret itself. Keep it out of logs and source control.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&*self.material)
    }

    /// The one-byte key id written into every envelope this key seals.
    ///
    /// Derived from the key, so a key keeps its id however the key set is ordered. Two keys may
    /// share an id (1 chance in 256); opening then simply tries both.
    pub fn id(&self) -> u8 {
        let mut id = [0u8; 1];
        hkdf(&self.material, KEY_ID_INFO, &mut id);
        id[0]
    }

    fn derive(&self) -> DerivedKey {
        let mut seal_key = Zeroizing::new([0u8; 32]);
        hkdf(&self.material, SEAL_KEY_INFO, &mut *seal_key);
        let cipher =
            Aes256GcmSiv::new_from_slice(&*seal_key).expect("AES-256-GCM-SIV takes a 32-byte key");
        DerivedKey {
            id: self.id(),
            cipher,
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl Clone for Key {
    fn clone(&self) -> Self {
        Key {
            material: self.material.clone(),
        }
    }
}

impl PartialEq for Key {
    /// Compares key material in constant time.
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&*self.material, &*other.material);
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Key {}

fn hkdf(material: &[u8], info: &[u8], out: &mut [u8]) {
    Hkdf::<Sha256>::new(None, material)
        .expand(info, out)
        .expect("HKDF-SHA256 output of at most 32 bytes");
}

fn validate(bytes: &[u8]) -> Result<(), KeyError> {
    if bytes.len() < MIN_KEY_LEN {
        return Err(KeyError::TooShort { len: bytes.len() });
    }
    if bytes.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong { len: bytes.len() });
    }
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in bytes {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
        }
    }
    // 32 random bytes have about 30 distinct values; a placeholder like "aaaa…", "abab…" or
    // "secretsecret…" has few, or repeats itself with a short period.
    let periodic =
        (1..=bytes.len() / 2).any(|p| bytes.iter().skip(p).zip(bytes).all(|(a, b)| a == b));
    if distinct < 8 || periodic {
        return Err(KeyError::Placeholder);
    }
    Ok(())
}

/// A cipher derived from one master key, with the key id it seals under. The cipher's round
/// keys are zeroized on drop (the `zeroize` feature of `aes`).
pub(crate) struct DerivedKey {
    pub(crate) id: u8,
    pub(crate) cipher: Aes256GcmSiv,
}

/// The keys a layer seals and opens with: one primary and any number of fallbacks.
///
/// The primary seals every cookie. Fallbacks only open: a cookie opened with a fallback is
/// re-sealed with the primary on that response, so rotating a key is
/// `Keys::new(new_key).with_fallback(old_key)` for one session lifetime, then dropping the old key.
///
/// Ciphers are derived once, here, not per request.
///
/// ```
/// use session_runtime::{Key, Keys};
///
/// let old = Key::generate();
/// let new = Key::generate();
/// // Cookies sealed under `old` still open; every cookie written is sealed under `new`.
/// let keys = Keys::new(new.clone()).with_fallback(old);
/// assert_eq!(keys.primary_id(), new.id());
/// ```
pub struct Keys {
    derived: Vec<DerivedKey>,
    masters: Vec<Key>,
}

impl Keys {
    /// A key set with `primary` alone.
    pub fn new(primary: Key) -> Self {
        Keys {
            derived: vec![primary.derive()],
            masters: vec![primary],
        }
    }

    /// Adds a fallback key, tried after the primary and the fallbacks added before it.
    ///
    /// A fallback equal to a key already in the set is ignored.
    pub fn with_fallback(mut self, fallback: Key) -> Self {
        if !self.masters.contains(&fallback) {
            self.derived.push(fallback.derive());
            self.masters.push(fallback);
        }
        self
    }

    /// The number of keys, primary included.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.derived.len()
    }

    /// The primary key's id.
    pub fn primary_id(&self) -> u8 {
        self.derived[0].id
    }

    pub(crate) fn primary(&self) -> &DerivedKey {
        &self.derived[0]
    }

    /// Keys whose id matches, primary first, each with "is it a fallback".
    pub(crate) fn candidates(&self, id: u8) -> impl Iterator<Item = (&DerivedKey, bool)> {
        self.derived
            .iter()
            .enumerate()
            .filter(move |(_, k)| k.id == id)
            .map(|(i, k)| (k, i > 0))
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("primary", &self.masters[0])
            .field("fallbacks", &&self.masters[1..])
            .finish()
    }
}

impl Clone for Keys {
    fn clone(&self) -> Self {
        let mut masters = self.masters.iter().cloned();
        let primary = masters.next().map(Keys::new);
        let keys = primary.expect("a key set has a primary key");
        masters.fold(keys, Keys::with_fallback)
    }
}

impl From<Key> for Keys {
    fn from(primary: Key) -> Self {
        Keys::new(primary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random() -> Vec<u8> {
        let mut b = vec![0u8; 32];
        getrandom::fill(&mut b).expect("random");
        b
    }

    #[test]
    fn refuses_weak_keys() {
        assert_eq!(
            Key::from_bytes(&[7; 31]).err(),
            Some(KeyError::TooShort { len: 31 })
        );
        assert_eq!(Key::from_bytes(&[0; 32]).err(), Some(KeyError::Placeholder));
        assert_eq!(
            Key::from_bytes(&[0xAB; 64]).err(),
            Some(KeyError::Placeholder)
        );
        assert_eq!(
            Key::from_bytes(b"secretsecretsecretsecretsecretse").err(),
            Some(KeyError::Placeholder)
        );
        assert_eq!(
            Key::from_bytes(b"0123456789abcdef0123456789abcdef").err(),
            Some(KeyError::Placeholder)
        );
        assert_eq!(
            Key::from_bytes(&[1; 2000]).err(),
            Some(KeyError::TooLong { len: 2000 })
        );
        assert!(Key::from_bytes(&random()).is_ok());
    }

    #[test]
    fn base64_forms_agree() {
        let bytes = random();
        let std = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        let a = Key::from_base64(&format!("  {std}\n")).expect("standard");
        let b = Key::from_base64(&url).expect("url-safe");
        assert_eq!(a, b);
        assert_eq!(
            Key::from_base64("not base64!").err(),
            Some(KeyError::Base64)
        );
    }

    #[test]
    fn debug_hides_material() {
        let key = Key::generate();
        let shown = format!("{key:?} {:?}", Keys::new(key.clone()));
        assert!(!shown.contains(&key.to_base64()));
        assert!(shown.contains("id"));
    }

    #[test]
    fn from_env_reads_and_reports() {
        let key = Key::generate();
        let text = key.to_base64();
        let read = Key::from_lookup("SESSION_KEY", |name| {
            assert_eq!(name, "SESSION_KEY");
            Some(format!("{text}\n"))
        });
        assert_eq!(read.ok(), Some(key));
        assert!(matches!(
            Key::from_env("SESSION_RUNTIME_TEST_KEY_THAT_IS_NEVER_SET"),
            Err(KeyError::MissingEnv { name }) if name == "SESSION_RUNTIME_TEST_KEY_THAT_IS_NEVER_SET"
        ));
    }

    #[test]
    fn key_ids_are_stable_and_rotation_keeps_order() {
        let a = Key::generate();
        let b = Key::generate();
        let keys = Keys::new(b.clone())
            .with_fallback(a.clone())
            .with_fallback(a.clone());
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.primary_id(), b.id());
        let found: Vec<bool> = keys
            .candidates(a.id())
            .map(|(_, fallback)| fallback)
            .collect();
        assert!(found.contains(&true));
        assert_eq!(Keys::new(a.clone()).primary_id(), a.id());
    }
}

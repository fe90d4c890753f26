//! Master keys, the keys derived from them, and the primary + fallback key set.
//!
//! A [`Key`] is master key material: at least 32 random bytes. It is never used directly; the
//! sealing key and the one-byte key id are derived from it with HKDF-SHA256 under purpose strings
//! that name the algorithm and the format version, so the same master key can never produce the
//! same cipher key for another purpose or another format.

use core::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use aes_gcm_siv::{Aes256GcmSiv, KeyInit};
use base64::Engine as _;
use hkdf::Hkdf;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// HKDF `info` for the AES-256-GCM-SIV sealing key of envelope format 1.
const SEAL_KEY_INFO: &[u8] = b"session-runtime v1 AES-256-GCM-SIV seal key";
/// HKDF `info` for the key of the keyed tags that name store entries derived from names.
const TAG_KEY_INFO: &[u8] = b"session-runtime v1 store tag key";
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
    /// The environment variable with the primary key is not set.
    #[error(
        "environment variable `{name}` is not set; set it to the base64 of 32 or more random bytes (`session-tool keygen` prints one)"
    )]
    MissingEnv {
        /// The variable's name.
        name: String,
    },
    /// A key in an environment variable was refused; `reason` says why.
    #[error("environment variable `{name}`: {reason}")]
    InvalidEnv {
        /// The variable's name.
        name: String,
        /// Why its key was refused.
        reason: Box<KeyError>,
    },
    /// The operating system's random source failed.
    #[error("the operating system's random number source failed")]
    Random,
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
        let mut tag_key = Zeroizing::new([0u8; 32]);
        hkdf(&self.material, TAG_KEY_INFO, &mut *tag_key);
        DerivedKey {
            id: self.id(),
            cipher,
            tag_key,
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

impl KeyError {
    fn in_env(self, name: &str) -> KeyError {
        KeyError::InvalidEnv {
            name: name.to_owned(),
            reason: Box::new(self),
        }
    }
}

/// Reads a variable; one that is not Unicode is kept (lossily) so that it is reported as bad
/// base64 rather than as unset.
fn env_lookup(name: &str) -> Option<String> {
    std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
}

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
    /// The key of [`Keys::tags`].
    tag_key: Zeroizing<[u8; 32]>,
}

/// The variable [`Keys::from_env`] reads the primary key from.
const PRIMARY_VAR: &str = "SESSION_KEY";
/// The variable [`Keys::from_env`] reads the fallback keys from.
const FALLBACK_VAR: &str = "SESSION_KEY_OLD";

/// The keys a layer seals and opens with: one primary and any number of fallbacks.
///
/// The primary seals every cookie. Fallbacks only open: a cookie opened with a fallback is
/// re-sealed with the primary on that response. Ciphers are derived once, here, not per request.
///
/// In production, read the set from the environment with [`from_env`](Self::from_env):
/// `SESSION_KEY` holds the primary and `SESSION_KEY_OLD` the fallbacks, if any. Rotating a key
/// is then two deploys of configuration, no code:
///
/// 1. `SESSION_KEY=<new>` and `SESSION_KEY_OLD=<old>`: cookies sealed under the old key still
///    open, and each is re-sealed under the new one on its next response;
/// 2. one absolute timeout later (every session has been re-sealed or has expired), remove
///    `SESSION_KEY_OLD`.
///
/// In code, [`with_fallback`](Self::with_fallback) does the same:
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

    /// The key set from the environment: the primary key from `SESSION_KEY` (required) and the
    /// fallback keys from `SESSION_KEY_OLD` (optional).
    ///
    /// Each key is base64, as [`Key::from_base64`] reads it. `SESSION_KEY_OLD` holds any number
    /// of keys separated by commas or whitespace (neither occurs in base64), in the order they
    /// are tried; unset or empty means no fallback, so a deployment can keep the variable
    /// defined between rotations.
    ///
    /// # Errors
    /// [`KeyError::MissingEnv`] when `SESSION_KEY` is not set; [`KeyError::InvalidEnv`], naming
    /// the variable, when a key in either is refused (an empty `SESSION_KEY` included).
    ///
    /// # Warning
    /// Environment variables are visible to anything that can read the process environment; a
    /// secret manager that injects them only into this process is the usual setup.
    ///
    /// ```no_run
    /// use session_runtime::{CookieSession, Keys, SessionLayer};
    /// # #[derive(CookieSession, serde::Serialize, serde::Deserialize, Default)]
    /// # #[session(version = 1)]
    /// # struct Cart { user_id: u64 }
    ///
    /// let layer = SessionLayer::<Cart>::new(Keys::from_env()?);
    /// # Ok::<(), session_runtime::KeyError>(())
    /// ```
    pub fn from_env() -> Result<Self, KeyError> {
        Self::from_env_named(PRIMARY_VAR, FALLBACK_VAR)
    }

    /// [`from_env`](Self::from_env) with other variable names: the primary key from `primary`,
    /// the fallbacks (separated by commas or whitespace) from `fallbacks`. For processes that
    /// run several applications, each with its own keys.
    pub fn from_env_named(primary: &str, fallbacks: &str) -> Result<Self, KeyError> {
        Self::from_lookup(primary, fallbacks, env_lookup)
    }

    /// [`from_env`](Self::from_env), or, when neither variable is set, a freshly generated key
    /// and a logged warning: sessions sealed with it do not survive a restart and no other
    /// instance can open them. Meant for development. A variable that is set but invalid is
    /// still an error, never silently replaced, and so are fallbacks without a primary (a
    /// rotation whose new key went missing).
    pub fn from_env_or_generate() -> Result<Self, KeyError> {
        Self::from_lookup_or_generate(PRIMARY_VAR, FALLBACK_VAR, env_lookup)
    }

    fn from_lookup(
        primary: &str,
        fallbacks: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, KeyError> {
        let text = Zeroizing::new(lookup(primary).ok_or_else(|| KeyError::MissingEnv {
            name: primary.to_owned(),
        })?);
        let mut keys = Keys::new(Key::from_base64(&text).map_err(|e| e.in_env(primary))?);
        if let Some(list) = lookup(fallbacks).map(Zeroizing::new) {
            for text in list
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|t| !t.is_empty())
            {
                keys = keys.with_fallback(Key::from_base64(text).map_err(|e| e.in_env(fallbacks))?);
            }
        }
        Ok(keys)
    }

    fn from_lookup_or_generate(
        primary: &str,
        fallbacks: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, KeyError> {
        let no_fallbacks = lookup(fallbacks).is_none_or(|list| list.trim().is_empty());
        if lookup(primary).is_none() && no_fallbacks {
            tracing::warn!(
                variable = primary,
                "no session key configured; generated one: sessions will not survive a restart or reach another instance"
            );
            return Key::try_generate().map(Keys::new);
        }
        Self::from_lookup(primary, fallbacks, lookup)
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

    /// A keyed tag of `data` under `label` for the key at `index` in the set (0: the primary;
    /// the primary's when there is no such key): HMAC-SHA256 under a key derived from the
    /// master key, cut to 16 bytes. Store keys derived from names (a subject) use these, so
    /// that applications that do not share a key never meet in a shared store, and whoever
    /// reads the store cannot confirm a guessed name.
    pub(crate) fn tag(&self, index: usize, label: &[u8], data: &[u8]) -> [u8; 16] {
        let key = self.derived.get(index).unwrap_or(&self.derived[0]);
        let mut input = Vec::with_capacity(label.len() + 1 + data.len());
        input.extend_from_slice(label);
        input.push(0);
        input.extend_from_slice(data);
        // HKDF-Extract is HMAC-SHA256(salt, input): the tag key as the HMAC key.
        let (mac, _) = Hkdf::<Sha256>::extract(Some(&*key.tag_key), &input);
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&mac[..16]);
        tag
    }

    /// [`tag`](Self::tag) under every key of the set, primary first.
    pub(crate) fn tags<'a>(
        &'a self,
        label: &'a [u8],
        data: &'a [u8],
    ) -> impl Iterator<Item = [u8; 16]> + 'a {
        (0..self.derived.len()).map(move |index| self.tag(index, label, data))
    }

    /// Every key's id, primary first (for the metrics).
    pub(crate) fn ids(&self) -> impl Iterator<Item = u8> + '_ {
        self.derived.iter().map(|key| key.id)
    }

    /// Keys whose id matches, primary first, each with its place in the set (0: the primary).
    pub(crate) fn candidates(&self, id: u8) -> impl Iterator<Item = (&DerivedKey, usize)> {
        self.derived
            .iter()
            .enumerate()
            .filter(move |(_, k)| k.id == id)
            .map(|(i, k)| (k, i))
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

/// The file a key directory holds its keys in, as a Kubernetes secret with the key `keys`
/// mounts it: [`KeySource::dir`].
pub const KEY_FILE_NAME: &str = "keys";

/// The largest key file read, in bytes: dozens of the longest keys with their comments. A
/// larger file is almost certainly the wrong one.
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

/// Why a key file was refused. The messages never show key material: a bad key is named by
/// its line number.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read the session key file `{}`: {source}", path.display())]
    Read {
        /// The file's path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The file is larger than any key file (64 KiB).
    #[error("the session key file `{}` is over 64 KiB: not a key file", path.display())]
    TooLarge {
        /// The file's path.
        path: PathBuf,
    },
    /// A line holds no valid key; `reason` says why.
    #[error("session key file, line {line}: {reason}")]
    Line {
        /// The line's number, counted from 1.
        line: usize,
        /// Why its key was refused.
        reason: KeyError,
    },
    /// The file holds no key at all, only blank lines and comments.
    #[error(
        "the session key file holds no key (only blank lines and comments); put one base64 key per line, the primary first"
    )]
    Empty,
}

impl Keys {
    /// A key set from the text of a key file: one base64 key per line (standard or URL-safe,
    /// padded or not, as [`Key::from_base64`] reads it), the first the primary and the others
    /// its fallbacks in the order they are tried. Blank lines and lines starting with `#` are
    /// ignored; surrounding whitespace and Windows line endings are too.
    ///
    /// # Errors
    /// [`KeyFileError::Line`] with the number of the first line whose key is refused (bad
    /// base64, too short, a placeholder), [`KeyFileError::Empty`] without any key.
    ///
    /// ```
    /// use session_runtime::{Key, Keys};
    ///
    /// let (new, old) = (Key::generate(), Key::generate());
    /// let text = format!("# rotated 2026-12-06\n{}\n\n# until 2026-12-07\n{}\n", new.to_base64(), old.to_base64());
    /// let keys = Keys::from_lines(&text)?;
    /// assert_eq!(keys.primary_id(), new.id());
    /// # Ok::<(), session_runtime::KeyFileError>(())
    /// ```
    pub fn from_lines(text: &str) -> Result<Self, KeyFileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut keys: Option<Keys> = None;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = Key::from_base64(line).map_err(|reason| KeyFileError::Line {
                line: index + 1,
                reason,
            })?;
            keys = Some(match keys {
                None => Keys::new(key),
                Some(keys) => keys.with_fallback(key),
            });
        }
        keys.ok_or(KeyFileError::Empty)
    }

    /// The key set in the file at `path`, in the format of [`from_lines`](Self::from_lines),
    /// read once. To follow the file as it changes, use [`KeySource::file`].
    ///
    /// # Errors
    /// [`KeyFileError::Read`] when it cannot be read, [`KeyFileError::TooLarge`] over 64 KiB,
    /// and the errors of [`from_lines`](Self::from_lines).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyFileError> {
        let bytes = read_key_file(path.as_ref())?;
        Self::from_file_bytes(&bytes)
    }

    /// [`from_lines`](Self::from_lines) of a file's bytes; bytes that are not UTF-8 are a bad
    /// key on their line.
    fn from_file_bytes(bytes: &[u8]) -> Result<Self, KeyFileError> {
        // Bytes that are not UTF-8 become U+FFFD, which is no base64: a bad key on their line.
        let text = Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
        Self::from_lines(&text)
    }
}

/// The bytes of a key file, zeroized on drop.
fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    use std::io::Read as _;

    let read_error = |source| KeyFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(512));
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(KeyFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(bytes)
}

/// Where a layer's keys come from: a fixed [`Keys`], or a key file read again when it changes,
/// so that keys rotate without a restart.
///
/// Cheap to clone; clones share one key set. Every request takes one snapshot of the set (one
/// `Arc` clone under an uncontended read lock) and seals, opens and names its store records
/// with that snapshot alone, so a reload never gives a request half of one set and half of
/// another. A reload swaps the whole set at once.
///
/// The file holds one base64 key per line, the primary first ([`Keys::from_lines`]). It is
/// read again:
///
/// - when the application calls [`reload`](Self::reload), e.g. on `SIGHUP` (the library
///   installs no signal handler);
/// - every few seconds once [`watch`](Self::watch) runs: it reads the file and compares a
///   hash of its contents with the set loaded, so it sees a file rewritten in place as well as
///   a Kubernetes secret mount swapping its `..data` symlink (the path is opened anew each
///   time, symlinks followed).
///
/// A new file that does not parse, holds no key or holds a weak key keeps the keys in use and
/// logs why (`tracing::error!`, with the line number, never key material); so does a file that
/// cannot be read.
///
/// ```no_run
/// use session_runtime::{CookieSession, KeySource, SessionLayer};
/// # #[derive(CookieSession, serde::Serialize, serde::Deserialize, Default)]
/// # #[session(version = 1)]
/// # struct Cart { user_id: u64 }
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A Kubernetes secret with the key `keys`, mounted at /etc/session-keys.
/// let keys = KeySource::dir("/etc/session-keys")?;
/// keys.watch(); // read again every 10 s; needs a Tokio runtime
/// let layer = SessionLayer::<Cart>::builder(keys.clone()).build()?;
///
/// // Also on demand, e.g. from a SIGHUP handler:
/// match keys.reload() {
///     Ok(true) => println!("new session keys, primary id {}", keys.keys().primary_id()),
///     Ok(false) => println!("session keys unchanged"),
///     Err(err) => eprintln!("kept the session keys in use: {err}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct KeySource {
    inner: Arc<Source>,
}

struct Source {
    current: RwLock<Arc<Keys>>,
    /// `None`: a fixed set.
    file: Option<KeyFile>,
}

struct KeyFile {
    path: PathBuf,
    /// What the last read found; its lock also keeps two reloads from interleaving.
    last: Mutex<Seen>,
}

/// What a read of the key file found, to tell a change from the same file read again, and to
/// log a bad file once per version rather than on every poll.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// Loaded: the SHA-256 of its contents.
    Loaded([u8; 32]),
    /// Refused: the SHA-256 of its contents.
    Refused([u8; 32]),
    /// Could not be read: the error.
    Unreadable(String),
}

impl KeySource {
    /// How often [`watch`](Self::watch) reads the key file.
    pub const DEFAULT_POLL: Duration = Duration::from_secs(10);

    /// The key set in the file at `path` ([`Keys::from_file`]), read again by
    /// [`reload`](Self::reload) and [`watch`](Self::watch).
    ///
    /// # Errors
    /// The file's error, as [`Keys::from_file`] reports it: there is no set to fall back on
    /// yet.
    pub fn file(path: impl Into<PathBuf>) -> Result<Self, KeyFileError> {
        let path = path.into();
        let bytes = read_key_file(&path)?;
        let keys = Keys::from_file_bytes(&bytes)?;
        Ok(KeySource {
            inner: Arc::new(Source {
                current: RwLock::new(Arc::new(keys)),
                file: Some(KeyFile {
                    last: Mutex::new(Seen::Loaded(digest(&bytes))),
                    path,
                }),
            }),
        })
    }

    /// The key set in the file named `keys` ([`KEY_FILE_NAME`]) in `dir`: a Kubernetes secret
    /// whose data has the key `keys`, mounted at `dir`. Kubernetes updates such a mount by
    /// swapping the `dir/..data` symlink, which [`watch`](Self::watch) follows. For another
    /// file name, use [`file`](Self::file)`(dir.join(name))`: the two read the same way.
    ///
    /// # Errors
    /// As [`file`](Self::file).
    pub fn dir(dir: impl AsRef<Path>) -> Result<Self, KeyFileError> {
        Self::file(dir.as_ref().join(KEY_FILE_NAME))
    }

    /// The key set as it is now. A request takes this once, and uses it for everything.
    pub fn keys(&self) -> Arc<Keys> {
        Arc::clone(
            &self
                .inner
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The key file's path, or `None` for a fixed set.
    pub fn path(&self) -> Option<&Path> {
        self.inner.file.as_ref().map(|file| file.path.as_path())
    }

    /// Reads the key file again now, and swaps in its keys if it changed.
    ///
    /// `Ok(true)`: a new set is in use from the next request on. `Ok(false)`: the file is as
    /// loaded (or the set is fixed). `Err`: the file could not be read or holds a bad key set;
    /// the keys in use stay, and the error is also logged.
    ///
    /// Reads the file with blocking I/O: a small file, but from async code on a busy runtime,
    /// consider `tokio::task::spawn_blocking`.
    pub fn reload(&self) -> Result<bool, KeyFileError> {
        self.inner.refresh(true)
    }

    /// Reads the key file every [`DEFAULT_POLL`](Self::DEFAULT_POLL) (10 s) on a Tokio task
    /// and swaps in its keys when it changed: [`watch_every`](Self::watch_every).
    ///
    /// # Panics
    /// Outside a Tokio runtime, as `tokio::spawn` does.
    pub fn watch(&self) -> tokio::task::JoinHandle<()> {
        self.watch_every(Self::DEFAULT_POLL)
    }

    /// Reads the key file every `every` (at least 10 ms) on a Tokio task, and swaps in its keys
    /// when its contents changed. A bad or unreadable file keeps the keys in use and is logged
    /// once per version of it.
    ///
    /// The task ends when every clone of this source (the layers built from it included) has
    /// been dropped, or at once for a fixed set; abort the handle to end it sooner.
    ///
    /// # Panics
    /// Outside a Tokio runtime, as `tokio::spawn` does.
    pub fn watch_every(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let every = every.max(Duration::from_millis(10));
        let source: Weak<Source> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                match source.upgrade() {
                    Some(source) if source.file.is_some() => {}
                    _ => return,
                }
                tokio::time::sleep(every).await;
                let Some(source) = source.upgrade() else {
                    return;
                };
                // Logged inside; the keys in use stay.
                let _ = source.refresh(false);
            }
        })
    }
}

impl Source {
    /// Reads the key file and swaps in its set if its contents changed. A failure is logged
    /// when `always_log`, or when it differs from the last read's.
    fn refresh(&self, always_log: bool) -> Result<bool, KeyFileError> {
        let Some(file) = &self.file else {
            return Ok(false);
        };
        let mut last = file.last.lock().unwrap_or_else(PoisonError::into_inner);
        let (seen, parsed) = match read_key_file(&file.path) {
            Ok(bytes) => {
                let hash = digest(&bytes);
                if *last == Seen::Loaded(hash) {
                    return Ok(false);
                }
                match Keys::from_file_bytes(&bytes) {
                    Ok(keys) => (Seen::Loaded(hash), Ok(keys)),
                    Err(err) => (Seen::Refused(hash), Err(err)),
                }
            }
            Err(err) => (Seen::Unreadable(err.to_string()), Err(err)),
        };
        let new = *last != seen;
        *last = seen;
        match parsed {
            Ok(keys) => {
                let (primary, count) = (keys.primary_id(), keys.derived.len());
                crate::metrics::keys_loaded(keys.ids());
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
                tracing::info!(
                    path = %file.path.display(),
                    primary_key_id = primary,
                    keys = count,
                    "session keys reloaded"
                );
                Ok(true)
            }
            Err(err) => {
                if always_log || new {
                    crate::metrics::key_reload_failed();
                    tracing::error!(
                        path = %file.path.display(),
                        error = %err,
                        "session key file refused; the keys in use stay"
                    );
                }
                Err(err)
            }
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&Sha256::digest(bytes));
    hash
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySource")
            .field("keys", &self.keys())
            .field("path", &self.path())
            .finish()
    }
}

impl From<Keys> for KeySource {
    /// A fixed set: [`reload`](KeySource::reload) and [`watch`](KeySource::watch) do nothing.
    fn from(keys: Keys) -> Self {
        KeySource {
            inner: Arc::new(Source {
                current: RwLock::new(Arc::new(keys)),
                file: None,
            }),
        }
    }
}

impl From<Key> for KeySource {
    /// A fixed set of `primary` alone.
    fn from(primary: Key) -> Self {
        KeySource::from(Keys::new(primary))
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

    /// An environment made of `pairs`, read without touching the process environment.
    fn env(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn ids(keys: &Keys) -> Vec<u8> {
        keys.masters.iter().map(Key::id).collect()
    }

    #[test]
    fn from_env_reads_primary_and_optional_fallbacks() {
        let (new, old, older) = (Key::generate(), Key::generate(), Key::generate());
        let read = |pairs: &[(&str, String)]| Keys::from_lookup("SK", "SK_OLD", env(pairs));

        let alone = read(&[("SK", format!("{}\n", new.to_base64()))]).expect("primary alone");
        assert_eq!(alone.masters, vec![new.clone()]);
        let empty = read(&[("SK", new.to_base64()), ("SK_OLD", " \n".into())]).expect("empty");
        assert_eq!(empty.masters, vec![new.clone()]);

        // A list, in the order given, whatever the separators; the primary repeated is ignored.
        let list = format!(
            "{}, {}\n{},",
            old.to_base64(),
            older.to_base64(),
            new.to_base64()
        );
        let rotated = read(&[("SK", new.to_base64()), ("SK_OLD", list)]).expect("list");
        assert_eq!(
            rotated.masters,
            vec![new.clone(), old.clone(), older.clone()]
        );
        assert_eq!(ids(&rotated), vec![new.id(), old.id(), older.id()]);
    }

    #[test]
    fn from_env_errors_name_the_variable() {
        let good = Key::generate().to_base64();
        let read = |pairs: &[(&str, String)]| Keys::from_lookup("SK", "SK_OLD", env(pairs)).err();

        assert_eq!(
            read(&[("SK_OLD", good.clone())]),
            Some(KeyError::MissingEnv { name: "SK".into() })
        );
        assert_eq!(
            read(&[("SK", String::new())]),
            Some(KeyError::InvalidEnv {
                name: "SK".into(),
                reason: Box::new(KeyError::TooShort { len: 0 }),
            })
        );
        let bad_fallback = read(&[
            ("SK", good.clone()),
            ("SK_OLD", format!("{good},not!base64")),
        ]);
        assert_eq!(
            bad_fallback,
            Some(KeyError::InvalidEnv {
                name: "SK_OLD".into(),
                reason: Box::new(KeyError::Base64),
            })
        );
        let message = bad_fallback.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("`SK_OLD`") && message.contains("base64"),
            "{message}"
        );
        assert!(
            !message.contains(&good),
            "an error never shows key material: {message}"
        );
        assert!(
            KeyError::MissingEnv { name: "SK".into() }
                .to_string()
                .contains("session-tool keygen")
        );
    }

    #[test]
    fn generates_only_when_nothing_is_configured() {
        let key = Key::generate();
        let read =
            |pairs: &[(&str, String)]| Keys::from_lookup_or_generate("SK", "SK_OLD", env(pairs));
        let generated = read(&[]).expect("generated");
        assert_eq!(generated.masters.len(), 1);
        assert_ne!(read(&[]).expect("generated").masters, generated.masters);
        assert!(read(&[("SK_OLD", String::new())]).is_ok());
        assert_eq!(
            read(&[("SK", key.to_base64())])
                .expect("configured")
                .masters,
            vec![key.clone()]
        );
        // Set but invalid, or fallbacks without their primary: refused, never replaced.
        assert!(matches!(
            read(&[("SK", "short".into())]),
            Err(KeyError::InvalidEnv { .. })
        ));
        assert_eq!(
            read(&[("SK_OLD", key.to_base64())]).err(),
            Some(KeyError::MissingEnv { name: "SK".into() })
        );
    }

    #[test]
    fn from_env_reads_the_process_environment() {
        // A name no test sets, so nothing races with other tests' environment.
        assert!(matches!(
            Keys::from_env_named("SESSION_RUNTIME_TEST_NEVER_SET", "SESSION_RUNTIME_TEST_NEVER_SET_OLD"),
            Err(KeyError::MissingEnv { name }) if name == "SESSION_RUNTIME_TEST_NEVER_SET"
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
            .map(|(_, index)| index > 0)
            .collect();
        assert!(found.contains(&true));
        assert_eq!(Keys::new(a.clone()).primary_id(), a.id());
    }

    fn line_error(text: &str) -> Option<(usize, KeyError)> {
        match Keys::from_lines(text) {
            Err(KeyFileError::Line { line, reason }) => Some((line, reason)),
            _ => None,
        }
    }

    #[test]
    fn key_files_read_comments_blank_lines_and_both_base64_forms() {
        let (new, old, older) = (Key::generate(), Key::generate(), Key::generate());
        let standard = base64::engine::general_purpose::STANDARD.encode(&*old.material);
        assert!(standard.ends_with('='), "32 bytes take padding");
        let text = format!(
            "\u{feff}# session keys, primary first\r\n\n   {}  \r\n# the previous primary, standard base64, padded\n{standard}\n\t\n  # indented comment\n{}\n{}\n",
            new.to_base64(),
            older.to_base64(),
            new.to_base64(),
        );
        let keys = Keys::from_lines(&text).expect("a valid key file");
        assert_eq!(keys.masters, vec![new.clone(), old.clone(), older.clone()]);
        assert_eq!(keys.primary_id(), new.id());
        // One key alone, without a final newline.
        let alone = Keys::from_lines(&new.to_base64()).expect("one key");
        assert_eq!(alone.masters, vec![new]);
    }

    #[test]
    fn key_file_errors_name_the_line_and_never_the_key() {
        let good = Key::generate().to_base64();
        let short = base64::engine::general_purpose::STANDARD.encode([7u8, 1, 2, 3, 4, 5, 6, 8]);
        let placeholder = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        assert_eq!(
            line_error(&format!("# keys\n{good}\n\n{good}x!\n")),
            Some((4, KeyError::Base64))
        );
        assert_eq!(
            line_error(&format!("{good}\n{short}\n")),
            Some((2, KeyError::TooShort { len: 8 }))
        );
        assert_eq!(
            line_error(&format!("{placeholder}\n{good}\n")),
            Some((1, KeyError::Placeholder))
        );
        // Two keys on one line are not one key.
        assert_eq!(
            line_error(&format!("{good} {good}\n")),
            Some((1, KeyError::Base64))
        );
        assert!(matches!(
            Keys::from_lines("# nothing yet\n\n  \n"),
            Err(KeyFileError::Empty)
        ));
        assert!(matches!(Keys::from_lines(""), Err(KeyFileError::Empty)));
        // Not UTF-8: a bad key on its line, after the good lines before it.
        let mut bytes = format!("{good}\n# ok\n").into_bytes();
        bytes.extend_from_slice(b"\xff\xfe\n");
        assert!(matches!(
            Keys::from_file_bytes(&bytes),
            Err(KeyFileError::Line {
                line: 3,
                reason: KeyError::Base64
            })
        ));

        // The message: the line and the reason, no key material, not even the bad line's.
        let bad_line = format!("{}!", &good[..good.len() - 1]);
        let err = Keys::from_lines(&format!("{good}\n{bad_line}\n")).expect_err("refused");
        let message = err.to_string();
        assert!(
            message.contains("line 2") && message.contains("base64"),
            "{message}"
        );
        assert!(!message.contains(&good[..8]), "{message}");
        assert!(!format!("{err:?}").contains(&good[..8]));
        let placeholder_err = Keys::from_lines(&format!("{placeholder}\n")).expect_err("refused");
        assert!(!placeholder_err.to_string().contains(&placeholder[..8]));
    }

    /// A directory of this test's own under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let mut random = [0u8; 8];
            getrandom::fill(&mut random).expect("random");
            let dir = std::env::temp_dir().join(format!(
                "session-runtime-{name}-{}-{}",
                std::process::id(),
                u64::from_le_bytes(random)
            ));
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn file_of(keys: &[&Key]) -> String {
        let lines: Vec<String> = keys.iter().map(|k| k.to_base64()).collect();
        format!("# test keys\n{}\n", lines.join("\n"))
    }

    #[test]
    fn a_reload_swaps_the_set_and_a_bad_file_keeps_the_old_one() {
        let dir = TempDir::new("reload");
        let path = dir.0.join("session.keys");
        let (old, new) = (Key::generate(), Key::generate());
        assert!(matches!(
            KeySource::file(&path),
            Err(KeyFileError::Read { .. })
        ));
        std::fs::write(&path, file_of(&[&old])).expect("write");
        let source = KeySource::file(&path).expect("loads");
        assert_eq!(source.path(), Some(path.as_path()));
        let before = source.keys();
        assert_eq!(before.masters, vec![old.clone()]);
        assert!(!source.reload().expect("unchanged"));
        assert!(
            Arc::ptr_eq(&before, &source.keys()),
            "an unchanged file swaps nothing"
        );

        // Step 1: the new key as a fallback; step 2: the new key primary.
        std::fs::write(&path, file_of(&[&old, &new])).expect("write");
        assert!(source.reload().expect("reloads"));
        assert_eq!(source.keys().masters, vec![old.clone(), new.clone()]);
        std::fs::write(&path, file_of(&[&new, &old])).expect("write");
        let clone = source.clone();
        assert!(clone.reload().expect("reloads"));
        assert_eq!(source.keys().primary_id(), new.id(), "clones share the set");
        // A snapshot taken before keeps its set.
        assert_eq!(before.masters, vec![old.clone()]);

        // Bad files: refused, the set in use stays.
        let in_use = source.keys();
        for bad in [
            "not base64!\n".to_owned(),
            "# emptied by mistake\n".to_owned(),
            format!(
                "{}\n",
                base64::engine::general_purpose::STANDARD.encode([0u8; 32])
            ),
            format!("{}\nshort\n", new.to_base64()),
        ] {
            std::fs::write(&path, &bad).expect("write");
            assert!(source.reload().is_err(), "{bad:?} refused");
            assert!(Arc::ptr_eq(&in_use, &source.keys()), "{bad:?} kept the set");
        }
        std::fs::remove_file(&path).expect("remove");
        assert!(matches!(source.reload(), Err(KeyFileError::Read { .. })));
        assert!(Arc::ptr_eq(&in_use, &source.keys()));
        std::fs::write(&path, vec![b'#'; 70 * 1024]).expect("write");
        assert!(matches!(
            source.reload(),
            Err(KeyFileError::TooLarge { .. })
        ));
        assert!(Arc::ptr_eq(&in_use, &source.keys()));

        // A fixed set: nothing to reload.
        let fixed = KeySource::from(new.clone());
        assert!(!fixed.reload().expect("fixed"));
        assert_eq!(fixed.path(), None);
        // Debug shows key ids, never material.
        let shown = format!("{source:?}");
        assert!(shown.contains("session.keys") && !shown.contains(&new.to_base64()));
    }

    /// A Kubernetes secret mount: `dir/keys` → `..data/keys`, `..data` → a timestamped
    /// directory; an update writes a new directory and renames a new `..data` symlink over the
    /// old one.
    #[cfg(unix)]
    struct SecretMount {
        dir: TempDir,
        version: u32,
    }

    #[cfg(unix)]
    impl SecretMount {
        fn new(text: &str) -> SecretMount {
            let mut mount = SecretMount {
                dir: TempDir::new("mount"),
                version: 0,
            };
            mount.update(text);
            std::os::unix::fs::symlink("..data/keys", mount.dir.0.join(KEY_FILE_NAME))
                .expect("keys symlink");
            mount
        }

        fn update(&mut self, text: &str) {
            self.version += 1;
            let version = format!("..2026_12_06_01_00_{:02}.{}", self.version, self.version);
            std::fs::create_dir(self.dir.0.join(&version)).expect("version directory");
            std::fs::write(self.dir.0.join(&version).join(KEY_FILE_NAME), text).expect("write");
            let tmp = self.dir.0.join("..data_tmp");
            std::os::unix::fs::symlink(&version, &tmp).expect("..data_tmp");
            std::fs::rename(&tmp, self.dir.0.join("..data")).expect("swap ..data");
        }
    }

    /// Waits up to 5 s for `check` to hold.
    #[cfg(unix)]
    async fn eventually(check: impl Fn() -> bool) -> bool {
        for _ in 0..500 {
            if check() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        check()
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_watched_secret_mount_follows_its_data_symlink_swaps() {
        let (old, new) = (Key::generate(), Key::generate());
        let mut mount = SecretMount::new(&file_of(&[&old]));
        let source = KeySource::dir(&mount.dir.0).expect("loads");
        assert_eq!(source.keys().masters, vec![old.clone()]);
        let watch = source.watch_every(Duration::from_millis(20));

        mount.update(&file_of(&[&old, &new]));
        assert!(
            eventually(|| source.keys().masters == [old.clone(), new.clone()]).await,
            "the new key added as a fallback was picked up"
        );
        mount.update(&file_of(&[&new, &old]));
        assert!(
            eventually(|| source.keys().primary_id() == new.id()).await,
            "the new key made primary was picked up"
        );

        // A bad update keeps the set through many polls; a good one after it is picked up.
        let in_use = source.keys();
        mount.update("# the secret was emptied\n");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            Arc::ptr_eq(&in_use, &source.keys()),
            "a bad update kept the set"
        );
        mount.update(&file_of(&[&new]));
        assert!(
            eventually(|| source.keys().masters == [new.clone()]).await,
            "the old key dropped"
        );

        // The task ends once every clone of the source is gone.
        drop(source);
        tokio::time::timeout(Duration::from_secs(5), watch)
            .await
            .expect("the watch ended with its source")
            .expect("the watch did not panic");
        // A fixed set's watch ends at once.
        let fixed = KeySource::from(new).watch();
        tokio::time::timeout(Duration::from_secs(5), fixed)
            .await
            .expect("a fixed set's watch ends")
            .expect("no panic");
    }
}

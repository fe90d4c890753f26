//! Sealing a typed session into Set-Cookie headers and opening it again: the whole pipeline
//! (schema → envelope → chunks and back) with no HTTP framework involved.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use session_runtime::codec::{Codec, Reseal};
//! use session_runtime::config::CookieConfig;
//! use session_runtime::key::Key;
//! use session_runtime::{CookieSession, SessionMeta};
//!
//! #[derive(CookieSession, Serialize, Deserialize, Debug, PartialEq)]
//! #[session(version = 1)]
//! struct Cart {
//!     user_id: u64,
//! }
//!
//! let codec = Codec::new(Key::generate(), CookieConfig::new("cart"))?;
//! let now = 1_763_800_000;
//! let meta = SessionMeta::new(now)?;
//! let sealed = codec.seal(&Cart { user_id: 7 }, &meta)?;
//! let header = sealed.cookie_header(); // what the browser sends back: "cart=…"
//!
//! let opened = codec.open::<Cart>([header.as_str()], now + 60)?.expect("a session");
//! assert_eq!(opened.value, Cart { user_id: 7 });
//! assert_eq!(opened.reseal, Reseal::default());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::chunk::{self, chunk_name, cookie_pairs};
use crate::config::{ConfigError, CookieConfig, Padding};
use crate::envelope::{self, Header, SessionId, TAG_LEN};
use crate::error::{Expiry, OpenError, SealError};
use crate::key::Keys;
use crate::schema::CookieSession;

/// What a session is apart from its data: id and timestamps, as sealed in its header.
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
    pub fn new(now: u32) -> Result<Self, SealError> {
        Ok(SessionMeta {
            id: SessionId::random().map_err(|_| SealError::Random)?,
            issued_at: now,
            last_access: now,
        })
    }

    /// A new id and a new issued-at, keeping nothing that identified the old session. Call it
    /// at login and privilege changes so a session id planted before cannot ride along.
    pub fn regenerate(&mut self, now: u32) -> Result<(), SealError> {
        *self = SessionMeta::new(now)?;
        Ok(())
    }
}

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
    /// How many cookies it came in.
    pub chunks: u8,
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
    /// `name=value` pairs joined with `; `. Useful in tests and benchmarks.
    pub fn cookie_header(&self) -> String {
        self.headers[..usize::from(self.chunks)]
            .iter()
            .map(|h| h.split_once(';').map_or(h.as_str(), |(pair, _)| pair))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Seals and opens sessions for one cookie configuration and key set.
///
/// Build it once (at startup): it validates the configuration, derives the ciphers and renders
/// the cookie attributes. Sealing and opening then do no key setup and no attribute formatting.
pub struct Codec {
    keys: Keys,
    config: CookieConfig,
    names: Vec<String>,
    attributes: String,
    removals: Vec<String>,
    /// Cookie-value characters per cookie, a multiple of 4.
    capacity: usize,
}

impl core::fmt::Debug for Codec {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Codec")
            .field("keys", &self.keys)
            .field("config", &self.config)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Codec {
    /// Validates `config` and prepares everything sealing needs.
    pub fn new(keys: impl Into<Keys>, config: CookieConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let max = config.max_cookies;
        let names: Vec<String> = (0..max).map(|i| chunk_name(&config.name, i)).collect();
        let attributes = config.render_attributes(false);
        let removal_attributes = config.render_attributes(true);
        let removals = names
            .iter()
            .map(|n| format!("{n}={removal_attributes}"))
            .collect();
        let longest_name = names.last().map_or(0, String::len);
        let used = longest_name + 1 + attributes.len();
        let capacity = config.max_cookie_len.saturating_sub(used) / 4 * 4;
        if capacity < 64 {
            return Err(ConfigError::NoRoom {
                used,
                limit: config.max_cookie_len,
            });
        }
        Ok(Codec {
            keys: keys.into(),
            config,
            names,
            attributes,
            removals,
            capacity,
        })
    }

    /// Checks that schema `T`'s worst case, padding included, fits the configured cookies.
    /// Schemas without a declared budget have no known worst case and always pass; their size is
    /// checked on every seal instead.
    pub fn check_schema<T: CookieSession>(&self) -> Result<(), ConfigError> {
        let Some(max_payload) = T::MAX_ENCODED_LEN else {
            return Ok(());
        };
        let worst = self.value_len(max_payload);
        let available = self.capacity_total();
        if worst > available {
            return Err(ConfigError::SchemaTooLarge {
                type_name: T::NAME,
                worst,
                available,
                max_cookies: self.config.max_cookies,
            });
        }
        Ok(())
    }

    /// The configuration this codec was built with.
    pub fn config(&self) -> &CookieConfig {
        &self.config
    }

    /// The key set.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Cookie-value characters one cookie carries with these name and attributes.
    pub fn capacity_per_cookie(&self) -> usize {
        self.capacity
    }

    /// Cookie-value characters all configured cookies carry together.
    pub fn capacity_total(&self) -> usize {
        self.capacity * usize::from(self.config.max_cookies)
    }

    /// The sealed value length, padding included, for a payload of `payload_len` bytes.
    pub fn value_len(&self, payload_len: usize) -> usize {
        let envelope = envelope::OVERHEAD + payload_len;
        envelope::base64_len(self.config.padding.padded_envelope_len(envelope))
    }

    /// Seals `value` with `meta`'s id and timestamps under the primary key.
    pub fn seal<T: CookieSession>(
        &self,
        value: &T,
        meta: &SessionMeta,
    ) -> Result<SetCookies, SealError> {
        let mut buf = Vec::with_capacity(256);
        self.seal_with_buffer(value, meta, &mut buf)
    }

    /// [`seal`](Self::seal), reusing `buf` for the envelope.
    pub fn seal_with_buffer<T: CookieSession>(
        &self,
        value: &T,
        meta: &SessionMeta,
        buf: &mut Vec<u8>,
    ) -> Result<SetCookies, SealError> {
        let mut cookies = self.seal_chunks(value, meta, buf)?;
        cookies
            .headers
            .extend(self.removals[usize::from(cookies.chunks)..].iter().cloned());
        Ok(cookies)
    }

    /// The chunk lines alone, without the removals of the names above them: the middleware
    /// appends those from header values it prepared once.
    pub(crate) fn seal_chunks<T: CookieSession>(
        &self,
        value: &T,
        meta: &SessionMeta,
        buf: &mut Vec<u8>,
    ) -> Result<SetCookies, SealError> {
        value.check_bounds()?;
        let header = Header {
            schema_version: T::VERSION,
            id: meta.id,
            issued_at: meta.issued_at,
            last_access: meta.last_access,
        };
        let padded = self.config.padding != Padding::None;
        envelope::begin(buf, &header, padded);
        *buf = postcard::to_extend(value, core::mem::take(buf))
            .map_err(|e| SealError::Encode(e.to_string()))?;
        let envelope_len = self.config.padding.padded_envelope_len(buf.len() + TAG_LEN);
        let value_len = envelope::base64_len(envelope_len);
        let budget = self.capacity_total();
        if value_len > budget {
            return Err(SealError::TooLarge {
                size: value_len,
                budget,
            });
        }
        if padded {
            envelope::pad(buf, envelope_len);
        }
        let count = value_len.div_ceil(self.capacity);
        let count = u8::try_from(count).expect("count is at most max_cookies");
        envelope::finish(buf, self.keys.primary(), count, &self.config.name)
            .map_err(|_| SealError::Random)?;

        let raw_per_cookie = self.capacity / 4 * 3;
        let mut headers = Vec::with_capacity(self.names.len());
        for (name, raw) in self.names.iter().zip(buf.chunks(raw_per_cookie)) {
            let mut line = String::with_capacity(
                name.len() + 1 + envelope::base64_len(raw.len()) + self.attributes.len(),
            );
            line.push_str(name);
            line.push('=');
            URL_SAFE_NO_PAD.encode_string(raw, &mut line);
            line.push_str(&self.attributes);
            if line.len() > self.config.max_cookie_len {
                return Err(SealError::TooLarge {
                    size: value_len,
                    budget,
                });
            }
            headers.push(line);
        }
        Ok(SetCookies {
            headers,
            chunks: count,
        })
    }

    /// Set-Cookie values that expire every chunk name: the response to a logout.
    pub fn removal_headers(&self) -> &[String] {
        &self.removals
    }

    /// Opens the session carried by `cookie_headers` (the values of the request's `Cookie`
    /// headers) at time `now` (Unix seconds).
    ///
    /// `Ok(None)`: no session cookie at all. `Err`: cookies were there but do not make a valid,
    /// live session of a known schema version.
    pub fn open<'a, T: CookieSession>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        now: u32,
    ) -> Result<Option<Opened<T>>, OpenError> {
        let mut buf = Vec::new();
        self.open_with_buffer(cookie_headers, now, &mut buf)
    }

    /// [`open`](Self::open), reusing `buf` for the envelope.
    pub fn open_with_buffer<'a, T: CookieSession>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        now: u32,
        buf: &mut Vec<u8>,
    ) -> Result<Option<Opened<T>>, OpenError> {
        let Some(gathered) = chunk::gather(
            cookie_pairs(cookie_headers),
            &self.config.name,
            self.config.max_cookies,
        )?
        else {
            return Ok(None);
        };
        chunk::decode_into(&gathered, buf)?;
        let opened = envelope::open(buf, &self.keys, gathered.count, &self.config.name)?;
        let header = opened.header;
        check_expiry(&self.config, &header, now)?;
        let version = header.schema_version;
        if version > T::VERSION || version == 0 {
            return Err(OpenError::UnknownVersion {
                found: version,
                newest: T::VERSION,
            });
        }
        let value = T::decode(version, opened.payload).map_err(|e| match OpenError::from(e) {
            OpenError::UnknownVersion { found, .. } => OpenError::UnknownVersion {
                found,
                newest: T::VERSION,
            },
            other => other,
        })?;
        Ok(Some(Opened {
            value,
            meta: SessionMeta {
                id: header.id,
                issued_at: header.issued_at,
                last_access: header.last_access,
            },
            reseal: Reseal {
                fallback_key: opened.fallback_key,
                migrated_from: (version != T::VERSION).then_some(version),
            },
            chunks: gathered.count,
        }))
    }
}

fn check_expiry(config: &CookieConfig, header: &Header, now: u32) -> Result<(), OpenError> {
    let elapsed = |since: u32| Duration::from_secs(u64::from(now.saturating_sub(since)));
    if config
        .absolute_timeout
        .is_some_and(|limit| elapsed(header.issued_at) > limit)
    {
        return Err(OpenError::Expired(Expiry::Absolute));
    }
    if config
        .idle_timeout
        .is_some_and(|limit| elapsed(header.last_access) > limit)
    {
        return Err(OpenError::Expired(Expiry::Idle));
    }
    Ok(())
}

/// The current time in Unix seconds, as sealed headers store it (saturating at `u32::MAX`, the
/// year 2106).
pub fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

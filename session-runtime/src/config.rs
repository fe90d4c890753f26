//! Cookie settings, checked once when a [`Codec`](crate::codec::Codec) or layer is built.

use core::time::Duration;

/// The most cookies one session may be spread over.
pub const MAX_CHUNKS: u8 = 16;
/// The longest Set-Cookie header value this crate sends, attributes included.
pub const MAX_SET_COOKIE_LEN: usize = 4096;

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Sent on same-site requests only.
    Strict,
    /// Sent on same-site requests and top-level navigations (the default).
    #[default]
    Lax,
    /// Sent on every request; browsers require `Secure` with it.
    None,
}

/// Length-hiding padding of the sealed value.
///
/// Without padding, the cookie's length tells an observer roughly how much the session holds
/// (how many cart items, how long a name). With [`Padding::Bucket`], every value is padded up to
/// a multiple of the bucket, so only the bucket leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// No padding (the default).
    #[default]
    None,
    /// Pad the cookie value to a multiple of this many characters (a multiple of 4, 64 to 4096).
    Bucket(usize),
}

impl Padding {
    /// Envelope bytes for a cookie value of `chars` characters, rounded up to the bucket.
    pub(crate) fn padded_envelope_len(self, envelope_len: usize) -> usize {
        match self {
            Padding::None => envelope_len,
            Padding::Bucket(chars) => {
                let bucket = chars / 4 * 3;
                (envelope_len + crate::envelope::PAD_TRAILER_LEN).div_ceil(bucket) * bucket
            }
        }
    }
}

/// Why a configuration was refused. Each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A cookie name must be an RFC 6265 token.
    #[error("cookie name {0:?} is not a valid token: use letters, digits and `!#$%&'*+-.^_`|~`")]
    InvalidName(String),
    /// A `;`, CR, LF or other control character in Path or Domain would split the header.
    #[error(
        "cookie {attribute} {value:?} contains `;`, a control character or whitespace; remove it"
    )]
    InvalidAttribute {
        /// `Path` or `Domain`.
        attribute: &'static str,
        /// The refused value.
        value: String,
    },
    /// A `__Host-` or `__Secure-` prefix, SameSite=None or Partitioned without Secure.
    #[error("{0} requires the Secure attribute; keep `secure(true)`")]
    NeedsSecure(&'static str),
    /// `__Host-` cookies must have Path=/ and no Domain.
    #[error("a `__Host-` cookie must have Path=/ and no Domain; drop the domain or the prefix")]
    HostPrefix,
    /// The maximum number of cookies is out of range.
    #[error("max_cookies must be 1 to {MAX_CHUNKS}, not {0}")]
    MaxCookies(u8),
    /// The Set-Cookie limit is out of range.
    #[error("the per-cookie limit must be 512 to {MAX_SET_COOKIE_LEN} bytes, not {0}")]
    CookieLen(usize),
    /// The padding bucket is not a multiple of 4 between 64 and 4096.
    #[error("padding bucket must be a multiple of 4 from 64 to 4096 characters, not {0}")]
    Padding(usize),
    /// Name and attributes leave no room for a value.
    #[error(
        "the cookie name and attributes take {used} of {limit} bytes, leaving no room for a session; shorten them"
    )]
    NoRoom {
        /// Bytes the name and attributes take.
        used: usize,
        /// The per-cookie limit.
        limit: usize,
    },
    /// The refresh threshold is not shorter than the idle timeout, so a session would expire
    /// before its cookie is ever refreshed.
    #[error(
        "refresh_after ({refresh:?}) must be shorter than the idle timeout ({idle:?}); lower it to a small fraction of the idle timeout"
    )]
    RefreshAfterIdle {
        /// The configured refresh threshold.
        refresh: Duration,
        /// The configured idle timeout.
        idle: Duration,
    },
    /// The schema's worst case cannot fit the configured cookies.
    #[error(
        "session schema `{type_name}` can seal to {worst} bytes, but {max_cookies} cookies carry only {available}; raise max_cookies, lower a max_len, or shorten the cookie attributes"
    )]
    SchemaTooLarge {
        /// The schema type.
        type_name: &'static str,
        /// Its worst-case sealed value length, padding included.
        worst: usize,
        /// What the configured cookies can carry.
        available: usize,
        /// The configured maximum number of cookies.
        max_cookies: u8,
    },
}

/// Everything about how a session travels in cookies: name, attributes, chunking, padding and
/// lifetime.
///
/// The defaults are the safe ones: `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`, a browser-session
/// cookie (no `Max-Age`), at most 2 cookies, idle timeout 30 minutes, absolute timeout 12 hours.
///
/// ```
/// use std::time::Duration;
/// use session_runtime::config::{CookieConfig, SameSite};
///
/// let config = CookieConfig::new("__Host-cart")
///     .same_site(SameSite::Strict)
///     .max_cookies(3)
///     .idle_timeout(Some(Duration::from_secs(15 * 60)));
/// assert!(config.validate().is_ok());
/// assert!(CookieConfig::new("__Host-cart").domain("example.com").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieConfig {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
    pub(crate) partitioned: bool,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_cookies: u8,
    pub(crate) max_cookie_len: usize,
    pub(crate) padding: Padding,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) absolute_timeout: Option<Duration>,
}

impl Default for CookieConfig {
    fn default() -> Self {
        CookieConfig::new("session")
    }
}

impl CookieConfig {
    /// The defaults, with the given cookie name.
    pub fn new(name: impl Into<String>) -> Self {
        CookieConfig {
            name: name.into(),
            path: "/".to_owned(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            partitioned: false,
            max_age: None,
            max_cookies: 2,
            max_cookie_len: MAX_SET_COOKIE_LEN,
            padding: Padding::None,
            idle_timeout: Some(Duration::from_secs(30 * 60)),
            absolute_timeout: Some(Duration::from_secs(12 * 60 * 60)),
        }
    }

    /// The cookie name; further chunks are `name.1`, `name.2`, ….
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The `Path` attribute (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The `Domain` attribute (default none: host-only).
    ///
    /// # Warning
    /// A Domain makes the cookie visible to every subdomain, including ones you do not control.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The `Secure` attribute (default on).
    ///
    /// # Warning
    /// Turning it off sends the session over plain HTTP, where anyone on the path can copy it.
    /// Only for local development over `http://localhost`.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The `HttpOnly` attribute (default on).
    ///
    /// # Warning
    /// Turning it off lets page scripts, and so any XSS, read the sealed session.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// The `SameSite` attribute (default `Lax`).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// The `Partitioned` attribute (CHIPS), default off. Needs `Secure`.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// A persistent cookie kept by the browser for `max_age` (`Max-Age`), or `None` (the default)
    /// for a browser-session cookie. The session's own timeouts apply either way.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// The most cookies a session may be spread over (default 2, at most 16).
    ///
    /// # Warning
    /// Every cookie rides on every request. Stock nginx and Apache refuse a request header line
    /// over about 8 KiB, so more than 2 full cookies needs `large_client_header_buffers` (nginx)
    /// or `LimitRequestFieldSize` (Apache) raised on every proxy in front of the app.
    pub fn max_cookies(mut self, max_cookies: u8) -> Self {
        self.max_cookies = max_cookies;
        self
    }

    /// The longest Set-Cookie header value, attributes included (default and maximum 4096).
    pub fn max_cookie_len(mut self, len: usize) -> Self {
        self.max_cookie_len = len;
        self
    }

    /// Length-hiding padding (default none).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// How long a session may go unused (default 30 minutes; `None` for no limit).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a session may live from its creation or last `regenerate` (default 12 hours;
    /// `None` for no limit).
    pub fn absolute_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.absolute_timeout = timeout;
        self
    }

    /// The configured cookie name.
    pub fn cookie_name(&self) -> &str {
        &self.name
    }

    /// The configured maximum number of cookies.
    pub fn cookie_count_limit(&self) -> u8 {
        self.max_cookies
    }

    /// The configured idle timeout.
    pub fn idle(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// The configured absolute timeout.
    pub fn absolute(&self) -> Option<Duration> {
        self.absolute_timeout
    }

    /// Checks every rule a browser or this crate's format imposes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.name.is_empty() || !self.name.bytes().all(is_token_byte) {
            return Err(ConfigError::InvalidName(self.name.clone()));
        }
        if !self.path.starts_with('/') || !self.path.bytes().all(is_attribute_byte) {
            return Err(ConfigError::InvalidAttribute {
                attribute: "Path",
                value: self.path.clone(),
            });
        }
        if let Some(domain) = &self.domain
            && (domain.is_empty() || !domain.bytes().all(is_attribute_byte))
        {
            return Err(ConfigError::InvalidAttribute {
                attribute: "Domain",
                value: domain.clone(),
            });
        }
        let host = self.name.starts_with("__Host-");
        if !self.secure {
            if host {
                return Err(ConfigError::NeedsSecure("the `__Host-` prefix"));
            }
            if self.name.starts_with("__Secure-") {
                return Err(ConfigError::NeedsSecure("the `__Secure-` prefix"));
            }
            if self.same_site == SameSite::None {
                return Err(ConfigError::NeedsSecure("SameSite=None"));
            }
            if self.partitioned {
                return Err(ConfigError::NeedsSecure("Partitioned"));
            }
        }
        if host && (self.domain.is_some() || self.path != "/") {
            return Err(ConfigError::HostPrefix);
        }
        if self.max_cookies == 0 || self.max_cookies > MAX_CHUNKS {
            return Err(ConfigError::MaxCookies(self.max_cookies));
        }
        if !(512..=MAX_SET_COOKIE_LEN).contains(&self.max_cookie_len) {
            return Err(ConfigError::CookieLen(self.max_cookie_len));
        }
        if let Padding::Bucket(chars) = self.padding
            && (chars % 4 != 0 || !(64..=4096).contains(&chars))
        {
            return Err(ConfigError::Padding(chars));
        }
        Ok(())
    }

    /// The attributes after the value, starting with `; `, as sent on every session cookie.
    pub(crate) fn render_attributes(&self, removal: bool) -> String {
        let mut out = String::new();
        if removal {
            out.push_str("; Max-Age=0");
        } else if let Some(max_age) = self.max_age {
            out.push_str(&format!("; Max-Age={}", max_age.as_secs()));
        }
        if let Some(domain) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        out.push_str("; Path=");
        out.push_str(&self.path);
        if self.secure {
            out.push_str("; Secure");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        out.push_str(match self.same_site {
            SameSite::Strict => "; SameSite=Strict",
            SameSite::Lax => "; SameSite=Lax",
            SameSite::None => "; SameSite=None",
        });
        if self.partitioned {
            out.push_str("; Partitioned");
        }
        out
    }
}

/// RFC 6265 `token` characters (RFC 9110 `tchar`).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Bytes allowed in a Path or Domain value: visible ASCII except `;`.
fn is_attribute_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b';'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_render() {
        let c = CookieConfig::default();
        c.validate().expect("defaults are valid");
        assert_eq!(
            c.render_attributes(false),
            "; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            c.render_attributes(true),
            "; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn refuses_header_injection_and_prefix_misuse() {
        let bad = [
            CookieConfig::new("a;b"),
            CookieConfig::new("a\r\nb"),
            CookieConfig::new(""),
            CookieConfig::default().path("/x;Domain=evil"),
            CookieConfig::default().path("/x\n"),
            CookieConfig::default().domain("a.com; Secure"),
            CookieConfig::new("__Host-s").domain("a.com"),
            CookieConfig::new("__Host-s").path("/app"),
            CookieConfig::new("__Host-s").secure(false),
            CookieConfig::new("__Secure-s").secure(false),
            CookieConfig::default()
                .same_site(SameSite::None)
                .secure(false),
            CookieConfig::default().partitioned(true).secure(false),
            CookieConfig::default().max_cookies(0),
            CookieConfig::default().max_cookies(17),
            CookieConfig::default().max_cookie_len(5000),
            CookieConfig::default().padding(Padding::Bucket(66)),
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?} was accepted");
        }
    }

    #[test]
    fn full_attributes_render_in_order() {
        let c = CookieConfig::new("__Secure-s")
            .domain("example.com")
            .path("/app")
            .same_site(SameSite::None)
            .partitioned(true)
            .max_age(Some(Duration::from_secs(3600)));
        c.validate().expect("valid");
        assert_eq!(
            c.render_attributes(false),
            "; Max-Age=3600; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=None; Partitioned"
        );
    }
}

//! Cookie settings: the values the builder collects, their validation (once, when the layer is
//! built) and the rendering of the Set-Cookie attributes.

use core::time::Duration;

/// The most cookies one session may be spread over.
pub(crate) const MAX_CHUNKS: u8 = 16;
/// The longest Set-Cookie header value this crate sends, attributes included.
pub(crate) const MAX_SET_COOKIE_LEN: usize = 4096;

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
    #[error("{0} requires the Secure attribute; keep `with_secure(true)`")]
    NeedsSecure(&'static str),
    /// `__Host-` cookies must have Path=/ and no Domain.
    #[error("a `__Host-` cookie must have Path=/ and no Domain; drop the domain or the prefix")]
    HostPrefix,
    /// A persistent cookie's lifetime is under one second, which `Max-Age` cannot express.
    #[error("with_persistent needs a lifetime of at least one second, not {0:?}")]
    MaxAge(Duration),
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
    /// A store or a revocation list with neither an idle nor an absolute timeout: its records
    /// need a lifetime, and a session that may live forever would need a logout kept forever.
    #[error(
        "a session store or revocation list needs an idle or an absolute timeout: set with_idle_timeout or with_absolute_timeout"
    )]
    NoTimeoutWithStore,
    /// `writing::<P>()` names a schema that is not the current one's `previous`: cookies it
    /// writes could not be read back by this build, which would log everyone out.
    #[error(
        "session schema `{schema}` cannot be written as `{writing}` version {version}: only its `previous` version ({previous}) can be written during a rolling deploy"
    )]
    NotPrevious {
        /// The current schema.
        schema: &'static str,
        /// The schema named by `writing::<P>()`.
        writing: &'static str,
        /// Its version.
        version: u16,
        /// The version the current schema declares as `previous` ("none" without one).
        previous: String,
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

/// How a session travels in cookies: name, attributes, chunking and padding. Set through
/// [`SessionLayerBuilder`](crate::SessionLayerBuilder); read back from
/// [`SessionLayer`](crate::SessionLayer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
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
    /// The application's label bound into every sealed value (empty: none).
    pub(crate) purpose: String,
}

impl Config {
    /// The defaults, with the given cookie name: `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`,
    /// a browser-session cookie, at most 2 cookies of 4096 bytes, no padding.
    pub(crate) fn new(name: impl Into<String>) -> Self {
        Config {
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
            purpose: String::new(),
        }
    }

    /// Checks every rule a browser or this crate's format imposes.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
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
        // Browsers match the prefixes case-insensitively.
        let has_prefix = |prefix: &str| {
            self.name
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        };
        let host = has_prefix("__Host-");
        if !self.secure {
            if host {
                return Err(ConfigError::NeedsSecure("the `__Host-` prefix"));
            }
            if has_prefix("__Secure-") {
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
        if let Some(max_age) = self.max_age
            && max_age < Duration::from_secs(1)
        {
            return Err(ConfigError::MaxAge(max_age));
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

    fn with(name: &str, f: impl FnOnce(&mut Config)) -> Config {
        let mut c = Config::new(name);
        f(&mut c);
        c
    }

    #[test]
    fn defaults_render() {
        let c = Config::new("session");
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
            Config::new("a;b"),
            Config::new("a\r\nb"),
            Config::new(""),
            with("session", |c| c.path = "/x;Domain=evil".into()),
            with("session", |c| c.path = "/x\n".into()),
            with("session", |c| c.domain = Some("a.com; Secure".into())),
            with("__Host-s", |c| c.domain = Some("a.com".into())),
            with("__HOST-s", |c| c.domain = Some("a.com".into())),
            with("__host-s", |c| c.path = "/app".into()),
            with("__Host-s", |c| c.secure = false),
            with("__secure-s", |c| c.secure = false),
            with("session", |c| {
                c.same_site = SameSite::None;
                c.secure = false;
            }),
            with("session", |c| {
                c.partitioned = true;
                c.secure = false;
            }),
            with("session", |c| c.max_cookies = 0),
            with("session", |c| c.max_cookies = 17),
            with("session", |c| c.max_cookie_len = 5000),
            with("session", |c| c.padding = Padding::Bucket(66)),
            with("session", |c| c.max_age = Some(Duration::from_millis(500))),
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?} was accepted");
        }
    }

    #[test]
    fn full_attributes_render_in_order() {
        let c = with("__Secure-s", |c| {
            c.domain = Some("example.com".into());
            c.path = "/app".into();
            c.same_site = SameSite::None;
            c.partitioned = true;
            c.max_age = Some(Duration::from_secs(3600));
        });
        c.validate().expect("valid");
        assert_eq!(
            c.render_attributes(false),
            "; Max-Age=3600; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=None; Partitioned"
        );
    }
}

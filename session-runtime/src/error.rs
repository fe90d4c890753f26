//! The errors of the whole pipeline, one type per failure kind.
//!
//! [`OpenError`] describes a bad *incoming* cookie: the middleware logs it (the reason, never the
//! contents) and starts a fresh session. [`SessionError`] describes a session the handler made
//! that cannot be saved: the handler sees it. [`ConfigError`](crate::ConfigError) is refused
//! when the layer is built, never at request time. [`SchemaError`] (a payload that does not
//! decode as the schema) and [`BoundsError`] (a value over a declared bound) are what the schema
//! traits return; they are here, with the errors that wrap them, so that this module stays a
//! leaf of the crate's layering.

/// Why the session cookies in a request did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The value failed authentication: modified, truncated, moved from another cookie name,
    /// sealed by another app, or its chunks reordered. Deliberately one opaque error.
    #[error(
        "session cookie failed authentication (tampered, truncated or sealed for another name)"
    )]
    Tampered,
    /// Not base64url, or too short to be an envelope.
    #[error("session cookie is not a sealed session value")]
    Malformed,
    /// The envelope format byte is one this build does not read.
    #[error("session cookie has envelope format {found}; this build reads format 1")]
    UnknownFormat {
        /// The format byte found.
        found: u8,
    },
    /// No configured key has the envelope's key id: sealed under a key that was rotated out, or
    /// by another app.
    #[error("session cookie was sealed under key id {id}, which no configured key has")]
    UnknownKey {
        /// The key id in the envelope.
        id: u8,
    },
    /// The first cookie announces more chunks than the layer allows.
    #[error("session cookie announces {count} chunks; at most {max} are allowed")]
    TooManyChunks {
        /// The announced count.
        count: u8,
        /// The configured maximum.
        max: u8,
    },
    /// A chunk the first cookie announces is absent.
    #[error("session chunk {index} of {count} is missing")]
    MissingChunk {
        /// The missing chunk's index (1-based suffix).
        index: u8,
        /// The announced count.
        count: u8,
    },
    /// The same chunk name came twice.
    #[error("session cookie `{name}` was sent more than once")]
    DuplicateChunk {
        /// The repeated cookie name.
        name: String,
    },
    /// A chunk past the announced count came along: a stale chunk, so the set is not one write.
    #[error("session chunk `{name}` is beyond the announced {count} chunks")]
    SurplusChunk {
        /// The surplus cookie name.
        name: String,
        /// The announced count.
        count: u8,
    },
    /// Chunks without the first cookie.
    #[error("session chunks arrived without the first cookie")]
    MissingFirst,
    /// Logged out: the id is on the revocation list, its subject logged out everywhere after it
    /// was issued, or (for a server-side store) its entry is gone.
    #[error("session was revoked or is no longer in the store")]
    Revoked,
    /// Past the idle or absolute timeout, measured from the sealed timestamps.
    #[error("session expired ({0})")]
    Expired(Expiry),
    /// Authentic, but sealed with a timestamp further in the future than the allowed clock skew:
    /// a clock gone wrong on some instance, or a key holder minting long-lived cookies.
    #[error("session cookie carries a timestamp {ahead_secs} s in the future")]
    FromTheFuture {
        /// How far ahead of this instance's clock, in seconds.
        ahead_secs: u32,
    },
    /// Authentic, but the value breaks a `max_len` bound of the current schema (a bound
    /// tightened without a migration that trims old sessions).
    #[error("session cookie holds a value outside its schema's bounds: {0}")]
    Bounds(BoundsError),
    /// Authentic, but its payload cannot become the current schema: written by a newer build
    /// (a rollback), older than the migration chain reaches, or changed without a version bump.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

impl OpenError {
    /// A short, stable reason for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            OpenError::Tampered => "tampered",
            OpenError::Malformed => "malformed",
            OpenError::UnknownFormat { .. } => "unknown_format",
            OpenError::UnknownKey { .. } => "unknown_key",
            OpenError::TooManyChunks { .. } => "too_many_chunks",
            OpenError::MissingChunk { .. } => "missing_chunk",
            OpenError::DuplicateChunk { .. } => "duplicate_chunk",
            OpenError::SurplusChunk { .. } => "surplus_chunk",
            OpenError::MissingFirst => "missing_first_chunk",
            OpenError::Expired(Expiry::Idle) => "expired_idle",
            OpenError::Expired(Expiry::Absolute) => "expired_absolute",
            OpenError::Revoked => "revoked",
            OpenError::FromTheFuture { .. } => "future_timestamp",
            OpenError::Bounds(_) => "out_of_bounds",
            OpenError::Schema(SchemaError::UnknownVersion { .. }) => "unknown_version",
            OpenError::Schema(_) => "decode",
        }
    }
}

/// Which timeout ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No request within the idle timeout.
    Idle,
    /// Older than the absolute timeout, however active.
    Absolute,
}

impl core::fmt::Display for Expiry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Expiry::Idle => "idle timeout",
            Expiry::Absolute => "absolute timeout",
        })
    }
}

/// Why a session change or save was refused. The session is left as it was before the change.
///
/// As an axum response it is a short generic body with [`status`](Self::status) (413 or 500),
/// the details logged. To answer in your own words, map it in your error type:
///
/// ```
/// use axum::http::StatusCode;
/// use axum::response::{IntoResponse, Response};
/// use session_runtime::SessionError;
///
/// struct AppError(SessionError);
///
/// impl From<SessionError> for AppError {
///     fn from(err: SessionError) -> Self {
///         AppError(err)
///     }
/// }
///
/// impl IntoResponse for AppError {
///     fn into_response(self) -> Response {
///         let body = match self.0.status() {
///             StatusCode::PAYLOAD_TOO_LARGE => "Your cart is full: check out or remove an item.",
///             _ => "Something went wrong; please try again.",
///         };
///         (self.0.status(), body).into_response()
///     }
/// }
///
/// let response = AppError::from(SessionError::TooLarge { size: 9000, budget: 8104 }).into_response();
/// assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session would seal to more than its cookies can carry.
    #[error(
        "the session would need {size} bytes of cookie value, over the {budget} its cookies carry; the change was not applied"
    )]
    TooLarge {
        /// Characters of sealed value the change would need.
        size: usize,
        /// Characters available: max cookies × per-cookie capacity.
        budget: usize,
    },
    /// A `#[session(max_len = N)]` bound would be broken.
    #[error("{0}; the change was not applied")]
    Bounds(#[from] BoundsError),
    /// The value could not be encoded (a custom serde impl failed).
    #[error("the session could not be encoded: {0}")]
    Encode(String),
    /// The operating system's random source failed.
    #[error("the operating system's random number source failed")]
    Random,
}

impl SessionError {
    /// The HTTP status this error answers with as a response: 413 when the session would not
    /// fit or breaks a bound, 500 otherwise.
    pub fn status(&self) -> http::StatusCode {
        match self {
            SessionError::TooLarge { .. } | SessionError::Bounds(_) => {
                http::StatusCode::PAYLOAD_TOO_LARGE
            }
            SessionError::Encode(_) | SessionError::Random => {
                http::StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The body sent to clients: generic, naming no type or field (the `Display` text, with
    /// the details, is for logs).
    pub fn public_message(&self) -> &'static str {
        match self {
            SessionError::TooLarge { .. } | SessionError::Bounds(_) => {
                "the session cannot hold this change"
            }
            SessionError::Encode(_) | SessionError::Random => "internal server error",
        }
    }

    /// What every adapter answers with: the status code and the generic body, after logging
    /// the details.
    #[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
    pub(crate) fn answer(&self) -> (u16, &'static str) {
        tracing::warn!(error = %self, "session change refused");
        (self.status().as_u16(), self.public_message())
    }
}

/// A payload could not be turned into the current schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The sealed header names a version this binary cannot read: newer than the current schema
    /// (a rollback) or older than the oldest in the `previous` chain.
    #[error("session schema version {found} is unknown to this build (current is {newest})")]
    UnknownVersion {
        /// The version in the sealed header.
        found: u16,
        /// The current schema version.
        newest: u16,
    },
    /// The payload did not decode as the schema its header names.
    #[error("session payload does not decode as `{type_name}` version {version}")]
    Decode {
        /// The schema type tried.
        type_name: &'static str,
        /// Its version.
        version: u16,
    },
}

/// A value broke a bound declared with `#[session(...)]`.
///
/// Its text names the type and field for logs; it is not meant for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{type_name}.{field}` holds {len} {unit}, more than its max_len of {max}")]
pub struct BoundsError {
    /// The type that declares the bound (`Enum::Variant` for a field of an enum variant).
    pub type_name: &'static str,
    /// Where the bound sits: the field (`0` for a tuple field), then `each`, `key` or `value`
    /// for a bound inside it, as in `tags.each`.
    pub field: &'static str,
    /// The length found.
    pub len: usize,
    /// The declared `max_len`.
    pub max: usize,
    /// What `len` counts: `"bytes"` (strings and byte vectors), `"items"` or `"entries"` (maps).
    pub unit: &'static str,
}

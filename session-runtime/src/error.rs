//! Errors from opening and sealing sessions.
//!
//! Opening errors describe a bad *incoming* cookie: the middleware logs them (the reason, never the
//! contents) and starts a fresh session. Sealing errors describe a session the handler made that
//! cannot be saved: the handler sees them.

use crate::schema::{BoundsError, SchemaError};

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
    #[error(
        "session cookie has envelope format {found}; this build reads format {}",
        crate::envelope::FORMAT_VERSION
    )]
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
    /// Past the idle or absolute timeout, measured from the sealed timestamps.
    #[error("session expired ({0})")]
    Expired(Expiry),
    /// Sealed by a newer build (a rollback) or older than the migration chain reaches.
    #[error("session schema version {found} is unknown to this build (current is {newest})")]
    UnknownVersion {
        /// The version in the sealed header.
        found: u16,
        /// The current schema version.
        newest: u16,
    },
    /// Authentic, but the payload did not decode as its schema: a schema changed without a
    /// version bump.
    #[error(
        "session payload does not decode as `{type_name}` version {version}; was the struct changed without bumping `version`?"
    )]
    Decode {
        /// The schema type tried.
        type_name: &'static str,
        /// Its version.
        version: u16,
    },
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
            OpenError::UnknownVersion { .. } => "unknown_version",
            OpenError::Decode { .. } => "decode",
        }
    }
}

impl From<SchemaError> for OpenError {
    fn from(e: SchemaError) -> Self {
        match e {
            SchemaError::UnknownVersion { found, newest } => {
                OpenError::UnknownVersion { found, newest }
            }
            SchemaError::Decode { type_name, version } => OpenError::Decode { type_name, version },
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

/// Why a session could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The sealed value needs more room than the configured cookies give.
    #[error(
        "session seals to {size} bytes of cookie value, over the {budget} bytes its cookies can carry; store less or allow more cookies"
    )]
    TooLarge {
        /// Characters of sealed value needed.
        size: usize,
        /// Characters available: max cookies × per-cookie capacity.
        budget: usize,
    },
    /// A `#[session(max_len = N)]` bound is broken.
    #[error(transparent)]
    Bounds(#[from] BoundsError),
    /// postcard could not encode the value (a serde impl returned an error).
    #[error("session value could not be encoded: {0}")]
    Encode(String),
    /// The operating system's random source failed.
    #[error("the operating system's random number source failed")]
    Random,
}

//! A schema that accepts every version and keeps the payload's bytes: how the tool opens a
//! cookie when no schema is named, and how it reads the sealed header of one whose payload no
//! longer decodes.
//!
//! Written by hand, not derived: the derive's job is to refuse what this accepts.

use serde::{Deserialize, Serialize};
use session_runtime::{BoundsError, Budget, CookieSession, SchemaError};

/// Any payload, with the schema version its header names.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AnyPayload {
    pub(crate) version: u16,
    pub(crate) bytes: Vec<u8>,
}

impl CookieSession for AnyPayload {
    // The newest possible, so no version is "from the future"; `decode` takes every version.
    const VERSION: u16 = u16::MAX;
    const OLDEST_VERSION: u16 = 1;
    const NAME: &'static str = "any payload";
    const FINGERPRINT: &'static str = "";
    const BUDGET: Budget = Budget::Unbounded;
    const MAX_ENCODED_LEN: Option<usize> = None;

    fn check_bounds(&self) -> Result<(), BoundsError> {
        Ok(())
    }

    fn decode(version: u16, bytes: &[u8]) -> Result<Self, SchemaError> {
        Ok(AnyPayload {
            version,
            bytes: bytes.to_vec(),
        })
    }
}

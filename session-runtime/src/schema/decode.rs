//! The generic bodies of the derived `decode`: one exact decode of the current version, the
//! `previous` chain for older ones.

use super::CookieSession;
use crate::error::SchemaError;

/// Decodes exactly one `T` from `bytes`: trailing bytes are an error, not ignored.
pub(crate) fn decode_exact<T: CookieSession>(bytes: &[u8]) -> Result<T, SchemaError> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        _ => Err(SchemaError::Decode {
            type_name: T::NAME,
            version: T::VERSION,
        }),
    }
}

fn unknown<T: CookieSession>(found: u16) -> SchemaError {
    SchemaError::UnknownVersion {
        found,
        newest: T::VERSION,
    }
}

/// The `decode` of a schema without `previous`: its own version only.
pub fn decode_current<T: CookieSession>(version: u16, bytes: &[u8]) -> Result<T, SchemaError> {
    if version == T::VERSION {
        decode_exact(bytes)
    } else {
        Err(unknown::<T>(version))
    }
}

/// The `decode` of a schema with a `previous` schema `P`: its own version, or an older one
/// decoded by `P`'s `decode` (recursively) and migrated. A version the chain does not know is
/// reported against `T`.
pub fn decode_migrating<T: CookieSession, P>(
    version: u16,
    bytes: &[u8],
    decode_previous: fn(u16, &[u8]) -> Result<P, SchemaError>,
    migrate: fn(P) -> T,
) -> Result<T, SchemaError> {
    if version == T::VERSION {
        return decode_exact(bytes);
    }
    if version > T::VERSION {
        return Err(unknown::<T>(version));
    }
    match decode_previous(version, bytes) {
        Ok(old) => Ok(migrate(old)),
        Err(SchemaError::UnknownVersion { .. }) => Err(unknown::<T>(version)),
        Err(err) => Err(err),
    }
}

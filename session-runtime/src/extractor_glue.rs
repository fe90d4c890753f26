//! The macro the derive calls for each schema; what it expands to depends on this crate's
//! features, which the derive cannot see.

/// Generates the read-only extractor for a schema type (nothing without the `axum` feature).
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "axum"))]
macro_rules! __impl_extractor {
    ($schema:ty) => {};
}

/// Generates the read-only extractor for a schema type.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "axum")]
macro_rules! __impl_extractor {
    ($schema:ty) => {};
}

//! The macro the derive calls for each schema; what it expands to depends on this crate's
//! features, which the derive cannot see.
//!
//! The state type parameter has a name no schema will have: `impl<S> … for S` would not compile
//! for a schema named `S`.

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
    ($schema:ty) => {
        #[automatically_derived]
        impl<__SessionAppState>
            $crate::__private::axum_core::extract::FromRequestParts<__SessionAppState> for $schema
        where
            __SessionAppState: ::core::marker::Send + ::core::marker::Sync,
        {
            type Rejection = $crate::SessionRejection;

            fn from_request_parts(
                parts: &mut $crate::__private::http::request::Parts,
                _state: &__SessionAppState,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<Self, Self::Rejection>>
            + ::core::marker::Send {
                $crate::__private::read_required::<$schema>(&parts.extensions, &parts.headers)
            }
        }

        #[automatically_derived]
        impl<__SessionAppState>
            $crate::__private::axum_core::extract::OptionalFromRequestParts<__SessionAppState>
            for $schema
        where
            __SessionAppState: ::core::marker::Send + ::core::marker::Sync,
        {
            type Rejection = $crate::SessionRejection;

            fn from_request_parts(
                parts: &mut $crate::__private::http::request::Parts,
                _state: &__SessionAppState,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::core::option::Option<Self>, Self::Rejection>,
            > + ::core::marker::Send {
                $crate::__private::read_only::<$schema>(&parts.extensions, &parts.headers)
            }
        }
    };
}

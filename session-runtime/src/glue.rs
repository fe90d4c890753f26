//! The read-only extractor the derive gives a schema with `#[session(extractor)]`, as a macro:
//! what it expands to depends on this crate's features, which the derive cannot see. A schema
//! without the attribute gets `__impl_extractor!(@refuse Schema)`: one impl whose bound is
//! never met, so that a handler taking it fails to build with the attribute's name in the
//! explanation, where it would otherwise name nothing of ours.
//!
//! Adapter code (axum's and actix-web's extractor traits over the readers of `extract`), so it
//! lives beside the extractors rather than under `schema`: the schema traits know no framework.
//! One macro per framework, each empty without its feature; `__impl_extractor`, the one the
//! derive calls, expands to both.
//!
//! Every token of a derive's expansion costs each rebuild of the user's crate, so the impls are
//! kept short: their bodies are the generic functions below, and their return types one short
//! trait each. The state type parameter has a name no schema will have: `impl<S> … for S` would
//! not compile for a schema named `S`.

#[cfg(feature = "axum")]
pub use axum_impl::*;

#[cfg(feature = "axum")]
mod axum_impl {
    use core::future::Future;

    pub use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
    pub use http::request::Parts;

    use crate::extract::{SessionRejection, read_only, read_required};
    use crate::schema::CookieSession;

    /// What the schema extractor's `from_request_parts` returns: the trait's future, named in
    /// a few tokens. Loading may await a server-side store, so the future borrows `parts`.
    pub trait Required<T>: Future<Output = Result<T, SessionRejection>> + Send {}
    impl<T, F: Future<Output = Result<T, SessionRejection>> + Send> Required<T> for F {}

    /// What the optional schema extractor's `from_request_parts` returns.
    pub trait Optional<T>: Future<Output = Result<Option<T>, SessionRejection>> + Send {}
    impl<T, F: Future<Output = Result<Option<T>, SessionRejection>> + Send> Optional<T> for F {}

    /// Never implemented: the bound of the impl a schema without `#[session(extractor)]` gets,
    /// so that where rustc explains why such a schema is not an extractor (under
    /// `#[axum::debug_handler]`, or any `FromRequestParts` bound), this trait's name says
    /// what to add.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not an extractor: add `#[session(extractor)]` to it",
        label = "`{Self}` has no `#[session(extractor)]`",
        note = "a schema is a read-only extractor only with `#[session(extractor)]`; or take `Session<{Self}>`"
    )]
    pub trait AddSessionExtractorAttribute<S> {}

    /// What the refusing impl's `from_request_parts` returns: never built, since that impl
    /// never applies, but a named type costs rustc less than an opaque one.
    #[derive(Debug)]
    pub struct Refused<T>(core::marker::PhantomData<T>);

    impl<T> Future for Refused<T> {
        type Output = Result<T, SessionRejection>;
        fn poll(
            self: core::pin::Pin<&mut Self>,
            _: &mut core::task::Context<'_>,
        ) -> core::task::Poll<Self::Output> {
            core::task::Poll::Ready(Err(SessionRejection::Internal(
                "a schema without #[session(extractor)] taken as an extractor",
            )))
        }
    }

    /// The body of the refusing impl.
    pub fn refused<T>() -> Refused<T> {
        Refused(core::marker::PhantomData)
    }

    /// The body of the schema extractor.
    pub fn required<T: CookieSession + Send + Sync>(parts: &mut Parts) -> impl Required<T> + '_ {
        read_required(&parts.extensions, &parts.headers)
    }

    /// The body of the optional schema extractor.
    pub fn optional<T: CookieSession + Send + Sync>(parts: &mut Parts) -> impl Optional<T> + '_ {
        read_only(&parts.extensions, &parts.headers)
    }
}

/// Generates the read-only extractor for a schema type, for every framework whose feature is on;
/// or, with `@refuse`, the axum impl that says to add `#[session(extractor)]`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_extractor {
    (@refuse $schema:ty) => {
        $crate::__impl_extractor_axum!(@refuse $schema);
    };
    ($schema:ty) => {
        $crate::__impl_extractor_axum!($schema);
        $crate::__impl_extractor_actix!($schema);
    };
}

/// The axum extractor (nothing without the `axum` feature).
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "axum"))]
macro_rules! __impl_extractor_axum {
    (@refuse $schema:ty) => {};
    ($schema:ty) => {};
}

/// The axum extractor: `Schema` and `Option<Schema>`; with `@refuse`, an impl whose bound is
/// never met, so that a handler taking a schema without the attribute is told what to add.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "axum")]
macro_rules! __impl_extractor_axum {
    (@refuse $schema:ty) => {
        #[automatically_derived]
        impl<__SessionAppState> $crate::__private::FromRequestParts<__SessionAppState> for $schema
        where
            $schema: $crate::__private::AddSessionExtractorAttribute<__SessionAppState>,
        {
            type Rejection = $crate::__private::SessionRejection;
            #[allow(refining_impl_trait)]
            fn from_request_parts(
                _: &mut $crate::__private::Parts,
                _: &__SessionAppState,
            ) -> $crate::__private::Refused<Self> {
                $crate::__private::refused()
            }
        }
    };
    ($schema:ty) => {
        #[automatically_derived]
        impl<__SessionAppState> $crate::__private::FromRequestParts<__SessionAppState> for $schema {
            type Rejection = $crate::__private::SessionRejection;
            #[allow(refining_impl_trait)]
            fn from_request_parts(
                parts: &mut $crate::__private::Parts,
                _: &__SessionAppState,
            ) -> impl $crate::__private::Required<Self> {
                $crate::__private::required(parts)
            }
        }

        #[automatically_derived]
        impl<__SessionAppState> $crate::__private::OptionalFromRequestParts<__SessionAppState>
            for $schema
        {
            type Rejection = $crate::__private::SessionRejection;
            #[allow(refining_impl_trait)]
            fn from_request_parts(
                parts: &mut $crate::__private::Parts,
                _: &__SessionAppState,
            ) -> impl $crate::__private::Optional<Self> {
                $crate::__private::optional(parts)
            }
        }
    };
}

/// The actix-web extractor (nothing without the `actix` feature).
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "actix"))]
macro_rules! __impl_extractor_actix {
    ($schema:ty) => {};
}

/// The actix-web extractor: `Schema`; actix-web's own `Option<Schema>` is `None` for any
/// rejection, and `Result<Schema, SessionRejection>` tells them apart.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "actix")]
macro_rules! __impl_extractor_actix {
    ($schema:ty) => {
        #[automatically_derived]
        impl $crate::__private::actix::FromRequest for $schema {
            type Error = $crate::__private::SessionRejection;
            type Future = $crate::__private::actix::ActixExtract<Self, Self>;
            fn from_request(
                req: &$crate::__private::actix::HttpRequest,
                _: &mut $crate::__private::actix::Payload,
            ) -> Self::Future {
                $crate::__private::actix::schema(req)
            }
        }
    };
}

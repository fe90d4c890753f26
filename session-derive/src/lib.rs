//! `#[derive(CookieSession)]` and `#[derive(SessionBound)]` for `session-runtime`.
//!
//! Use these through `session_runtime`, which re-exports them; the generated code reaches the
//! runtime only through `session_runtime::__private`, so this crate is useless on its own.
//!
//! The derive runs in four phases, each in its own module: `attr` parses `#[session(...)]`,
//! `model` builds the validated schema, `check` runs the cross-attribute checks, and
//! `codegen` writes the impls. Errors from every phase are collected in a `ctxt::Ctxt` and
//! reported together, next to a stub impl so that one typo gives one error.

mod attr;
mod check;
mod codegen;
mod ctxt;
mod fingerprint;
mod model;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `session_runtime::CookieSession`: a versioned, optionally size-budgeted session schema.
///
/// See the `session_runtime::CookieSession` documentation for the attributes.
#[proc_macro_derive(CookieSession, attributes(session))]
pub fn derive_cookie_session(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    codegen::cookie_session(&input).into()
}

/// Derives `session_runtime::Bounded` for a struct or enum whose fields are all bounded, so it
/// can be a field of a schema with a size budget.
#[proc_macro_derive(SessionBound, attributes(session))]
pub fn derive_session_bound(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    codegen::session_bound(&input).into()
}

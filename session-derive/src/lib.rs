//! `#[derive(CookieSession)]` and `#[derive(SessionBound)]` for `session-runtime`.
//!
//! Use these through `session_runtime`, which re-exports them; the generated code reaches the
//! runtime only through `session_runtime::__private`, so this crate is useless on its own.
//!
//! An expansion (`expand`) parses the input once into a `model` (attributes by `attr`), runs
//! every rule of `check` with errors collected in a `ctxt::Ctxt`, then writes the impls
//! (`codegen`), or the errors beside the stub impls of `fallback`, so that one typo gives one
//! error.

mod attr;
mod check;
mod codegen;
mod ctxt;
mod expand;
mod fallback;
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
    expand::cookie_session(&input).into()
}

/// Derives `session_runtime::Bounded` for a struct or enum whose fields are all bounded, so it
/// can be a field of a schema with a size budget.
#[proc_macro_derive(SessionBound, attributes(session))]
pub fn derive_session_bound(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::session_bound(&input).into()
}

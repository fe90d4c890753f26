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

/// Derives `session_runtime::CookieSession` for a struct with named fields: a versioned,
/// optionally size-budgeted session schema, which is also a read-only axum extractor.
///
/// ```ignore
/// #[derive(CookieSession, Serialize, Deserialize, Default)]
/// #[session(version = 2, previous = CartV1, max_cookies = 1)]
/// struct Cart {
///     user_id: u64,
///     #[session(max_len = 32)]
///     items: Vec<u32>,
///     #[session(max_len = 8, each(max_len = 32))]
///     coupons: Vec<String>,
/// }
/// ```
///
/// The documentation of the trait of the same name,
/// [`session_runtime::CookieSession`](../session_runtime/trait.CookieSession.html), has every
/// attribute below with an example that compiles and runs, and the worst cases they give.
///
/// # On the struct
///
/// - `version = N`, required, `1..=65535`, sealed into every cookie; bump it whenever the
///   fields change: `#[session(version = 3)]`
/// - `previous = Type`: the schema this one replaces; its cookies are decoded and migrated
///   (through its own `previous`, and so on): `#[session(version = 2, previous = CartV1)]`
/// - `migrate = path`: the migration, a `fn(Previous) -> Self`; without it, `From<Previous>`:
///   `#[session(version = 2, previous = CartV1, migrate = upgrade_cart)]`
/// - `downgrade = path`: the down-migration, a `fn(&Self) -> Previous`, needs `previous`; it
///   lets the first phase of a rolling deploy keep writing the previous version with
///   `writing::<Previous>()` (only the immediate previous one):
///   `#[session(version = 3, previous = CartV2, downgrade = cart_v2_from)]`
/// - `max_cookies = N`: a budget of `N` cookies (1 to 16) of 3840 characters; the build fails
///   when the worst case cannot fit: `#[session(version = 1, max_cookies = 2)]`
/// - `budget = CHARS`: a budget in characters of sealed cookie value:
///   `#[session(version = 1, budget = 1000)]`
/// - `fingerprint = "…"`: pins the hash of the fields, their types and bounds; the build
///   fails when they change: `#[session(version = 1, fingerprint = "1b7b33a5a3550bae")]`
/// - `crate = path`: where `session_runtime` is, for crates that re-export it:
///   `#[session(crate = crate::sessions, version = 1)]`
///
/// # On fields
///
/// Under a budget every field must be bounded, by its type or by these; `Option` and `Box`
/// are transparent (the bound applies inside).
///
/// - `max_len = N`: the most bytes of a string, items of a list or set, entries of a map:
///   `#[session(max_len = 64)] note: String`, `#[session(max_len = 8)] locale: Option<String>`
/// - `each(..)`: the bound of every item of a list, set or array, nested to any depth:
///   `#[session(max_len = 8, each(max_len = 32))] roles: Vec<String>`,
///   `#[session(each(max_len = 12))] lines: [String; 3]`
/// - `key(..)`, `value(..)`: the bound of every key, every value of a map:
///   `#[session(max_len = 4, key(max_len = 16), value(max_len = 64))] blobs: HashMap<String, Vec<u8>>`
#[proc_macro_derive(CookieSession, attributes(session))]
pub fn derive_cookie_session(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::cookie_session(&input).into()
}

/// Derives `session_runtime::Bounded` for a struct or enum whose fields are all bounded, so it
/// can be a field of a schema with a size budget.
///
/// ```ignore
/// #[derive(SessionBound, Serialize, Deserialize)]
/// enum Contact {
///     Email(#[session(max_len = 64)] String),
///     Phone { digits: [u8; 15] },
/// }
/// ```
///
/// Its fields take the same bounds as a schema's (`max_len`, `each(..)`, `key(..)`,
/// `value(..)`); on the type, only `#[session(crate = path)]`. A field of a variant is named
/// `Enum::Variant` in bound errors, a tuple field by its index. Examples that compile are in
/// the documentation of
/// [`session_runtime::CookieSession`](../session_runtime/trait.CookieSession.html#your-own-types-derivesessionbound).
#[proc_macro_derive(SessionBound, attributes(session))]
pub fn derive_session_bound(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::session_bound(&input).into()
}

//! `decode`: the current version directly, older ones through the `previous` chain, both by
//! the runtime's generic functions.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Type;

use super::respan;
use crate::model::Model;

/// The items a schema whose previous schema is `prev` (spanned at `span`) needs beside its
/// impl. Without `previous`, the trait's defaults decode the current version only.
pub(super) fn items(model: &Model<'_>, prev: &Type, span: Span) -> TokenStream {
    let ident = model.ident;
    // Bound to a typed `const` under the user's span, so a wrong `migrate` signature or a
    // missing `From` is reported by rustc on the user's own tokens.
    let migrate = match &model.attrs.migrate {
        Some(path) => {
            let path_tokens = &path.value;
            quote_spanned! {path.span=>
                const __MIGRATE: fn(#prev) -> #ident = #path_tokens;
            }
        }
        None => {
            let from = respan(
                quote!(<#ident as ::core::convert::From<#prev>>::from(old)),
                span,
            );
            quote_spanned! {span=>
                const __MIGRATE: fn(#prev) -> #ident = |old| #from;
            }
        }
    };
    // Every use of the previous schema names it as `<Prev as CookieSession>::…`, so that a
    // `previous` that is not a schema is one error, not one per use.
    let assertion = respan(
        quote! {
            const _: () = __p::assert_previous(
                <#ident as __p::CookieSession>::NAME,
                <#ident as __p::CookieSession>::VERSION,
                <#prev as __p::CookieSession>::NAME,
                <#prev as __p::CookieSession>::VERSION,
            );
        },
        span,
    );
    quote!(#migrate #assertion)
}

/// `PREVIOUS` (which `OLDEST_VERSION` and `SCHEMA` follow) and `decode` of a schema whose previous schema is `prev`.
pub(super) fn members(prev: &Type) -> TokenStream {
    quote! {
        const PREVIOUS: __p::Option<&'static __p::SchemaVersion> =
            __p::Some(&<#prev as __p::CookieSession>::SCHEMA);
        fn decode(version: __p::u16, bytes: &[__p::u8]) -> __p::Result<Self, __p::SchemaError> {
            __p::decode_migrating(version, bytes, <#prev as __p::CookieSession>::decode, __MIGRATE)
        }
    }
}

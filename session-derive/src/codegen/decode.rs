//! `decode`: the current version directly, older ones through the `previous` chain, both by
//! the runtime's generic functions.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::respan;
use crate::model::Model;

/// The body of `decode`, and the items it needs beside the impl.
pub(super) fn expand(model: &Model<'_>) -> (TokenStream, TokenStream) {
    let private = model.private();
    let ident = model.ident;
    let Some(previous) = &model.attrs.previous else {
        return (
            quote!(#private::decode_current::<Self>(version, bytes)),
            TokenStream::new(),
        );
    };
    let prev = &previous.value;
    // Bound to a typed `const` under the user's span, so a wrong `migrate` signature or a
    // missing `From` is reported by rustc on the user's own tokens.
    let migrate = match &model.attrs.migrate {
        Some(path) => {
            let path_tokens = &path.value;
            quote_spanned! {path.span=>
                const __SESSION_MIGRATE: fn(#prev) -> #ident = #path_tokens;
            }
        }
        None => {
            let from = respan(
                quote!(<#ident as ::core::convert::From<#prev>>::from(old)),
                previous.span,
            );
            quote_spanned! {previous.span=>
                const __SESSION_MIGRATE: fn(#prev) -> #ident = |old| #from;
            }
        }
    };
    // Every use of the previous schema names it as `<Prev as CookieSession>::…`, so that a
    // `previous` that is not a schema is one error, not one per use.
    let of_prev = |item: TokenStream| quote!(<#prev as #private::CookieSession>::#item);
    let (prev_name, prev_version, prev_decode) = (
        of_prev(quote!(NAME)),
        of_prev(quote!(VERSION)),
        of_prev(quote!(decode)),
    );
    let assertion = respan(
        quote! {
            const _: () = #private::assert_previous(
                <#ident as #private::CookieSession>::NAME,
                <#ident as #private::CookieSession>::VERSION,
                #prev_name,
                #prev_version,
            );
        },
        previous.span,
    );
    (
        quote!(#private::decode_migrating(version, bytes, #prev_decode, __SESSION_MIGRATE)),
        quote!(#migrate #assertion),
    )
}

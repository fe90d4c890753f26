//! `decode`: the current version directly, older ones through the `previous` chain.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::model::Schema;

pub(super) fn body(schema: &Schema<'_>) -> TokenStream {
    let krate = &schema.krate;
    let private = quote!(#krate::__private);
    let current = quote! {
        if version == <Self as #private::CookieSession>::VERSION {
            return #private::decode_exact::<Self>(bytes);
        }
    };
    let unknown = quote! {
        #private::SchemaError::UnknownVersion {
            found: version,
            newest: <Self as #private::CookieSession>::VERSION,
        }
    };
    let Some(previous) = &schema.previous else {
        return quote! {
            #current
            ::core::result::Result::Err(#unknown)
        };
    };
    let prev = &previous.ty;
    let migrate = match &schema.migrate {
        Some(path) => {
            let path_tokens = &path.value;
            quote_spanned! {path.span=>
                {
                    let migrate: fn(#prev) -> Self = #path_tokens;
                    migrate(old)
                }
            }
        }
        None => quote_spanned! {previous.span=>
            <Self as ::core::convert::From<#prev>>::from(old)
        },
    };
    quote! {
        #current
        if version < <Self as #private::CookieSession>::VERSION {
            let old = match <#prev as #private::CookieSession>::decode(version, bytes) {
                ::core::result::Result::Ok(old) => old,
                ::core::result::Result::Err(#private::SchemaError::UnknownVersion { .. }) => {
                    return ::core::result::Result::Err(#unknown);
                }
                ::core::result::Result::Err(err) => return ::core::result::Result::Err(err),
            };
            return ::core::result::Result::Ok(#migrate);
        }
        ::core::result::Result::Err(#unknown)
    }
}

/// A `const` assertion that the previous schema has a lower version, spanned at `previous`.
pub(super) fn previous_assertion(schema: &Schema<'_>) -> TokenStream {
    let Some(previous) = &schema.previous else {
        return TokenStream::new();
    };
    let krate = &schema.krate;
    let private = quote!(#krate::__private);
    let ident = schema.ident;
    let prev = &previous.ty;
    super::respan(
        quote! {
            const _: () = #private::assert_previous(
                <#ident as #private::CookieSession>::NAME,
                <#ident as #private::CookieSession>::VERSION,
                <#prev as #private::CookieSession>::NAME,
                <#prev as #private::CookieSession>::VERSION,
            );
        },
        previous.span,
    )
}

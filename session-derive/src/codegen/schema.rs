//! The `CookieSession` impl: constants, bounds check and decode, wrapped in `const _`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use super::{budget, decode, extractor};
use crate::fingerprint;
use crate::model::Schema;

pub(super) fn expand(schema: &Schema<'_>) -> TokenStream {
    let krate = &schema.krate;
    let private = quote!(#krate::__private);
    let ident = schema.ident;
    let version = schema.version.as_ref().map_or(0, |v| v.value);
    let name = ident.to_string();
    let fingerprint = fingerprint::of(schema, version);
    let oldest = match &schema.previous {
        Some(previous) => {
            let ty = &previous.ty;
            quote!(<#ty as #private::CookieSession>::OLDEST_VERSION)
        }
        None => quote!(#version),
    };
    let budget_const = budget::budget_value(schema);
    let max_encoded_len = budget::max_encoded_len(schema);
    let check_bounds = budget::check_bounds(schema);
    let decode = decode::body(schema);
    let assertions = budget::assertions(schema);
    let previous_assertion = decode::previous_assertion(schema);
    let extractor = extractor::expand(schema);

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #private::CookieSession for #ident {
                const VERSION: ::core::primitive::u16 = #version;
                const OLDEST_VERSION: ::core::primitive::u16 = #oldest;
                const NAME: &'static ::core::primitive::str = #name;
                const FINGERPRINT: &'static ::core::primitive::str = #fingerprint;
                const BUDGET: #private::Budget = #budget_const;
                const MAX_ENCODED_LEN: ::core::option::Option<::core::primitive::usize> =
                    #max_encoded_len;

                fn check_bounds(&self) -> ::core::result::Result<(), #private::BoundsError> {
                    #check_bounds
                }

                fn decode(
                    version: ::core::primitive::u16,
                    bytes: &[::core::primitive::u8],
                ) -> ::core::result::Result<Self, #private::SchemaError> {
                    #decode
                }
            }
            #assertions
            #previous_assertion
            #extractor
        };
    }
}

/// A stub impl so that a schema with attribute errors does not also fail every use site.
pub(super) fn stub(input: &DeriveInput, krate: &syn::Path) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::__private::CookieSession
                for #ident #ty_generics #where_clause
            {
                const VERSION: ::core::primitive::u16 = 1;
                const OLDEST_VERSION: ::core::primitive::u16 = 1;
                const NAME: &'static ::core::primitive::str = "";
                const FINGERPRINT: &'static ::core::primitive::str = "";
                const BUDGET: #krate::__private::Budget =
                    #krate::__private::Budget::Unbounded;
                const MAX_ENCODED_LEN: ::core::option::Option<::core::primitive::usize> =
                    ::core::option::Option::None;
                fn check_bounds(&self) -> ::core::result::Result<(), #krate::__private::BoundsError> {
                    ::core::unimplemented!()
                }
                fn decode(
                    _: ::core::primitive::u16,
                    _: &[::core::primitive::u8],
                ) -> ::core::result::Result<Self, #krate::__private::SchemaError> {
                    ::core::unimplemented!()
                }
            }
        };
    }
}

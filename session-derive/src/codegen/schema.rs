//! The `CookieSession` impl: constants, bounds check and decode, and the `const` assertions
//! beside it, wrapped in `const _`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{bounds, decode, downgrade, extractor, respan};
use crate::fingerprint;
use crate::model::Model;

pub(crate) fn expand(model: &Model<'_>) -> TokenStream {
    let private = model.private();
    let ident = model.ident;
    let version = model.version();
    let name = ident.to_string();
    let fingerprint = fingerprint::of(model);
    // `SCHEMA` and `OLDEST_VERSION` default to this type's constants, linked to the previous
    // schema's `SCHEMA`.
    let previous = model.attrs.previous.as_ref().map(|previous| {
        let ty = &previous.value;
        quote! {
            const PREVIOUS: ::core::option::Option<&'static #private::SchemaVersion> =
                ::core::option::Option::Some(&<#ty as #private::CookieSession>::SCHEMA);
        }
    });

    let mut items = TokenStream::new();
    let need = model.has_budget();
    // Without a budget, a field without an attribute may be of any type: it is not touched.
    let declared = model.fields().iter().filter(|f| need || f.bound.is_some());
    let fields = bounds::specs(private, &name, declared, 0, &mut items);
    let checks = fields.iter().map(|f| {
        let member = &f.field.member;
        f.check(private, &quote!(&self.#member))
    });
    let max_encoded_len = if need {
        let terms = fields.iter().map(|f| f.worst(private, true));
        quote!(::core::option::Option::Some(0 #(+ #terms)*))
    } else {
        for f in &fields {
            let worst = f.worst(private, false);
            items.extend(quote!(const _: ::core::primitive::usize = #worst;));
        }
        quote!(::core::option::Option::None)
    };

    let budget = budget(model, &mut items);
    let (decode, decode_items) = decode::expand(model);
    let extractor = extractor::expand(model);
    let downgrade = downgrade::expand(model);

    quote! {
        const _: () = {
            #items
            #decode_items
            #[automatically_derived]
            impl #private::CookieSession for #ident {
                const VERSION: ::core::primitive::u16 = #version;
                const NAME: &'static ::core::primitive::str = #name;
                const FINGERPRINT: &'static ::core::primitive::str = #fingerprint;
                const BUDGET: #private::Budget = #budget;
                const MAX_ENCODED_LEN: ::core::option::Option<::core::primitive::usize> =
                    #max_encoded_len;
                #previous

                fn check_bounds(&self) -> ::core::result::Result<(), #private::BoundsError> {
                    #(#checks)*
                    ::core::result::Result::Ok(())
                }

                fn decode(
                    version: ::core::primitive::u16,
                    bytes: &[::core::primitive::u8],
                ) -> ::core::result::Result<Self, #private::SchemaError> {
                    #decode
                }
            }
            #extractor
            #downgrade
        };
    }
}

/// The `BUDGET` value; its assertions (range of `max_cookies`, worst case within the budget)
/// go to `items`, spanned at the keys.
fn budget(model: &Model<'_>, items: &mut TokenStream) -> TokenStream {
    let private = model.private();
    let ident = model.ident;
    let option = |value: Option<usize>| match value {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    if let Some(cookies) = &model.attrs.max_cookies {
        let (n, literal) = cookies.value;
        items.extend(respan(
            quote!(const _: () = #private::assert_max_cookies(#n);),
            literal,
        ));
    }
    if let Some(span) = model.budget_span() {
        items.extend(respan(
            quote! {
                const _: () = #private::assert_budget(
                    <#ident as #private::CookieSession>::NAME,
                    <#ident as #private::CookieSession>::MAX_ENCODED_LEN,
                    <#ident as #private::CookieSession>::BUDGET,
                );
            },
            span,
        ));
    }
    let cookies = option(model.attrs.max_cookies.as_ref().map(|c| c.value.0));
    let bytes = option(model.attrs.budget.as_ref().map(|b| b.value));
    quote!(#private::budget(#cookies, #bytes))
}

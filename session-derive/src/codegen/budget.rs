//! The worst-case size, the compile-time budget assertion and the run-time `max_len` checks.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Field, Schema};

/// The worst-case postcard size of one field, spanned at its type so an unbounded type is
/// reported there.
pub(super) fn field_max(private: &TokenStream, field: &Field<'_>) -> TokenStream {
    let ty = field.ty;
    match &field.max_len {
        Some(max_len) => {
            let n = max_len.value;
            // Written out rather than through `len_bounded_max::<#ty>` so an unbounded item type
            // fails the same obligation as the run-time check below, and is reported once.
            quote_spanned! {ty.span()=>
                #private::varint_len(#n) + #n * <#ty as #private::LenBounded>::ITEM_MAX_ENCODED_LEN
            }
        }
        None => quote_spanned!(ty.span()=> <#ty as #private::Bounded>::MAX_ENCODED_LEN),
    }
}

/// The bound checks of one field, reached through `access` (`&self.field` or a binding).
///
/// `deep` also checks the items and nested types, which needs them to be bounded: true under a
/// budget and in `SessionBound`.
pub(super) fn field_check(
    private: &TokenStream,
    type_name: &str,
    field: &Field<'_>,
    access: &TokenStream,
    deep: bool,
) -> TokenStream {
    let ty = field.ty;
    let name = &field.name;
    match (&field.max_len, deep) {
        (Some(max_len), _) => {
            let n = max_len.value;
            let len = quote_spanned! {ty.span()=>
                #private::check_len::<#ty>(#access, #type_name, #name, #n)?;
            };
            let items = deep.then(|| {
                quote_spanned!(ty.span()=> <#ty as #private::LenBounded>::check_items(#access)?;)
            });
            quote!(#len #items)
        }
        (None, true) => {
            quote_spanned!(ty.span()=> <#ty as #private::Bounded>::check_bounds(#access)?;)
        }
        (None, false) => TokenStream::new(),
    }
}

fn private(schema: &Schema<'_>) -> TokenStream {
    let krate = &schema.krate;
    quote!(#krate::__private)
}

pub(super) fn budget_value(schema: &Schema<'_>) -> TokenStream {
    let private = private(schema);
    match (&schema.budget.max_cookies, &schema.budget.bytes) {
        (None, None) => quote!(#private::Budget::Unbounded),
        (Some(cookies), None) => {
            let n = cookies.value;
            quote!(#private::Budget::Cookies(#n))
        }
        (None, Some(bytes)) => {
            let n = bytes.value;
            quote!(#private::Budget::Bytes(#n))
        }
        (Some(cookies), Some(bytes)) => {
            let (c, b) = (cookies.value, bytes.value);
            quote! {
                if #b < #c as ::core::primitive::usize * #private::CHUNK_VALUE_CAPACITY {
                    #private::Budget::Bytes(#b)
                } else {
                    #private::Budget::Cookies(#c)
                }
            }
        }
    }
}

/// `Some(sum of field worst cases)` under a budget, `None` without one.
pub(super) fn max_encoded_len(schema: &Schema<'_>) -> TokenStream {
    if !schema.budget.is_declared() {
        return quote!(::core::option::Option::None);
    }
    let private = private(schema);
    let terms = schema.fields.iter().map(|f| field_max(&private, f));
    quote!(::core::option::Option::Some(0 #(+ #terms)*))
}

pub(super) fn check_bounds(schema: &Schema<'_>) -> TokenStream {
    let private = private(schema);
    let name = schema.ident.to_string();
    let deep = schema.budget.is_declared();
    let checks = schema.fields.iter().map(|field| {
        let member = &field.member;
        field_check(&private, &name, field, &quote!(&self.#member), deep)
    });
    quote! {
        #(#checks)*
        ::core::result::Result::Ok(())
    }
}

/// The `const` budget assertion, spanned at the budget key so the build error points there.
pub(super) fn assertions(schema: &Schema<'_>) -> TokenStream {
    let Some(span) = schema.budget.span() else {
        return TokenStream::new();
    };
    let private = private(schema);
    let ident = schema.ident;
    assertion_at(span, &private, ident)
}

fn assertion_at(span: Span, private: &TokenStream, ident: &syn::Ident) -> TokenStream {
    super::respan(
        quote! {
            const _: () = #private::assert_budget(
                <#ident as #private::CookieSession>::NAME,
                match <#ident as #private::CookieSession>::MAX_ENCODED_LEN {
                    ::core::option::Option::Some(n) => n,
                    ::core::option::Option::None => 0,
                },
                <#ident as #private::CookieSession>::BUDGET,
            );
        },
        span,
    )
}

//! The `Bounded` impl of `#[derive(SessionBound)]`: worst case and nested `max_len` checks.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, WherePredicate};

use super::budget::{field_check, field_max};
use crate::model::{Bound, Field, Shape, Style, Variant};

pub(super) fn expand(bound: &Bound<'_>) -> TokenStream {
    let krate = &bound.krate;
    let private = quote!(#krate::__private);
    let input = bound.original;
    let ident = &input.ident;
    let name = ident.to_string();

    let (max, check) = match &bound.shape {
        Shape::Struct(variant) => {
            let max = sum(&private, &variant.fields);
            let pattern = pattern(quote!(Self), variant);
            let checks = checks(&private, &name, &variant.fields);
            (
                max,
                quote! {
                    let #pattern = self;
                    #checks
                    ::core::result::Result::Ok(())
                },
            )
        }
        Shape::Enum(variants) => {
            // postcard writes the variant index as a varint u32.
            let tag = variants.len().saturating_sub(1);
            let bodies = variants.iter().map(|v| sum(&private, &v.fields));
            let arms = variants.iter().map(|v| {
                let vi = v.ident;
                let pattern = pattern(quote!(Self::#vi), v);
                let checks = checks(&private, &name, &v.fields);
                quote!(#pattern => { #checks })
            });
            let max = if variants.is_empty() {
                quote!(0)
            } else {
                quote!(#private::varint_len(#tag) + {
                    let mut worst = 0;
                    #(worst = #private::max(worst, #bodies);)*
                    worst
                })
            };
            let body = if variants.is_empty() {
                quote!(match *self {})
            } else {
                quote! {
                    match self { #(#arms)* }
                    ::core::result::Result::Ok(())
                }
            };
            (max, body)
        }
    };

    let mut generics = input.generics.clone();
    if !generics.params.is_empty() {
        let clause = generics.make_where_clause();
        for field in all_fields(&bound.shape) {
            let ty = field.ty;
            let predicate: WherePredicate = match field.max_len {
                Some(_) => syn::parse_quote!(#ty: #private::LenBounded),
                None => syn::parse_quote!(#ty: #private::Bounded),
            };
            clause.predicates.push(predicate);
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #private::Bounded for #ident #ty_generics #where_clause {
                const MAX_ENCODED_LEN: ::core::primitive::usize = #max;

                #[allow(unused_variables)]
                fn check_bounds(&self) -> ::core::result::Result<(), #private::BoundsError> {
                    #check
                }
            }
        };
    }
}

fn all_fields<'s, 'a>(shape: &'s Shape<'a>) -> Box<dyn Iterator<Item = &'s Field<'a>> + 's> {
    match shape {
        Shape::Struct(v) => Box::new(v.fields.iter()),
        Shape::Enum(vs) => Box::new(vs.iter().flat_map(|v| v.fields.iter())),
    }
}

fn sum(private: &TokenStream, fields: &[Field<'_>]) -> TokenStream {
    let terms = fields.iter().map(|f| field_max(private, f));
    quote!((0 #(+ #terms)*))
}

fn binding(index: usize) -> syn::Ident {
    format_ident!("__field{}", index)
}

fn pattern(path: TokenStream, variant: &Variant<'_>) -> TokenStream {
    let bindings = (0..variant.fields.len()).map(binding);
    match variant.style {
        Style::Named => {
            let members = variant.fields.iter().map(|f| &f.member);
            quote!(#path { #(#members: #bindings),* })
        }
        Style::Tuple => quote!(#path ( #(#bindings),* )),
        Style::Unit => path,
    }
}

fn checks(private: &TokenStream, type_name: &str, fields: &[Field<'_>]) -> TokenStream {
    let checks = fields.iter().enumerate().map(|(i, field)| {
        let access = binding(i);
        field_check(private, type_name, field, &quote!(#access), true)
    });
    quote!(#(#checks)*)
}

/// A stub impl so that attribute errors do not cascade into "not Bounded" errors elsewhere.
pub(super) fn stub(input: &DeriveInput, krate: &syn::Path) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::__private::Bounded
                for #ident #ty_generics #where_clause
            {
                const MAX_ENCODED_LEN: ::core::primitive::usize = 0;
            }
        };
    }
}

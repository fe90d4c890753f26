//! The impls of `#[derive(SessionBound)]`: `Bounded` (worst case and checks) and the runtime's
//! `SizeBound`, through which bounds reach the type as a field of another.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::WherePredicate;

use super::bounds::{Fields, spec_table};
use super::wrap;
use crate::model::{Data, Field, Model, Style, Variant};

pub(crate) fn expand(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let name = ident.to_string();
    let mut specs = Vec::new();
    let mut next = 0;

    let (max, check) = match &model.data {
        Data::Struct(variant) => {
            let fields = Fields::new(name.clone(), &variant.fields, &mut next);
            specs.extend(fields.specs());
            let max = sum(&fields);
            let pattern = pattern(quote!(Self), variant);
            let checks = fields.checks(false, |i, _| binding(i));
            let check = quote! {
                let #pattern = self;
                #checks
            };
            (max, check)
        }
        Data::Enum(variants) if variants.is_empty() => (quote!(0), quote!(match *self {})),
        Data::Enum(variants) => {
            let mut bodies = Vec::new();
            let mut arms = Vec::new();
            for v in variants {
                let fields = Fields::new(format!("{name}::{}", v.ident), &v.fields, &mut next);
                specs.extend(fields.specs());
                bodies.push(sum(&fields));
                let vi = v.ident;
                let pattern = pattern(quote!(Self::#vi), v);
                let checks = fields.checks(false, |i, _| binding(i));
                arms.push(quote!(#pattern => #checks,));
            }
            // postcard writes the variant index as a varint u32.
            let tag = variants.len() - 1;
            let max = quote!(__p::varint_len(#tag) + {
                let mut worst = 0;
                #(worst = __p::max(worst, #bodies);)*
                worst
            });
            let check = quote!(match self { #(#arms)* });
            (max, check)
        }
        Data::Union => unreachable!("check rejects unions"),
    };

    let mut items = spec_table(&specs);
    let generics = &model.original.generics;
    let mut bounded = generics.clone();
    if !generics.params.is_empty() {
        let clause = bounded.make_where_clause();
        for field in fields_of(&model.data) {
            let ty = field.ty;
            let predicate: WherePredicate = match field.bound {
                Some(_) => syn::parse_quote!(#ty: __p::SizeBound),
                None => syn::parse_quote!(#ty: __p::Bounded),
            };
            clause.predicates.push(predicate);
        }
    } else {
        // Evaluated now, so a field without a bound is reported even if the type is unused.
        items.extend(quote! {
            const _: __p::usize = <#ident as __p::Bounded>::MAX_ENCODED_LEN;
        });
    }
    let (impl_generics, ty_generics, where_clause) = bounded.split_for_impl();

    wrap(
        model,
        quote! {
            #items
            #[automatically_derived]
            impl #impl_generics __p::Bounded for #ident #ty_generics #where_clause {
                const MAX_ENCODED_LEN: __p::usize = #max;

                #[allow(unused_variables)]
                fn check_bounds(&self) -> __p::Result<(), __p::BoundsError> {
                    #check
                }
            }
            #[automatically_derived]
            impl #impl_generics __p::SizeBound for #ident #ty_generics #where_clause {
                const SHAPE: __p::Shape =
                    __p::Shape::Derived(<Self as __p::Bounded>::MAX_ENCODED_LEN);

                fn check(&self, _: &__p::Spec) -> __p::Result<(), __p::BoundsError> {
                    <Self as __p::Bounded>::check_bounds(self)
                }
            }
        },
    )
}

fn fields_of<'s, 'a>(data: &'s Data<'a>) -> Box<dyn Iterator<Item = &'s Field<'a>> + 's> {
    match data {
        Data::Struct(v) => Box::new(v.fields.iter()),
        Data::Enum(vs) => Box::new(vs.iter().flat_map(|v| v.fields.iter())),
        Data::Union => Box::new(std::iter::empty()),
    }
}

fn sum(fields: &Fields<'_, '_>) -> TokenStream {
    let terms = fields.worst(true);
    quote!((0 #(+ #terms)*))
}

fn binding(index: usize) -> TokenStream {
    let ident = format_ident!("__field{}", index);
    quote!(#ident)
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

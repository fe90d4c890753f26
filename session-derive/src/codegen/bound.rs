//! The impls of `#[derive(SessionBound)]`: `Bounded` (worst case and checks) and the runtime's
//! `SessionBound`, through which bounds reach the type as a field of another.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::WherePredicate;

use super::bounds::{self, FieldBound};
use crate::model::{Data, Model, Style, Variant};

pub(crate) fn expand(model: &Model<'_>) -> TokenStream {
    let private = model.private();
    let ident = model.ident;
    let name = ident.to_string();
    let mut items = TokenStream::new();

    let (max, check) = match &model.data {
        Data::Struct(variant) => {
            let fields = bounds::specs(private, &name, &variant.fields, 0, &mut items);
            let max = sum(private, &fields);
            let pattern = pattern(quote!(Self), variant);
            let checks = checks(private, &fields);
            let check = quote! {
                let #pattern = self;
                #checks
                ::core::result::Result::Ok(())
            };
            (max, check)
        }
        Data::Enum(variants) if variants.is_empty() => (quote!(0), quote!(match *self {})),
        Data::Enum(variants) => {
            let mut first = 0;
            let mut bodies = Vec::new();
            let mut arms = Vec::new();
            for v in variants {
                let owner = format!("{name}::{}", v.ident);
                let fields = bounds::specs(private, &owner, &v.fields, first, &mut items);
                first += v.fields.len();
                bodies.push(sum(private, &fields));
                let vi = v.ident;
                let pattern = pattern(quote!(Self::#vi), v);
                let checks = checks(private, &fields);
                arms.push(quote!(#pattern => { #checks }));
            }
            // postcard writes the variant index as a varint u32.
            let tag = variants.len() - 1;
            let max = quote!(#private::varint_len(#tag) + {
                let mut worst = 0;
                #(worst = #private::max(worst, #bodies);)*
                worst
            });
            let check = quote! {
                match self { #(#arms)* }
                ::core::result::Result::Ok(())
            };
            (max, check)
        }
        Data::Union => unreachable!("check rejects unions"),
    };

    let generics = &model.original.generics;
    let mut bounded = generics.clone();
    if !generics.params.is_empty() {
        let clause = bounded.make_where_clause();
        for ty in fields_of(&model.data).map(|f| f.ty) {
            let predicate: WherePredicate = syn::parse_quote!(#ty: #private::SizeBound);
            clause.predicates.push(predicate);
        }
    } else {
        // Evaluated now, so a field without a bound is reported even if the type is unused.
        items.extend(quote! {
            const _: ::core::primitive::usize = <#ident as #private::Bounded>::MAX_ENCODED_LEN;
        });
    }
    let (impl_generics, ty_generics, where_clause) = bounded.split_for_impl();

    quote! {
        const _: () = {
            #items
            #[automatically_derived]
            impl #impl_generics #private::Bounded for #ident #ty_generics #where_clause {
                const MAX_ENCODED_LEN: ::core::primitive::usize = #max;

                #[allow(unused_variables)]
                fn check_bounds(&self) -> ::core::result::Result<(), #private::BoundsError> {
                    #check
                }
            }
            #[automatically_derived]
            impl #impl_generics #private::SizeBound for #ident #ty_generics #where_clause {
                const SHAPE: #private::Shape =
                    #private::Shape::Derived(<Self as #private::Bounded>::MAX_ENCODED_LEN);

                fn check(
                    &self,
                    _: &#private::Spec,
                ) -> ::core::result::Result<(), #private::BoundsError> {
                    <Self as #private::Bounded>::check_bounds(self)
                }
            }
        };
    }
}

fn fields_of<'s, 'a>(
    data: &'s Data<'a>,
) -> Box<dyn Iterator<Item = &'s crate::model::Field<'a>> + 's> {
    match data {
        Data::Struct(v) => Box::new(v.fields.iter()),
        Data::Enum(vs) => Box::new(vs.iter().flat_map(|v| v.fields.iter())),
        Data::Union => Box::new(std::iter::empty()),
    }
}

fn sum(private: &TokenStream, fields: &[FieldBound<'_, '_>]) -> TokenStream {
    let terms = fields.iter().map(|f| f.worst(private, true));
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

fn checks(private: &TokenStream, fields: &[FieldBound<'_, '_>]) -> TokenStream {
    let checks = fields.iter().enumerate().map(|(i, field)| {
        let access = binding(i);
        field.check(private, &quote!(#access))
    });
    quote!(#(#checks)*)
}

//! What a derive emits beside its errors: stub impls, so that one mistake in an attribute is
//! one error, not one more at every use of the type.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Model;

pub(crate) fn cookie_session(model: &Model<'_>, errors: &syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    // A generic struct gets no stub: the stub would bring its own bound errors.
    if !model.original.generics.params.is_empty() {
        return errors;
    }
    let private = model.private();
    let ident = model.ident;
    quote! {
        #errors
        const _: () = {
            #[automatically_derived]
            impl #private::CookieSession for #ident {
                const VERSION: ::core::primitive::u16 = 1;
                const NAME: &'static ::core::primitive::str = "";
                const FINGERPRINT: &'static ::core::primitive::str = "";
            }
        };
    }
}

pub(crate) fn session_bound(model: &Model<'_>, errors: &syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    let private = model.private();
    let ident = model.ident;
    let (impl_generics, ty_generics, where_clause) = model.original.generics.split_for_impl();
    quote! {
        #errors
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #private::Bounded for #ident #ty_generics #where_clause {
                const MAX_ENCODED_LEN: ::core::primitive::usize = 0;
            }
            #[automatically_derived]
            impl #impl_generics #private::SizeBound for #ident #ty_generics #where_clause {
                const SHAPE: #private::Shape = #private::Shape::Derived(0);
                fn check(
                    &self,
                    _: &#private::Spec,
                ) -> ::core::result::Result<(), #private::BoundsError> {
                    ::core::unimplemented!()
                }
            }
        };
    }
}

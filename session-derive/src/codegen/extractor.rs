//! The read-only extractor glue: a call to the runtime's `impl_extractor!`, which knows whether
//! the runtime was built with axum support.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Model;

pub(super) fn expand(model: &Model<'_>) -> TokenStream {
    let private = model.private();
    let ident = model.ident;
    quote!(#private::impl_extractor!(#ident);)
}

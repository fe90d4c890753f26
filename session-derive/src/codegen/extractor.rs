//! The read-only extractor glue: a call to the runtime's `impl_extractor!`, which knows whether
//! the runtime was built with axum support.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Schema;

pub(super) fn expand(schema: &Schema<'_>) -> TokenStream {
    let krate = &schema.krate;
    let ident = schema.ident;
    quote!(#krate::__private::impl_extractor!(#ident);)
}

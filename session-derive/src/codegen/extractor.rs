//! The read-only extractor: a call of the runtime's `impl_extractor!`, which knows whether the
//! runtime was built with axum support.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Model;

pub(super) fn expand(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    quote!(__p::impl_extractor!(#ident);)
}

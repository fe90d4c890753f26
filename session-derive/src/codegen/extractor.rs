//! The read-only extractor: a call of the runtime's `impl_extractor!`, which knows which
//! frameworks the runtime was built with. With `#[session(extractor)]` it writes the extractor
//! impls; without, one impl that never applies, whose bound names the attribute in rustc's
//! explanation of why a handler taking the schema does not build (the two impls are a
//! twentieth of what a rebuild costs, the refusing one a third of that).

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Model;

pub(super) fn expand(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    if model.attrs.extractor.is_some() {
        quote!(__p::impl_extractor!(#ident);)
    } else {
        quote!(__p::impl_extractor!(@refuse #ident);)
    }
}

//! Code generation, one file per output. Everything here assumes a checked model.

mod bound;
mod budget;
mod decode;
mod extractor;
mod schema;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::attr;
use crate::check;
use crate::ctxt::Ctxt;
use crate::model::{Bound, Schema};

/// The whole `#[derive(CookieSession)]` expansion, or the errors plus a stub impl.
pub(crate) fn cookie_session(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = Schema::from_ast(&mut cx, input);
    if let Some(model) = &model {
        check::schema(&mut cx, model);
    }
    match model {
        Some(model) if !cx.has_errors() => schema::expand(&model),
        _ => {
            // A generic struct gets no stub: the stub would bring its own bound errors.
            let stub = if input.generics.params.is_empty() {
                schema::stub(input, &crate_path(input))
            } else {
                TokenStream::new()
            };
            let errors = cx.into_compile_errors();
            quote! { #errors #stub }
        }
    }
}

/// The whole `#[derive(SessionBound)]` expansion, or the errors plus a stub impl.
pub(crate) fn session_bound(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = Bound::from_ast(&mut cx, input);
    match model {
        Some(model) if !cx.has_errors() => bound::expand(&model),
        _ => {
            let stub = bound::stub(input, &crate_path(input));
            let errors = cx.into_compile_errors();
            quote! { #errors #stub }
        }
    }
}

/// The runtime's path for stub impls: `crate = ..` if it parses, else the default.
fn crate_path(input: &DeriveInput) -> syn::Path {
    attr::Container::parse(&mut Ctxt::default(), &input.attrs)
        .krate
        .map_or_else(|| syn::parse_quote!(::session_runtime), |k| k.value)
}

/// `tokens` with every span set to `span`, so an error about the whole expression points at
/// the user's attribute rather than at the derive.
pub(crate) fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

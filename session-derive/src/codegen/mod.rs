//! Code generation, one file per output. Everything here assumes a checked model.
//!
//! Every expansion is one `const _: () = { .. };` block that starts with
//! `use #krate::__private as __p;`, so the runtime's path is written once and each item after
//! it is short: what a user pays for on every rebuild is mostly the tokens emitted here.

mod bound;
mod bounds;
mod decode;
mod downgrade;
mod extractor;
mod schema;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};

pub(crate) use bound::expand as session_bound;
pub(crate) use schema::expand as cookie_session;

use crate::model::Model;

/// The block every expansion is wrapped in, with the runtime's alias in scope.
fn wrap(model: &Model<'_>, body: TokenStream) -> TokenStream {
    let private = model.private();
    quote! {
        const _: () = {
            use #private as __p;
            #body
        };
    }
}

/// `tokens` with every span set to `span`, so an error about the whole expression points at
/// the user's attribute rather than at the derive.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// `__p::Some(n)` or `__p::None`, spanned at `span`.
fn option(value: Option<usize>, span: Span) -> TokenStream {
    match value {
        Some(n) => {
            let mut n = proc_macro2::Literal::usize_suffixed(n);
            n.set_span(span);
            quote_spanned!(span=> __p::Some(#n))
        }
        None => quote_spanned!(span=> __p::None),
    }
}

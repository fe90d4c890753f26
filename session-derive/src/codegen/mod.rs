//! Code generation, one file per output. Everything here assumes a checked model.

mod bound;
mod bounds;
mod decode;
mod downgrade;
mod extractor;
mod schema;

use proc_macro2::{Span, TokenStream, TokenTree};

pub(crate) use bound::expand as session_bound;
pub(crate) use schema::expand as cookie_session;

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

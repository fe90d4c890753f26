//! `Downgrade<Previous>`, from `downgrade = path`: what `writing::<Previous>()` seals during the
//! first phase of a rolling deploy.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::model::Model;

/// The impl, or nothing without `downgrade`.
pub(super) fn expand(model: &Model<'_>) -> TokenStream {
    let (Some(path), Some(previous)) = (&model.attrs.downgrade, &model.attrs.previous) else {
        return TokenStream::new();
    };
    let ident = model.ident;
    let prev = &previous.value;
    let path_tokens = &path.value;
    // Bound to a typed `const` under the user's span, as `migrate` is: a wrong signature is
    // rustc's own error on the user's path.
    let downgrade = quote_spanned! {path.span=>
        const __SESSION_DOWNGRADE: fn(&#ident) -> #prev = #path_tokens;
    };
    quote! {
        #downgrade
        #[automatically_derived]
        impl __p::Downgrade<#prev> for #ident {
            fn downgrade(&self) -> #prev {
                __SESSION_DOWNGRADE(self)
            }
        }
    }
}

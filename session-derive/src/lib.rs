//! placeholder
use proc_macro::TokenStream;

/// placeholder
#[proc_macro_derive(CookieSession, attributes(session))]
pub fn derive_cookie_session(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// placeholder
#[proc_macro_derive(SessionBound, attributes(session))]
pub fn derive_session_bound(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

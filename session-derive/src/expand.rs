//! One expansion: parse into the model, check it, then generate the impls, or the errors and
//! the fallback stubs.

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;
use crate::model::Model;
use crate::{check, codegen, fallback};

pub(crate) fn cookie_session(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::new();
    let model = Model::from_ast(&mut cx, input);
    check::cookie_session(&mut cx, &model);
    match cx.check() {
        Ok(()) => codegen::cookie_session(&model),
        Err(errors) => fallback::cookie_session(&model, &errors),
    }
}

pub(crate) fn session_bound(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::new();
    let model = Model::from_ast(&mut cx, input);
    check::session_bound(&mut cx, &model);
    match cx.check() {
        Ok(()) => codegen::session_bound(&model),
        Err(errors) => fallback::session_bound(&model, &errors),
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::{TokenStream, TokenTree};

    fn count(tokens: TokenStream) -> usize {
        tokens
            .into_iter()
            .map(|tree| match tree {
                TokenTree::Group(group) => 2 + count(group.stream()),
                _ => 1,
            })
            .sum()
    }

    /// Every token of an expansion is paid for on each rebuild of a user's crate
    /// (`scripts/compile-cost.sh`); this is the benchmark's struct, with three bounded fields
    /// of ten under a budget. Raise the figure only for a reason worth that.
    #[test]
    fn a_budgeted_schema_expands_to_few_tokens() {
        let input: syn::DeriveInput = syn::parse_str(
            "#[session(version = 1, max_cookies = 2)]
            pub struct Session1 {
                pub user_id: u64,
                #[session(max_len = 32)]
                pub name: String,
                pub visits: u32,
                pub admin: bool,
                #[session(max_len = 16)]
                pub items: Vec<u32>,
                pub last_seen: Option<u64>,
                pub csrf: [u8; 16],
                pub balance: i64,
                #[session(max_len = 32)]
                pub token: Vec<u8>,
                pub pin: Option<[u8; 4]>,
            }",
        )
        .expect("a struct");
        let tokens = count(super::cookie_session(&input));
        assert!(tokens <= 465, "{tokens} tokens");
    }
}

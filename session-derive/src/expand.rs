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

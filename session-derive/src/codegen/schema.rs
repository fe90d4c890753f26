//! The `CookieSession` impl and the `const` items beside it. The trait provides what a schema
//! without `previous`, budget or bounds needs, so only what differs is written: every token
//! here is paid for on each rebuild of the user's crate.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use super::bounds::{Fields, call, spec_table};
use super::{decode, downgrade, extractor, option, wrap};
use crate::fingerprint;
use crate::model::Model;

pub(crate) fn expand(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let name = ident.to_string();
    let need = model.has_budget();
    // Without a budget, a field without an attribute may be of any type: it is not touched.
    let fields = Fields::new(
        name.clone(),
        model.fields().iter().filter(|f| need || f.bound.is_some()),
        &mut 0,
    );

    let mut items = spec_table(&fields.specs());
    if need {
        // Evaluated now, so the build fails where the budget or a bound is wrong.
        items.extend(quote! {
            const _: __p::Option<__p::usize> = <#ident as __p::CookieSession>::MAX_ENCODED_LEN;
        });
    } else {
        // Still checked at compile time: that each attribute applies to its field's type.
        for worst in fields.worst(false) {
            items.extend(quote!(const _: __p::usize = #worst;));
        }
    }
    if let Some(previous) = &model.attrs.previous {
        items.extend(decode::items(model, &previous.value, previous.span));
    }

    let version = model.version();
    let fingerprint = fingerprint::of(model);
    let mut members = quote! {
        const VERSION: __p::u16 = #version;
        const NAME: &'static __p::str = #name;
        const FINGERPRINT: &'static __p::str = #fingerprint;
    };
    if need {
        let budget = budget(model);
        let terms = fields.worst(true);
        let span = model.budget_span().unwrap_or_else(Span::call_site);
        let fit = call(
            quote_spanned!(span=> __p::fit),
            quote!(#name, Self::BUDGET, 0 #(+ #terms)*),
            span,
        );
        members.extend(quote! {
            const BUDGET: __p::Budget = #budget;
            const MAX_ENCODED_LEN: __p::Option<__p::usize> = __p::Some(#fit);
        });
    }
    if need || fields.any_declared() {
        let checks = fields.checks(true, |_, field| {
            let member = &field.member;
            quote!(&self.#member)
        });
        members.extend(quote! {
            fn check_bounds(&self) -> __p::Result<(), __p::BoundsError> {
                #checks
            }
        });
    }
    if let Some(previous) = &model.attrs.previous {
        members.extend(decode::members(&previous.value));
    }
    let extractor = extractor::expand(model);
    let downgrade = downgrade::expand(model);

    wrap(
        model,
        quote! {
            #items
            #[automatically_derived]
            impl __p::CookieSession for #ident {
                #members
            }
            #extractor
            #downgrade
        },
    )
}

/// The `BUDGET` value; an out-of-range `max_cookies` fails its evaluation, spanned at the
/// literal.
fn budget(model: &Model<'_>) -> TokenStream {
    let cookies = model.attrs.max_cookies.as_ref();
    let span = cookies.map_or_else(Span::call_site, |c| c.value.1);
    let count = option(cookies.map(|c| c.value.0), span);
    let bytes = option(model.attrs.budget.as_ref().map(|b| b.value), span);
    quote_spanned!(span=> __p::budget(#count, #bytes))
}

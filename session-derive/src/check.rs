//! Every rule the derive can check without type information, after parsing. Codegen may assume
//! a model that passed them.
//!
//! What needs types (the previous schema's version, whether a bound applies to a field's type,
//! whether the worst case fits the budget) cannot be known here; codegen emits `const`
//! assertions and spanned trait bounds for those, so rustc reports them on the user's tokens.

use crate::attr::{self, Bound};
use crate::ctxt::Ctxt;
use crate::fingerprint;
use crate::model::{Data, Field, Model, Style};

pub(crate) fn cookie_session(cx: &mut Ctxt, model: &Model<'_>) {
    let shape_error = match &model.data {
        Data::Struct(v) => match v.style {
            Style::Named => None,
            Style::Tuple => Some(
                "CookieSession needs a struct with named fields; a tuple struct's fields have no names to version",
            ),
            Style::Unit => Some(
                "CookieSession needs a struct with named fields; a unit struct holds no session data",
            ),
        },
        Data::Enum(_) => Some(
            "CookieSession needs a struct with named fields, not an enum; wrap the enum in a struct field (and derive SessionBound on it)",
        ),
        Data::Union => Some("CookieSession needs a struct with named fields, not a union"),
    };
    if let Some(message) = shape_error {
        cx.error_spanned_by(model.ident, message);
        return;
    }
    if !model.original.generics.params.is_empty() {
        cx.error_spanned_by(
            &model.original.generics,
            "CookieSession does not support generic structs: a stored session must have one fixed wire format; use concrete field types",
        );
    }
    fields(cx, model.fields());

    let attrs = &model.attrs;
    if let Some(migrate) = &attrs.migrate
        && attrs.previous.is_none()
    {
        cx.syn_error(syn::Error::new(
            migrate.span,
            "`migrate` needs `previous = OldSchema`: it converts the previous schema into this one",
        ));
    }

    if let Some(downgrade) = &attrs.downgrade
        && attrs.previous.is_none()
    {
        cx.syn_error(syn::Error::new(
            downgrade.span,
            "`downgrade` needs `previous = OldSchema`: it converts this schema into the previous one, for `writing::<OldSchema>()` during a rolling deploy",
        ));
    }

    let Some(version) = &attrs.version else {
        let message = format!(
            "missing `version` for session schema `{}`: add #[session(version = 1)] and bump it whenever the fields change",
            model.ident
        );
        match &attrs.attr_tokens {
            Some(tokens) => cx.error_spanned_by(tokens, message),
            None => cx.error_spanned_by(model.ident, message),
        }
        return;
    };

    if let Some(pinned) = &attrs.fingerprint {
        let actual = fingerprint::of(model);
        if pinned.value.value() != actual {
            cx.syn_error(syn::Error::new(
                pinned.span,
                format!(
                    "`{}` no longer matches its pinned fingerprint: version {} now fingerprints to \"{actual}\", not \"{}\"; if the wire format or a bound changed, bump `version` and keep the old struct as `previous`, then pin the fingerprint this error shows",
                    model.ident,
                    version.value,
                    pinned.value.value(),
                ),
            ));
        }
    }
}

pub(crate) fn session_bound(cx: &mut Ctxt, model: &Model<'_>) {
    let attrs = &model.attrs;
    for (set, name) in [
        (attrs.version.is_some(), attr::VERSION),
        (attrs.previous.is_some(), attr::PREVIOUS),
        (attrs.migrate.is_some(), attr::MIGRATE),
        (attrs.downgrade.is_some(), attr::DOWNGRADE),
        (attrs.max_cookies.is_some(), attr::MAX_COOKIES),
        (attrs.budget.is_some(), attr::BUDGET),
        (attrs.fingerprint.is_some(), attr::FINGERPRINT),
        (attrs.extractor.is_some(), attr::EXTRACTOR),
    ] {
        if set {
            cx.error_spanned_by(
                model.ident,
                format_args!(
                    "`{name}` belongs on a #[derive(CookieSession)] schema; SessionBound takes only `crate` (and bounds on fields)"
                ),
            );
        }
    }
    match &model.data {
        Data::Struct(variant) => fields(cx, &variant.fields),
        Data::Enum(variants) => {
            for variant in variants {
                fields(cx, &variant.fields);
            }
        }
        Data::Union => cx.error_spanned_by(
            model.ident,
            "SessionBound supports structs and enums, not unions",
        ),
    }
}

fn fields(cx: &mut Ctxt, fields: &[Field<'_>]) {
    for field in fields {
        if let Some(bound) = &field.bound {
            if bound.value.empty {
                cx.syn_error(syn::Error::new(
                    bound.span,
                    "empty #[session()] on a field: bound it with `max_len = N` (and `each(..)`, `key(..)`, `value(..)` inside), or remove it",
                ));
            }
            nested(cx, &bound.value);
        }
    }
}

/// The rules inside one bound, then inside its nested ones.
fn nested(cx: &mut Ctxt, bound: &Bound) {
    if bound.each.is_some()
        && let Some(other) = bound.key.as_ref().or(bound.value.as_ref())
    {
        cx.syn_error(syn::Error::new(
            other.span,
            "a bound takes `each(..)` (the items of a list, set or array) or `key(..)` and `value(..)` (a map's entries), not both",
        ));
    }
    for (name, inner) in [
        (attr::EACH, &bound.each),
        (attr::KEY, &bound.key),
        (attr::VALUE, &bound.value),
    ] {
        let Some(inner) = inner else { continue };
        if inner.value.empty {
            cx.syn_error(syn::Error::new(
                inner.span,
                format!("`{name}()` is empty: write `{name}(max_len = N)`, or remove it"),
            ));
        }
        nested(cx, &inner.value);
    }
}

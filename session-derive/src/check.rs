//! Checks across attributes, after parsing. Codegen may assume a model that passed them.
//!
//! What needs type information (the previous schema's version, whether a field is bounded,
//! whether the worst case fits the budget) cannot be known here; codegen emits `const`
//! assertions and spanned trait bounds for those, so rustc reports them on the user's tokens.

use crate::ctxt::Ctxt;
use crate::fingerprint;
use crate::model::Schema;

pub(crate) fn schema(cx: &mut Ctxt, schema: &Schema<'_>) {
    let Some(version) = &schema.version else {
        let message = format!(
            "missing `version` for session schema `{}`: add #[session(version = 1)] and bump it whenever the fields change",
            schema.ident
        );
        match &schema.attr_tokens {
            Some(tokens) => cx.error_spanned_by(tokens, message),
            None => cx.error_spanned_by(schema.ident, message),
        }
        return;
    };

    if let Some(migrate) = &schema.migrate
        && schema.previous.is_none()
    {
        cx.syn_error(syn::Error::new(
            migrate.span,
            "`migrate` needs `previous = OldSchema`: it converts the previous schema into this one",
        ));
    }

    if let Some(pinned) = &schema.fingerprint {
        let actual = fingerprint::of(schema, version.value);
        if pinned.value.value() != actual {
            cx.syn_error(syn::Error::new(
                pinned.span,
                format!(
                    "`{}` no longer matches its pinned fingerprint: version {} now fingerprints to \"{actual}\", not \"{}\"; if the wire format changed, bump `version` and keep the old struct as `previous`, then pin the fingerprint this error shows",
                    schema.ident,
                    version.value,
                    pinned.value.value(),
                ),
            ));
        }
    }
}

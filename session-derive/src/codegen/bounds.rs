//! Field bounds: each field's `#[session(...)]` as a runtime `Spec` constant, its worst case
//! (which the runtime checks against the field type at compile time), and its run-time check.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::respan;
use crate::attr::Bound;
use crate::model::Field;

/// One field, ready for codegen: the name of its `Spec` constant and the constant itself.
pub(super) struct FieldBound<'f, 'a> {
    pub(super) field: &'f Field<'a>,
    spec: syn::Ident,
}

/// The `Spec` constants of `fields` (named from `first` on), declared beside the impls.
pub(super) fn specs<'f, 'a: 'f>(
    private: &TokenStream,
    owner: &str,
    fields: impl IntoIterator<Item = &'f Field<'a>>,
    first: usize,
    out: &mut TokenStream,
) -> Vec<FieldBound<'f, 'a>> {
    fields
        .into_iter()
        .enumerate()
        .map(|(i, field)| {
            let spec = format_ident!("__SESSION_SPEC_{}", first + i);
            let ty = type_text(field.ty);
            let value = spec_value(
                private,
                owner,
                &field.name,
                &ty,
                field.bound.as_ref().map(|b| &b.value),
            );
            out.extend(quote!(const #spec: #private::Spec = #value;));
            FieldBound { field, spec }
        })
        .collect()
}

fn spec_value(
    private: &TokenStream,
    owner: &str,
    path: &str,
    ty: &str,
    bound: Option<&Bound>,
) -> TokenStream {
    let max_len = option(bound.and_then(|b| b.max_len.as_ref()).map(|m| m.value));
    let nested = |name: &str, inner: Option<&Bound>| match inner {
        Some(inner) => {
            let value = spec_value(private, owner, &format!("{path}.{name}"), "", Some(inner));
            quote!(::core::option::Option::Some(&#value))
        }
        None => quote!(::core::option::Option::None),
    };
    let each = nested(
        "each",
        bound.and_then(|b| b.each.as_ref()).map(|b| &*b.value),
    );
    let key = nested("key", bound.and_then(|b| b.key.as_ref()).map(|b| &*b.value));
    let value = nested(
        "value",
        bound.and_then(|b| b.value.as_ref()).map(|b| &*b.value),
    );
    quote! {
        #private::Spec {
            owner: #owner,
            path: #path,
            ty: #ty,
            max_len: #max_len,
            each: #each,
            key: #key,
            value: #value,
        }
    }
}

fn option(value: Option<usize>) -> TokenStream {
    match value {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    }
}

impl FieldBound<'_, '_> {
    /// The first and last span compile-time bound errors cover: the attribute, or the type
    /// without one.
    fn span_range(&self) -> (Span, Span) {
        if let Some(bound) = &self.field.bound {
            return (bound.span, bound.span);
        }
        let mut tokens = self.field.ty.to_token_stream().into_iter();
        let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
        let last = tokens.last().map_or(first, |t| t.span());
        (first, last)
    }

    /// The worst case in bytes, as a `const` expression. With `need`, a part without a bound
    /// fails the build; without it, only a misplaced key does.
    ///
    /// The call covers the attribute (or the type), the type inside keeps its own spans: a
    /// type that is not bounded at all is a trait error on the type, a bound that does not fit
    /// it a const-evaluation error on the attribute.
    pub(super) fn worst(&self, private: &TokenStream, need: bool) -> TokenStream {
        let (first, last) = self.span_range();
        let ty = self.field.ty;
        let spec = &self.spec;
        let shape = quote_spanned!(ty.span()=> <#ty as #private::SizeBound>::SHAPE);
        let callee = respan(quote!(#private::bound), first);
        let rest = respan(quote!(, &#spec, #need), first);
        let mut args = Group::new(
            Delimiter::Parenthesis,
            quote_spanned!(first=> &#shape #rest),
        );
        args.set_span(last);
        quote!(#callee #args)
    }

    /// The run-time check of the value reached through `access`, as a statement.
    pub(super) fn check(&self, private: &TokenStream, access: &TokenStream) -> TokenStream {
        let ty = self.field.ty;
        let spec = &self.spec;
        quote_spanned! {ty.span()=>
            <#ty as #private::SizeBound>::check(#access, &#spec)?;
        }
    }
}

/// The type as written, spaced as a person would write it, for compile-time messages.
fn type_text(ty: &syn::Type) -> String {
    let raw = ty.to_token_stream().to_string();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<char> = raw.chars().collect();
    let mut text = String::with_capacity(raw.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = i.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i + 1).copied();
            let keep = matches!(before, Some(',' | ';'))
                || (before.is_some_and(word) && after.is_some_and(word));
            if !keep {
                continue;
            }
        }
        text.push(c);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::type_text;

    #[test]
    fn types_read_as_written() {
        for written in [
            "Vec<String>",
            "[String; 3]",
            "BTreeMap<String, u32>",
            "Option<Option<Box<str>>>",
            "&'static str",
            "std::collections::HashMap<String, Vec<u8>>",
        ] {
            let ty: syn::Type = syn::parse_str(written).expect("a type");
            assert_eq!(type_text(&ty), written);
        }
    }
}

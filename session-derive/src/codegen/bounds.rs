//! Field bounds: each field's worst case and its run-time check.
//!
//! A field without an attribute must be bounded by its type: its worst case is the type's
//! `Bounded::MAX_ENCODED_LEN`, and rustc's trait error, on the type, says how to bound it. A
//! field with an attribute gets an entry in the expansion's `Spec` table, which the runtime
//! walks against the type's `Shape` at compile time (a misplaced or missing bound fails the
//! build at the attribute) and against the value when the session is sealed.

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{GenericArgument, PathArguments, Type};

use crate::attr::Bound;
use crate::model::Field;

/// The fields of one type (or enum variant) whose bounds codegen writes.
pub(super) struct Fields<'f, 'a> {
    /// The type, or `Enum::Variant`, that bound errors name.
    owner: String,
    /// Each field, and the index of its `Spec` in the table when it has an attribute.
    fields: Vec<(&'f Field<'a>, Option<usize>)>,
}

impl<'f, 'a: 'f> Fields<'f, 'a> {
    /// `fields` of `owner`; their `Spec`s are numbered from `*next` on.
    pub(super) fn new(
        owner: String,
        fields: impl IntoIterator<Item = &'f Field<'a>>,
        next: &mut usize,
    ) -> Self {
        let fields = fields
            .into_iter()
            .map(|field| {
                let spec = field.bound.as_ref().map(|_| {
                    *next += 1;
                    *next - 1
                });
                (field, spec)
            })
            .collect();
        Fields { owner, fields }
    }

    /// The `Spec` of every field with an attribute, in order: the table's entries.
    pub(super) fn specs(&self) -> Vec<TokenStream> {
        self.fields
            .iter()
            .filter(|(_, spec)| spec.is_some())
            .map(|(field, _)| {
                spec_value(
                    &self.owner,
                    &field.name,
                    &type_text(field.ty),
                    field.bound.as_ref().map(|b| &b.value),
                )
            })
            .collect()
    }

    /// The fields' worst cases, `const` expressions to add up. With `need`, a part without a
    /// bound fails the build; without it, only a misplaced key does.
    ///
    /// The fields spelled as numbers and the like are one term: their tuple's worst case.
    pub(super) fn worst(&self, need: bool) -> Vec<TokenStream> {
        let plain_types: Vec<&Type> = self
            .fields
            .iter()
            .filter(|(field, spec)| spec.is_none() && plain(field.ty))
            .map(|(field, _)| field.ty)
            .collect();
        let mut terms = Vec::new();
        if !plain_types.is_empty() {
            let tuple = tuple(&plain_types);
            terms.push(quote!(<#tuple as __p::Bounded>::MAX_ENCODED_LEN));
        }
        for (field, spec) in &self.fields {
            let ty = field.ty;
            let Some(spec) = spec else {
                if !plain(ty) {
                    terms.push(quote_spanned!(ty.span()=> <#ty as __p::Bounded>::MAX_ENCODED_LEN));
                }
                continue;
            };
            // The call covers the attribute, where a bound that does not fit the type is
            // reported; the type keeps its own spans, for a type that is not bounded at all.
            let span = field
                .bound
                .as_ref()
                .map_or_else(Span::call_site, |b| b.span);
            let shape = quote_spanned!(ty.span()=> <#ty as __p::SizeBound>::SHAPE);
            let spec = Literal::usize_unsuffixed(*spec);
            let need = Ident::new(if need { "true" } else { "false" }, span);
            let args = quote_spanned!(span=> &#shape, &__S[#spec], #need);
            terms.push(call(quote_spanned!(span=> __p::bound), args, span));
        }
        terms
    }

    /// Whether any field has an attribute.
    pub(super) fn any_declared(&self) -> bool {
        self.fields.iter().any(|(_, spec)| spec.is_some())
    }

    /// The checks of the values `access(i, field)` gives, as one expression: the fields with
    /// an attribute in one call of the runtime's `check` over their slice of the `Spec` table
    /// (all of it with `whole`), then each other field's `check_bounds`; nothing for a field
    /// whose type is spelled as a number, `bool`, `char`, or an array, tuple or `Option` of
    /// those, which have nothing to check. The first error wins.
    pub(super) fn checks(
        &self,
        whole: bool,
        access: impl Fn(usize, &Field<'_>) -> TokenStream,
    ) -> TokenStream {
        let mut values = Vec::new();
        let mut range = None;
        let mut rest = TokenStream::new();
        for (i, (field, spec)) in self.fields.iter().enumerate() {
            let ty = field.ty;
            match spec {
                Some(spec) => {
                    let value = access(i, field);
                    values.push(quote_spanned! {ty.span()=>
                        <#ty as __p::SizeBound>::as_check(#value)
                    });
                    range = Some((range.map_or(*spec, |(first, _)| first), *spec + 1));
                }
                None if !plain(ty) => {
                    let value = access(i, field);
                    rest.extend(quote_spanned! {ty.span()=>
                        .and(<#ty as __p::Bounded>::check_bounds(#value))
                    });
                }
                None => {}
            }
        }
        let mut all = match range {
            Some(_) if whole => quote!(__p::check(&[#(#values),*], &__S)),
            Some((first, end)) => {
                let (first, end) = (
                    Literal::usize_unsuffixed(first),
                    Literal::usize_unsuffixed(end),
                );
                quote!(__p::check(&[#(#values),*], &__S[#first..#end]))
            }
            None => quote!(__p::Ok(())),
        };
        all.extend(rest);
        all
    }
}

/// `const __S: [__p::Spec; N] = [..];`, the table of the `Spec`s of one expansion (one item
/// for all of them: every item costs each rebuild more than its tokens do); nothing when
/// there are none.
pub(super) fn spec_table(specs: &[TokenStream]) -> TokenStream {
    if specs.is_empty() {
        return TokenStream::new();
    }
    let len = specs.len();
    quote!(const __S: [__p::Spec; #len] = [#(#specs),*];)
}

/// `callee(args)` with the call covering `span`: `callee` is spanned there by the caller (the
/// arguments keep their own spans).
pub(super) fn call(mut callee: TokenStream, args: TokenStream, span: Span) -> TokenStream {
    let mut args = Group::new(Delimiter::Parenthesis, args);
    args.set_span(span);
    callee.extend([TokenTree::Group(args)]);
    callee
}

/// The types as one tuple type, nested by eights (the largest tuple the runtime bounds).
fn tuple(types: &[&Type]) -> TokenStream {
    if types.len() <= 8 {
        return quote!((#(#types,)*));
    }
    let chunks: Vec<TokenStream> = types.chunks(types.len().div_ceil(8)).map(tuple).collect();
    quote!((#(#chunks,)*))
}

/// Whether `ty` is spelled as a type with nothing inside to check: a primitive number,
/// `bool`, `char`, or an array, tuple or `Option` of those. Only skips a call that would do
/// nothing; a type that merely looks like one is still bounded by its real type.
fn plain(ty: &Type) -> bool {
    const PRIMITIVES: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "bool", "char", "f32", "f64",
    ];
    match ty {
        Type::Array(array) => plain(&array.elem),
        Type::Tuple(tuple) => tuple.elems.iter().all(plain),
        Type::Paren(inner) => plain(&inner.elem),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return false;
            };
            match &last.arguments {
                PathArguments::None => {
                    path.path.segments.len() == 1 && PRIMITIVES.iter().any(|p| last.ident == p)
                }
                // Only the prelude's `Option`: a user's own `Option` type may have bounds.
                PathArguments::AngleBracketed(args)
                    if last.ident == "Option" && path.path.segments.len() == 1 =>
                {
                    matches!(
                    args.args.first(),
                    Some(GenericArgument::Type(inner)) if args.args.len() == 1 && plain(inner)
                    )
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// `__p::Spec::field(owner, path, ty).max_len(n).each(&..)..`
fn spec_value(owner: &str, path: &str, ty: &str, bound: Option<&Bound>) -> TokenStream {
    let mut tokens = quote!(__p::Spec::field(#owner, #path, #ty));
    let Some(bound) = bound else { return tokens };
    if let Some(max_len) = &bound.max_len {
        let n = max_len.value;
        tokens.extend(quote!(.max_len(#n)));
    }
    for (name, inner) in [
        ("each", &bound.each),
        ("key", &bound.key),
        ("value", &bound.value),
    ] {
        if let Some(inner) = inner {
            let method = Ident::new(name, Span::call_site());
            let inner = spec_value(owner, &format!("{path}.{name}"), "", Some(&inner.value));
            tokens.extend(quote!(.#method(&#inner)));
        }
    }
    tokens
}

/// The type as written, spaced as a person would write it, for compile-time messages.
fn type_text(ty: &Type) -> String {
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
    use super::{plain, type_text};

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

    #[test]
    fn plain_types_are_spelled_as_primitives() {
        for (written, is_plain) in [
            ("u64", true),
            ("[u8; 16]", true),
            ("(u32, bool)", true),
            ("Option<[i64; 2]>", true),
            ("Option<Option<char>>", true),
            ("std::primitive::u64", false),
            ("String", false),
            ("Option<String>", false),
            ("Vec<u8>", false),
            ("Item", false),
        ] {
            let ty: syn::Type = syn::parse_str(written).expect("a type");
            assert_eq!(plain(&ty), is_plain, "{written}");
        }
    }
}

//! The model both derives work from, parsed once: the input's shape, its attributes, and the
//! runtime's path. No `syn::Attribute` past this point.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens as _, quote};
use syn::{Data as SynData, DeriveInput, Fields, Ident, Member, Type};

use crate::attr::{self, Spanned};
use crate::ctxt::Ctxt;

/// A `#[derive(CookieSession)]` or `#[derive(SessionBound)]` input.
pub(crate) struct Model<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::Container,
    pub(crate) data: Data<'a>,
    /// `#krate::__private`, the only path generated code reaches the runtime through.
    private: TokenStream,
}

pub(crate) enum Data<'a> {
    Struct(Variant<'a>),
    Enum(Vec<Variant<'a>>),
    Union,
}

pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) style: Style,
    pub(crate) fields: Vec<Field<'a>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Named,
    Tuple,
    Unit,
}

/// One field of a struct or enum variant.
pub(crate) struct Field<'a> {
    pub(crate) member: Member,
    /// The name used in bound errors and the fingerprint: the ident, or the index.
    pub(crate) name: String,
    pub(crate) ty: &'a Type,
    /// Its `#[session(...)]`, spanned at the attribute.
    pub(crate) bound: Option<Spanned<attr::Bound>>,
}

impl<'a> Model<'a> {
    pub(crate) fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Self {
        let attrs = attr::Container::parse(cx, &input.attrs);
        // Tokens, not a parsed `Path`: parsing costs every expansion (proc macros run
        // unoptimised in the user's build).
        let krate = match &attrs.krate {
            Some(krate) => krate.value.to_token_stream(),
            None => quote!(::session_runtime),
        };
        let data = match &input.data {
            SynData::Struct(s) => Data::Struct(variant(cx, &input.ident, &s.fields)),
            SynData::Enum(e) => Data::Enum(
                e.variants
                    .iter()
                    .map(|v| variant(cx, &v.ident, &v.fields))
                    .collect(),
            ),
            SynData::Union(_) => Data::Union,
        };
        Model {
            original: input,
            ident: &input.ident,
            attrs,
            data,
            private: quote!(#krate::__private),
        }
    }

    pub(crate) fn private(&self) -> &TokenStream {
        &self.private
    }

    /// A struct's fields; none for an enum or union.
    pub(crate) fn fields(&self) -> &[Field<'a>] {
        match &self.data {
            Data::Struct(variant) => &variant.fields,
            Data::Enum(_) | Data::Union => &[],
        }
    }

    /// The declared version; 0 only on a model that failed `check`.
    pub(crate) fn version(&self) -> u16 {
        self.attrs.version.as_ref().map_or(0, |v| v.value)
    }

    /// Whether `max_cookies` or `budget` is declared: then every field must be bounded.
    pub(crate) fn has_budget(&self) -> bool {
        self.attrs.max_cookies.is_some() || self.attrs.budget.is_some()
    }

    /// The span budget errors point at.
    pub(crate) fn budget_span(&self) -> Option<Span> {
        self.attrs
            .max_cookies
            .as_ref()
            .map(|c| c.span)
            .or_else(|| self.attrs.budget.as_ref().map(|b| b.span))
    }
}

fn variant<'a>(cx: &mut Ctxt, ident: &'a Ident, fields: &'a Fields) -> Variant<'a> {
    let style = match fields {
        Fields::Named(_) => Style::Named,
        Fields::Unnamed(_) => Style::Tuple,
        Fields::Unit => Style::Unit,
    };
    let fields = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (member, name) = match &f.ident {
                Some(ident) => (Member::Named(ident.clone()), ident.to_string()),
                None => (Member::Unnamed(i.into()), i.to_string()),
            };
            Field {
                member,
                name,
                ty: &f.ty,
                bound: attr::Bound::parse_field(cx, &f.attrs),
            }
        })
        .collect();
    Variant {
        ident,
        style,
        fields,
    }
}

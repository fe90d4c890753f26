//! The validated model codegen works from: no `syn::Attribute` past this point.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Member, Path, Type};

use crate::attr::{self, Spanned};
use crate::ctxt::Ctxt;

/// A `#[derive(CookieSession)]` struct.
pub(crate) struct Schema<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) krate: Path,
    /// `None` only when the attribute was missing; `check` reports it.
    pub(crate) version: Option<Spanned<u16>>,
    pub(crate) previous: Option<Previous>,
    pub(crate) migrate: Option<Spanned<Path>>,
    pub(crate) budget: Budget,
    pub(crate) fingerprint: Option<Spanned<LitStr>>,
    pub(crate) attr_tokens: Option<proc_macro2::TokenStream>,
    pub(crate) fields: Vec<Field<'a>>,
}

/// The schema this one migrates from.
pub(crate) struct Previous {
    pub(crate) ty: Type,
    pub(crate) span: Span,
}

/// The declared budget: none, cookies, bytes, or both (the tighter one wins).
pub(crate) struct Budget {
    pub(crate) max_cookies: Option<Spanned<u8>>,
    pub(crate) bytes: Option<Spanned<usize>>,
}

impl Budget {
    pub(crate) fn is_declared(&self) -> bool {
        self.max_cookies.is_some() || self.bytes.is_some()
    }

    /// The span budget errors point at.
    pub(crate) fn span(&self) -> Option<Span> {
        self.max_cookies
            .as_ref()
            .map(|c| c.span)
            .or_else(|| self.bytes.as_ref().map(|b| b.span))
    }
}

/// One field of a struct or enum variant.
pub(crate) struct Field<'a> {
    pub(crate) member: Member,
    /// The name used in bound errors and the fingerprint: the ident, or the index.
    pub(crate) name: String,
    pub(crate) ty: &'a Type,
    pub(crate) max_len: Option<Spanned<usize>>,
}

/// A `#[derive(SessionBound)]` type.
pub(crate) struct Bound<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) krate: Path,
    pub(crate) shape: Shape<'a>,
}

pub(crate) enum Shape<'a> {
    Struct(Variant<'a>),
    Enum(Vec<Variant<'a>>),
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

fn default_crate() -> Path {
    syn::parse_quote!(::session_runtime)
}

fn fields<'a>(cx: &mut Ctxt, fields: &'a Fields) -> (Style, Vec<Field<'a>>) {
    let style = match fields {
        Fields::Named(_) => Style::Named,
        Fields::Unnamed(_) => Style::Tuple,
        Fields::Unit => Style::Unit,
    };
    let list = fields
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
                max_len: attr::Field::parse(cx, &f.attrs).max_len,
            }
        })
        .collect();
    (style, list)
}

impl<'a> Schema<'a> {
    /// Builds the model; returns `None` when the input is not a struct with named fields.
    pub(crate) fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::parse(cx, &input.attrs);
        let krate = attrs.krate.map_or_else(default_crate, |k| k.value);
        let shape_error = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(_) => None,
                Fields::Unnamed(_) => Some(
                    "CookieSession needs a struct with named fields; a tuple struct's fields have no names to version",
                ),
                Fields::Unit => Some(
                    "CookieSession needs a struct with named fields; a unit struct holds no session data",
                ),
            },
            Data::Enum(_) => Some(
                "CookieSession needs a struct with named fields, not an enum; wrap the enum in a struct field (and derive SessionBound on it)",
            ),
            Data::Union(_) => Some("CookieSession needs a struct with named fields, not a union"),
        };
        if let Some(message) = shape_error {
            cx.error_spanned_by(&input.ident, message);
            return None;
        }
        if !input.generics.params.is_empty() {
            cx.error_spanned_by(
                &input.generics,
                "CookieSession does not support generic structs: a stored session must have one fixed wire format; use concrete field types",
            );
        }
        let Data::Struct(data) = &input.data else {
            return None;
        };
        let (_, fields) = fields(cx, &data.fields);
        Some(Schema {
            ident: &input.ident,
            krate,
            version: attrs.version,
            previous: attrs.previous.map(|p| Previous {
                ty: p.value,
                span: p.span,
            }),
            migrate: attrs.migrate,
            budget: Budget {
                max_cookies: attrs.max_cookies,
                bytes: attrs.budget,
            },
            fingerprint: attrs.fingerprint,
            attr_tokens: attrs.attr_tokens,
            fields,
        })
    }
}

impl<'a> Bound<'a> {
    pub(crate) fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::parse(cx, &input.attrs);
        let krate = attrs.krate.map_or_else(default_crate, |k| k.value);
        for (set, name) in [
            (attrs.version.is_some(), attr::VERSION),
            (attrs.previous.is_some(), attr::PREVIOUS),
            (attrs.migrate.is_some(), attr::MIGRATE),
            (attrs.max_cookies.is_some(), attr::MAX_COOKIES),
            (attrs.budget.is_some(), attr::BUDGET),
            (attrs.fingerprint.is_some(), attr::FINGERPRINT),
        ] {
            if set {
                cx.error_spanned_by(
                    &input.ident,
                    format_args!(
                        "`{name}` belongs on a #[derive(CookieSession)] schema; SessionBound takes only `crate` (and `max_len` on fields)"
                    ),
                );
            }
        }
        let shape = match &input.data {
            Data::Struct(s) => {
                let (style, fields) = fields(cx, &s.fields);
                Shape::Struct(Variant {
                    ident: &input.ident,
                    style,
                    fields,
                })
            }
            Data::Enum(e) => Shape::Enum(
                e.variants
                    .iter()
                    .map(|v| {
                        let (style, fields) = fields(cx, &v.fields);
                        Variant {
                            ident: &v.ident,
                            style,
                            fields,
                        }
                    })
                    .collect(),
            ),
            Data::Union(_) => {
                cx.error_spanned_by(
                    &input.ident,
                    "SessionBound supports structs and enums, not unions",
                );
                return None;
            }
        };
        Some(Bound {
            original: input,
            krate,
            shape,
        })
    }
}

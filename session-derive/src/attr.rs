//! Parsing of `#[session(...)]`, one constant per keyword. Values are checked here only as far
//! as their own syntax goes; rules across keys are in `check`.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens as _;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned as _;
use syn::{Attribute, LitInt, LitStr, Path, Token, Type};

use crate::ctxt::Ctxt;

pub(crate) const SESSION: &str = "session";
pub(crate) const VERSION: &str = "version";
pub(crate) const PREVIOUS: &str = "previous";
pub(crate) const MIGRATE: &str = "migrate";
pub(crate) const DOWNGRADE: &str = "downgrade";
pub(crate) const MAX_COOKIES: &str = "max_cookies";
pub(crate) const BUDGET: &str = "budget";
pub(crate) const FINGERPRINT: &str = "fingerprint";
pub(crate) const CRATE: &str = "crate";
pub(crate) const EXTRACTOR: &str = "extractor";
pub(crate) const MAX_LEN: &str = "max_len";
pub(crate) const EACH: &str = "each";
pub(crate) const KEY: &str = "key";
pub(crate) const VALUE: &str = "value";

const CONTAINER_KEYS: &str = "`version`, `previous`, `migrate`, `downgrade`, `max_cookies`, `budget`, `fingerprint`, `extractor`, `crate`";
const FIELD_KEYS: &str = "`max_len`, `each(..)`, `key(..)`, `value(..)`";

/// A parsed value and the span of the tokens it came from.
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// One attribute key: set at most once.
struct Slot<T> {
    name: &'static str,
    value: Option<Spanned<T>>,
}

impl<T> Slot<T> {
    fn new(name: &'static str) -> Self {
        Slot { name, value: None }
    }

    fn set(&mut self, cx: &mut Ctxt, meta: &ParseNestedMeta<'_>, value: T, span: Span) {
        if self.value.is_some() {
            cx.error_spanned_by(
                &meta.path,
                format_args!("duplicate `{}` in #[session(...)]", self.name),
            );
        } else {
            self.value = Some(Spanned { value, span });
        }
    }
}

/// What `#[session(...)]` on a struct or enum says.
pub(crate) struct Container {
    /// The first `#[session]` attribute, for "missing key" errors.
    pub(crate) attr_tokens: Option<TokenStream>,
    pub(crate) version: Option<Spanned<u16>>,
    pub(crate) previous: Option<Spanned<Type>>,
    pub(crate) migrate: Option<Spanned<Path>>,
    pub(crate) downgrade: Option<Spanned<Path>>,
    /// The count and its literal's span (the key's is the `Spanned` one). Checked against the
    /// runtime's limit by a `const` assertion, so the two cannot drift.
    pub(crate) max_cookies: Option<Spanned<(usize, Span)>>,
    pub(crate) budget: Option<Spanned<usize>>,
    pub(crate) fingerprint: Option<Spanned<LitStr>>,
    /// `extractor`: the schema itself is a read-only extractor.
    pub(crate) extractor: Option<Spanned<()>>,
    pub(crate) krate: Option<Spanned<Path>>,
}

impl Container {
    pub(crate) fn parse(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut attr_tokens = None;
        let mut version = Slot::new(VERSION);
        let mut previous = Slot::new(PREVIOUS);
        let mut migrate = Slot::new(MIGRATE);
        let mut downgrade = Slot::new(DOWNGRADE);
        let mut max_cookies = Slot::new(MAX_COOKIES);
        let mut budget = Slot::new(BUDGET);
        let mut fingerprint = Slot::new(FINGERPRINT);
        let mut extractor = Slot::new(EXTRACTOR);
        let mut krate = Slot::new(CRATE);

        for attr in attrs.iter().filter(|a| a.path().is_ident(SESSION)) {
            attr_tokens.get_or_insert_with(|| attr.to_token_stream());
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(VERSION) {
                    let lit: LitInt = meta.value()?.parse()?;
                    match lit.base10_parse::<u16>() {
                        Ok(v @ 1..) => version.set(cx, &meta, v, lit.span()),
                        _ => {
                            cx.error_spanned_by(&lit, "`version` must be an integer from 1 to 65535");
                            // Present, if wrong: no second "missing version" error.
                            version.set(cx, &meta, 0, lit.span());
                        }
                    }
                } else if meta.path.is_ident(PREVIOUS) {
                    let ty: Type = meta.value()?.parse()?;
                    let span = ty.span();
                    previous.set(cx, &meta, ty, span);
                } else if meta.path.is_ident(MIGRATE) {
                    let path = meta.value()?.call(Path::parse_mod_style)?;
                    let span = path.span();
                    migrate.set(cx, &meta, path, span);
                } else if meta.path.is_ident(DOWNGRADE) {
                    let path = meta.value()?.call(Path::parse_mod_style)?;
                    let span = path.span();
                    downgrade.set(cx, &meta, path, span);
                } else if meta.path.is_ident(MAX_COOKIES) {
                    let lit: LitInt = meta.value()?.parse()?;
                    match lit.base10_parse::<usize>() {
                        Ok(n) => max_cookies.set(cx, &meta, (n, lit.span()), meta.path.span()),
                        Err(err) => cx.syn_error(err),
                    }
                } else if meta.path.is_ident(BUDGET) {
                    let lit: LitInt = meta.value()?.parse()?;
                    match lit.base10_parse::<usize>() {
                        Ok(0) | Err(_) => cx.error_spanned_by(
                            &lit,
                            "`budget` is the most characters of sealed cookie value, a positive integer",
                        ),
                        Ok(n) => budget.set(cx, &meta, n, meta.path.span()),
                    }
                } else if meta.path.is_ident(FINGERPRINT) {
                    let lit: LitStr = meta.value()?.parse()?;
                    let span = lit.span();
                    fingerprint.set(cx, &meta, lit, span);
                } else if meta.path.is_ident(EXTRACTOR) {
                    if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                        return Err(meta.error("`extractor` takes no value: write `#[session(extractor)]`"));
                    }
                    extractor.set(cx, &meta, (), meta.path.span());
                } else if meta.path.is_ident(CRATE) {
                    let path = meta.value()?.call(Path::parse_mod_style)?;
                    let span = path.span();
                    krate.set(cx, &meta, path, span);
                } else {
                    unknown_key(cx, &meta, CONTAINER_KEYS)?;
                }
                Ok(())
            });
            if let Err(err) = result {
                cx.syn_error(err);
            }
        }

        Container {
            attr_tokens,
            version: version.value,
            previous: previous.value,
            migrate: migrate.value,
            downgrade: downgrade.value,
            max_cookies: max_cookies.value,
            budget: budget.value,
            fingerprint: fingerprint.value,
            extractor: extractor.value,
            krate: krate.value,
        }
    }
}

/// The bound of one position: `max_len = N`, and the bounds inside it. On a field it is the
/// whole `#[session(...)]`; nested, the inside of `each(...)`, `key(...)` or `value(...)`.
pub(crate) struct Bound {
    pub(crate) max_len: Option<Spanned<usize>>,
    pub(crate) each: Option<Spanned<Box<Bound>>>,
    pub(crate) key: Option<Spanned<Box<Bound>>>,
    pub(crate) value: Option<Spanned<Box<Bound>>>,
    /// Written with nothing inside, as `each()`: unknown keys count as something.
    pub(crate) empty: bool,
}

impl Bound {
    /// The field's `#[session(...)]` attributes; `None` without any. The span is the first
    /// attribute's brackets, where compile-time bound errors point.
    pub(crate) fn parse_field(cx: &mut Ctxt, attrs: &[Attribute]) -> Option<Spanned<Bound>> {
        let mut slots = BoundSlots::new();
        let mut span = None;
        for attr in attrs.iter().filter(|a| a.path().is_ident(SESSION)) {
            span.get_or_insert_with(|| attr.bracket_token.span.join());
            if let Err(err) = attr.parse_nested_meta(|meta| slots.key(cx, &meta)) {
                cx.syn_error(err);
            }
        }
        span.map(|span| Spanned {
            value: slots.finish(),
            span,
        })
    }
}

struct BoundSlots {
    any: bool,
    max_len: Slot<usize>,
    each: Slot<Box<Bound>>,
    key: Slot<Box<Bound>>,
    value: Slot<Box<Bound>>,
}

impl BoundSlots {
    fn new() -> Self {
        BoundSlots {
            any: false,
            max_len: Slot::new(MAX_LEN),
            each: Slot::new(EACH),
            key: Slot::new(KEY),
            value: Slot::new(VALUE),
        }
    }

    fn key(&mut self, cx: &mut Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        self.any = true;
        if meta.path.is_ident(MAX_LEN) {
            let lit: LitInt = meta.value()?.parse()?;
            match lit.base10_parse::<usize>() {
                Ok(n) => self.max_len.set(cx, meta, n, meta.path.span()),
                Err(err) => cx.syn_error(err),
            }
            return Ok(());
        }
        let slot = if meta.path.is_ident(EACH) {
            &mut self.each
        } else if meta.path.is_ident(KEY) {
            &mut self.key
        } else if meta.path.is_ident(VALUE) {
            &mut self.value
        } else {
            return unknown_key(cx, meta, FIELD_KEYS);
        };
        if !meta.input.peek(syn::token::Paren) {
            cx.error_spanned_by(
                &meta.path,
                format_args!(
                    "`{0}` takes the bound inside it in parentheses: `{0}(max_len = N)`",
                    slot.name
                ),
            );
            if meta.input.peek(Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            return Ok(());
        }
        let mut inner = BoundSlots::new();
        let empty = {
            let fork = meta.input.fork();
            let content;
            syn::parenthesized!(content in fork);
            content.is_empty()
        };
        if empty {
            // `each()`: syn's nested parser wants at least one key; `check` says what to write.
            let _content;
            syn::parenthesized!(_content in meta.input);
        } else {
            meta.parse_nested_meta(|nested| inner.key(cx, &nested))?;
        }
        slot.set(cx, meta, Box::new(inner.finish()), meta.path.span());
        Ok(())
    }

    fn finish(self) -> Bound {
        Bound {
            max_len: self.max_len.value,
            each: self.each.value,
            key: self.key.value,
            value: self.value.value,
            empty: !self.any,
        }
    }
}

/// Reports an unknown key on its own span and skips its value, so later keys are still read.
fn unknown_key(cx: &mut Ctxt, meta: &ParseNestedMeta<'_>, expected: &str) -> syn::Result<()> {
    let name = meta
        .path
        .get_ident()
        .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"));
    cx.error_spanned_by(
        &meta.path,
        format_args!("unknown session attribute {name}; expected one of {expected}"),
    );
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|_| Ok(()))?;
    }
    Ok(())
}

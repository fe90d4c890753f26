//! Size bounds: what a type's postcard encoding can weigh, and the attribute language that
//! bounds what its type does not.
//!
//! A field without an attribute must be bounded by its type: [`Bounded`], whose trait error
//! says how to bound it otherwise. Every type an attribute can reach implements [`SizeBound`] (which `#[derive(SessionBound)]`
//! implements for your own types): a [`Shape`] that says what the type is made of, and a
//! run-time check against the field's [`Spec`], the `#[session(...)]` attribute as data. Options
//! and boxes are transparent, so one attribute language covers every shape:
//!
//! | shape | `max_len` | inside |
//! |---|---|---|
//! | `String`, `Box<str>` | bytes | — |
//! | `Vec`, `VecDeque`, `Box<[T]>`, sets | items | `each(..)` |
//! | `[T; N]` | — (fixed by the type) | `each(..)` |
//! | maps | entries | `key(..)`, `value(..)` |
//! | numbers, `bool`, `char`, tuples, `#[derive(SessionBound)]` types | — | — |
//!
//! The derive turns each field's attribute into a `Spec`; [`bound`] walks it against the
//! field type's `Shape` at compile time (a misplaced key or a missing bound fails the build
//! with a message that says what to write), and `SizeBound::check` walks it against the
//! value when the session is sealed.

use super::assert::ConstMessage;
use crate::error::BoundsError;

/// Declares one of the two traits a field's type may lack, [`Bounded`] and [`SizeBound`], with
/// the message both give when it is missing (the same words wherever a type is unbounded) and
/// the label and note of its own, which say how to bound the type in that place. rustc merges
/// the two attributes.
macro_rules! size_trait {
    (label = $label:literal, note = $note:literal, $item:item) => {
        #[diagnostic::on_unimplemented(message = "`{Self}` has no upper bound on its encoded size")]
        #[diagnostic::on_unimplemented(label = $label, note = $note)]
        $item
    };
}

size_trait! {
    label = "not bounded by its type",
    note = "bound a string or collection field with `#[session(max_len = N)]` (and `each(..)`, `key(..)`, `value(..)` for what it holds); derive `SessionBound` on your own structs and enums",
    /// A type whose postcard encoding has a known upper bound by its type alone.
    ///
    /// Implemented for numbers, `bool`, `char`, `Duration`, arrays, tuples, `Option` and `Box` of
    /// bounded types, and for your own structs and enums by `#[derive(SessionBound)]`. Strings and
    /// collections are bounded per field with `#[session(max_len = N)]` instead.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use session_runtime::{Bounded, SessionBound};
    ///
    /// #[derive(SessionBound, Serialize, Deserialize)]
    /// struct Line {
    ///     sku: u32,
    ///     #[session(max_len = 8)]
    ///     label: String,
    /// }
    ///
    /// // 5 bytes for the u32, 1 length byte and 8 bytes of string.
    /// assert_eq!(Line::MAX_ENCODED_LEN, 5 + 1 + 8);
    /// let long = Line { sku: 1, label: "much too long".into() };
    /// assert_eq!(long.check_bounds().unwrap_err().to_string(),
    ///            "`Line.label` holds 13 bytes, more than its max_len of 8");
    /// ```
    pub trait Bounded {
        /// The most bytes postcard can write for a value of this type.
        const MAX_ENCODED_LEN: usize;

        /// Checks the bounds declared inside the value; types bounded by nature have none.
        fn check_bounds(&self) -> Result<(), BoundsError> {
            Ok(())
        }
    }
}

/// What a type is made of, as far as its encoded size goes.
#[derive(Debug)]
pub enum Shape {
    /// At most this many bytes, whatever the value; nothing inside to check.
    Fixed(usize),
    /// A `u8`: one byte, and what makes a `Vec<u8>` count bytes.
    Byte,
    /// A `#[derive(SessionBound)]` type: at most this many bytes, with its own checks inside.
    Derived(usize),
    /// A UTF-8 string: a length and that many bytes.
    Str,
    /// A length and that many items.
    Seq(&'static Shape),
    /// A fixed number of items, without a length.
    Array(usize, &'static Shape),
    /// A length and that many key-value entries.
    Map(&'static Shape, &'static Shape),
    /// A tag byte, then the value when there is one. Bounds pass through it.
    Option(&'static Shape),
    /// The elements one after the other; bounds cannot reach inside.
    Tuple(&'static [&'static Shape]),
}

/// One field's `#[session(...)]` attribute, as the derive writes it out.
#[derive(Debug)]
pub struct Spec {
    /// The type that declares the field.
    pub owner: &'static str,
    /// The field, then `each`, `key` or `value` for a bound inside it.
    pub path: &'static str,
    /// The field's type as written, for compile-time messages (empty inside a field).
    pub ty: &'static str,
    /// `max_len = N`.
    pub max_len: Option<usize>,
    /// `each(..)`.
    pub each: Option<&'static Spec>,
    /// `key(..)`.
    pub key: Option<&'static Spec>,
    /// `value(..)`.
    pub value: Option<&'static Spec>,
}

impl Spec {
    /// No attribute: the run-time check of a position without one, where no error can start.
    pub const NONE: Spec = Spec::field("", "", "");

    /// A position without bounds yet, in field `path` of `owner`, of type `ty` as written.
    pub const fn field(owner: &'static str, path: &'static str, ty: &'static str) -> Spec {
        Spec {
            owner,
            path,
            ty,
            max_len: None,
            each: None,
            key: None,
            value: None,
        }
    }

    /// With `max_len = n`.
    pub const fn max_len(mut self, n: usize) -> Spec {
        self.max_len = Some(n);
        self
    }

    /// With `each(..)`.
    pub const fn each(mut self, spec: &'static Spec) -> Spec {
        self.each = Some(spec);
        self
    }

    /// With `key(..)`.
    pub const fn key(mut self, spec: &'static Spec) -> Spec {
        self.key = Some(spec);
        self
    }

    /// With `value(..)`.
    pub const fn value(mut self, spec: &'static Spec) -> Spec {
        self.value = Some(spec);
        self
    }
}

size_trait! {
    label = "not a bounded type",
    note = "derive it: `#[derive(SessionBound)]` on your own struct or enum, with `#[session(max_len = N)]` on its strings and collections",
    /// A type the size bounds reach: its [`Shape`] and the run-time check against a field's
    /// [`Spec`]. Implemented for the standard types and by `#[derive(SessionBound)]`.
    pub trait SizeBound {
        /// What the type is made of.
        const SHAPE: Shape;

        /// Checks the value against the bounds of `spec` (and its own, for derived types).
        fn check(&self, spec: &Spec) -> Result<(), BoundsError>;

        /// The value for [`check`]: named through the type, as `<T as SizeBound>::as_check(..)`,
        /// so a type that is not bounded is one error at the field's type, the same as the
        /// schema's worst case reports (rustc shows it once).
        fn as_check(&self) -> &dyn Check
        where
            Self: Sized,
        {
            self
        }
    }
}

/// [`SizeBound::check`] alone, which a trait object can have: a schema's fields with an
/// attribute are checked by one call of [`check`] (fewer tokens and less work for rustc on
/// every rebuild of the user's crate than one call per field).
pub trait Check {
    /// [`SizeBound::check`].
    fn check_spec(&self, spec: &Spec) -> Result<(), BoundsError>;
}

impl<T: SizeBound> Check for T {
    fn check_spec(&self, spec: &Spec) -> Result<(), BoundsError> {
        SizeBound::check(self, spec)
    }
}

/// Checks each value against the `Spec` at its index; the first error wins.
pub fn check(values: &[&dyn Check], specs: &[Spec]) -> Result<(), BoundsError> {
    values
        .iter()
        .zip(specs)
        .try_for_each(|(value, spec)| value.check_spec(spec))
}

/// Bytes of the postcard varint encoding of `n`.
pub const fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - n.leading_zeros();
    if bits == 0 {
        1
    } else {
        bits.div_ceil(7) as usize
    }
}

/// The larger of two sizes, for enum worst cases.
pub const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

fn check_len(len: usize, spec: &Spec, unit: &'static str) -> Result<(), BoundsError> {
    match spec.max_len {
        Some(max) if len > max => Err(BoundsError {
            type_name: spec.owner,
            field: spec.path,
            len,
            max,
            unit,
        }),
        _ => Ok(()),
    }
}

/// Whether a value of this shape can break a bound without one being declared on it.
const fn has_checks(shape: &Shape) -> bool {
    match shape {
        Shape::Fixed(_) | Shape::Byte | Shape::Str => false,
        Shape::Derived(_) => true,
        Shape::Seq(item) | Shape::Array(_, item) | Shape::Option(item) => has_checks(item),
        Shape::Map(key, value) => has_checks(key) || has_checks(value),
        Shape::Tuple(items) => {
            let mut i = 0;
            while i < items.len() {
                if has_checks(items[i]) {
                    return true;
                }
                i += 1;
            }
            false
        }
    }
}

fn check_items<'a, T: SizeBound + 'a>(
    items: impl IntoIterator<Item = &'a T>,
    spec: Option<&Spec>,
) -> Result<(), BoundsError> {
    let spec = match spec {
        Some(spec) => spec,
        None if const { has_checks(&T::SHAPE) } => &Spec::NONE,
        None => return Ok(()),
    };
    items.into_iter().try_for_each(|item| item.check(spec))
}

const fn seq_unit(item: &Shape) -> &'static str {
    match item {
        Shape::Byte => "bytes",
        _ => "items",
    }
}

macro_rules! fixed {
    ($($n:expr => $($t:ty),+;)*) => {
        $($(
            impl Bounded for $t {
                const MAX_ENCODED_LEN: usize = $n;
            }
            impl SizeBound for $t {
                const SHAPE: Shape = Shape::Fixed($n);
                #[inline]
                fn check(&self, _: &Spec) -> Result<(), BoundsError> {
                    Ok(())
                }
            }
        )+)*
    };
}

impl Bounded for u8 {
    const MAX_ENCODED_LEN: usize = 1;
}

impl SizeBound for u8 {
    const SHAPE: Shape = Shape::Byte;
    #[inline]
    fn check(&self, _: &Spec) -> Result<(), BoundsError> {
        Ok(())
    }
}

fixed! {
    0 => ();
    1 => bool, i8, core::num::NonZeroU8, core::num::NonZeroI8;
    3 => u16, i16, core::num::NonZeroU16, core::num::NonZeroI16;
    5 => u32, i32, core::num::NonZeroU32, core::num::NonZeroI32;
    10 => u64, i64, core::num::NonZeroU64, core::num::NonZeroI64;
    19 => u128, i128, core::num::NonZeroU128, core::num::NonZeroI128;
    varint_len(usize::MAX) => usize, isize;
    4 => f32;
    8 => f64;
    // A char is written as a UTF-8 string: one length byte and up to four bytes.
    5 => char;
    // `Duration` is `{ secs: u64, nanos: u32 }`.
    10 + 5 => core::time::Duration;
}

impl<T: ?Sized> Bounded for core::marker::PhantomData<T> {
    const MAX_ENCODED_LEN: usize = 0;
}

impl<T: ?Sized> SizeBound for core::marker::PhantomData<T> {
    const SHAPE: Shape = Shape::Fixed(0);
    fn check(&self, _: &Spec) -> Result<(), BoundsError> {
        Ok(())
    }
}

impl<T: Bounded> Bounded for Option<T> {
    const MAX_ENCODED_LEN: usize = 1 + T::MAX_ENCODED_LEN;
    fn check_bounds(&self) -> Result<(), BoundsError> {
        self.as_ref().map_or(Ok(()), Bounded::check_bounds)
    }
}

impl<T: SizeBound> SizeBound for Option<T> {
    const SHAPE: Shape = Shape::Option(&T::SHAPE);
    fn check(&self, spec: &Spec) -> Result<(), BoundsError> {
        self.as_ref().map_or(Ok(()), |value| value.check(spec))
    }
}

impl<T: Bounded + ?Sized> Bounded for Box<T> {
    const MAX_ENCODED_LEN: usize = T::MAX_ENCODED_LEN;
    fn check_bounds(&self) -> Result<(), BoundsError> {
        (**self).check_bounds()
    }
}

impl<T: SizeBound + ?Sized> SizeBound for Box<T> {
    const SHAPE: Shape = T::SHAPE;
    fn check(&self, spec: &Spec) -> Result<(), BoundsError> {
        (**self).check(spec)
    }
}

impl<T: Bounded, const N: usize> Bounded for [T; N] {
    const MAX_ENCODED_LEN: usize = N * T::MAX_ENCODED_LEN;
    fn check_bounds(&self) -> Result<(), BoundsError> {
        self.iter().try_for_each(Bounded::check_bounds)
    }
}

impl<T: SizeBound, const N: usize> SizeBound for [T; N] {
    const SHAPE: Shape = Shape::Array(N, &T::SHAPE);
    fn check(&self, spec: &Spec) -> Result<(), BoundsError> {
        check_items(self, spec.each)
    }
}

macro_rules! tuples {
    ($(($($t:ident . $i:tt),+))*) => {
        $(
            impl<$($t: Bounded),+> Bounded for ($($t,)+) {
                const MAX_ENCODED_LEN: usize = 0 $(+ $t::MAX_ENCODED_LEN)+;
                fn check_bounds(&self) -> Result<(), BoundsError> {
                    $(self.$i.check_bounds()?;)+
                    Ok(())
                }
            }
            impl<$($t: SizeBound),+> SizeBound for ($($t,)+) {
                const SHAPE: Shape = Shape::Tuple(&[$(&$t::SHAPE),+]);
                fn check(&self, _: &Spec) -> Result<(), BoundsError> {
                    $(self.$i.check(&Spec::NONE)?;)+
                    Ok(())
                }
            }
        )*
    };
}

tuples! {
    (A.0)
    (A.0, B.1)
    (A.0, B.1, C.2)
    (A.0, B.1, C.2, D.3)
    (A.0, B.1, C.2, D.3, E.4)
    (A.0, B.1, C.2, D.3, E.4, F.5)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7)
}

macro_rules! strings {
    ($($t:ty),*) => {
        $(impl SizeBound for $t {
            const SHAPE: Shape = Shape::Str;
            fn check(&self, spec: &Spec) -> Result<(), BoundsError> {
                check_len(self.len(), spec, "bytes")
            }
        })*
    };
}

strings!(String, str);

macro_rules! seqs {
    ($(impl[$($g:tt)*] $t:ty;)*) => {
        $(impl<$($g)*> SizeBound for $t {
            const SHAPE: Shape = Shape::Seq(&T::SHAPE);
            fn check(&self, spec: &Spec) -> Result<(), BoundsError> {
                check_len(self.len(), spec, const { seq_unit(&T::SHAPE) })?;
                check_items(self, spec.each)
            }
        })*
    };
}

seqs! {
    impl[T: SizeBound] Vec<T>;
    impl[T: SizeBound] [T];
    impl[T: SizeBound] std::collections::VecDeque<T>;
    impl[T: SizeBound] std::collections::LinkedList<T>;
    impl[T: SizeBound] std::collections::BinaryHeap<T>;
    impl[T: SizeBound, S] std::collections::HashSet<T, S>;
    impl[T: SizeBound] std::collections::BTreeSet<T>;
}

macro_rules! maps {
    ($(impl[$($g:tt)*] $t:ty;)*) => {
        $(impl<$($g)*> SizeBound for $t {
            const SHAPE: Shape = Shape::Map(&K::SHAPE, &V::SHAPE);
            fn check(&self, spec: &Spec) -> Result<(), BoundsError> {
                check_len(self.len(), spec, "entries")?;
                check_items(self.keys(), spec.key)?;
                check_items(self.values(), spec.value)
            }
        })*
    };
}

maps! {
    impl[K: SizeBound, V: SizeBound, S] std::collections::HashMap<K, V, S>;
    impl[K: SizeBound, V: SizeBound] std::collections::BTreeMap<K, V>;
}

/// Where a position sits in its field, for the words of a message.
#[derive(Clone, Copy)]
enum Role {
    Field,
    Each,
    Key,
    Value,
    /// Inside a tuple, which takes no bounds.
    Element,
}

/// The worst case of a field of shape `shape` under the attribute `spec`, in bytes; fails the
/// build (this runs in a `const`) when a key of `spec` does not apply to the shape, or, with
/// `need` (a budget, or a `#[derive(SessionBound)]` type), when part of the field has no bound.
pub const fn bound(shape: &Shape, spec: &Spec, need: bool) -> usize {
    match walk(shape, Some(spec), spec, Role::Field, need) {
        Ok(n) => n,
        Err(msg) => panic!("{}", msg.as_str()),
    }
}

/// `?` for `const fn`.
macro_rules! attempt {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(err) => return Err(err),
        }
    };
}

/// `spec` is the attribute at this position, if any; `at` the nearest one, for messages.
// Runs only in `const` evaluation, where the message's size costs nothing.
#[allow(clippy::result_large_err)]
const fn walk(
    shape: &Shape,
    spec: Option<&Spec>,
    at: &Spec,
    role: Role,
    need: bool,
) -> Result<usize, ConstMessage> {
    if let Some(spec) = spec {
        attempt!(misplaced(shape, spec));
    }
    let max_len = match spec {
        Some(spec) => spec.max_len,
        None => None,
    };
    if max_len.is_none() && need && matches!(shape, Shape::Str | Shape::Seq(_) | Shape::Map(..)) {
        return Err(missing(shape, spec, at, role));
    }
    let len = match max_len {
        Some(n) => n,
        None => 0,
    };
    let (each, key, value) = match spec {
        Some(spec) => (spec.each, spec.key, spec.value),
        None => (None, None, None),
    };
    Ok(match shape {
        Shape::Option(inner) => 1 + attempt!(walk(inner, spec, at, role, need)),
        Shape::Fixed(n) | Shape::Derived(n) => *n,
        Shape::Byte => 1,
        Shape::Tuple(items) => {
            let mut sum = 0;
            let mut i = 0;
            while i < items.len() {
                sum += attempt!(walk(items[i], None, at, Role::Element, need));
                i += 1;
            }
            sum
        }
        Shape::Str => varint_len(len) + len,
        Shape::Seq(item) => {
            varint_len(len) + len * attempt!(walk(item, each, inner(each, at), Role::Each, need))
        }
        Shape::Array(n, item) => *n * attempt!(walk(item, each, inner(each, at), Role::Each, need)),
        Shape::Map(k, v) => {
            let entry = attempt!(walk(k, key, inner(key, at), Role::Key, need))
                + attempt!(walk(v, value, inner(value, at), Role::Value, need));
            varint_len(len) + len * entry
        }
    })
}

const fn inner<'a>(spec: Option<&'a Spec>, at: &'a Spec) -> &'a Spec {
    match spec {
        Some(spec) => spec,
        None => at,
    }
}

/// The message for a string, sequence or map without `max_len` where a bound is needed: the
/// attribute to write.
const fn missing(shape: &Shape, spec: Option<&Spec>, at: &Spec, role: Role) -> ConstMessage {
    let declared = match spec {
        Some(spec) => first_key(spec).is_some(),
        None => false,
    };
    let msg = ConstMessage::new();
    match role {
        Role::Field if !declared => here(msg.str("field "), at)
            .str(" has no upper bound on its size: add `#[session(")
            .suggest(shape)
            .str(")]`"),
        // An attribute that bounds the inside but not the length.
        _ if declared => here(msg, at)
            .str(" has no upper bound on its number of ")
            .str(unit_of(shape))
            .str(": add `max_len = N` to its bound"),
        Role::Element => here(msg.str("field "), at).str(
            " holds a tuple with an unbounded element, and tuples take no bounds: use a struct that derives `SessionBound`, with `#[session(...)]` on its fields",
        ),
        _ => msg
            .str(match role {
                Role::Key => "the keys of ",
                Role::Value => "the values of ",
                _ => "the items of ",
            })
            .then(here(ConstMessage::new(), at))
            .str(" have no upper bound on their size: add `")
            .str(match role {
                Role::Key => "key(",
                Role::Value => "value(",
                _ => "each(",
            })
            .suggest(shape)
            .str(")` to its bound"),
    }
}

/// The message for a key of `spec` that does not apply to `shape`.
#[allow(clippy::result_large_err)]
const fn misplaced(shape: &Shape, spec: &Spec) -> Result<(), ConstMessage> {
    let shape = peel(shape);
    let (key, why) = match shape {
        Shape::Fixed(_) | Shape::Byte | Shape::Derived(_) => match first_key(spec) {
            Some(key) => (key, "it is bounded by its type; remove the attribute"),
            None => return Ok(()),
        },
        Shape::Tuple(_) => match first_key(spec) {
            Some(key) => (
                key,
                "a tuple takes no bounds; use a struct that derives `SessionBound`, with `#[session(...)]` on its fields",
            ),
            None => return Ok(()),
        },
        Shape::Str => {
            if spec.each.is_some() {
                (
                    "each",
                    "a string has no items; bound its length in bytes with `max_len = N`",
                )
            } else if spec.key.is_some() || spec.value.is_some() {
                (
                    if spec.key.is_some() { "key" } else { "value" },
                    "only maps have keys and values; bound a string's length in bytes with `max_len = N`",
                )
            } else {
                return Ok(());
            }
        }
        Shape::Seq(_) | Shape::Array(..) => {
            if spec.key.is_some() || spec.value.is_some() {
                (
                    if spec.key.is_some() { "key" } else { "value" },
                    "only maps have keys and values; bound the items with `each(...)`",
                )
            } else if spec.max_len.is_some() && matches!(shape, Shape::Array(..)) {
                (
                    "max_len",
                    "an array's length is fixed by its type; bound its items with `each(...)`, or remove it",
                )
            } else {
                return Ok(());
            }
        }
        Shape::Map(..) => {
            if spec.each.is_some() {
                (
                    "each",
                    "a map's entries are bounded with `key(...)` and `value(...)`",
                )
            } else {
                return Ok(());
            }
        }
        Shape::Option(_) => return Ok(()),
    };
    let msg = ConstMessage::new()
        .str("`")
        .str(key)
        .str("` does not apply to ")
        .then(here(ConstMessage::new(), spec))
        .str(": ")
        .str(why);
    Err(msg)
}

const fn peel(shape: &Shape) -> &Shape {
    match shape {
        Shape::Option(inner) => peel(inner),
        _ => shape,
    }
}

const fn first_key(spec: &Spec) -> Option<&'static str> {
    if spec.max_len.is_some() {
        Some("max_len")
    } else if spec.each.is_some() {
        Some("each")
    } else if spec.key.is_some() {
        Some("key")
    } else if spec.value.is_some() {
        Some("value")
    } else {
        None
    }
}

const fn unit_of(shape: &Shape) -> &'static str {
    match peel(shape) {
        Shape::Str => "bytes",
        Shape::Map(..) => "entries",
        Shape::Seq(item) => seq_unit(item),
        _ => "items",
    }
}

/// "`Owner.path` (`Type`)", the type only at a field's own level.
const fn here(msg: ConstMessage, at: &Spec) -> ConstMessage {
    let msg = msg.str("`").str(at.owner).str(".").str(at.path).str("`");
    if at.ty.is_empty() {
        msg
    } else {
        msg.str(" (`").str(at.ty).str("`)")
    }
}

impl ConstMessage {
    /// Appends the attribute body that bounds every part of `shape` that needs it.
    const fn suggest(self, shape: &Shape) -> Self {
        match peel(shape) {
            Shape::Str => self.str("max_len = N"),
            Shape::Seq(item) => {
                let msg = self.str("max_len = N");
                if needs_bound(item) {
                    msg.str(", each(").suggest(item).str(")")
                } else {
                    msg
                }
            }
            Shape::Array(_, item) => self.str("each(").suggest(item).str(")"),
            Shape::Map(key, value) => {
                let mut msg = self.str("max_len = N");
                if needs_bound(key) {
                    msg = msg.str(", key(").suggest(key).str(")");
                }
                if needs_bound(value) {
                    msg = msg.str(", value(").suggest(value).str(")");
                }
                msg
            }
            _ => self,
        }
    }
}

const fn needs_bound(shape: &Shape) -> bool {
    match peel(shape) {
        Shape::Str | Shape::Seq(_) | Shape::Map(..) => true,
        Shape::Array(_, item) => needs_bound(item),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[test]
    fn varint_lengths_match_postcard() {
        for n in [
            0usize,
            1,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            usize::MAX,
        ] {
            let encoded = postcard::to_allocvec(&n).expect("encode");
            assert_eq!(varint_len(n), encoded.len(), "n = {n}");
        }
    }

    #[test]
    fn fixed_bounds_match_postcard_extremes() {
        fn check<T: Bounded + SizeBound + Serialize>(v: T) {
            let len = postcard::to_allocvec(&v).expect("encode").len();
            assert_eq!(len, T::MAX_ENCODED_LEN);
            assert_eq!(len, bound(&T::SHAPE, &Spec::NONE, true));
        }
        check(u8::MAX);
        check(u16::MAX);
        check(u32::MAX);
        check(u64::MAX);
        check(u128::MAX);
        check(i16::MIN);
        check(i32::MIN);
        check(i64::MIN);
        check(i128::MIN);
        check(usize::MAX);
        check(char::MAX);
        check(f64::MAX);
        check(Some(u64::MAX));
        check([u32::MAX; 4]);
        check((u8::MAX, u64::MAX, true));
        check(core::time::Duration::new(u64::MAX, 999_999_999));
    }

    const fn spec(max_len: usize, each: Option<&'static Spec>) -> Spec {
        Spec {
            owner: "T",
            path: "f",
            ty: "",
            max_len: Some(max_len),
            each,
            key: None,
            value: None,
        }
    }

    #[test]
    fn collections_worst_case() {
        let v: Vec<u32> = vec![u32::MAX; 200];
        assert_eq!(
            postcard::to_allocvec(&v).expect("encode").len(),
            bound(&<Vec<u32>>::SHAPE, &spec(200, None), true)
        );
        const EACH: Spec = spec(100, None);
        let names = vec!["é".repeat(50); 3];
        assert_eq!(
            postcard::to_allocvec(&names).expect("encode").len(),
            bound(&<Vec<String>>::SHAPE, &spec(3, Some(&EACH)), true)
        );
    }

    #[test]
    fn checks_name_the_unit() {
        let err = vec![1u8; 5].check(&spec(4, None)).expect_err("five bytes");
        assert_eq!((err.len, err.max, err.unit), (5, 4, "bytes"));
        let err = vec![1u16; 5].check(&spec(4, None)).expect_err("items");
        assert_eq!(err.unit, "items");
        const EACH: Spec = spec(2, None);
        let err = Some(vec!["abc".to_owned()])
            .check(&spec(4, Some(&EACH)))
            .expect_err("a long item");
        assert_eq!((err.len, err.unit), (3, "bytes"));
    }
}

//! The runtime side of `#[derive(CookieSession)]`: the traits the derive implements and the
//! worst-case size arithmetic its `const` budget checks use.
//!
//! Payloads are encoded with [postcard], whose 1.0 wire format is frozen. Every size here is a
//! postcard size: integers wider than a byte are LEB128 varints (zigzag for signed types),
//! lengths are varints, arrays and tuples carry no length, `Option` is one tag byte.

use core::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A session schema: a struct that `#[derive(CookieSession)]` turns into a versioned,
/// optionally size-bounded cookie payload.
///
/// Implement it with the derive, never by hand: the derive keeps [`VERSION`](Self::VERSION),
/// the migration chain in [`decode`](Self::decode), the fingerprint and the budget in step.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use session_runtime::CookieSession;
///
/// #[derive(CookieSession, Serialize, Deserialize, Default)]
/// #[session(version = 1, max_cookies = 1)]
/// struct Cart {
///     user_id: u64,
///     #[session(max_len = 16)]
///     items: Vec<u32>,
/// }
///
/// assert_eq!(Cart::VERSION, 1);
/// // 1 .. 10 bytes for the u64, 1 length byte and 16 × 5 bytes for the items.
/// assert_eq!(Cart::MAX_ENCODED_LEN, Some(10 + 1 + 16 * 5));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a session schema",
    label = "not a `#[derive(CookieSession)]` struct",
    note = "derive it: `#[derive(CookieSession, Serialize, Deserialize)]` with `#[session(version = N)]`"
)]
pub trait CookieSession: Serialize + DeserializeOwned + Sized + 'static {
    /// The schema version written into every sealed header, `1..=u16::MAX`.
    const VERSION: u16;
    /// The oldest version this type can still read through its `previous` chain.
    const OLDEST_VERSION: u16;
    /// The type's name, for error messages and logs.
    const NAME: &'static str;
    /// A hash of the type name, version, field names and field type tokens, as 16 hex digits.
    ///
    /// Snapshot it in a test (or pin it with `#[session(fingerprint = "…")]`) so that a struct
    /// changed without a version bump is caught before it ships.
    const FINGERPRINT: &'static str;
    /// The declared size budget.
    const BUDGET: Budget;
    /// The worst-case postcard-encoded payload size, known when the schema declares a budget.
    const MAX_ENCODED_LEN: Option<usize>;

    /// Checks every `#[session(max_len = N)]` bound (recursively, under a budget).
    ///
    /// The worst case promised by [`MAX_ENCODED_LEN`](Self::MAX_ENCODED_LEN) holds only for
    /// values that pass this check; sealing calls it first.
    fn check_bounds(&self) -> Result<(), BoundsError>;

    /// Decodes a payload written by schema `version`, migrating it step by step through the
    /// `previous` chain to this version.
    ///
    /// Callers check `version <= Self::VERSION` first; a version outside the chain is
    /// [`SchemaError::UnknownVersion`].
    fn decode(version: u16, bytes: &[u8]) -> Result<Self, SchemaError>;
}

/// The size budget declared on a schema with `max_cookies = N` or `budget = BYTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// No budget: the size is only checked when sealing, against the configured cookies.
    Unbounded,
    /// At most this many cookies, each assumed to carry [`CHUNK_VALUE_CAPACITY`] characters.
    Cookies(u8),
    /// At most this many characters of sealed, base64-encoded cookie value in all.
    Bytes(usize),
}

impl Budget {
    /// The budget in characters of sealed cookie value, if there is one.
    pub const fn sealed_chars(self) -> Option<usize> {
        match self {
            Budget::Unbounded => None,
            Budget::Cookies(n) => Some(n as usize * CHUNK_VALUE_CAPACITY),
            Budget::Bytes(n) => Some(n),
        }
    }
}

/// The cookie-value characters the compile-time `max_cookies` budget assumes each cookie holds.
///
/// A Set-Cookie line is kept within 4096 bytes; this figure leaves 256 bytes for the cookie name
/// and its attributes. The layer checks the exact figure for its real name and attributes when
/// it is built.
pub const CHUNK_VALUE_CAPACITY: usize = 4096 - 256;

/// A value broke a `#[session(max_len = N)]` bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "field `{field}` of `{type_name}` holds {len} items, more than its max_len of {max}; trim it before saving the session"
)]
pub struct BoundsError {
    /// The type that declares the bound.
    pub type_name: &'static str,
    /// The field that broke it.
    pub field: &'static str,
    /// Its length (bytes for strings, items for collections).
    pub len: usize,
    /// The declared `max_len`.
    pub max: usize,
}

/// A payload could not be turned into the current schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The sealed header names a version this binary cannot read: newer than the current schema
    /// (a rollback) or older than the oldest in the `previous` chain.
    #[error("session schema version {found} is unknown to this build (current is {newest})")]
    UnknownVersion {
        /// The version in the sealed header.
        found: u16,
        /// The current schema version.
        newest: u16,
    },
    /// The payload did not decode as the schema its header names.
    #[error("session payload does not decode as `{type_name}` version {version}")]
    Decode {
        /// The schema type tried.
        type_name: &'static str,
        /// Its version.
        version: u16,
    },
}

/// A type whose postcard encoding has a known upper bound.
///
/// Implemented for primitives, arrays, tuples, `Option`, `Box`, and for your own structs and
/// enums by `#[derive(SessionBound)]`. Collections are bounded per field with
/// `#[session(max_len = N)]` instead, through [`LenBounded`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no upper bound on its encoded size",
    label = "unbounded field in a schema with a size budget",
    note = "bound it with `#[session(max_len = N)]` (String, Vec, maps, sets), or `#[derive(SessionBound)]` on your own type"
)]
pub trait Bounded {
    /// The most bytes postcard can write for a value of this type.
    const MAX_ENCODED_LEN: usize;

    /// Checks the `max_len` bounds inside the value; bounded-by-nature types have none.
    fn check_bounds(&self) -> Result<(), BoundsError> {
        Ok(())
    }
}

/// A collection that `#[session(max_len = N)]` can bound: its length is checked when sealing.
#[diagnostic::on_unimplemented(
    message = "`#[session(max_len = ..)]` does not apply to `{Self}`",
    label = "max_len on a type without a length",
    note = "max_len bounds String, Vec, VecDeque, Box<str>, Box<[T]>, maps and sets"
)]
pub trait HasLen {
    /// The length `max_len` bounds: bytes of a string, items of a collection, entries of a map.
    fn bounded_len(&self) -> usize;
}

/// A [`HasLen`] collection whose items are [`Bounded`], so `max_len = N` gives a worst case.
#[diagnostic::on_unimplemented(
    message = "the items of `{Self}` have no upper bound on their encoded size",
    label = "max_len bounds the count, but each item is unbounded",
    note = "items must be Bounded: give them their own bound with a `#[derive(SessionBound)]` wrapper type"
)]
pub trait LenBounded: HasLen {
    /// The most bytes one unit (a string byte, an item, a key and its value) can take.
    const ITEM_MAX_ENCODED_LEN: usize;

    /// Checks the bounds inside each item.
    fn check_items(&self) -> Result<(), BoundsError>;

    /// The worst case of this collection holding at most `max_len` units.
    fn max_encoded_len(max_len: usize) -> usize {
        varint_len(max_len) + max_len * Self::ITEM_MAX_ENCODED_LEN
    }
}

/// The worst case of a `LenBounded` collection of at most `max_len` units, as a `const fn`.
pub const fn len_bounded_max<C: LenBounded + ?Sized>(max_len: usize) -> usize {
    varint_len(max_len) + max_len * C::ITEM_MAX_ENCODED_LEN
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

macro_rules! bounded_fixed {
    ($($t:ty => $n:expr),* $(,)?) => {
        $(impl Bounded for $t { const MAX_ENCODED_LEN: usize = $n; })*
    };
}

bounded_fixed! {
    () => 0,
    bool => 1,
    u8 => 1, i8 => 1,
    u16 => 3, i16 => 3,
    u32 => 5, i32 => 5,
    u64 => 10, i64 => 10,
    u128 => 19, i128 => 19,
    usize => varint_len(usize::MAX), isize => varint_len(usize::MAX),
    f32 => 4, f64 => 8,
    // A char is written as a UTF-8 string: one length byte and up to four bytes.
    char => 5,
    core::num::NonZeroU8 => 1, core::num::NonZeroU16 => 3, core::num::NonZeroU32 => 5,
    core::num::NonZeroU64 => 10, core::num::NonZeroU128 => 19,
    core::num::NonZeroI8 => 1, core::num::NonZeroI16 => 3, core::num::NonZeroI32 => 5,
    core::num::NonZeroI64 => 10, core::num::NonZeroI128 => 19,
    // `Duration` is `{ secs: u64, nanos: u32 }`.
    core::time::Duration => 10 + 5,
}

impl<T: ?Sized> Bounded for core::marker::PhantomData<T> {
    const MAX_ENCODED_LEN: usize = 0;
}

impl<T: Bounded> Bounded for Option<T> {
    const MAX_ENCODED_LEN: usize = 1 + T::MAX_ENCODED_LEN;
    fn check_bounds(&self) -> Result<(), BoundsError> {
        match self {
            Some(v) => v.check_bounds(),
            None => Ok(()),
        }
    }
}

impl<T: Bounded + ?Sized> Bounded for Box<T> {
    const MAX_ENCODED_LEN: usize = T::MAX_ENCODED_LEN;
    fn check_bounds(&self) -> Result<(), BoundsError> {
        (**self).check_bounds()
    }
}

impl<T: Bounded, const N: usize> Bounded for [T; N] {
    const MAX_ENCODED_LEN: usize = N * T::MAX_ENCODED_LEN;
    fn check_bounds(&self) -> Result<(), BoundsError> {
        self.iter().try_for_each(Bounded::check_bounds)
    }
}

macro_rules! bounded_tuple {
    ($(($($t:ident . $i:tt),+))*) => {
        $(impl<$($t: Bounded),+> Bounded for ($($t,)+) {
            const MAX_ENCODED_LEN: usize = 0 $(+ $t::MAX_ENCODED_LEN)+;
            fn check_bounds(&self) -> Result<(), BoundsError> {
                $(self.$i.check_bounds()?;)+
                Ok(())
            }
        })*
    };
}

bounded_tuple! {
    (A.0)
    (A.0, B.1)
    (A.0, B.1, C.2)
    (A.0, B.1, C.2, D.3)
    (A.0, B.1, C.2, D.3, E.4)
    (A.0, B.1, C.2, D.3, E.4, F.5)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7)
}

macro_rules! has_len {
    ($(impl[$($g:tt)*] $t:ty;)*) => {
        $(impl<$($g)*> HasLen for $t {
            fn bounded_len(&self) -> usize { self.len() }
        })*
    };
}

has_len! {
    impl[] String;
    impl[] str;
    impl[] Box<str>;
    impl[T] Vec<T>;
    impl[T] [T];
    impl[T] Box<[T]>;
    impl[T] std::collections::VecDeque<T>;
    impl[K, V, S] std::collections::HashMap<K, V, S>;
    impl[K, V] std::collections::BTreeMap<K, V>;
    impl[T, S] std::collections::HashSet<T, S>;
    impl[T] std::collections::BTreeSet<T>;
}

impl LenBounded for String {
    const ITEM_MAX_ENCODED_LEN: usize = 1;
    fn check_items(&self) -> Result<(), BoundsError> {
        Ok(())
    }
}

impl LenBounded for Box<str> {
    const ITEM_MAX_ENCODED_LEN: usize = 1;
    fn check_items(&self) -> Result<(), BoundsError> {
        Ok(())
    }
}

macro_rules! len_bounded_seq {
    ($(impl[$($g:tt)*] $t:ty, $item:ident;)*) => {
        $(impl<$($g)*> LenBounded for $t {
            const ITEM_MAX_ENCODED_LEN: usize = $item::MAX_ENCODED_LEN;
            fn check_items(&self) -> Result<(), BoundsError> {
                self.iter().try_for_each(Bounded::check_bounds)
            }
        })*
    };
}

len_bounded_seq! {
    impl[T: Bounded] Vec<T>, T;
    impl[T: Bounded] Box<[T]>, T;
    impl[T: Bounded] std::collections::VecDeque<T>, T;
    impl[T: Bounded, S] std::collections::HashSet<T, S>, T;
    impl[T: Bounded] std::collections::BTreeSet<T>, T;
}

impl<K: Bounded, V: Bounded, S> LenBounded for std::collections::HashMap<K, V, S> {
    const ITEM_MAX_ENCODED_LEN: usize = K::MAX_ENCODED_LEN + V::MAX_ENCODED_LEN;
    fn check_items(&self) -> Result<(), BoundsError> {
        self.iter()
            .try_for_each(|(k, v)| k.check_bounds().and_then(|()| v.check_bounds()))
    }
}

impl<K: Bounded, V: Bounded> LenBounded for std::collections::BTreeMap<K, V> {
    const ITEM_MAX_ENCODED_LEN: usize = K::MAX_ENCODED_LEN + V::MAX_ENCODED_LEN;
    fn check_items(&self) -> Result<(), BoundsError> {
        self.iter()
            .try_for_each(|(k, v)| k.check_bounds().and_then(|()| v.check_bounds()))
    }
}

/// Checks one `max_len` field: used by the derive's `check_bounds`.
pub fn check_len<C: HasLen + ?Sized>(
    value: &C,
    type_name: &'static str,
    field: &'static str,
    max: usize,
) -> Result<(), BoundsError> {
    let len = value.bounded_len();
    if len > max {
        Err(BoundsError {
            type_name,
            field,
            len,
            max,
        })
    } else {
        Ok(())
    }
}

/// Decodes exactly one `T` from `bytes`: trailing bytes are an error, not ignored.
pub fn decode_exact<T: CookieSession>(bytes: &[u8]) -> Result<T, SchemaError> {
    let err = || SchemaError::Decode {
        type_name: T::NAME,
        version: T::VERSION,
    };
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        _ => Err(err()),
    }
}

/// A message built in a `const` context, for the budget check's compile error.
///
/// Const panics cannot format integers, so the derive's budget assertion builds its text here.
#[derive(Clone, Copy)]
pub struct ConstMessage {
    buf: [u8; 512],
    len: usize,
}

impl fmt::Debug for ConstMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ConstMessage {
    /// An empty message.
    pub const fn new() -> Self {
        ConstMessage {
            buf: [0; 512],
            len: 0,
        }
    }

    /// Appends text; text past 512 bytes is cut at a character boundary.
    pub const fn str(mut self, s: &str) -> Self {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < self.buf.len() {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// Appends a number in decimal.
    pub const fn num(mut self, mut n: usize) -> Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.buf.len() {
            count -= 1;
            self.buf[self.len] = digits[count];
            self.len += 1;
        }
        self
    }

    /// The text so far.
    pub const fn as_str(&self) -> &str {
        let mut len = self.len;
        loop {
            let (head, _) = self.buf.split_at(len);
            match core::str::from_utf8(head) {
                Ok(s) => return s,
                Err(_) => len -= 1,
            }
        }
    }
}

impl Default for ConstMessage {
    fn default() -> Self {
        Self::new()
    }
}

/// The compile-time budget check emitted by the derive, as a `const fn` that panics with a
/// message naming the type, its worst case and its budget.
pub const fn assert_budget(type_name: &str, max_encoded_len: usize, budget: Budget) {
    let Some(limit) = budget.sealed_chars() else {
        return;
    };
    let worst = crate::envelope::sealed_value_len(max_encoded_len);
    if worst <= limit {
        return;
    }
    let msg = ConstMessage::new()
        .str("session schema `")
        .str(type_name)
        .str("` does not fit its budget: its worst case seals to ")
        .num(worst)
        .str(" bytes of cookie value, over the budget of ")
        .num(limit)
        .str(" bytes");
    let msg = match budget {
        Budget::Cookies(n) => msg
            .str(" (max_cookies = ")
            .num(n as usize)
            .str(" × ")
            .num(CHUNK_VALUE_CAPACITY)
            .str(")"),
        _ => msg,
    };
    let msg = msg.str("; lower a max_len or raise the budget");
    panic!("{}", msg.as_str());
}

/// The compile-time check that `previous = Old` names an older schema, emitted by the derive.
pub const fn assert_previous(
    type_name: &str,
    version: u16,
    previous_name: &str,
    previous_version: u16,
) {
    if previous_version < version {
        return;
    }
    let msg = ConstMessage::new()
        .str("session schema `")
        .str(type_name)
        .str("` is version ")
        .num(version as usize)
        .str(" but its `previous` schema `")
        .str(previous_name)
        .str("` is version ")
        .num(previous_version as usize)
        .str("; the previous schema must have a lower version");
    panic!("{}", msg.as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

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
        fn check<T: Bounded + Serialize>(v: T) {
            assert_eq!(
                postcard::to_allocvec(&v).expect("encode").len(),
                T::MAX_ENCODED_LEN
            );
        }
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

    #[test]
    fn collections_worst_case() {
        let v: Vec<u32> = vec![u32::MAX; 200];
        assert_eq!(
            postcard::to_allocvec(&v).expect("encode").len(),
            <Vec<u32> as LenBounded>::max_encoded_len(200)
        );
        let s = "é".repeat(100);
        assert_eq!(
            postcard::to_allocvec(&s).expect("encode").len(),
            len_bounded_max::<String>(s.len())
        );
    }

    #[test]
    fn const_message_formats() {
        let m = ConstMessage::new().str("a").num(0).str("b").num(4096);
        assert_eq!(m.as_str(), "a0b4096");
    }
}

//! The runtime side of `#[derive(CookieSession)]` and `#[derive(SessionBound)]`: the traits the
//! derives implement, the size bounds behind `#[session(max_len = N, each(..), key(..),
//! value(..))]`, and the `const` assertions that fail the build when a schema cannot fit.
//!
//! Payloads are encoded with [postcard], whose 1.0 wire format is frozen. Every size here is a
//! postcard size: integers wider than a byte are LEB128 varints (zigzag for signed types),
//! lengths are varints, arrays and tuples carry no length, `Option` is one tag byte.
//!
//! Public: [`CookieSession`], [`SchemaVersion`], [`Downgrade`], [`Bounded`], [`Budget`]. The
//! errors they return, [`BoundsError`] and [`SchemaError`], are in `error`, which the errors of
//! every other layer wrap them from.
//! Everything else here is reached by generated code only, through `crate::__private`.

// Reached through `crate::__private` only, but for what is re-exported here.
pub(crate) mod assert;
pub(crate) mod bounds;
pub(crate) mod decode;

pub use bounds::Bounded;
pub(crate) use decode::decode_exact;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{BoundsError, SchemaError};

#[doc = include_str!("attributes.md")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a session schema",
    label = "not a `#[derive(CookieSession)]` struct",
    note = "derive it: `#[derive(CookieSession, Serialize, Deserialize)]` with `#[session(version = N)]`"
)]
pub trait CookieSession: Serialize + DeserializeOwned + Sized + 'static {
    /// The schema version written into every sealed header, `1..=u16::MAX`.
    const VERSION: u16;
    /// The oldest version this type can still read through its `previous` chain.
    const OLDEST_VERSION: u16 = Self::SCHEMA.oldest_version();
    /// The type's name, for error messages and logs.
    const NAME: &'static str;
    /// A hash of the type name, version, field names, field type tokens and field bounds, as 16
    /// hex digits.
    ///
    /// Snapshot it in a test (or pin it with `#[session(fingerprint = "…")]`) so that a struct
    /// changed without a version bump is caught before it ships.
    const FINGERPRINT: &'static str;
    /// The declared size budget.
    const BUDGET: Budget = Budget::Unbounded;
    /// The worst-case postcard-encoded payload size, known when the schema declares a budget.
    const MAX_ENCODED_LEN: Option<usize> = None;
    /// The schema this one replaces (`previous = Type`), as its [`SCHEMA`](Self::SCHEMA); `None`
    /// for a first version.
    const PREVIOUS: Option<&'static SchemaVersion> = None;
    /// This version and, linked through [`SchemaVersion::previous`], every older one this type
    /// reads: what tools and tests walk to see every version (`session-tool sizes`, the
    /// frozen samples of the `testing` module).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use session_runtime::CookieSession;
    /// # #[derive(CookieSession, Serialize, Deserialize)]
    /// # #[session(version = 1)]
    /// # struct CartV1 { user_id: u32 }
    /// #[derive(CookieSession, Serialize, Deserialize)]
    /// #[session(version = 2, previous = CartV1)]
    /// struct Cart { user_id: u64 }
    /// # impl From<CartV1> for Cart {
    /// #     fn from(old: CartV1) -> Self { Cart { user_id: old.user_id.into() } }
    /// # }
    ///
    /// let versions: Vec<(u16, &str)> = Cart::SCHEMA.chain().map(|v| (v.version, v.name)).collect();
    /// assert_eq!(versions, [(2, "Cart"), (1, "CartV1")]);
    /// ```
    const SCHEMA: SchemaVersion = SchemaVersion {
        version: Self::VERSION,
        name: Self::NAME,
        fingerprint: Self::FINGERPRINT,
        max_encoded_len: Self::MAX_ENCODED_LEN,
        budget: Self::BUDGET,
        previous: Self::PREVIOUS,
    };

    /// Checks every bound declared with `#[session(...)]` on the fields (and, under a budget,
    /// inside every field's type).
    ///
    /// The worst case promised by [`MAX_ENCODED_LEN`](Self::MAX_ENCODED_LEN) holds only for
    /// values that pass this check; sealing calls it first.
    fn check_bounds(&self) -> Result<(), BoundsError> {
        Ok(())
    }

    /// Decodes a payload written by schema `version`, migrating it step by step through the
    /// `previous` chain to this version.
    ///
    /// A version outside the chain is [`SchemaError::UnknownVersion`].
    fn decode(version: u16, bytes: &[u8]) -> Result<Self, SchemaError> {
        decode::decode_current(version, bytes)
    }
}

/// One version of a schema, as [`CookieSession::SCHEMA`] describes it: its constants, and the
/// version it replaces.
///
/// The versions of a schema form a list, newest first, that ends at the first version:
/// [`chain`](Self::chain) walks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaVersion {
    /// [`CookieSession::VERSION`].
    pub version: u16,
    /// [`CookieSession::NAME`].
    pub name: &'static str,
    /// [`CookieSession::FINGERPRINT`].
    pub fingerprint: &'static str,
    /// [`CookieSession::MAX_ENCODED_LEN`].
    pub max_encoded_len: Option<usize>,
    /// [`CookieSession::BUDGET`].
    pub budget: Budget,
    /// The version this one replaces (`previous = Type`), `None` for a first version.
    pub previous: Option<&'static SchemaVersion>,
}

impl SchemaVersion {
    /// This version, then each older one it reads, down to the first.
    pub fn chain(&self) -> impl Iterator<Item = &SchemaVersion> {
        std::iter::successors(Some(self), |v| v.previous)
    }

    /// The version at the end of the chain: the oldest one read.
    pub const fn oldest_version(&self) -> u16 {
        let mut oldest = self;
        while let Some(previous) = oldest.previous {
            oldest = previous;
        }
        oldest.version
    }
}

/// The down-migration of a rolling deploy's first phase: a schema that can be written as its
/// previous version `P`, so that instances still running the previous build can open the
/// cookies this build writes. [`SessionLayerBuilder::writing`](crate::SessionLayerBuilder::writing)
/// needs it.
///
/// Implement it with `#[session(downgrade = path)]`, where `path` is a `fn(&Self) -> Previous`;
/// the derive checks its signature, and that the schema has a `previous`. Only the immediate
/// previous version can be written: instances two versions back are not part of a rolling
/// deploy (the previous deploy finished before this one started).
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use session_runtime::{CookieSession, Downgrade};
///
/// #[derive(CookieSession, Serialize, Deserialize)]
/// #[session(version = 1)]
/// struct CartV1 { items: Vec<u32> }
///
/// #[derive(CookieSession, Serialize, Deserialize)]
/// #[session(version = 2, previous = CartV1, downgrade = to_v1)]
/// struct Cart { items: Vec<(u32, u16)> }
///
/// impl From<CartV1> for Cart {
///     fn from(old: CartV1) -> Self { Cart { items: old.items.into_iter().map(|s| (s, 1)).collect() } }
/// }
///
/// // What version 1 can hold: the quantities are dropped.
/// fn to_v1(new: &Cart) -> CartV1 {
///     CartV1 { items: new.items.iter().map(|&(sku, _)| sku).collect() }
/// }
///
/// let old: CartV1 = Cart { items: vec![(7, 3)] }.downgrade();
/// assert_eq!(old.items, [7]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be written as `{P}`: it has no down-migration to it",
    label = "`{Self}` has no `#[session(downgrade = ..)]` to `{P}`",
    note = "add `#[session(downgrade = path)]` to `{Self}`, with `fn path(&{Self}) -> {P}`; `{P}` must be its `previous`: only the immediate previous version can be written"
)]
pub trait Downgrade<P: CookieSession>: CookieSession {
    /// This session as the previous version `P` reads it.
    fn downgrade(&self) -> P;
}

/// The size budget declared on a schema with `max_cookies = N` or `budget = BYTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// No budget: the size is only checked when sealing, against the configured cookies.
    Unbounded,
    /// At most this many cookies, each assumed to carry 3840 characters of value (a 4096-byte
    /// Set-Cookie line less 256 for the name and attributes; the layer checks the exact figure
    /// for its real name and attributes when it is built).
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
pub(crate) const CHUNK_VALUE_CAPACITY: usize = 4096 - 256;

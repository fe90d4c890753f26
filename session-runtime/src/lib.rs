#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chunk;
pub mod clock;
pub mod codec;
pub mod config;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod flash;
pub mod key;
pub mod layer;
pub mod schema;
pub mod service;

mod nonce;

pub use clock::{Clock, ManualClock};
pub use codec::{Codec, Opened, Reseal, SessionMeta, SetCookies};
pub use config::{ConfigError, CookieConfig, Padding, SameSite};
pub use envelope::SessionId;
pub use error::{Expiry, OpenError, SealError};
pub use extract::{Session, SessionError, SessionRef, SessionRejection};
pub use flash::{FlashMessage, Level};
pub use key::{Key, KeyError, Keys};
pub use layer::{BadCookiePolicy, SessionLayer, SessionLayerBuilder};
pub use schema::{Bounded, BoundsError, Budget, CookieSession, SchemaError};
pub use service::SessionService;
pub use session_derive::{CookieSession, SessionBound};

/// Everything generated code needs, behind one path so the derive never names a crate the
/// user did not depend on. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::__impl_extractor as impl_extractor;
    pub use crate::extract::SessionRejection;
    pub use crate::schema::assert::{assert_previous, budget, fit};
    pub use crate::schema::bounds::{Shape, SizeBound, Spec, bound, max, varint_len};
    pub use crate::schema::decode::{decode_current, decode_migrating};
    #[cfg(feature = "axum")]
    pub use crate::schema::glue::{
        FromRequestParts, Optional, OptionalFromRequestParts, Parts, Required, optional, required,
    };
    pub use crate::schema::{Bounded, BoundsError, Budget, CookieSession, SchemaError};
    // Short paths for generated code, which names nothing the user could shadow.
    pub use core::marker::{Send, Sync};
    pub use core::option::Option::{self, None, Some};
    pub use core::primitive::{str, u8, u16, usize};
    pub use core::result::Result::{self, Err, Ok};
}

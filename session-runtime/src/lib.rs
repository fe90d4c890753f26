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
    pub use crate::extract::{read_only, read_required};
    pub use crate::schema::assert::{assert_budget, assert_max_cookies, assert_previous, budget};
    pub use crate::schema::bounds::{Shape, SizeBound, Spec, bound, max, varint_len};
    pub use crate::schema::decode::{decode_current, decode_migrating};
    pub use crate::schema::{Bounded, BoundsError, Budget, CookieSession, SchemaError};
    #[cfg(feature = "axum")]
    pub use axum_core;
    pub use core;
    pub use http;
    pub use serde;
    pub use std;
}

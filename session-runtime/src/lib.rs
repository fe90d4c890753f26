#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The pipeline, in the order data flows through it on the way in (and back on the way out):
// request cookies → chunk → envelope → schema → codec → state → extractors / service.
#[cfg(feature = "actix")]
mod actix;
mod budget;
mod chunk;
mod clock;
mod codec;
mod config;
mod envelope;
mod error;
mod extract;
mod flash;
mod glue;
mod key;
mod layer;
mod lifecycle;
mod metrics;
mod nonce;
mod respond;
mod schema;
mod service;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "actix")]
pub use actix::{ActixExtract, ActixService};
pub use clock::{Clock, ManualClock};
pub use codec::{Codec, Inspected, Opened, Reseal, SetCookies};
pub use config::{ConfigError, Padding, SameSite};
pub use envelope::{SessionId, SessionMeta};
pub use error::{BoundsError, Expiry, OpenError, SchemaError, SessionError};
pub use extract::{Session, SessionRef, SessionRejection};
pub use flash::{FlashMessage, Level, MAX_FLASH_TEXT, MAX_FLASHES};
pub use key::{KEY_FILE_NAME, Key, KeyError, KeyFileError, KeySource, Keys};
pub use layer::{SessionLayer, SessionLayerBuilder};
pub use lifecycle::BadCookiePolicy;
pub use schema::{Bounded, Budget, CookieSession, Downgrade, SchemaVersion};
pub use service::{ResponseFuture, SessionService};
pub use session_derive::{CookieSession, SessionBound};
#[cfg(feature = "memcached")]
pub use store::MemcachedStore;
#[cfg(feature = "redis")]
pub use store::RedisStore;
pub use store::persistence::{RevocationLoss, StoreFailure};
pub use store::{
    BoxFuture, Condition, MemoryStore, SessionStore, StoreAddress, StoreConfigError, StoreError,
    StoreSettings, StoreSettingsError, Timed,
};

/// Everything generated code needs, behind one path so the derive never names a crate the
/// user did not depend on. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::__impl_extractor as impl_extractor;
    /// What the actix-web schema extractor names.
    #[cfg(feature = "actix")]
    pub mod actix {
        pub use crate::actix::{ActixExtract, schema};
        pub use actix_web::dev::Payload;
        pub use actix_web::{FromRequest, HttpRequest};
    }
    pub use crate::budget::{budget, fit};
    pub use crate::envelope::aead;
    pub use crate::error::{BoundsError, SchemaError};
    pub use crate::extract::{SessionRejection, read_only, read_required};
    #[cfg(feature = "axum")]
    pub use crate::glue::{
        AddSessionExtractorAttribute, FromRequestParts, Optional, OptionalFromRequestParts, Parts,
        Refused, Required, optional, refused, required,
    };
    pub use crate::schema::assert::assert_previous;
    pub use crate::schema::bounds::{Check, Shape, SizeBound, Spec, bound, check, max, varint_len};
    pub use crate::schema::decode::{decode_current, decode_migrating};
    pub use crate::schema::{Bounded, Budget, CookieSession, Downgrade, SchemaVersion};
    // Short paths for generated code, which names nothing the user could shadow.
    pub use core::marker::{Send, Sync};
    pub use core::option::Option::{self, None, Some};
    pub use core::primitive::{str, u8, u16, usize};
    pub use core::result::Result::{self, Err, Ok};
}

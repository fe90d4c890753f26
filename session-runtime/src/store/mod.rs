//! Server-side session stores: where a session lives when its cookie holds only an id.
//!
//! [`SessionStore`] is the one seam every backend implements: load, load many, save with a TTL
//! under a [`Condition`], delete, each a single round trip. The runtime derives the keys and hands the backends sealed
//! envelopes, so a store only ever sees opaque bytes under opaque keys: nothing in it is
//! readable without the session keys, which matters for memcached, which has no authentication.
//!
//! | backend | feature | for |
//! |---|---|---|
//! | [`MemoryStore`] | `store` | development and tests: one process, bounded, no server |
//! | `MemcachedStore` | `memcached` | a pool of memcached servers, keys spread by consistent hashing |
//! | `RedisStore` | `redis` | one Redis node, or a Redis Cluster |
//!
//! Backends do not time out by themselves: [`Timed`] bounds every call of any store, so the
//! timeout is one setting in one place, the same for every backend and for stores users write.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;
use std::sync::Arc;

mod memory;
pub use memory::MemoryStore;

pub(crate) mod persistence;

mod settings;
pub use settings::{StoreAddress, StoreSettings, StoreSettingsError};

#[cfg(feature = "memcached")]
mod memcached;
#[cfg(feature = "memcached")]
pub use memcached::MemcachedStore;

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
pub use redis::RedisStore;

/// A boxed future that can move between threads: what every [`SessionStore`] call returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The longest key the runtime hands a store, before the backend's own prefix.
pub(crate) const MAX_KEY_LEN: usize = 64;

/// The longest prefix a backend accepts: memcached keys end at 250 bytes, and a prefix this long
/// plus the longest key still fits.
#[cfg(any(feature = "memcached", feature = "redis"))]
pub(crate) const MAX_PREFIX_LEN: usize = 250 - MAX_KEY_LEN;

/// Why a store call failed. Never contains session data, keys or values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or dropped the connection: refused, reset, other I/O.
    /// Usually passing; calls succeed again once the server is back.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The store did not answer within the [`Timed`] limit.
    #[error("session store did not answer within {0:?}")]
    Timeout(Duration),
    /// The store answered, but not with anything this client understands.
    #[error("session store answered unexpectedly: {0}")]
    Protocol(String),
    /// The store refused this one call: the value is larger than it keeps, it is out of memory,
    /// or the key is not one the runtime derives. Retrying the same call will not help.
    #[error("session store refused the call: {0}")]
    Rejected(String),
}

impl StoreError {
    /// The kind, for the `error` label of the store metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Timeout(_) => "timeout",
            StoreError::Protocol(_) => "protocol",
            StoreError::Rejected(_) => "rejected",
        }
    }
}

/// Why a store could not be built from its settings. Each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreConfigError {
    /// A pool or cluster needs at least one server.
    #[error("no servers given: list at least one `host:port`")]
    NoServers,
    /// A server address that is not `host:port`, or a URL the client does not accept.
    #[error("server address {address:?} is not usable: {reason}")]
    InvalidAddress {
        /// The refused address, with `***` for its credentials: a URL's user and password, and
        /// the `user`, `username`, `pass` and `password` query parameters. Applications log
        /// this error.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same server listed twice would get twice its share of keys.
    #[error("server {0:?} is listed twice: list each server once")]
    DuplicateServer(String),
    /// A key prefix with a space or control character, or longer than 186 bytes; on a Redis
    /// Cluster, also one with a `{` that does not open a whole hash tag.
    #[error(
        "key prefix {0:?} is not usable: use at most 186 printable ASCII characters, no spaces, \
         and on a Redis Cluster no `{{` but one that opens a whole hash tag, such as `{{shop}}:`"
    )]
    InvalidPrefix(String),
}

/// What a save requires of what is already under the key.
///
/// The condition is checked and the value written in one step on the server, so two requests
/// racing on one key cannot both succeed where only one should: a request still running when
/// the user logs out cannot write back (with [`Present`](Condition::Present)) the session entry
/// the logout deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// Replace whatever is there, or create it (records: revocations, taken flashes, markers).
    Always,
    /// Only when nothing is there: a new session id (redis `SET … NX`, memcached `add` / meta `ms … ME`).
    Absent,
    /// Only when an entry is there: an existing session (redis `SET … XX`, memcached `replace` / meta `ms … MR`).
    Present,
}

impl Condition {
    /// Whether the condition holds when an entry is (`true`) or is not (`false`) under the key.
    /// An expired entry is no entry.
    pub(crate) fn holds(self, present: bool) -> bool {
        match self {
            Condition::Always => true,
            Condition::Absent => !present,
            Condition::Present => present,
        }
    }
}

/// A server-side session backend: each call is one round trip.
///
/// Keys are printable ASCII (no spaces or control characters), 1 to 64 bytes; the runtime
/// derives them, and backends put their own prefix in front. Values are opaque binary (sealed
/// envelopes, up to about 1 MiB). A backend refuses a key outside these rules with
/// [`StoreError::Rejected`] rather than sending it.
///
/// Implementations answer without their own timeout; wrap them in [`Timed`]. A call's future
/// may be dropped at any point (that is how [`Timed`] ends it), so an implementation must leave
/// no half-read connection behind for the next call.
///
/// The trait is object safe: `Arc<dyn SessionStore>` is itself a store.
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// The value saved under `key`, or `None` when there is none or it expired.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;

    /// The values under several keys, in the order of `keys`, `None` for each miss.
    ///
    /// Backends that can answer in one round trip do (a memcached multi-get per server, `MGET`
    /// on Redis, split by slot on a cluster); the default runs [`load`](Self::load) for each key
    /// concurrently. Any failure fails the whole call.
    fn load_many<'a>(
        &'a self,
        keys: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        let loads = keys.iter().map(|key| self.load(key)).collect();
        Box::pin(async move { join_all(loads).await.into_iter().collect() })
    }

    /// Stores `value` under `key` for `ttl` if `condition` holds for what is under `key` now,
    /// checked and written in the one round trip.
    ///
    /// `Ok(true)`: written. `Ok(false)`: the condition did not hold, and nothing was written.
    /// With [`Condition::Always`] the answer is always `Ok(true)` or an error. The TTL is rounded
    /// up to whole seconds, and is at least one second.
    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
        condition: Condition,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Removes `key`. Removing a key that is not there succeeds.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The key of the marker that tells whether the server holding `key` has lost its data since
    /// the marker was written.
    ///
    /// The runtime reads it in the same [`load_many`](Self::load_many) as `key`, and writes it
    /// (with [`Condition::Absent`]) when missing. A marker must live where `key` lives, so that
    /// whatever empties the one (a restart without persistence, `FLUSHALL`, `flush_all`)
    /// empties the other: `MemcachedStore` names one marker per server, on that server, and
    /// `RedisStore` on a cluster one per hash slot, in that slot. It is a key like any other
    /// (printable ASCII, at most 64 bytes), and the same in every process that has the same
    /// settings.
    ///
    /// Default: one marker for the whole store, `"e:"` (right for one server).
    fn marker_key(&self, _key: &str) -> String {
        "e:".to_owned()
    }

    /// The backend's name, for the `backend` label of the store metrics (feature `metrics`):
    /// `memory`, `memcached`, `redis` or `redis-cluster` for this crate's stores, `custom`
    /// (the default) for others. A fixed name from the code: never an address or a key.
    ///
    /// A store that wraps another forwards it, as [`Timed`] and `Arc<S>` do.
    fn backend(&self) -> &'static str {
        "custom"
    }
}

/// Writes out every method of [`SessionStore`] for a store that passes each call on to an inner
/// store: `forward_store!(self => inner, |call, op| wrapped)`, where `inner` is the inner store
/// and `wrapped` what becomes of the future `call` of each call (`call` itself, to pass it on);
/// `op` names the call (`"load"`, `"load_many"`, `"save"`, `"delete"`).
///
/// The one place that forwards, for `Arc<S>` and [`Timed`]. A macro rather than a blanket impl:
/// the language allows `impl<F: Forward> SessionStore for F` over a crate-private `Forward`
/// trait, but the docs would then show one impl for every `F: Forward` instead of `Arc<S>` and
/// `Timed<S>` as stores. The impls written out are those that do something else per method:
/// the three backends, the test store that never answers (below), and, outside this crate, the
/// tests' stores that count loads (tests/store_modes.rs) or record a save
/// (tests/golden_store.rs), which a crate-private macro cannot reach and which are not worth a
/// public one.
macro_rules! forward_store {
    ($this:ident => $inner:expr, |$call:ident, $op:ident| $wrapped:expr) => {
        fn load<'a>(&'a $this, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
            let $call = $inner.load(key);
            let $op = "load";
            $wrapped
        }

        fn load_many<'a>(
            &'a $this,
            keys: &'a [&'a str],
        ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
            let $call = $inner.load_many(keys);
            let $op = "load_many";
            $wrapped
        }

        fn save<'a>(
            &'a $this,
            key: &'a str,
            value: &'a [u8],
            ttl: Duration,
            condition: Condition,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            let $call = $inner.save(key, value, ttl, condition);
            let $op = "save";
            $wrapped
        }

        fn delete<'a>(&'a $this, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
            let $call = $inner.delete(key);
            let $op = "delete";
            $wrapped
        }

        fn marker_key(&$this, key: &str) -> String {
            $inner.marker_key(key)
        }

        fn backend(&$this) -> &'static str {
            $inner.backend()
        }
    };
}

impl<S: SessionStore + ?Sized> SessionStore for Arc<S> {
    forward_store!(self => (**self), |call, _op| call);
}

/// A store whose every call ends within a time limit, with [`StoreError::Timeout`] if the
/// inner store has not answered by then.
///
/// The limit covers the whole call, connecting included, and for
/// [`load_many`](SessionStore::load_many) all its keys together. When it fires, the inner
/// call's future is dropped: the backends in this crate then discard the connection it was
/// using rather than read a late answer as the next call's.
///
/// Needs a Tokio runtime with its timer enabled, as every axum server has.
///
/// With the feature `metrics`, every call through it is counted and timed, by its inner
/// store's [`backend`](SessionStore::backend) (see the README's "Metrics").
///
/// ```
/// use std::time::Duration;
/// use session_runtime::{Condition, MemoryStore, SessionStore, Timed};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), session_runtime::StoreError> {
/// let store = Timed::new(MemoryStore::new(), Duration::from_millis(250));
/// store.save("k1", b"sealed", Duration::from_secs(60), Condition::Always).await?;
/// assert_eq!(store.load("k1").await?.as_deref(), Some(&b"sealed"[..]));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Timed<S> {
    inner: S,
    limit: Duration,
}

impl<S: SessionStore> Timed<S> {
    /// Bounds every call of `inner` by `limit`.
    pub fn new(inner: S, limit: Duration) -> Self {
        Timed { inner, limit }
    }

    /// The time limit of each call.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// The store inside.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// `call` within the limit; measured here (feature `metrics`), the one place every store
    /// call of a layer passes.
    fn bounded<'a, T: 'a>(
        &self,
        op: &'static str,
        call: BoxFuture<'a, Result<T, StoreError>>,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        let limit = self.limit;
        let backend = self.inner.backend();
        Box::pin(async move {
            let measured = crate::metrics::StoreCall::start(backend, op);
            let result = tokio::time::timeout(limit, call)
                .await
                .unwrap_or(Err(StoreError::Timeout(limit)));
            measured.end(result.as_ref().err().map(StoreError::kind));
            result
        })
    }
}

impl<S: SessionStore> SessionStore for Timed<S> {
    forward_store!(self => self.inner, |call, op| self.bounded(op, call));
}

/// Refuses a key the runtime would never derive, before any backend puts it on the wire: a
/// space or line break in it would split a memcached command.
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(is_key_byte) {
        return Err(StoreError::Rejected(format!(
            "a session key must be 1 to {MAX_KEY_LEN} printable ASCII characters without spaces"
        )));
    }
    Ok(())
}

/// A backend's key prefix (`session:` unless changed), checked, and the keys it puts on the wire.
#[cfg(any(feature = "memcached", feature = "redis"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPrefix(String);

#[cfg(any(feature = "memcached", feature = "redis"))]
impl KeyPrefix {
    /// `prefix`, if it has the same characters as keys and leaves room for the longest key.
    pub(crate) fn new(prefix: &str) -> Result<Self, StoreConfigError> {
        if prefix.len() > MAX_PREFIX_LEN || !prefix.bytes().all(is_key_byte) {
            return Err(StoreConfigError::InvalidPrefix(prefix.to_owned()));
        }
        Ok(KeyPrefix(prefix.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// `key` with the prefix in front, once [`check_key`] let it through.
    pub(crate) fn wire_key(&self, key: &str) -> Result<String, StoreError> {
        check_key(key)?;
        // Not `format!`: its formatting machinery costs more than the copy, on every call.
        let mut wire = String::with_capacity(self.0.len() + key.len());
        wire.push_str(&self.0);
        wire.push_str(key);
        Ok(wire)
    }

    /// The wire key of each of `keys`, in order; one refused key refuses them all.
    #[cfg(feature = "redis")]
    pub(crate) fn wire_keys(&self, keys: &[&str]) -> Result<Vec<String>, StoreError> {
        keys.iter().map(|key| self.wire_key(key)).collect()
    }
}

#[cfg(any(feature = "memcached", feature = "redis"))]
impl Default for KeyPrefix {
    fn default() -> Self {
        KeyPrefix("session:".to_owned())
    }
}

/// The settings error for a server `address` that cannot be used, with its credentials
/// [redacted](redact): applications log these errors.
#[cfg(any(feature = "memcached", feature = "redis"))]
pub(crate) fn invalid_address(address: &str, reason: impl fmt::Display) -> StoreConfigError {
    StoreConfigError::InvalidAddress {
        address: redact(address),
        reason: reason.to_string(),
    }
}

/// `address` with every credential in it replaced by `***`: all that stands before the last `@`
/// of the part after `scheme://` (user and password: a password is often written where the
/// user goes), and the values of `user`, `username`, `pass` and `password` query parameters
/// (where Redis's Unix-socket URLs take them).
///
/// Meant for addresses that did not parse, so it assumes nothing of URL syntax: a password
/// with an unescaped `#`, `/`, `?` or `@` is still all before the last `@`. Also used without
/// a server-store feature, by the settings' errors for an unknown `SESSION_STORE`.
pub(crate) fn redact(address: &str) -> String {
    const HIDDEN: &str = "***";
    let (scheme, rest) = match address.find("://") {
        Some(end) => address.split_at(end + 3),
        None => ("", address),
    };
    let (userinfo, rest) = match rest.rfind('@') {
        Some(at) => (true, &rest[at + 1..]),
        None => (false, rest),
    };
    let mut redacted = String::with_capacity(address.len());
    redacted.push_str(scheme);
    if userinfo {
        redacted.push_str(HIDDEN);
        redacted.push('@');
    }
    let Some((base, query)) = rest.split_once('?') else {
        redacted.push_str(rest);
        return redacted;
    };
    redacted.push_str(base);
    for (index, pair) in query.split('&').enumerate() {
        redacted.push(if index == 0 { '?' } else { '&' });
        match pair.split_once('=') {
            Some((name, _))
                if ["user", "username", "pass", "password"]
                    .iter()
                    .any(|secret| name.eq_ignore_ascii_case(secret)) =>
            {
                redacted.push_str(name);
                redacted.push('=');
                redacted.push_str(HIDDEN);
            }
            _ => redacted.push_str(pair),
        }
    }
    redacted
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_graphic()
}

/// Whole seconds of `ttl`, rounded up, at least one: a zero TTL means "forever" to memcached and
/// an error to Redis, and neither is what a caller asking for a short life wants.
pub(crate) fn ttl_secs(ttl: Duration) -> u64 {
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    secs.max(1)
}

/// Polls every future until all are done; the results keep the futures' order.
///
/// A few lines instead of a dependency on `futures` for the one combinator the stores need.
pub(crate) fn join_all<'a, T: Send + 'a>(
    futures: Vec<BoxFuture<'a, T>>,
) -> impl Future<Output = Vec<T>> + Send + 'a {
    let mut pending: Vec<Option<BoxFuture<'a, T>>> = futures.into_iter().map(Some).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    core::future::poll_fn(move |cx| {
        let mut waiting = false;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *out = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(done.drain(..).flatten().collect())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_rounds_up_to_whole_seconds_and_at_least_one() {
        assert_eq!(ttl_secs(Duration::ZERO), 1);
        assert_eq!(ttl_secs(Duration::from_millis(1)), 1);
        assert_eq!(ttl_secs(Duration::from_secs(1)), 1);
        assert_eq!(ttl_secs(Duration::from_millis(1001)), 2);
        assert_eq!(ttl_secs(Duration::from_secs(86_400)), 86_400);
    }

    #[test]
    fn keys_are_printable_ascii_without_spaces() {
        assert!(check_key("abcDEF012-_.~:").is_ok());
        assert!(check_key(&"k".repeat(MAX_KEY_LEN)).is_ok());
        for bad in ["", "a b", "a\r\nset x", "é", "\0", "a\tb"] {
            assert!(
                matches!(check_key(bad), Err(StoreError::Rejected(_))),
                "{bad:?}"
            );
        }
        assert!(check_key(&"k".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    #[test]
    #[cfg(any(feature = "memcached", feature = "redis"))]
    fn prefixes_leave_room_for_the_longest_key() {
        assert!(KeyPrefix::new("").is_ok());
        assert!(KeyPrefix::new("shop:session:").is_ok());
        assert!(KeyPrefix::new(&"p".repeat(MAX_PREFIX_LEN)).is_ok());
        assert!(KeyPrefix::new(&"p".repeat(MAX_PREFIX_LEN + 1)).is_err());
        assert!(KeyPrefix::new("has space").is_err());
    }

    #[test]
    #[cfg(any(feature = "memcached", feature = "redis"))]
    fn wire_keys_are_checked_and_prefixed() {
        let prefix = KeyPrefix::default();
        assert_eq!(prefix.as_str(), "session:");
        assert_eq!(prefix.wire_key("s:ab"), Ok("session:s:ab".to_owned()));
        assert!(matches!(
            prefix.wire_key("b c"),
            Err(StoreError::Rejected(_))
        ));
        #[cfg(feature = "redis")]
        assert_eq!(
            prefix.wire_keys(&["a", "b"]),
            Ok(vec!["session:a".to_owned(), "session:b".to_owned()])
        );
        #[cfg(feature = "redis")]
        assert!(matches!(
            prefix.wire_keys(&["a", "b c"]),
            Err(StoreError::Rejected(_))
        ));
    }

    #[test]
    fn redact_hides_user_information_and_credential_parameters() {
        for (address, redacted) in [
            ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            ("10.0.0.1:11211", "10.0.0.1:11211"),
            ("redis://:pa#ss@h:6379", "redis://***@h:6379"),
            ("redis://u:p@ss/w?rd@h:1/2", "redis://***@h:1/2"),
            ("redis://secret@h", "redis://***@h"),
            ("u:p@h:11211", "***@h:11211"),
            (
                "redis+unix:///s.sock?db=1&PASS=x&user=u&protocol=3",
                "redis+unix:///s.sock?db=1&PASS=***&user=***&protocol=3",
            ),
            ("redis://h/?password", "redis://h/?password"),
        ] {
            assert_eq!(redact(address), redacted, "{address}");
        }
    }

    #[tokio::test]
    async fn join_all_keeps_order_whatever_finishes_first() {
        let futures: Vec<BoxFuture<'static, u32>> = (0..5u32)
            .map(|i| -> BoxFuture<'static, u32> {
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(u64::from(5 - i) * 3)).await;
                    i
                })
            })
            .collect();
        assert_eq!(join_all(futures).await, vec![0, 1, 2, 3, 4]);
        assert!(
            join_all(Vec::<BoxFuture<'static, u32>>::new())
                .await
                .is_empty()
        );
    }

    /// A store that never answers, to show where the timeout comes from.
    #[derive(Debug)]
    struct Silent;

    impl SessionStore for Silent {
        fn load<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
            Box::pin(core::future::pending())
        }
        fn save<'a>(
            &'a self,
            _: &'a str,
            _: &'a [u8],
            _: Duration,
            _: Condition,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(core::future::pending())
        }
        fn delete<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(core::future::pending())
        }
        fn marker_key(&self, key: &str) -> String {
            format!("e:{}", key.len())
        }
    }

    #[test]
    fn wrappers_forward_the_marker_key() {
        let store = Timed::new(Arc::new(Silent), Duration::from_secs(1));
        assert_eq!(store.marker_key("abc"), "e:3");
        let shared: Arc<dyn SessionStore> = Arc::new(store);
        assert_eq!(shared.marker_key("abcd"), "e:4");
        assert_eq!(MemoryStore::new().marker_key("abcd"), "e:");
    }

    #[test]
    fn wrappers_forward_the_backend_name() {
        assert_eq!(Silent.backend(), "custom");
        let store = Timed::new(Arc::new(MemoryStore::new()), Duration::from_secs(1));
        assert_eq!(store.backend(), "memory");
        let shared: Arc<dyn SessionStore> = Arc::new(store);
        assert_eq!(shared.backend(), "memory");
    }

    /// The server backends name themselves without connecting.
    #[test]
    #[cfg(feature = "memcached")]
    fn memcached_names_its_backend() {
        let pool = MemcachedStore::new(["127.0.0.1:11211", "127.0.0.1:11212"]).expect("pool");
        assert_eq!(pool.backend(), "memcached");
    }

    #[test]
    #[cfg(feature = "redis")]
    fn redis_names_its_backend_node_or_cluster() {
        let node = RedisStore::new("redis://127.0.0.1:6379/").expect("node");
        assert_eq!(node.backend(), "redis");
        let cluster = RedisStore::cluster(["redis://127.0.0.1:7000/", "redis://127.0.0.1:7001/"])
            .expect("cluster");
        assert_eq!(cluster.backend(), "redis-cluster");
    }

    #[tokio::test]
    async fn timed_ends_every_call_at_its_limit() {
        let limit = Duration::from_millis(40);
        let store = Timed::new(Silent, limit);
        let started = std::time::Instant::now();
        assert_eq!(store.load("k").await, Err(StoreError::Timeout(limit)));
        assert_eq!(
            store.load_many(&["a", "b"]).await,
            Err(StoreError::Timeout(limit))
        );
        assert_eq!(
            store
                .save("k", b"v", Duration::from_secs(1), Condition::Always)
                .await,
            Err(StoreError::Timeout(limit))
        );
        assert_eq!(store.delete("k").await, Err(StoreError::Timeout(limit)));
        let elapsed = started.elapsed();
        assert!(
            elapsed >= limit * 4 && elapsed < limit * 4 + Duration::from_secs(1),
            "{elapsed:?}"
        );
    }
}

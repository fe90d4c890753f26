//! Sessions in Redis: one node, or a Redis Cluster.
//!
//! One node goes through the `redis` crate's connection manager: one multiplexed connection
//! shared by every call, replaced in the background when it breaks. A cluster goes through the
//! crate's async cluster client, which follows the slot map (`MOVED`, `ASK`), reconnects to
//! nodes, and splits a multi-key `MGET` into one `MGET` per slot, answering in key order.
//!
//! Connections open on the first call, so a store can be built before Redis is up (and outside
//! a Tokio runtime). While Redis is down, calls fail quickly: the manager makes one new attempt
//! per failed call (and a single retry after a short pause), so a server that comes back is used
//! again within a fraction of a second. Timing out a call is left to [`Timed`](super::Timed).

use core::time::Duration;
use std::collections::HashMap;
use std::sync::OnceLock;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::{ClusterClient, ClusterConfig};
use ::redis::cluster_async::ClusterConnection;
use ::redis::cluster_routing::Slot;
use ::redis::{Cmd, ErrorKind, FromRedisValue, RedisError, ServerErrorKind};

use super::{
    BoxFuture, Condition, KeyPrefix, SessionStore, StoreConfigError, StoreError, invalid_address,
    redact, ttl_secs,
};

/// How long one connection attempt may take before it counts as failed: a server that accepts
/// but never answers must not hold the shared connection forever.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The hash slots of a Redis Cluster.
const SLOTS: usize = 16384;
/// The pause before the one retry of a failed connection, and its upper bound with jitter.
const RETRY_MIN_DELAY: Duration = Duration::from_millis(50);
const RETRY_MAX_DELAY: Duration = Duration::from_millis(200);

/// Sessions in one Redis node or a Redis Cluster, with `SET key value EX ttl [NX|XX]`, `GET`,
/// `MGET` and `DEL`.
///
/// Values are stored byte for byte. Keys get a prefix (`session:` unless changed).
///
/// ```
/// use session_runtime::RedisStore;
///
/// # fn main() -> Result<(), session_runtime::StoreConfigError> {
/// let single = RedisStore::new("redis://127.0.0.1:6379/")?.with_prefix("shop:session:")?;
/// let cluster = RedisStore::cluster([
///     "redis://10.0.0.1:6379/",
///     "redis://10.0.0.2:6379/",
///     "redis://10.0.0.3:6379/",
/// ])?;
/// # drop((single, cluster));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RedisStore {
    target: Target,
    connection: OnceLock<Result<Connection, StoreError>>,
    prefix: KeyPrefix,
}

#[derive(Debug)]
enum Target {
    Single(::redis::Client),
    Cluster(Box<ClusterClient>),
}

/// A live connection; both kinds are cheap handles onto a shared connection.
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Connection::Single(manager) => manager.fmt(f),
            Connection::Cluster(_) => f.write_str("ClusterConnection"),
        }
    }
}

impl RedisStore {
    /// A store on one Redis node, `redis://[user:password@]host[:port][/db]`.
    ///
    /// Fails when the URL is not one the client accepts; does not connect.
    pub fn new(url: &str) -> Result<Self, StoreConfigError> {
        let client = ::redis::Client::open(url).map_err(|error| invalid_address(url, error))?;
        Ok(RedisStore::with_target(Target::Single(client)))
    }

    /// A store on a Redis Cluster, given the URLs of one or more of its nodes; the client
    /// learns the others from them.
    ///
    /// Fails when the list is empty or a URL is not one the client accepts; does not connect.
    pub fn cluster<I>(nodes: I) -> Result<Self, StoreConfigError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let nodes: Vec<String> = nodes.into_iter().map(|n| n.as_ref().to_owned()).collect();
        if nodes.is_empty() {
            return Err(StoreConfigError::NoServers);
        }
        for node in &nodes {
            ::redis::Client::open(node.as_str()).map_err(|error| invalid_address(node, error))?;
        }
        let client = ClusterClient::builder(nodes.iter().map(String::as_str))
            .retries(2)
            .min_retry_wait(RETRY_MIN_DELAY.as_millis() as u64)
            .max_retry_wait(RETRY_MAX_DELAY.as_millis() as u64)
            .connection_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|error| StoreConfigError::InvalidAddress {
                address: nodes
                    .iter()
                    .map(|node| redact(node))
                    .collect::<Vec<_>>()
                    .join(","),
                reason: error.to_string(),
            })?;
        Ok(RedisStore::with_target(Target::Cluster(Box::new(client))))
    }

    fn with_target(target: Target) -> Self {
        RedisStore {
            target,
            connection: OnceLock::new(),
            prefix: KeyPrefix::default(),
        }
    }

    /// Puts `prefix` in front of every key, so several apps can share a server. At most 186
    /// printable ASCII characters without spaces; may be empty.
    ///
    /// On a cluster, a `{` in the prefix must open a whole hash tag (`{shop}:`, which puts every
    /// key in one slot); a lone `{` or an empty `{}` is refused, as it would move the markers
    /// ([`marker_key`](SessionStore::marker_key)) out of their keys' slots.
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self, StoreConfigError> {
        let checked = KeyPrefix::new(prefix)?;
        if matches!(self.target, Target::Cluster(_)) && !keeps_hash_tags(prefix) {
            return Err(StoreConfigError::InvalidPrefix(prefix.to_owned()));
        }
        self.prefix = checked;
        Ok(self)
    }

    /// The shared connection, set up on first use: both kinds spawn their driver task, so this
    /// must run inside the Tokio runtime, which the first call does.
    fn connection(&self) -> Result<Connection, StoreError> {
        self.connection
            .get_or_init(|| match &self.target {
                Target::Single(client) => {
                    let config = ConnectionManagerConfig::new()
                        .set_number_of_retries(1)
                        .set_min_delay(RETRY_MIN_DELAY)
                        .set_max_delay(RETRY_MAX_DELAY)
                        .set_connection_timeout(Some(CONNECT_TIMEOUT));
                    ConnectionManager::new_lazy_with_config(client.clone(), config)
                        .map(Connection::Single)
                        .map_err(|error| to_store_error(&error))
                }
                Target::Cluster(client) => {
                    let config = ClusterConfig::new().set_connection_timeout(CONNECT_TIMEOUT);
                    Ok(Connection::Cluster(
                        client.get_pending_async_connection_with_config(config),
                    ))
                }
            })
            .clone()
    }

    async fn query<T: FromRedisValue>(&self, command: &Cmd) -> Result<T, StoreError> {
        let result = match self.connection()? {
            Connection::Single(mut manager) => command.query_async(&mut manager).await,
            Connection::Cluster(mut cluster) => command.query_async(&mut cluster).await,
        };
        result.map_err(|error| to_store_error(&error))
    }
}

impl SessionStore for RedisStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let wire_key = self.prefix.wire_key(key)?;
            self.query(::redis::cmd("GET").arg(wire_key)).await
        })
    }

    fn load_many<'a>(
        &'a self,
        keys: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        Box::pin(async move {
            if let [key] = keys {
                // One key, the common case (an id cookie's entry): a `GET`, whose answer is
                // one bulk string rather than an array of one.
                let wire_key = self.prefix.wire_key(key)?;
                return Ok(vec![self.query(::redis::cmd("GET").arg(wire_key)).await?]);
            }
            let wire_keys = self.prefix.wire_keys(keys)?;
            if wire_keys.is_empty() {
                // `MGET` with no key is a syntax error.
                return Ok(Vec::new());
            }
            let values: Vec<Option<Vec<u8>>> =
                self.query(::redis::cmd("MGET").arg(&wire_keys)).await?;
            if values.len() != wire_keys.len() {
                return Err(StoreError::Protocol(format!(
                    "MGET of {} keys answered {} values",
                    wire_keys.len(),
                    values.len()
                )));
            }
            Ok(values)
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
        condition: Condition,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let wire_key = self.prefix.wire_key(key)?;
            let mut command = ::redis::cmd("SET");
            command
                .arg(wire_key)
                .arg(value)
                .arg("EX")
                .arg(ttl_secs(ttl));
            match condition {
                Condition::Always => {}
                Condition::Absent => {
                    command.arg("NX");
                }
                Condition::Present => {
                    command.arg("XX");
                }
            }
            // `OK` when written; nil when `NX` or `XX` did not hold.
            let reply: Option<()> = self.query(&command).await?;
            Ok(reply.is_some())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let wire_key = self.prefix.wire_key(key)?;
            self.query(::redis::cmd("DEL").arg(wire_key)).await
        })
    }

    /// One node: the default, `e:`. A cluster: one marker per hash slot, in the slot of `key`
    /// with its prefix, `e:{tag}`, where the hash tag `tag` is the first of the decimal numbers
    /// `0`, `1`, … that falls in that slot. A cluster node restarted empty, or flushed, loses
    /// the markers of its own slots only.
    fn marker_key(&self, key: &str) -> String {
        match self.target {
            Target::Single(_) => "e:".to_owned(),
            Target::Cluster(_) => {
                let slot = Slot::for_key(format!("{}{key}", self.prefix.as_str()));
                format!("e:{{{}}}", slot_tags()[&slot])
            }
        }
    }

    fn backend(&self) -> &'static str {
        match self.target {
            Target::Single(_) => "redis",
            Target::Cluster(_) => "redis-cluster",
        }
    }
}

/// For each hash slot, the first decimal number (as text) that falls in it: hashed once per
/// process, the same in every process, as the slot function is Redis's own (CRC16, exported by
/// the client).
fn slot_tags() -> &'static HashMap<Slot, Box<str>> {
    static TAGS: OnceLock<HashMap<Slot, Box<str>>> = OnceLock::new();
    TAGS.get_or_init(|| {
        let mut tags = HashMap::with_capacity(SLOTS);
        // The last slot is hit at 109 757: a few milliseconds, once.
        for number in 0u32.. {
            let tag = number.to_string();
            tags.entry(Slot::for_key(&tag))
                .or_insert_with(|| tag.into_boxed_str());
            if tags.len() == SLOTS {
                break;
            }
        }
        tags
    })
}

/// Whether a cluster key prefix leaves the markers' hash tags in force: it has no `{`, or its
/// first `{` opens a whole hash tag, which then places every key, markers included.
fn keeps_hash_tags(prefix: &str) -> bool {
    match prefix.split_once('{') {
        None => true,
        Some((_, rest)) => rest.find('}').is_some_and(|end| end > 0),
    }
}

/// Sorts a client error into the store's kinds. The text is built from the error's kind and
/// code, never its full message: a type error's message can quote the reply, and the reply is
/// session data.
fn to_store_error(error: &RedisError) -> StoreError {
    let unavailable = error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || matches!(
            error.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::ClusterDown
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::BusyLoading
                        | ServerErrorKind::ReadOnly
                )
        );
    if unavailable {
        // I/O and cluster-state messages carry addresses and OS errors, no data.
        return StoreError::Unavailable(format!("redis: {error}"));
    }
    match error.code() {
        Some(code @ "OOM") => StoreError::Rejected(format!("redis: {code} (maxmemory reached)")),
        Some(code) => StoreError::Protocol(format!("redis: {} ({code})", error.category())),
        None => StoreError::Protocol(format!("redis: {}", error.category())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::check_key;

    fn cluster() -> RedisStore {
        RedisStore::cluster(["redis://10.0.0.1:6379/"]).expect("cluster")
    }

    #[test]
    fn every_slot_has_a_short_tag_that_falls_in_it() {
        assert!(Slot::new(SLOTS as u16 - 1).is_some() && Slot::new(SLOTS as u16).is_none());
        let tags = slot_tags();
        assert_eq!(tags.len(), SLOTS);
        for (slot, tag) in tags {
            assert_eq!(Slot::for_key(&**tag), *slot, "{tag}");
            assert!(
                tag.len() <= 6 && tag.bytes().all(|b| b.is_ascii_digit()),
                "{tag}"
            );
        }
        // Pinned: the first numbers are their own slots' first tags (`CLUSTER KEYSLOT 0` is
        // 13907), and the names must not change between releases.
        assert_eq!(&*tags[&Slot::for_key("0")], "0");
        assert_eq!(Slot::new(13907), Some(Slot::for_key("0")));
    }

    #[test]
    fn a_cluster_marker_is_in_the_slot_of_the_prefixed_key() {
        for prefix in ["session:", "", "a}b:", "{shop}:", "x{y}{:"] {
            let store = cluster().with_prefix(prefix).expect("prefix");
            for i in 0..500 {
                let key = format!("s:{i:032x}");
                let marker = store.marker_key(&key);
                assert!(check_key(&marker).is_ok(), "{marker}");
                assert_eq!(
                    Slot::for_key(format!("{prefix}{marker}")),
                    Slot::for_key(format!("{prefix}{key}")),
                    "{prefix}{key}"
                );
            }
        }
        let single = RedisStore::new("redis://10.0.0.1:6379/").expect("store");
        assert_eq!(single.marker_key("s:0"), "e:");
    }

    #[test]
    fn a_cluster_prefix_may_hold_only_whole_hash_tags() {
        for bad in ["a{b:", "{}:", "a{:", "x{}y}"] {
            assert_eq!(
                cluster().with_prefix(bad).err(),
                Some(StoreConfigError::InvalidPrefix(bad.to_owned())),
                "{bad}"
            );
            // One node has no slots: any printable prefix does.
            assert!(
                RedisStore::new("redis://h/")
                    .expect("store")
                    .with_prefix(bad)
                    .is_ok()
            );
        }
    }
}

//! Sessions in a pool of memcached servers.
//!
//! Keys are spread over the servers by consistent hashing ([`hashring`]): every server is
//! placed on a ring at [`POINTS_PER_SERVER`] points derived from its address, and a key belongs
//! to the first point at or after the key's own hash. Removing a server from the list moves
//! only the keys it held; the order of the list does not matter; and every process hashing the
//! same list agrees, because the points and keys are hashed with SipHash-2-4 under fixed keys
//! over their bytes alone.
//!
//! A server that stops answering is not taken off the ring: its share of the sessions fails
//! (and the middleware applies its fail-open or fail-closed rule) while the other servers keep
//! serving theirs. Moving its keys to another server at run time would bring old copies back
//! once it returns, a revoked session among them.
//!
//! The client is `async-memcached` over the text protocol (`get` with many keys, `set` and `add`
//! with an expiry, `delete`, and the meta `ms … MR` for a write only over an existing entry,
//! as the client has no `replace`): made for Tokio, binary-safe, it reads every reply (a refused `set` is an
//! error here, where a `noreply` client would report success), and it closes a connection whose
//! call was dropped half way instead of handing the rest of that reply to the next call, which
//! is what a timeout does to a call. Each server has a small pool of connections: a call borrows one, and gives
//! it back only when its reply was read whole. A call that fails on the network, or is dropped
//! mid-reply by [`Timed`](super::Timed), drops its connection instead, since a half-read reply
//! would answer the next call. After a refused connection the server is left alone for
//! [`RECONNECT_PAUSE`], so a dead server costs its callers an immediate error rather than a
//! connection attempt each.

use core::hash::{Hash, Hasher};
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use async_memcached::{AsciiProtocol, Client, Error, ErrorKind, MetaProtocol, Status, Value};
use hashring::HashRing;
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{
    BoxFuture, Condition, KeyPrefix, SessionStore, StoreConfigError, StoreError, invalid_address,
    join_all, ttl_secs,
};

/// Points each server has on the hash ring: enough for shares within a few percent of even.
const POINTS_PER_SERVER: u32 = 160;
/// Connections per server in a new store.
const DEFAULT_POOL_SIZE: usize = 8;
/// How long a server whose connection was refused is left alone before the next attempt.
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);
/// Memcached reads an expiry above 30 days as a Unix time, not a duration.
const MAX_RELATIVE_EXPIRY: u64 = 30 * 24 * 60 * 60;

/// Sessions in one memcached server or a pool of them, spread by consistent hashing.
///
/// Connections open on first use, so a store can be built while its servers are down. Values
/// are stored byte for byte. Memcached keeps items up to 1 MiB by default (its `-I` option);
/// a larger value is refused with [`StoreError::Rejected`], and memcached then drops what was
/// under the key, so that no stale value outlives a failed write.
///
/// Connects over IPv4 only (a limit of the client).
///
/// **Warning**: memcached has no authentication and no encryption: anyone who reaches its port
/// reads and writes every entry. The runtime stores only sealed envelopes, so entries cannot be
/// read or forged without the session keys, but they can be deleted. Keep memcached on a private
/// network.
///
/// ```
/// use session_runtime::MemcachedStore;
///
/// # fn main() -> Result<(), session_runtime::StoreConfigError> {
/// let store = MemcachedStore::new(["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"])?
///     .with_prefix("shop:session:")?
///     .with_pool_size(16);
/// # drop(store);
/// # Ok(())
/// # }
/// ```
pub struct MemcachedStore {
    servers: Vec<Server>,
    ring: HashRing<Point>,
    /// Each server's marker key, `e:` and a tag of its address, to the server's index: the
    /// marker lives on the server it names, whatever the ring says of that key.
    markers: HashMap<String, usize>,
    prefix: KeyPrefix,
}

impl core::fmt::Debug for MemcachedStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemcachedStore")
            .field("servers", &self.servers)
            .field("prefix", &self.prefix.as_str())
            .finish_non_exhaustive()
    }
}

/// One server's place on the ring. Only the address and the point number are hashed, so a
/// server's points do not depend on its position in the list.
#[derive(Debug, Clone)]
struct Point {
    server: usize,
    address: String,
    number: u32,
}

impl Hash for Point {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Raw bytes only: `str`'s own `Hash` adds a terminator that Rust does not promise to keep.
        state.write(self.address.as_bytes());
        state.write(b"#");
        state.write(&self.number.to_be_bytes());
    }
}

/// A key as the ring hashes it: its bytes, nothing else.
struct RingKey<'a>(&'a str);

impl Hash for RingKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.0.as_bytes());
    }
}

struct Server {
    address: String,
    /// Its marker key ([`SessionStore::marker_key`]).
    marker: String,
    /// The address as the client takes it.
    dsn: String,
    /// Bounds the connections open to this server at once, idle or in use.
    permits: Semaphore,
    idle: Mutex<Vec<Client>>,
    down_until: Mutex<Option<Instant>>,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("address", &self.address)
            .field("idle", &lock(&self.idle).len())
            .finish_non_exhaustive()
    }
}

/// One memcached command.
enum Command<'a> {
    Get(&'a [String]),
    /// `set`, `add` or a meta `ms … MR` (memcached's text protocol has `replace` too, which
    /// the client lacks), by the condition.
    Set {
        key: &'a str,
        value: &'a [u8],
        exptime: i64,
        condition: Condition,
    },
    Delete(&'a str),
}

/// What a command that was answered in full returned.
enum Reply {
    /// The items a `get` found.
    Values(Vec<Value>),
    /// Whether a write was made (`false`: its condition did not hold, `NOT_STORED` / `NS`).
    Written(bool),
    /// A `delete` went through (the key is gone, or was not there).
    Deleted,
}

/// A connection borrowed from a server's pool, with the permit that counts it.
struct Lease<'a> {
    client: Client,
    reused: bool,
    _permit: SemaphorePermit<'a>,
}

impl MemcachedStore {
    /// A store over `servers`, each `host:port`, with the key prefix `session:` and up to 8
    /// connections per server.
    ///
    /// Fails when the list is empty, an address is not `host:port`, or a server is listed twice.
    pub fn new<I>(servers: I) -> Result<Self, StoreConfigError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let addresses: Vec<String> = servers.into_iter().map(Into::into).collect();
        if addresses.is_empty() {
            return Err(StoreConfigError::NoServers);
        }
        let mut points = Vec::new();
        for (server, address) in addresses.iter().enumerate() {
            check_address(address)?;
            if addresses[..server].contains(address) {
                return Err(StoreConfigError::DuplicateServer(address.clone()));
            }
            points.extend((0..POINTS_PER_SERVER).map(|number| Point {
                server,
                address: address.clone(),
                number,
            }));
        }
        let mut ring = HashRing::new();
        ring.batch_add(points);
        let servers: Vec<Server> = addresses
            .into_iter()
            .map(|address| Server::new(address, DEFAULT_POOL_SIZE))
            .collect();
        let mut markers = HashMap::new();
        for (index, server) in servers.iter().enumerate() {
            if let Some(other) = markers.insert(server.marker.clone(), index) {
                // Two addresses whose 64-bit tags agree: not expected to happen, ever.
                return Err(StoreConfigError::InvalidAddress {
                    address: server.address.clone(),
                    reason: format!(
                        "its marker key is that of {}: list one of them under another name",
                        servers[other].address
                    ),
                });
            }
        }
        Ok(MemcachedStore {
            servers,
            ring,
            markers,
            prefix: KeyPrefix::default(),
        })
    }

    /// Puts `prefix` in front of every key, so several apps can share servers. At most 186
    /// printable ASCII characters without spaces; may be empty.
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self, StoreConfigError> {
        self.prefix = KeyPrefix::new(prefix)?;
        Ok(self)
    }

    /// Opens at most `size` connections to each server (at least one). Calls beyond that wait
    /// for a free connection, within their [`Timed`](super::Timed) limit.
    pub fn with_pool_size(mut self, size: usize) -> Self {
        for server in &mut self.servers {
            server.permits = Semaphore::new(size.max(1));
        }
        self
    }

    /// The server that holds `key`, as given to [`new`](Self::new). A server's marker key
    /// ([`marker_key`](SessionStore::marker_key)) is held by that server.
    pub fn server_for(&self, key: &str) -> &str {
        &self.servers[self.server_index(key)].address
    }

    fn server_index(&self, key: &str) -> usize {
        if let Some(&server) = self.markers.get(key) {
            return server;
        }
        // The ring holds every server's points, so it is never empty.
        self.ring.get(&RingKey(key)).map_or(0, |point| point.server)
    }
}

impl SessionStore for MemcachedStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let wire_keys = [self.prefix.wire_key(key)?];
            let server = &self.servers[self.server_index(key)];
            let mut values = server.get(&wire_keys).await?;
            Ok(values.remove(&wire_keys[0]))
        })
    }

    fn load_many<'a>(
        &'a self,
        keys: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        Box::pin(async move {
            let wire_keys = self.prefix.wire_keys(keys)?;
            // One multi-key `get` per server, all servers at once.
            let mut by_server: Vec<Vec<String>> = vec![Vec::new(); self.servers.len()];
            for (key, wire_key) in keys.iter().zip(&wire_keys) {
                by_server[self.server_index(key)].push(wire_key.clone());
            }
            let gets: Vec<BoxFuture<'_, _>> = by_server
                .into_iter()
                .enumerate()
                .filter(|(_, group)| !group.is_empty())
                .map(|(server, group)| -> BoxFuture<'_, _> {
                    Box::pin(async move { self.servers[server].get(&group).await })
                })
                .collect();
            let mut found = HashMap::new();
            for values in join_all(gets).await {
                found.extend(values?);
            }
            Ok(wire_keys
                .iter()
                .map(|key| found.get(key).cloned())
                .collect())
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
            let command = Command::Set {
                key: &wire_key,
                value,
                exptime: exptime(ttl, SystemTime::now()),
                condition,
            };
            let server = &self.servers[self.server_index(key)];
            match server.run(&command).await? {
                Reply::Written(written) => Ok(written),
                _ => Err(unexpected(&server.address)),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let wire_key = self.prefix.wire_key(key)?;
            let server = &self.servers[self.server_index(key)];
            server.run(&Command::Delete(&wire_key)).await.map(drop)
        })
    }

    /// The marker of the server that holds `key`: `e:` and 16 hex digits of the SHA-256 of the
    /// server's address, so every process listing the same server names the same marker, in
    /// whatever order the list comes. The calls route it to that server, not through the ring.
    fn marker_key(&self, key: &str) -> String {
        self.servers[self.server_index(key)].marker.clone()
    }

    fn backend(&self) -> &'static str {
        "memcached"
    }
}

impl Server {
    fn new(address: String, pool_size: usize) -> Self {
        Server {
            dsn: format!("tcp://{address}"),
            marker: marker_of(&address),
            address,
            permits: Semaphore::new(pool_size),
            idle: Mutex::new(Vec::new()),
            down_until: Mutex::new(None),
        }
    }

    /// The values found for `keys`, by wire key.
    async fn get(&self, keys: &[String]) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        let Reply::Values(values) = self.run(&Command::Get(keys)).await? else {
            return Err(unexpected(&self.address));
        };
        Ok(values
            .into_iter()
            .filter_map(|value| {
                let key = String::from_utf8(value.key).ok()?;
                Some((key, value.data.unwrap_or_default()))
            })
            .collect())
    }

    /// Runs `command` on a pooled connection. A pooled connection may have died while idle (the
    /// server restarted): a network failure on one is retried once on a new connection. That is
    /// safe for `get`, `set` and `delete`, which are idempotent, and errs on the safe side for a
    /// conditional write: should the server have run the first one before the connection broke,
    /// the retry finds the condition unmet and answers `false` for a write that was made (an
    /// `add` of a fresh session id, which the caller then does not use) or `true` for a
    /// `Present` write it repeats over itself.
    async fn run(&self, command: &Command<'_>) -> Result<Reply, StoreError> {
        let mut lease = self.lease().await?;
        let mut result = execute(&mut lease.client, command).await;
        if lease.reused && result.as_ref().is_err_and(is_broken) {
            drop(lease);
            self.forget_idle();
            lease = self.lease().await?;
            result = execute(&mut lease.client, command).await;
        }
        match result {
            Ok(values) => {
                self.give_back(lease.client);
                Ok(values)
            }
            Err(error) if is_broken(&error) || lease.client.is_closed() => {
                self.forget_idle();
                Err(StoreError::Unavailable(format!(
                    "memcached {}: {error}",
                    self.address
                )))
            }
            Err(error) => {
                self.give_back(lease.client);
                Err(refusal(&self.address, error))
            }
        }
    }

    async fn lease(&self) -> Result<Lease<'_>, StoreError> {
        let permit = self.permits.acquire().await.map_err(|_| {
            StoreError::Unavailable(format!("memcached {}: pool closed", self.address))
        })?;
        if let Some(client) = lock(&self.idle).pop() {
            return Ok(Lease {
                client,
                reused: true,
                _permit: permit,
            });
        }
        if lock(&self.down_until).is_some_and(|until| Instant::now() < until) {
            return Err(StoreError::Unavailable(format!(
                "memcached {}: refused a connection moments ago",
                self.address
            )));
        }
        match Client::new(&self.dsn).await {
            Ok(client) => {
                *lock(&self.down_until) = None;
                Ok(Lease {
                    client,
                    reused: false,
                    _permit: permit,
                })
            }
            Err(error) => {
                *lock(&self.down_until) = Some(Instant::now() + RECONNECT_PAUSE);
                Err(StoreError::Unavailable(format!(
                    "memcached {}: {error}",
                    self.address
                )))
            }
        }
    }

    fn give_back(&self, client: Client) {
        if !client.is_closed() {
            lock(&self.idle).push(client);
        }
    }

    /// Drops the idle connections: after one broke, the others most likely did too.
    fn forget_idle(&self) {
        lock(&self.idle).clear();
    }
}

async fn execute(client: &mut Client, command: &Command<'_>) -> Result<Reply, Error> {
    match *command {
        Command::Get(keys) => match client.get_multi(keys).await {
            // No key found: the client reports the bare `END` as "not found".
            Err(Error::Protocol(Status::NotFound)) => Ok(Reply::Values(Vec::new())),
            other => other.map(Reply::Values),
        },
        Command::Set {
            key,
            value,
            exptime,
            condition,
        } => {
            let written = match condition {
                Condition::Always => client.set(key, value, Some(exptime), None).await,
                Condition::Absent => client.add(key, value, Some(exptime), None).await,
                // The meta `T` flag reads an expiry past 30 days as a date, as `set` does.
                Condition::Present => {
                    let ttl = format!("T{exptime}");
                    let flags = ["MR", ttl.as_str()];
                    let set = client.meta_set(key, value, false, None, Some(&flags));
                    set.await.map(drop)
                }
            };
            match written {
                Ok(()) => Ok(Reply::Written(true)),
                // `NOT_STORED` to `add`, `NS` to `ms`: the condition did not hold.
                Err(Error::Protocol(Status::NotStored)) => Ok(Reply::Written(false)),
                Err(error) => Err(error),
            }
        }
        Command::Delete(key) => match client.delete(key).await {
            Ok(()) | Err(Error::Protocol(Status::NotFound)) => Ok(Reply::Deleted),
            Err(error) => Err(error),
        },
    }
}

/// A reply of the wrong kind for its command: a bug here or in the client, not the server.
fn unexpected(address: &str) -> StoreError {
    StoreError::Protocol(format!("memcached {address}: a reply of the wrong kind"))
}

/// A failure that leaves the connection unusable.
fn is_broken(error: &Error) -> bool {
    matches!(
        error,
        Error::Connect(_) | Error::Io(_) | Error::ConnectionClosed | Error::ParseError(_)
    )
}

/// The store error for a reply that was read whole but is not success.
fn refusal(address: &str, error: Error) -> StoreError {
    match error {
        Error::Protocol(Status::Error(ErrorKind::Server(message) | ErrorKind::Client(message))) => {
            StoreError::Rejected(format!("memcached {address}: {}", message.trim_end()))
        }
        Error::Protocol(Status::Error(ErrorKind::KeyTooLong)) => {
            StoreError::Rejected(format!("memcached {address}: key too long"))
        }
        other => StoreError::Protocol(format!("memcached {address}: {other}")),
    }
}

/// The `exptime` memcached reads as `ttl` from now: seconds up to 30 days, a Unix time beyond.
fn exptime(ttl: Duration, now: SystemTime) -> i64 {
    let secs = ttl_secs(ttl);
    let exptime = if secs <= MAX_RELATIVE_EXPIRY {
        secs
    } else {
        let unix_now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        unix_now.saturating_add(secs)
    };
    i64::try_from(exptime).unwrap_or(i64::MAX)
}

/// The marker key of the server at `address`.
fn marker_of(address: &str) -> String {
    let digest = Sha256::digest(address.as_bytes());
    let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("e:{tag}")
}

fn check_address(address: &str) -> Result<(), StoreConfigError> {
    let invalid = |reason: &str| invalid_address(address, reason);
    if address.contains('@') {
        // Nothing to authenticate with: this client speaks memcached's text protocol, which
        // has no login. Refused before it reaches an error message or a log.
        return Err(invalid(
            "memcached takes no user or password: give `host:port`",
        ));
    }
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| invalid("expected `host:port`"))?;
    if host.is_empty() || host.bytes().any(|b| b.is_ascii_whitespace() || b == b'/') {
        return Err(invalid(
            "expected `host:port` with a host name or IPv4 address",
        ));
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(()),
        _ => Err(invalid("the port must be a number from 1 to 65535")),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // No critical section here panics, so a poisoned lock still guards a whole value.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::check_key;

    fn store(servers: &[&str]) -> MemcachedStore {
        MemcachedStore::new(servers.iter().copied()).expect("valid servers")
    }

    fn keys() -> Vec<String> {
        (0..3000).map(|i| format!("k{i:05}")).collect()
    }

    #[test]
    fn shares_are_near_even() {
        let pool = store(&["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]);
        let mut counts = HashMap::<&str, usize>::new();
        for key in keys() {
            *counts.entry(pool.server_for(&key)).or_default() += 1;
        }
        assert_eq!(counts.len(), 3);
        for (server, count) in counts {
            assert!(
                (800..=1200).contains(&count),
                "{server} holds {count} of 3000"
            );
        }
    }

    #[test]
    fn removing_a_server_moves_only_its_keys_and_order_does_not_matter() {
        let three = store(&["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]);
        let reordered = store(&["10.0.0.3:11211", "10.0.0.1:11211", "10.0.0.2:11211"]);
        let two = store(&["10.0.0.1:11211", "10.0.0.3:11211"]);
        let mut moved = 0;
        for key in keys() {
            let before = three.server_for(&key);
            assert_eq!(reordered.server_for(&key), before);
            if before == "10.0.0.2:11211" {
                moved += 1;
            } else {
                assert_eq!(two.server_for(&key), before, "{key} moved");
            }
        }
        assert!(moved > 0);
    }

    #[test]
    fn placement_is_the_same_in_every_process() {
        // Pinned: a change here would send every running app's sessions to other servers.
        let pool = store(&["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]);
        let placed: Vec<&str> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|key| pool.server_for(key))
            .collect();
        assert_eq!(placed, PINNED_PLACEMENT);
    }

    const PINNED_PLACEMENT: [&str; 6] = [
        "10.0.0.2:11211",
        "10.0.0.1:11211",
        "10.0.0.3:11211",
        "10.0.0.1:11211",
        "10.0.0.1:11211",
        "10.0.0.2:11211",
    ];

    #[test]
    fn a_marker_lives_on_the_server_of_its_key_and_is_routed_there_off_the_ring() {
        let addresses: Vec<String> = (1..=10).map(|i| format!("10.0.0.{i}:11211")).collect();
        let pool = store(&addresses.iter().map(String::as_str).collect::<Vec<_>>());
        let mut markers = HashMap::new();
        for key in keys() {
            let marker = pool.marker_key(&key);
            assert_eq!(pool.server_for(&marker), pool.server_for(&key), "{key}");
            assert!(check_key(&marker).is_ok(), "{marker}");
            markers.insert(marker, pool.server_for(&key));
        }
        assert_eq!(markers.len(), 10, "one marker per server");
        // Through the ring, most markers would land on another server than the one they name.
        let off_ring = markers
            .iter()
            .filter(|(marker, server)| {
                let ring = pool.ring.get(&RingKey(marker)).map(|point| point.server);
                ring.map(|index| pool.servers[index].address.as_str()) != Some(**server)
            })
            .count();
        assert!(off_ring > 0);
    }

    #[test]
    fn marker_names_are_the_same_in_every_process() {
        // Pinned (the first 16 hex digits of `sha256sum` of the address): a change here would
        // read as every server having lost its data.
        let pool = store(&["10.0.0.2:11211", "10.0.0.1:11211"]);
        for key in ["a", "b", "c", "d", "e", "f"] {
            let expected = match pool.server_for(key) {
                "10.0.0.1:11211" => "e:b35794b2c78f9dce",
                "10.0.0.2:11211" => "e:ba81e96c26f59e06",
                other => panic!("{other}"),
            };
            assert_eq!(pool.marker_key(key), expected, "{key}");
        }
    }

    #[test]
    fn expiry_past_thirty_days_is_sent_as_a_unix_time() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(exptime(Duration::from_millis(1500), now), 2);
        assert_eq!(
            exptime(Duration::from_secs(MAX_RELATIVE_EXPIRY), now),
            2_592_000
        );
        let forty_days = Duration::from_secs(40 * 24 * 3600);
        assert_eq!(exptime(forty_days, now), 1_800_000_000 + 40 * 24 * 3600);
    }

    #[test]
    fn settings_are_checked() {
        let none: [&str; 0] = [];
        assert_eq!(
            MemcachedStore::new(none).err(),
            Some(StoreConfigError::NoServers)
        );
        for bad in [
            "localhost",
            "host:",
            ":11211",
            "host:0",
            "host:99999",
            "a b:1",
            "tcp://h:1",
            "user:password@h:1",
        ] {
            assert!(
                matches!(
                    MemcachedStore::new([bad]),
                    Err(StoreConfigError::InvalidAddress { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            MemcachedStore::new(["h:1", "h:2", "h:1"]).err(),
            Some(StoreConfigError::DuplicateServer("h:1".into()))
        );
        assert!(matches!(
            store(&["h:1"]).with_prefix("a b"),
            Err(StoreConfigError::InvalidPrefix(_))
        ));
    }
}

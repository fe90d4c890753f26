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
//! Each server gets one connection (or a few: [`MemcachedStore::with_pool_size`]) shared by
//! every call: memcached answers the commands of a connection in the order they came, so calls
//! are pipelined over it as the Redis backend multiplexes its connection. The client is our own
//! (`pipeline`): a task per connection writes the queued commands together and hands each reply
//! to the oldest waiting call, so a call whose future is dropped (a timeout) leaves its reply to
//! be read and discarded in its turn, never to answer the next call. A connection that breaks
//! fails the calls waiting on it and is replaced on the next call; after a refused connection
//! the server is left alone for [`RECONNECT_PAUSE`], so a dead server costs its callers an
//! immediate error rather than a connection attempt each, and only one call at a time connects.

use core::hash::{Hash, Hasher};
use core::time::Duration;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hashring::HashRing;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

mod pipeline;
use pipeline::{Connection, Expect, Failure, Reply};

use super::{
    BoxFuture, Condition, KeyPrefix, SessionStore, StoreConfigError, StoreError, invalid_address,
    join_all, ttl_secs,
};

/// Points each server has on the hash ring: enough for shares within a few percent of even.
const POINTS_PER_SERVER: u32 = 160;
/// Connections per server in a new store: one, as every call is pipelined over it.
const DEFAULT_POOL_SIZE: usize = 1;
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
/// Every call to a server is pipelined over one connection to it (or a few, with
/// [`with_pool_size`](Self::with_pool_size)): a call sends its command and waits for its reply
/// in turn, so concurrent calls share one `write` and one `read` on both ends. A call dropped
/// before its reply came (by its [`Timed`](super::Timed) limit) leaves the connection in step:
/// its reply is read and discarded. A connection that breaks fails the calls waiting on it with
/// [`StoreError::Unavailable`], and the next call opens a new one; a call that was alone on it
/// is sent once more on a new connection first, as that is how a connection the server closed
/// while idle (a restart) shows. A server that owes replies and sends none for 2 s has its
/// connection replaced the same way. At most 1024 calls wait on one connection; more wait for
/// a turn.
///
/// Needs memcached 1.6 or later, for the meta commands `ms` and `md` (tested with 1.6.18). A host name may resolve to
/// IPv4 or IPv6; an IPv6 address is written in brackets (`[::1]:11211`).
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
///     .with_pool_size(2);
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
    /// The connections calls are spread over, each opened on first use and replaced once closed.
    slots: Box<[Mutex<Option<Arc<Connection>>>]>,
    /// The slot the next call takes, modulo their number.
    next: AtomicUsize,
    /// Held while connecting, so a server has one connection attempt under way at a time.
    connecting: tokio::sync::Mutex<()>,
    down_until: Mutex<Option<Instant>>,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let open = self
            .slots
            .iter()
            .filter(|slot| lock(slot).as_ref().is_some_and(|c| !c.is_closed()))
            .count();
        f.debug_struct("Server")
            .field("address", &self.address)
            .field("connections", &open)
            .finish_non_exhaustive()
    }
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

    /// Spreads the calls to each server over `size` pipelined connections (at least one; one
    /// by default), taken in turn.
    ///
    /// One connection carries any number of concurrent calls. Memcached serves each connection
    /// on one of its worker threads (its `-t` option), so a few connections can help a server
    /// with several threads keep up with one very busy application; more cost memcached CPU
    /// per call, as each connection's replies are then sent in smaller batches.
    pub fn with_pool_size(mut self, size: usize) -> Self {
        for server in &mut self.servers {
            server.slots = (0..size.max(1)).map(|_| Mutex::new(None)).collect();
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
            let wire_key = self.prefix.wire_key(key)?;
            let server = &self.servers[self.server_index(key)];
            let mut values = server.get(vec![wire_key]).await?;
            Ok(values.pop().flatten())
        })
    }

    fn load_many<'a>(
        &'a self,
        keys: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        Box::pin(async move {
            // One multi-key `get` per server, all servers at once; each key's position in
            // `keys` goes along, to put the answers back in order.
            let mut by_server: Vec<(Vec<usize>, Vec<String>)> =
                vec![(Vec::new(), Vec::new()); self.servers.len()];
            for (position, key) in keys.iter().enumerate() {
                let (positions, wire_keys) = &mut by_server[self.server_index(key)];
                positions.push(position);
                wire_keys.push(self.prefix.wire_key(key)?);
            }
            let mut groups = Vec::new();
            let mut gets: Vec<BoxFuture<'_, _>> = Vec::new();
            for (server, (positions, wire_keys)) in by_server.into_iter().enumerate() {
                if positions.is_empty() {
                    continue;
                }
                groups.push(positions);
                gets.push(Box::pin(self.servers[server].get(wire_keys)));
            }
            let mut found = vec![None; keys.len()];
            for (positions, values) in groups.into_iter().zip(join_all(gets).await) {
                for (position, value) in positions.into_iter().zip(values?) {
                    found[position] = value;
                }
            }
            Ok(found)
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
            let exptime = exptime(ttl, SystemTime::now());
            let command = pipeline::set_command(&wire_key, value, exptime, condition);
            let server = &self.servers[self.server_index(key)];
            match server.run(command, Expect::Store).await? {
                Reply::Written(written) => Ok(written),
                _ => Err(unexpected(&server.address)),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let wire_key = self.prefix.wire_key(key)?;
            let command = pipeline::delete_command(&wire_key);
            let server = &self.servers[self.server_index(key)];
            server.run(command, Expect::Delete).await.map(drop)
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
            marker: marker_of(&address),
            address,
            slots: (0..pool_size).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            connecting: tokio::sync::Mutex::new(()),
            down_until: Mutex::new(None),
        }
    }

    /// The values under `keys` (wire keys), in their order.
    async fn get(&self, keys: Vec<String>) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let command = pipeline::get_command(&keys);
        match self.run(command, Expect::Get(keys)).await? {
            Reply::Values(values) => Ok(values),
            _ => Err(unexpected(&self.address)),
        }
    }

    /// Sends `command` on one of the server's connections and waits for its reply.
    ///
    /// A call sent on a connection with nothing else in flight, which then ended before the
    /// reply came, is sent once more on a new connection: that is how a connection the server
    /// closed while it was idle (a restart) shows, when its end was not yet seen. Sending again
    /// is safe for every command the store sends, should the server have run the first one:
    /// `get`, `set` and `delete` are idempotent, and a conditional write errs on the safe side:
    /// the repeat finds its condition unmet and answers `false` for a write that was made (an
    /// `add` of a fresh session id, which the caller then does not use) or `true` for a
    /// `Present` write it repeats over itself. Calls in flight together when their connection
    /// breaks fail with [`StoreError::Unavailable`], as does a second failure; a command that
    /// was never sent is always sent again. When the server is down, the new connection is
    /// refused, and the calls after that fail at once for [`RECONNECT_PAUSE`].
    async fn run(&self, command: Vec<u8>, expect: Expect) -> Result<Reply, StoreError> {
        let connection = self.connection().await?;
        // Kept only when it may be needed, so a busy connection copies no command.
        let again = connection
            .is_idle()
            .then(|| (command.clone(), expect.clone()));
        let outcome = match connection.call(command, expect).await {
            Err(Failure::NotSent(command, expect)) => {
                self.connection().await?.call(command, expect).await
            }
            Err(Failure::Broken(why)) => match again {
                Some((command, expect)) => self.connection().await?.call(command, expect).await,
                None => Err(Failure::Broken(why)),
            },
            answered => answered,
        };
        outcome.map_err(|failure| match failure {
            Failure::Broken(why) => {
                StoreError::Unavailable(format!("memcached {}: {why}", self.address))
            }
            Failure::NotSent(..) => StoreError::Unavailable(format!(
                "memcached {}: the connection closed before the call was sent",
                self.address
            )),
            Failure::Refused(message) => {
                StoreError::Rejected(format!("memcached {}: {message}", self.address))
            }
        })
    }

    /// An open connection from the next slot, opened now if the slot has none.
    async fn connection(&self) -> Result<Arc<Connection>, StoreError> {
        let slot = match self.slots.len() {
            1 => &self.slots[0],
            n => &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % n],
        };
        if let Some(open) = live(slot) {
            return Ok(open);
        }
        let _connecting = self.connecting.lock().await;
        // Another call may have connected this slot while this one waited.
        if let Some(open) = live(slot) {
            return Ok(open);
        }
        if lock(&self.down_until).is_some_and(|until| Instant::now() < until) {
            return Err(StoreError::Unavailable(format!(
                "memcached {}: refused a connection moments ago",
                self.address
            )));
        }
        let stream = TcpStream::connect(self.address.as_str())
            .await
            .and_then(|stream| stream.set_nodelay(true).map(|()| stream));
        match stream {
            Ok(stream) => {
                *lock(&self.down_until) = None;
                let connection = Arc::new(Connection::start(stream));
                *lock(slot) = Some(Arc::clone(&connection));
                Ok(connection)
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
}

/// The connection in `slot`, if it is open.
fn live(slot: &Mutex<Option<Arc<Connection>>>) -> Option<Arc<Connection>> {
    lock(slot)
        .as_ref()
        .filter(|connection| !connection.is_closed())
        .cloned()
}

/// A reply of the wrong kind for its command: a bug here, not the server.
fn unexpected(address: &str) -> StoreError {
    StoreError::Protocol(format!("memcached {address}: a reply of the wrong kind"))
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
        // Nothing to authenticate with: the store speaks memcached's text protocol, which has
        // no login. Refused before it reaches an error message or a log.
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

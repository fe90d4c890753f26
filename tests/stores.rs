//! The store suite: one set of cases, run against every backend on real servers (memcached, a
//! pool of three, redis-server, a three-node Redis Cluster) and the memory store; then the
//! faults: a pool member killed, Redis killed and restarted, a server that never answers.
//!
//! Needs memcached, redis-server and redis-cli: `scripts/install-servers` installs them.

mod servers;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use servers::{BlackHole, Fault, FaultProxy, Memcached, MemcachedPool, Redis, RedisCluster};
use session_runtime::Condition::{Absent, Always, Present};
use session_runtime::{
    MemcachedStore, MemoryStore, RedisStore, SessionStore, StoreConfigError, StoreError, Timed,
};

/// Every store in these tests is bounded by this: a case that hangs fails instead.
const LIMIT: Duration = Duration::from_millis(500);
const HOUR: Duration = Duration::from_secs(3600);

fn timed<S: SessionStore>(store: S) -> Timed<S> {
    Timed::new(store, LIMIT)
}

/// Bytes that look like nothing in particular, different for each seed.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// The backend-level cases, the same for every store. Takes about 2.1 s: the TTL case saves
/// first and checks last.
async fn suite<S: SessionStore>(store: &S) {
    // TTL: 1 s, rounded up to whole seconds, so gone after 2.1 s; a TTL past 30 days (which
    // memcached reads as a date unless sent as one) still keeps the value.
    let ttl_saved = Instant::now();
    store
        .save("ttl-short", b"brief", Duration::from_secs(1), Always)
        .await
        .expect("save with a 1 s TTL");
    let forty_days = Duration::from_secs(40 * 24 * 3600);
    store
        .save("ttl-long", b"lasting", forty_days, Always)
        .await
        .expect("save with a 40-day TTL");
    assert_eq!(
        store.load("ttl-short").await.expect("load"),
        Some(b"brief".to_vec())
    );
    // A conditional save that writes sets the new TTL (here past 30 days, sent as a date by
    // memcached's meta protocol too); one that does not write leaves the old TTL alone.
    store
        .save("ttl-renewed", b"v1", Duration::from_secs(1), Always)
        .await
        .expect("save");
    assert_eq!(
        store.save("ttl-renewed", b"v2", forty_days, Present).await,
        Ok(true)
    );
    store
        .save("ttl-kept", b"v1", Duration::from_secs(1), Always)
        .await
        .expect("save");
    assert_eq!(store.save("ttl-kept", b"v2", HOUR, Absent).await, Ok(false));

    round_trip(store).await;
    missing_and_delete(store).await;
    overwrite(store).await;
    load_many(store).await;
    conditions(store).await;
    markers(store).await;
    refuses_bad_keys(store).await;

    let wait = Duration::from_millis(2100).saturating_sub(ttl_saved.elapsed());
    tokio::time::sleep(wait).await;
    assert_eq!(store.load("ttl-short").await.expect("load"), None, "TTL");
    assert_eq!(
        store.load("ttl-long").await.expect("load"),
        Some(b"lasting".to_vec()),
        "a 40-day TTL"
    );
    assert_eq!(
        store.load("ttl-renewed").await.expect("load"),
        Some(b"v2".to_vec()),
        "a `Present` save's 40-day TTL"
    );
    assert_eq!(
        store.load("ttl-kept").await.expect("load"),
        None,
        "a refused `Absent` save renewed the TTL"
    );
    // An expired entry is no entry, whether or not the backend has swept it yet.
    assert_eq!(
        store.save("ttl-short", b"again", HOUR, Present).await,
        Ok(false),
        "`Present` over an expired entry"
    );
    assert_eq!(store.load("ttl-short").await.expect("load"), None);
    assert_eq!(
        store.save("ttl-short", b"again", HOUR, Absent).await,
        Ok(true),
        "`Absent` over an expired entry"
    );
}

async fn round_trip<S: SessionStore>(store: &S) {
    let values: Vec<(&str, Vec<u8>)> = vec![
        ("zero", vec![0x00]),
        ("ff", vec![0xff]),
        ("all-bytes", (0..=255u8).collect()),
        // What a text protocol would read as a line end and a reply.
        ("framing", b"\r\nEND\r\nVALUE x 0 1\r\n\0\xff".to_vec()),
        ("empty", Vec::new()),
        ("large", noise(100 * 1024, 1)),
    ];
    for (key, value) in &values {
        store.save(key, value, HOUR, Always).await.expect("save");
    }
    for (key, value) in &values {
        let loaded = store.load(key).await.expect("load");
        assert_eq!(loaded.as_deref(), Some(&value[..]), "{key} round trip");
    }
}

async fn missing_and_delete<S: SessionStore>(store: &S) {
    assert_eq!(store.load("never-saved").await.expect("load"), None);
    store
        .delete("never-saved")
        .await
        .expect("deleting a missing key succeeds");
    store
        .save("doomed", b"v", HOUR, Always)
        .await
        .expect("save");
    store.delete("doomed").await.expect("delete");
    assert_eq!(store.load("doomed").await.expect("load"), None, "deleted");
}

async fn overwrite<S: SessionStore>(store: &S) {
    store
        .save("over", &noise(5000, 2), HOUR, Always)
        .await
        .expect("save");
    store
        .save("over", b"short", HOUR, Always)
        .await
        .expect("overwrite");
    assert_eq!(
        store.load("over").await.expect("load"),
        Some(b"short".to_vec())
    );
}

async fn load_many<S: SessionStore>(store: &S) {
    // Enough keys to land on every server of a pool and in many cluster slots.
    let keys: Vec<String> = (0..40).map(|i| format!("many-{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        if i % 3 != 0 {
            store
                .save(key, &noise(64, i as u32), HOUR, Always)
                .await
                .expect("save");
        }
    }
    let mut asked: Vec<&str> = keys.iter().map(String::as_str).collect();
    asked.push("many-1");
    asked.push("many-none");
    let loaded = store.load_many(&asked).await.expect("load_many");
    assert_eq!(loaded.len(), asked.len());
    for (i, (key, value)) in asked.iter().zip(&loaded).enumerate() {
        let expected = match i {
            40 => Some(noise(64, 1)),
            41 => None,
            i if i % 3 == 0 => None,
            i => Some(noise(64, i as u32)),
        };
        assert_eq!(value, &expected, "load_many answer for {key}");
    }
    assert_eq!(
        store.load_many(&[]).await.expect("no keys"),
        Vec::<Option<Vec<u8>>>::new()
    );
}

/// Conditional writes: `Ok(false)` and nothing written when the condition does not hold.
async fn conditions<S: SessionStore>(store: &S) {
    let load = |key| async move { store.load(key).await.expect("load") };

    // `Absent`: a new session id takes its key only when no entry has it.
    assert_eq!(store.save("cond", b"first", HOUR, Absent).await, Ok(true));
    assert_eq!(store.save("cond", b"second", HOUR, Absent).await, Ok(false));
    assert_eq!(load("cond").await, Some(b"first".to_vec()));

    // `Present`: an existing session is replaced, a missing one is not created.
    assert_eq!(store.save("cond", b"third", HOUR, Present).await, Ok(true));
    assert_eq!(load("cond").await, Some(b"third".to_vec()));
    assert_eq!(
        store.save("cond-none", b"v", HOUR, Present).await,
        Ok(false)
    );
    assert_eq!(load("cond-none").await, None);
    let large = noise(100 * 1024, 5);
    assert_eq!(store.save("cond", &large, HOUR, Present).await, Ok(true));
    assert_eq!(load("cond").await, Some(large));

    // A logout deletes the entry; a request still in flight cannot bring it back.
    store.delete("cond").await.expect("delete");
    assert_eq!(store.save("cond", b"stale", HOUR, Present).await, Ok(false));
    assert_eq!(load("cond").await, None);

    // `Always`: written whatever is there.
    assert_eq!(store.save("cond", b"a", HOUR, Always).await, Ok(true));
    assert_eq!(store.save("cond", b"b", HOUR, Always).await, Ok(true));
    assert_eq!(load("cond").await, Some(b"b".to_vec()));

    // Checked and written in one step: of eight racing `Absent` saves, exactly one wins, and
    // its value is the one kept.
    let race = |i: u8| async move { (i, store.save("cond-race", &[i], HOUR, Absent).await) };
    let results = tokio::join!(
        race(0),
        race(1),
        race(2),
        race(3),
        race(4),
        race(5),
        race(6),
        race(7)
    );
    let results = [
        results.0, results.1, results.2, results.3, results.4, results.5, results.6, results.7,
    ];
    let winners: Vec<u8> = results
        .iter()
        .filter_map(|(i, result)| (*result.as_ref().expect("save")).then_some(*i))
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(load("cond-race").await, Some(winners));
}

/// A key's marker is a key like any other, the same for the same key each time, read with the
/// key in one `load_many` and written once with `Absent`, as the runtime does.
async fn markers<S: SessionStore>(store: &S) {
    for i in 0..40 {
        let key = format!("marked-{i}");
        let marker = store.marker_key(&key);
        assert_eq!(store.marker_key(&key), marker);
        assert!(
            (1..=64).contains(&marker.len()) && marker.bytes().all(|b| b.is_ascii_graphic()),
            "{marker:?}"
        );
        store.save(&key, b"v", HOUR, Always).await.expect("save");
        let loaded = store.load_many(&[&key, &marker]).await.expect("load_many");
        assert_eq!(loaded[0].as_deref(), Some(&b"v"[..]));
        // Keys on one server or in one slot share their marker: an earlier key wrote it.
        if loaded[1].is_none() {
            assert_eq!(store.save(&marker, b"1", HOUR, Absent).await, Ok(true));
        }
        assert_eq!(store.save(&marker, b"2", HOUR, Absent).await, Ok(false));
        assert_eq!(store.load(&marker).await, Ok(Some(b"1".to_vec())));
    }
}

async fn refuses_bad_keys<S: SessionStore>(store: &S) {
    for bad in ["has space", "line\r\nbreak", ""] {
        for condition in [Always, Absent, Present] {
            let refused = store.save(bad, b"v", HOUR, condition).await;
            assert!(
                matches!(refused, Err(StoreError::Rejected(_))),
                "{bad:?} {condition:?}: {refused:?}"
            );
        }
        assert!(matches!(
            store.load(bad).await,
            Err(StoreError::Rejected(_))
        ));
    }
}

#[tokio::test]
async fn memory_store() {
    suite(&timed(MemoryStore::new())).await;
}

/// The same cases through the forwarding impl of `Arc`, as the layer holds a store.
#[tokio::test]
async fn memory_store_behind_an_arc() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    suite(&timed(store)).await;
}

#[tokio::test]
async fn memcached_one_server() {
    let server = Memcached::start();
    let store = MemcachedStore::new([server.address()]).expect("store");
    suite(&timed(store)).await;
}

#[tokio::test]
async fn memcached_pool_of_three() {
    let pool = MemcachedPool::start(3);
    let store = MemcachedStore::new(pool.addresses()).expect("store");
    suite(&timed(store)).await;
}

#[tokio::test]
async fn redis_one_node() {
    let server = Redis::start();
    let store = RedisStore::new(&server.url()).expect("store");
    suite(&timed(store)).await;
}

#[tokio::test]
async fn redis_cluster_of_three() {
    let cluster = RedisCluster::start();
    let store = RedisStore::cluster(cluster.urls()).expect("store");
    suite(&timed(store)).await;
}

/// Keys spread over the pool; a dead member loses its share and only that; the rest is served,
/// and calls for the dead member's keys fail at once rather than hang.
#[tokio::test]
async fn memcached_pool_member_killed_loses_only_its_share() {
    let mut pool = MemcachedPool::start(3);
    let addresses = pool.addresses();
    let store = timed(MemcachedStore::new(addresses.clone()).expect("store"));
    let keys: Vec<String> = (0..300).map(|i| format!("spread-{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        store
            .save(key, &noise(32, i as u32), HOUR, Always)
            .await
            .expect("save");
    }

    // Each member holds the keys the ring assigns it, and a fair share of them.
    for address in &addresses {
        let alone = MemcachedStore::new([address.clone()]).expect("store");
        let mut held = 0;
        for key in &keys {
            let here = alone.load(key).await.expect("load").is_some();
            assert_eq!(
                here,
                store.inner().server_for(key) == address.as_str(),
                "{key}"
            );
            held += usize::from(here);
        }
        assert!(held >= 50, "{address} holds only {held} of 300 keys");
    }

    // Listing one server fewer moves only that server's keys.
    let without_second =
        MemcachedStore::new([addresses[0].clone(), addresses[2].clone()]).expect("store");
    for (i, key) in keys.iter().enumerate() {
        if store.inner().server_for(key) != addresses[1] {
            assert_eq!(
                without_second.load(key).await.expect("load"),
                Some(noise(32, i as u32)),
                "{key} should not have moved"
            );
        }
    }

    pool.kill(1);
    let (mut lost, mut served) = (0, 0);
    let mut slowest_failure = Duration::ZERO;
    for (i, key) in keys.iter().enumerate() {
        let started = Instant::now();
        let loaded = store.load(key).await;
        if store.inner().server_for(key) == addresses[1] {
            assert!(
                matches!(loaded, Err(StoreError::Unavailable(_))),
                "{key}: {loaded:?}"
            );
            slowest_failure = slowest_failure.max(started.elapsed());
            lost += 1;
        } else {
            assert_eq!(loaded, Ok(Some(noise(32, i as u32))), "{key}");
            served += 1;
        }
    }
    assert!(lost >= 50 && served >= 150, "lost {lost}, served {served}");
    // Refused at once (the connection is reset), not waited out to the store's timeout; half
    // of it leaves room for a loaded machine.
    assert!(
        slowest_failure < LIMIT / 2,
        "a call to the dead member took {slowest_failure:?}"
    );

    // Writes to the live members go on; a batch that needs the dead one fails as a whole.
    let live: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|key| store.inner().server_for(key) != addresses[1])
        .collect();
    store
        .save(live[0], b"after", HOUR, Always)
        .await
        .expect("save");
    assert_eq!(store.load(live[0]).await, Ok(Some(b"after".to_vec())));
    assert_eq!(
        store
            .load_many(&live)
            .await
            .expect("batch on live members")
            .len(),
        live.len()
    );
    let all: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert!(matches!(
        store.load_many(&all).await,
        Err(StoreError::Unavailable(_))
    ));
}

/// One server, one marker for the whole store: the memory store and one Redis node keep the
/// default, `e:`.
#[tokio::test]
async fn single_servers_have_one_marker() {
    let redis = Redis::start();
    let stores: [(&str, Arc<dyn SessionStore>); 2] = [
        ("memory", Arc::new(timed(MemoryStore::new()))),
        (
            "redis",
            Arc::new(timed(RedisStore::new(&redis.url()).expect("store"))),
        ),
    ];
    for (name, store) in stores {
        for key in ["a", "marked-1", "s:0123456789abcdef"] {
            assert_eq!(store.marker_key(key), "e:", "{name}");
        }
    }
}

/// One memcached server restarted: its marker is gone, and can be written anew.
#[tokio::test]
async fn memcached_restart_loses_the_marker() {
    let mut server = Memcached::start();
    let store = timed(MemcachedStore::new([server.address()]).expect("store"));
    let marker = store.marker_key("marked-1");
    for i in 0..20 {
        assert_eq!(
            store.marker_key(&format!("k{i}")),
            marker,
            "one server, one marker"
        );
    }
    assert_eq!(store.save(&marker, b"1", HOUR, Absent).await, Ok(true));
    assert_eq!(store.save(&marker, b"2", HOUR, Absent).await, Ok(false));

    server.restart();
    assert_eq!(store.load(&marker).await, Ok(None), "after the restart");
    assert_eq!(store.save(&marker, b"3", HOUR, Absent).await, Ok(true));
}

/// One Redis node flushed, then restarted without persistence: each time the marker is gone.
#[tokio::test]
async fn redis_flush_and_restart_lose_the_marker() {
    let mut server = Redis::start();
    let store = timed(RedisStore::new(&server.url()).expect("store"));
    let marker = store.marker_key("marked-1");
    assert_eq!(store.save(&marker, b"1", HOUR, Absent).await, Ok(true));
    assert_eq!(store.save(&marker, b"2", HOUR, Absent).await, Ok(false));

    server.flushall();
    assert_eq!(store.load(&marker).await, Ok(None), "after FLUSHALL");
    assert_eq!(store.save(&marker, b"3", HOUR, Absent).await, Ok(true));

    server.kill();
    server.restart();
    let restarted = Instant::now();
    let loaded = loop {
        match store.load(&marker).await {
            Ok(loaded) => break loaded,
            Err(error) => assert!(
                restarted.elapsed() < Duration::from_secs(1),
                "still failing a second after the restart: {error}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(loaded, None, "after the restart");
}

/// One marker per pool member, living on that member (routed to it, not through the ring):
/// listed in any order, the pool names the same markers, and a restarted member loses exactly
/// the markers of the keys it holds.
#[tokio::test]
async fn memcached_pool_markers_live_on_the_server_of_their_key() {
    let mut pool = MemcachedPool::start(3);
    let addresses = pool.addresses();
    let direct = MemcachedStore::new(addresses.clone()).expect("store");
    let reversed = MemcachedStore::new(addresses.iter().rev().cloned()).expect("store");
    // As the layer holds it: `Arc<dyn SessionStore>` around `Timed`.
    let store: Arc<dyn SessionStore> = Arc::new(timed(
        MemcachedStore::new(addresses.clone()).expect("store"),
    ));
    let keys: Vec<String> = (0..300).map(|i| format!("marked-{i}")).collect();

    let mut markers: HashMap<&str, String> = HashMap::new();
    for key in &keys {
        let marker = store.marker_key(key);
        assert_eq!(
            reversed.marker_key(key),
            marker,
            "{key}: the order of the list"
        );
        let holder = direct.server_for(key);
        let named = markers.entry(holder).or_insert_with(|| marker.clone());
        assert_eq!(*named, marker, "{key}: one marker per server");
    }
    assert_eq!(markers.len(), 3, "{markers:?}");

    // Written through the pool, each marker is on the server it names, and on no other.
    for marker in markers.values() {
        assert_eq!(store.save(marker, b"1", HOUR, Absent).await, Ok(true));
    }
    for address in &addresses {
        let alone = MemcachedStore::new([address.clone()]).expect("store");
        for (holder, marker) in &markers {
            let here = alone.load(marker).await.expect("load").is_some();
            assert_eq!(here, holder == address, "{marker} on {address}");
        }
    }

    pool.members[1].restart();
    assert_markers_lost(&store, &keys, |key| direct.server_for(key) == addresses[1]).await;
}

/// Asserts that the marker of each of `keys` is gone exactly when `lost_here(key)` says its
/// server lost its data, and that this is neither none of the keys nor all of them.
async fn assert_markers_lost<S: SessionStore + ?Sized>(
    store: &S,
    keys: &[String],
    lost_here: impl Fn(&str) -> bool,
) {
    let mut gone = 0;
    for key in keys {
        let lost = store
            .load(&store.marker_key(key))
            .await
            .expect("load")
            .is_none();
        assert_eq!(lost, lost_here(key), "{key}'s marker");
        gone += usize::from(lost);
    }
    assert!(
        0 < gone && gone < keys.len(),
        "{gone} of {} keys lost their marker",
        keys.len()
    );
}

/// One marker per hash slot, in the slot of the key with its prefix: Redis itself says so
/// (`CLUSTER KEYSLOT`), and `FLUSHALL` on the node that owns a key takes that key's marker,
/// and only the markers of that node's keys.
#[tokio::test]
async fn redis_cluster_markers_share_the_slot_of_their_key() {
    let cluster = RedisCluster::start();
    let node = &cluster.nodes[0];
    let keys: Vec<String> = (0..200).map(|i| format!("marked-{i}")).collect();
    for prefix in ["other:", "session:"] {
        let store = timed(
            RedisStore::cluster(cluster.urls())
                .expect("store")
                .with_prefix(prefix)
                .expect("prefix"),
        );
        let mut by_slot: HashMap<u16, String> = HashMap::new();
        for key in &keys {
            let marker = store.marker_key(key);
            let slot = node.keyslot(&format!("{prefix}{key}"));
            assert_eq!(
                node.keyslot(&format!("{prefix}{marker}")),
                slot,
                "{prefix}{key} and its marker {marker}"
            );
            let named = by_slot.entry(slot).or_insert_with(|| marker.clone());
            assert_eq!(*named, marker, "one marker per slot");
            store.save(&marker, b"1", HOUR, Always).await.expect("save");
        }
        let distinct: HashSet<&String> = by_slot.values().collect();
        assert_eq!(
            distinct.len(),
            by_slot.len(),
            "a marker per slot, not shared"
        );
    }

    let store = timed(RedisStore::cluster(cluster.urls()).expect("store"));
    let owned = node.owned_slots();
    node.flushall();
    assert_markers_lost(&store, &keys, |key| {
        let slot = node.keyslot(&format!("session:{key}"));
        owned.iter().any(|range| range.contains(&slot))
    })
    .await;
}

/// A value over memcached's item limit is refused, and the connection stays in step: the next
/// call on the same (only) connection gets its own answer. Memcached also drops what was under
/// the key (so that no stale value outlives a failed write), whichever command was refused.
#[tokio::test]
async fn memcached_refuses_an_oversized_value_and_keeps_serving() {
    let server = Memcached::start();
    let store = timed(
        MemcachedStore::new([server.address()])
            .expect("store")
            .with_pool_size(1),
    );
    store
        .save("small", b"ok", HOUR, Always)
        .await
        .expect("save");
    let huge = noise(1536 * 1024, 3);
    // Each condition is its own command: `set`, `add`, meta `ms … MR`.
    for condition in [Always, Absent, Present] {
        let key = format!("huge-{condition:?}");
        if condition != Absent {
            store.save(&key, b"old", HOUR, Always).await.expect("save");
        }
        let refused = store.save(&key, &huge, HOUR, condition).await;
        assert!(
            matches!(refused, Err(StoreError::Rejected(_))),
            "{condition:?}: {refused:?}"
        );
        assert_eq!(
            store.load("small").await,
            Ok(Some(b"ok".to_vec())),
            "{condition:?}"
        );
        assert_eq!(store.load(&key).await, Ok(None), "{condition:?}");
    }
}

/// A call dropped half way (before or while its reply arrived) must not leave its reply to
/// answer the next call.
async fn dropped_calls_leave_no_stale_reply<S: SessionStore>(store: S) {
    let big = noise(900 * 1024, 4);
    store.save("big", &big, HOUR, Always).await.expect("save");
    store
        .save("small", b"mine", HOUR, Always)
        .await
        .expect("save");
    let mut cut = 0;
    for step in 0..20u64 {
        let load = store.load("big");
        if step % 2 == 0 {
            // Dropped after its first poll: the request is sent, no byte of the reply read.
            tokio::select! {
                biased;
                _ = load => {}
                () = std::future::ready(()) => cut += 1,
            }
        } else {
            // Dropped when the timer fires, which is about when the reply is arriving.
            let _ = tokio::time::timeout(Duration::from_micros(step * 100), load).await;
        }
        let next = tokio::time::timeout(LIMIT, store.load("small")).await;
        assert_eq!(next, Ok(Ok(Some(b"mine".to_vec()))), "after step {step}");
    }
    assert_eq!(
        cut, 10,
        "every call dropped after one poll was still waiting"
    );
}

#[tokio::test]
async fn memcached_dropped_call_leaves_no_stale_reply() {
    let server = Memcached::start();
    let store = MemcachedStore::new([server.address()])
        .expect("store")
        .with_pool_size(1);
    dropped_calls_leave_no_stale_reply(store).await;
}

/// memcached's count of connections ever accepted (`total_connections`).
fn memcached_connections(server: &Memcached) -> u64 {
    use std::io::{BufRead, BufReader, Write};
    let mut stream = std::net::TcpStream::connect(server.address()).expect("connect");
    stream.write_all(b"stats\r\n").expect("ask");
    let mut lines = BufReader::new(stream).lines();
    loop {
        let line = lines.next().expect("a stats line").expect("read");
        if let Some(count) = line.strip_prefix("STAT total_connections ") {
            return count.trim().parse().expect("a number");
        }
        assert_ne!(line, "END", "no total_connections");
    }
}

/// Many calls at once share one connection (a new store opens one per server), each gets its
/// own answer, and a refused value among them (over memcached's item limit) leaves the others
/// in step.
#[tokio::test]
async fn memcached_concurrent_calls_are_pipelined_over_one_connection() {
    let server = Memcached::start();
    let store = timed(MemcachedStore::new([server.address()]).expect("store"));
    store.load("warm-up").await.expect("load");
    let before = memcached_connections(&server);
    let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
    let huge = noise(1536 * 1024, 9);
    let saves = keys.iter().enumerate().map(|(i, key)| {
        let store = &store;
        let value = if i == 100 {
            huge.clone()
        } else {
            noise(40 + i, i as u32)
        };
        async move { (i, store.save(key, &value, HOUR, Always).await) }
    });
    for (i, saved) in join_all(saves).await {
        if i == 100 {
            assert!(matches!(saved, Err(StoreError::Rejected(_))), "{saved:?}");
        } else {
            assert_eq!(saved, Ok(true), "k{i}");
        }
    }
    let loads = keys.iter().enumerate().map(|(i, key)| {
        let store = &store;
        async move { (i, store.load(key).await) }
    });
    for (i, loaded) in join_all(loads).await {
        let expected = (i != 100).then(|| noise(40 + i, i as u32));
        assert_eq!(loaded, Ok(expected), "k{i}");
    }
    // One key of each pair is missing: the multi-key gets answer in key order regardless.
    let many: Vec<Vec<&str>> = (0..50)
        .map(|i| vec![keys[i].as_str(), "missing", keys[i + 1].as_str()])
        .collect();
    let gets = many.iter().map(|keys| store.load_many(keys));
    for (i, found) in join_all(gets).await.into_iter().enumerate() {
        assert_eq!(
            found,
            Ok(vec![
                (i != 100).then(|| noise(40 + i, i as u32)),
                None,
                (i + 1 != 100).then(|| noise(41 + i, i as u32 + 1)),
            ]),
            "{i}"
        );
    }
    // The stats call is the only other connection.
    assert_eq!(memcached_connections(&server), before + 1);
}

/// Runs `futures` concurrently, results in their order.
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(Box::pin).map(Some).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => {
                        *out = Some(value);
                        *slot = None;
                    }
                    std::task::Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// Calls dropped while others are in flight on the same connection: every call still waiting
/// gets its own answer, and so does the next one.
#[tokio::test]
async fn memcached_calls_dropped_mid_flight_leave_the_others_in_step() {
    let server = Memcached::start();
    let store = MemcachedStore::new([server.address()]).expect("store");
    let keys: Vec<String> = (0..64).map(|i| format!("d{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        let value = noise(if i % 3 == 0 { 200 * 1024 } else { 30 }, i as u32);
        store.save(key, &value, HOUR, Always).await.expect("save");
    }
    for round in 0..5 {
        let mut loads: Vec<_> = keys.iter().map(|key| Some(store.load(key))).collect();
        // Poll each once: every command is queued or sent, no reply read yet.
        std::future::poll_fn(|cx| {
            for load in loads.iter_mut().flatten() {
                assert!(load.as_mut().poll(cx).is_pending(), "answered at once");
            }
            std::task::Poll::Ready(())
        })
        .await;
        // Drop every other call (a different half each round) mid-flight.
        for (i, load) in loads.iter_mut().enumerate() {
            if (i + round) % 2 == 0 {
                *load = None;
            }
        }
        let kept = loads
            .into_iter()
            .enumerate()
            .filter_map(|(i, load)| load.map(|load| async move { (i, load.await) }));
        for (i, loaded) in join_all(kept).await {
            let len = if i % 3 == 0 { 200 * 1024 } else { 30 };
            assert_eq!(
                loaded,
                Ok(Some(noise(len, i as u32))),
                "round {round}, d{i}"
            );
        }
        assert_eq!(
            store.load(&keys[1]).await,
            Ok(Some(noise(30, 1))),
            "round {round}"
        );
    }
}

/// A hung server: calls end at their `Timed` limit and none is answered with another's reply.
/// When the connection then breaks, every call still waiting on it fails at once
/// (`Unavailable`, not a timeout), and once the server is back the next call reconnects and
/// gets its own answer.
#[tokio::test]
async fn memcached_hung_then_broken_connection_fails_its_calls_and_reconnects() {
    let server = Memcached::start();
    let (switch, fault) = tokio::sync::watch::channel(Fault::Pass);
    let proxy = FaultProxy::start(server.port(), fault);
    let store = MemcachedStore::new([proxy.address()]).expect("store");
    let bounded = timed(store);
    bounded
        .save("mine", b"before", HOUR, Always)
        .await
        .expect("save");

    switch.send_replace(Fault::Hang);
    for _ in 0..3 {
        assert_eq!(bounded.load("mine").await, Err(StoreError::Timeout(LIMIT)));
    }
    // Calls waiting, without a limit, when the proxy drops the hung connection.
    let store = bounded.inner();
    let waiting: Vec<_> = (0..10).map(|_| store.load("mine")).collect();
    let mut waiting: Vec<_> = waiting.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        for call in waiting.iter_mut().flatten() {
            assert!(call.as_mut().poll(cx).is_pending(), "answered while hung");
        }
        std::task::Poll::Ready(())
    })
    .await;
    switch.send_replace(Fault::Down);
    let failed = tokio::time::timeout(
        Duration::from_secs(10),
        join_all(waiting.into_iter().flatten()),
    )
    .await
    .expect("the broken connection ends its calls");
    for result in failed {
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
    }

    switch.send_replace(Fault::Pass);
    // The down proxy may have refused a connection moments ago: the store waits
    // `RECONNECT_PAUSE` before trying again, so a few calls may fail fast first.
    let mut attempts = 0;
    let answer = loop {
        attempts += 1;
        match bounded.load("mine").await {
            Err(StoreError::Unavailable(_)) if attempts < 50 => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => break other,
        }
    };
    assert_eq!(answer, Ok(Some(b"before".to_vec())));
    bounded
        .save("mine", b"after", HOUR, Always)
        .await
        .expect("save");
    assert_eq!(bounded.load("mine").await, Ok(Some(b"after".to_vec())));
}

/// memcached restarted: the connection it closed is replaced on the next call, which is
/// answered (the restarted server is empty), without a failed call in between.
#[tokio::test]
async fn memcached_restart_is_followed_by_a_reconnect() {
    let mut server = Memcached::start();
    let store = timed(MemcachedStore::new([server.address()]).expect("store"));
    for round in 0..3 {
        store
            .save("k", b"v", HOUR, Always)
            .await
            .expect("save before the restart");
        server.restart();
        assert_eq!(store.load("k").await, Ok(None), "round {round}");
        assert_eq!(store.save("k", b"w", HOUR, Present).await, Ok(false));
    }
}

/// A server that takes commands and never answers: the connection is given up after the stall
/// limit (2 s), so a call without a time limit of its own ends instead of waiting for the
/// kernel's TCP timeouts.
#[tokio::test]
async fn memcached_gives_up_a_connection_that_never_answers() {
    let hole = BlackHole::start();
    let store = MemcachedStore::new([hole.address()]).expect("store");
    let ended = tokio::time::timeout(Duration::from_secs(20), store.load("k"))
        .await
        .expect("the connection is given up");
    assert!(
        matches!(&ended, Err(StoreError::Unavailable(why)) if why.contains("no reply")),
        "{ended:?}"
    );
}

#[tokio::test]
async fn redis_dropped_call_leaves_no_stale_reply() {
    let server = Redis::start();
    dropped_calls_leave_no_stale_reply(RedisStore::new(&server.url()).expect("store")).await;
}

/// Redis killed: calls fail, none hangs. Restarted on the same port: served again within a
/// second, without rebuilding the store.
#[tokio::test]
async fn redis_killed_and_restarted() {
    let mut server = Redis::start();
    let store = timed(RedisStore::new(&server.url()).expect("store"));
    store
        .save("before", b"v", HOUR, Always)
        .await
        .expect("save");

    server.kill();
    for _ in 0..5 {
        let started = Instant::now();
        let loaded = store.load("before").await;
        assert!(
            matches!(
                loaded,
                Err(StoreError::Unavailable(_) | StoreError::Timeout(_))
            ),
            "{loaded:?}"
        );
        assert!(started.elapsed() < LIMIT + Duration::from_millis(100));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    server.restart();
    let restarted = Instant::now();
    loop {
        if store.save("after", b"back", HOUR, Always).await.is_ok() {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(1),
            "still failing a second after the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recovered = restarted.elapsed();
    assert_eq!(store.load("after").await, Ok(Some(b"back".to_vec())));
    // Nothing was persisted, so the session saved before the crash is gone.
    assert_eq!(store.load("before").await, Ok(None));
    eprintln!("redis served again {recovered:?} after the restart");
}

/// A server that accepts connections and never answers: `Timed` ends every call at its limit
/// (and without it, the call would still be waiting).
#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let hole = BlackHole::start();
    let limit = Duration::from_millis(200);
    let stores: [(&str, Arc<dyn SessionStore>); 3] = [
        (
            "memcached",
            Arc::new(MemcachedStore::new([hole.address()]).expect("store")),
        ),
        (
            "redis",
            Arc::new(RedisStore::new(&hole.url()).expect("store")),
        ),
        (
            "redis cluster",
            Arc::new(RedisStore::cluster([hole.url()]).expect("store")),
        ),
    ];
    for (name, store) in stores {
        let unbounded = tokio::time::timeout(Duration::from_millis(300), store.load("k")).await;
        assert!(
            unbounded.is_err(),
            "{name}: answered without a server: {unbounded:?}"
        );

        let bounded = Timed::new(store, limit);
        let started = Instant::now();
        assert_eq!(
            bounded.load("k").await,
            Err(StoreError::Timeout(limit)),
            "{name}"
        );
        assert_eq!(
            bounded.save("k", b"v", HOUR, Always).await,
            Err(StoreError::Timeout(limit)),
            "{name}"
        );
        assert_eq!(
            bounded.load_many(&["a", "b"]).await,
            Err(StoreError::Timeout(limit)),
            "{name}"
        );
        assert_eq!(
            bounded.delete("k").await,
            Err(StoreError::Timeout(limit)),
            "{name}"
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed >= limit * 4 && elapsed < limit * 4 + Duration::from_secs(2),
            "{name}: four calls took {elapsed:?}"
        );
    }
}

/// A store address that cannot be used is echoed in the error, which applications log: never
/// with its credentials, however malformed the URL (an unescaped `#`, `/`, `?` or `@` in the
/// password, a bad port, host or database, a scheme the client does not take).
#[test]
fn config_errors_never_show_credentials() {
    const SECRET: &str = "s3cr3t";
    let check = |what: &str, error: StoreConfigError| {
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(
                !shown.contains(SECRET) && !shown.contains("pa#ss") && !shown.contains("hunter"),
                "{what}: {shown}"
            );
        }
        // Still says which server: the host stays.
        assert!(
            error.to_string().contains("127.0.0.1") || error.to_string().contains(".sock"),
            "{what}: {error}"
        );
    };
    let redis_urls = [
        "redis://:pa#ss@127.0.0.1:6379",
        "redis://hunter:pa#ss@127.0.0.1:6379/",
        "redis://:s3cr3t/x@127.0.0.1:6379",
        "redis://:s3cr3t?x@127.0.0.1:6379",
        "redis://:s3cr3t@s3cr3t@127.0.0.1:6379/not-a-db",
        "redis://:s3cr3t@127.0.0.1:99999",
        "redis://:s3cr3t@127.0.0.1:6379/not-a-db",
        "redis://:s3cr3t@127.0.0.1:6379/?protocol=9",
        "redis://s3cr3t@127.0.0.1:6379/not-a-db",
        "rediss://hunter:s3cr3t@127.0.0.1:6379",
        "http://:s3cr3t@127.0.0.1:6379",
        "redis+unix:///run/redis.sock?pass=s3cr3t&db=x",
        "redis+unix:///run/redis.sock?user=hunter&password=s3cr3t&db=x",
    ];
    for url in redis_urls {
        let error = RedisStore::new(url).expect_err(url);
        check(url, error);
        let error = RedisStore::cluster(["redis://127.0.0.1:7000/", url]).expect_err(url);
        check(url, error);
    }
    // Each URL is fine, but a cluster's nodes must share one password.
    let error = RedisStore::cluster([
        "redis://:s3cr3t@127.0.0.1:7000/",
        "redis://:hunter2@127.0.0.1:7001/",
    ])
    .expect_err("different passwords");
    check("two passwords", error);

    // Memcached takes no credentials: an address with some is refused, without them.
    let memcached_addresses = [
        "hunter:s3cr3t@127.0.0.1:11211",
        "s3cr3t@127.0.0.1:11211",
        "memcached://hunter:s3cr3t@127.0.0.1:11211",
        "hunter:s3cr3t@127.0.0.1",
        "hunter:pa#ss@127.0.0.1:0",
    ];
    for address in memcached_addresses {
        let error = MemcachedStore::new(["127.0.0.1:11211", address]).expect_err(address);
        check(address, error);
    }

    // An accepted store does not show its password either.
    let store = RedisStore::new("redis://hunter:s3cr3t@127.0.0.1:6379/").expect("store");
    assert!(!format!("{store:?}").contains(SECRET), "{store:?}");
}

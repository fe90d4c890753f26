//! The store suite: one set of cases, run against every backend on real servers (memcached, a
//! pool of three, redis-server, a three-node Redis Cluster) and the memory store; then the
//! faults: a pool member killed, Redis killed and restarted, a server that never answers.
//!
//! Needs memcached, redis-server and redis-cli: `scripts/install-servers` installs them.

mod servers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use servers::{BlackHole, Memcached, MemcachedPool, Redis, RedisCluster};
use session_runtime::{MemcachedStore, MemoryStore, RedisStore, SessionStore, StoreError, Timed};

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
        .save("ttl-short", b"brief", Duration::from_secs(1))
        .await
        .expect("save with a 1 s TTL");
    let forty_days = Duration::from_secs(40 * 24 * 3600);
    store
        .save("ttl-long", b"lasting", forty_days)
        .await
        .expect("save with a 40-day TTL");
    assert_eq!(
        store.load("ttl-short").await.expect("load"),
        Some(b"brief".to_vec())
    );

    round_trip(store).await;
    missing_and_delete(store).await;
    overwrite(store).await;
    load_many(store).await;
    refuses_bad_keys(store).await;

    let wait = Duration::from_millis(2100).saturating_sub(ttl_saved.elapsed());
    tokio::time::sleep(wait).await;
    assert_eq!(store.load("ttl-short").await.expect("load"), None, "TTL");
    assert_eq!(
        store.load("ttl-long").await.expect("load"),
        Some(b"lasting".to_vec()),
        "a 40-day TTL"
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
        store.save(key, value, HOUR).await.expect("save");
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
    store.save("doomed", b"v", HOUR).await.expect("save");
    store.delete("doomed").await.expect("delete");
    assert_eq!(store.load("doomed").await.expect("load"), None, "deleted");
}

async fn overwrite<S: SessionStore>(store: &S) {
    store
        .save("over", &noise(5000, 2), HOUR)
        .await
        .expect("save");
    store.save("over", b"short", HOUR).await.expect("overwrite");
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
                .save(key, &noise(64, i as u32), HOUR)
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

async fn refuses_bad_keys<S: SessionStore>(store: &S) {
    for bad in ["has space", "line\r\nbreak", ""] {
        let refused = store.save(bad, b"v", HOUR).await;
        assert!(
            matches!(refused, Err(StoreError::Rejected(_))),
            "{bad:?}: {refused:?}"
        );
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
            .save(key, &noise(32, i as u32), HOUR)
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
    assert!(
        slowest_failure < Duration::from_millis(100),
        "a call to the dead member took {slowest_failure:?}"
    );

    // Writes to the live members go on; a batch that needs the dead one fails as a whole.
    let live: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|key| store.inner().server_for(key) != addresses[1])
        .collect();
    store.save(live[0], b"after", HOUR).await.expect("save");
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

/// A value over memcached's item limit is refused, and the connection stays in step: the next
/// call on the same (only) connection gets its own answer.
#[tokio::test]
async fn memcached_refuses_an_oversized_value_and_keeps_serving() {
    let server = Memcached::start();
    let store = timed(
        MemcachedStore::new([server.address()])
            .expect("store")
            .with_pool_size(1),
    );
    store.save("small", b"ok", HOUR).await.expect("save");
    let refused = store.save("huge", &noise(1536 * 1024, 3), HOUR).await;
    assert!(
        matches!(refused, Err(StoreError::Rejected(_))),
        "{refused:?}"
    );
    assert_eq!(store.load("small").await, Ok(Some(b"ok".to_vec())));
    assert_eq!(store.load("huge").await, Ok(None));
}

/// A call dropped half way (before or while its reply arrived) must not leave its reply to
/// answer the next call.
async fn dropped_calls_leave_no_stale_reply<S: SessionStore>(store: S) {
    let big = noise(900 * 1024, 4);
    store.save("big", &big, HOUR).await.expect("save");
    store.save("small", b"mine", HOUR).await.expect("save");
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
    store.save("before", b"v", HOUR).await.expect("save");

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
        if store.save("after", b"back", HOUR).await.is_ok() {
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
            bounded.save("k", b"v", HOUR).await,
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
            elapsed >= limit * 4 && elapsed < limit * 4 + Duration::from_millis(400),
            "{name}: four calls took {elapsed:?}"
        );
    }
}

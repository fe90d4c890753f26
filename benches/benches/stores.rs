//! One store call at a time, in process: `load`, `save` and the revocation check's two-key
//! `load_many` through `Timed<RedisStore>` and `Timed<MemcachedStore>` against real servers on
//! loopback (started here on free ports, stopped by PID when the bench ends), the same commands
//! with the bare clients underneath (the floor of each call), and `MemoryStore` in process.
//!
//! Run with `cargo bench -p session-benches --bench stores`; needs `redis-server` and
//! `memcached` (`scripts/install-servers`). See BENCHMARKS.md, "Stores".

#[path = "../../tests/servers/mod.rs"]
mod servers;

use std::hint::black_box;
use std::time::{Duration, Instant};

use async_memcached::AsciiProtocol as _;
use criterion::{Criterion, criterion_group, criterion_main};
use session_runtime::{MemcachedStore, MemoryStore, RedisStore, SessionStore, Timed};
use tokio::runtime::Runtime;

/// As long as the sealed envelope the layer stores for the reference session.
const VALUE_LEN: usize = 173;
/// The layer's default limit for every store call.
const LIMIT: Duration = Duration::from_millis(500);
const TTL: Duration = Duration::from_secs(30 * 60);
/// A key of the length the layer derives (`s:` and 32 hex digits).
const KEY: &str = "s:0123456789abcdef0123456789abcdef";
/// The revocation check: a revoked-id key (absent) and a subject generation (present).
const REVOKED: &str = "r:0123456789abcdef0123456789abcdef";
const GENERATION: &str = "g:0123456789abcdef0123456789abcdef";
/// The prefix both our stores put in front of keys by default; the bare clients use it too, so
/// every way sends the same bytes.
const PREFIX: &str = "session:";

/// A current-thread runtime: the store's connection task and the caller share the thread, as
/// they do in a server whose runtime has one worker per core.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Times `iters` sequential calls of `call` inside the runtime (one `block_on` per sample, not
/// per call).
fn timed<F, Fut>(rt: &Runtime, iters: u64, mut call: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    rt.block_on(async {
        let started = Instant::now();
        for _ in 0..iters {
            black_box(call().await);
        }
        started.elapsed()
    })
}

fn value() -> Vec<u8> {
    (0..VALUE_LEN).map(|i| i as u8).collect()
}

/// `load`, `save` and a two-key `load_many` of `store`, under `group/name`.
fn bench_store(c: &mut Criterion, rt: &Runtime, name: &str, store: &dyn SessionStore) {
    let value = value();
    rt.block_on(async {
        store.save(KEY, &value, TTL).await.expect("save");
        store
            .save(GENERATION, &1u32.to_le_bytes(), TTL)
            .await
            .expect("save");
        assert_eq!(store.load(KEY).await.expect("load"), Some(value.clone()));
    });
    c.bench_function(&format!("store_load/{name}"), |b| {
        b.iter_custom(|iters| {
            timed(rt, iters, || async {
                store.load(KEY).await.expect("load").expect("present")
            })
        })
    });
    c.bench_function(&format!("store_save/{name}"), |b| {
        b.iter_custom(|iters| {
            timed(rt, iters, || async {
                store.save(KEY, &value, TTL).await.expect("save")
            })
        })
    });
    c.bench_function(&format!("store_load_many_2/{name}"), |b| {
        b.iter_custom(|iters| {
            timed(rt, iters, || async {
                store
                    .load_many(&[REVOKED, GENERATION])
                    .await
                    .expect("load_many")
            })
        })
    });
}

fn memory(c: &mut Criterion) {
    let rt = runtime();
    bench_store(c, &rt, "memory", &MemoryStore::new());
}

fn redis(c: &mut Criterion) {
    let server = servers::Redis::start();
    let rt = runtime();
    let store = Timed::new(RedisStore::new(&server.url()).expect("url"), LIMIT);
    bench_store(c, &rt, "redis_timed", &store);

    // The floor: the same commands with the same client and connection manager, straight.
    let connection = rt
        .block_on(redis::aio::ConnectionManager::new(
            redis::Client::open(server.url()).expect("url"),
        ))
        .expect("connect");
    let key = format!("{PREFIX}{KEY}");
    let keys = [
        format!("{PREFIX}{REVOKED}"),
        format!("{PREFIX}{GENERATION}"),
    ];
    let value = value();
    let ttl = TTL.as_secs();
    c.bench_function("store_load/redis_bare", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || {
                let mut connection = connection.clone();
                let key = &key;
                async move {
                    let found: Option<Vec<u8>> = redis::cmd("GET")
                        .arg(key)
                        .query_async(&mut connection)
                        .await
                        .expect("GET");
                    found.expect("present")
                }
            })
        })
    });
    c.bench_function("store_save/redis_bare", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || {
                let mut connection = connection.clone();
                let (key, value) = (&key, &value);
                async move {
                    let () = redis::cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("EX")
                        .arg(ttl)
                        .query_async(&mut connection)
                        .await
                        .expect("SET");
                }
            })
        })
    });
    c.bench_function("store_load_many_2/redis_bare", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || {
                let mut connection = connection.clone();
                let keys = &keys;
                async move {
                    let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                        .arg(keys)
                        .query_async(&mut connection)
                        .await
                        .expect("MGET");
                    found
                }
            })
        })
    });
    // The connection's task lives on this runtime: both go before the server does.
    drop(connection);
    drop(rt);
    drop(server);
}

fn memcached(c: &mut Criterion) {
    let server = servers::Memcached::start();
    let rt = runtime();
    let store = Timed::new(
        MemcachedStore::new([server.address()]).expect("address"),
        LIMIT,
    );
    bench_store(c, &rt, "memcached_timed", &store);

    let mut client = rt
        .block_on(async_memcached::Client::new(format!(
            "tcp://{}",
            server.address()
        )))
        .expect("connect");
    let key = format!("{PREFIX}{KEY}");
    let keys = [
        format!("{PREFIX}{REVOKED}"),
        format!("{PREFIX}{GENERATION}"),
    ];
    let value = value();
    let exptime = TTL.as_secs() as i64;
    c.bench_function("store_load/memcached_bare", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(client.get(&key).await.expect("get").expect("present"));
                }
                started.elapsed()
            })
        })
    });
    c.bench_function("store_save/memcached_bare", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    client
                        .set(&key, value.as_slice(), Some(exptime), None)
                        .await
                        .expect("set");
                }
                started.elapsed()
            })
        })
    });
    c.bench_function("store_load_many_2/memcached_bare", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(client.get_multi(&keys).await.expect("get_multi"));
                }
                started.elapsed()
            })
        })
    });
    drop(client);
    drop(rt);
    drop(server);
}

criterion_group!(benches, memory, redis, memcached);
criterion_main!(benches);

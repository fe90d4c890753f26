//! One store call at a time, in process: `load`, `save` and the revocation check's two-key
//! `load_many` through `Timed<RedisStore>` and `Timed<MemcachedStore>` against real servers on
//! loopback (started here on free ports, stopped by PID when the bench ends), the same commands
//! with the bare clients underneath (the floor of each call), and `MemoryStore` in process.
//! Then whole requests in process (`store_service`): the axum router with our layer keeping the
//! reference session in Redis, against the floor any Redis session store pays (a handler doing
//! one `GET`, and one `SET` to write, with the same client), the same handler calling our
//! `Timed<RedisStore>` instead (the store path without the layer), the sealed floor (the
//! floor's client with what our stores promise written inline: `SealedFloor` in `common`),
//! our layer on `MemoryStore` (the layer without the network), no session at all, and cookie
//! sessions with and without the Redis revocation check.
//!
//! `STORES_INTERLEAVED=rounds[,batch] cargo bench -p session-benches --bench stores` runs the
//! whole-request comparison as interleaved rounds instead, for hosts loaded by other work, and
//! `STORES_PROFILE=route[,requests]` runs one of its routes in a loop for a profiler.
//!
//! Run with `cargo bench -p session-benches --bench stores`; needs `redis-server` and
//! `memcached` (`scripts/install-servers`). See BENCHMARKS.md, "Stores".

#[path = "../common/mod.rs"]
mod common;
#[path = "../../tests/servers/mod.rs"]
mod servers;

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_memcached::AsciiProtocol as _;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use common::{
    Reference, SEALED_FLOOR_COOKIE, SealedFloor, checked_write, cookie_header, init, read_only,
    reference, store_settings, touch,
};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, Request, StatusCode};
use rustix::time::{ClockId, clock_gettime};
use session_runtime::{
    Condition, MemcachedStore, MemoryStore, RedisStore, SessionLayerBuilder, SessionStore, Timed,
};
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

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

/// This thread's CPU time: on a current-thread runtime, everything the client side of a request
/// does (the router, our layer, the store client and its connection task) runs on this thread,
/// and time spent waiting for the server, or descheduled by other load, is not counted.
fn thread_cpu() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// [`timed`] on this thread's CPU time.
fn timed_cpu<F, Fut>(rt: &Runtime, iters: u64, mut call: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    rt.block_on(async {
        let started = thread_cpu();
        for _ in 0..iters {
            black_box(call().await);
        }
        thread_cpu().saturating_sub(started)
    })
}

fn value() -> Vec<u8> {
    (0..VALUE_LEN).map(|i| i as u8).collect()
}

/// Times `call` as `group/name` on wall time and as `group_cpu/name` on this thread's CPU time.
fn bench_both<F, Fut>(c: &mut Criterion, rt: &Runtime, group: &str, name: &str, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    c.benchmark_group(group)
        .bench_function(name, |b| b.iter_custom(|iters| timed(rt, iters, &mut call)));
    c.benchmark_group(format!("{group}_cpu"))
        .bench_function(name, |b| {
            b.iter_custom(|iters| timed_cpu(rt, iters, &mut call))
        });
}

/// `load`, `save` and a two-key `load_many` of `store`, as `store_load/name` and so on.
fn bench_store(c: &mut Criterion, rt: &Runtime, name: &str, store: &dyn SessionStore) {
    let value = &value();
    rt.block_on(async {
        store
            .save(KEY, value, TTL, Condition::Always)
            .await
            .expect("save");
        store
            .save(GENERATION, &1u32.to_le_bytes(), TTL, Condition::Always)
            .await
            .expect("save");
        assert_eq!(store.load(KEY).await.expect("load").as_ref(), Some(value));
    });
    bench_both(c, rt, "store_load", name, || async move {
        store.load(KEY).await.expect("load").expect("present")
    });
    bench_both(c, rt, "store_save", name, || async move {
        store
            .save(KEY, value, TTL, Condition::Always)
            .await
            .expect("save")
    });
    bench_both(c, rt, "store_load_many_2", name, || async move {
        store
            .load_many(&[REVOKED, GENERATION])
            .await
            .expect("load_many")
    });
}

fn memory(c: &mut Criterion) {
    let rt = runtime();
    bench_store(c, &rt, "memory", &MemoryStore::new());
}

fn redis(c: &mut Criterion) {
    let server = servers::Redis::start();
    let rt = runtime();
    let store = || RedisStore::new(&server.url()).expect("url");
    bench_store(c, &rt, "redis_timed", &Timed::new(store(), LIMIT));
    // Without the time limit, to show what `Timed` adds.
    bench_store(c, &rt, "redis_untimed", &store());

    // The floor: the same commands with the same client and connection manager, straight.
    let connection = &rt
        .block_on(redis::aio::ConnectionManager::new(
            redis::Client::open(server.url()).expect("url"),
        ))
        .expect("connect");
    let key = &format!("{PREFIX}{KEY}");
    let keys = &[
        format!("{PREFIX}{REVOKED}"),
        format!("{PREFIX}{GENERATION}"),
    ];
    let value = &value();
    let ttl = TTL.as_secs();
    bench_both(c, &rt, "store_load", "redis_bare", || async move {
        let found: Option<Vec<u8>> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut connection.clone())
            .await
            .expect("GET");
        found.expect("present")
    });
    bench_both(c, &rt, "store_save", "redis_bare", || async move {
        let () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(ttl)
            .query_async(&mut connection.clone())
            .await
            .expect("SET");
    });
    bench_both(c, &rt, "store_load_many_2", "redis_bare", || async move {
        let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut connection.clone())
            .await
            .expect("MGET");
        found
    });
    // The connection's task lives on the runtime: the runtime goes before the server does.
    drop(rt);
    drop(server);
}

fn memcached(c: &mut Criterion) {
    let server = servers::Memcached::start();
    let rt = runtime();
    let store = MemcachedStore::new([server.address()]).expect("address");
    bench_store(c, &rt, "memcached_timed", &Timed::new(store, LIMIT));

    // The floor: the same commands on one connection of async-memcached, the bare client (our
    // store speaks the protocol itself, pipelined).
    // One request at a time on one thread: the connection is taken out for each call and put
    // back after it.
    let client = &Cell::new(Some(
        rt.block_on(async_memcached::Client::new(format!(
            "tcp://{}",
            server.address()
        )))
        .expect("connect"),
    ));
    let take = || client.take().expect("one call at a time");
    let key = &format!("{PREFIX}{KEY}");
    let keys = &[
        format!("{PREFIX}{REVOKED}"),
        format!("{PREFIX}{GENERATION}"),
    ];
    let value = &value();
    let exptime = TTL.as_secs() as i64;
    bench_both(c, &rt, "store_load", "memcached_bare", || async move {
        let mut connection = take();
        let found = connection.get(key).await.expect("get");
        client.set(Some(connection));
        found.expect("present")
    });
    bench_both(c, &rt, "store_save", "memcached_bare", || async move {
        let mut connection = take();
        let saved = connection
            .set(key, value.as_slice(), Some(exptime), None)
            .await;
        client.set(Some(connection));
        saved.expect("set")
    });
    bench_both(
        c,
        &rt,
        "store_load_many_2",
        "memcached_bare",
        || async move {
            let mut connection = take();
            let found = connection.get_multi(keys).await.expect("get_multi");
            client.set(Some(connection));
            found
        },
    );
    drop(rt);
    drop(server);
}

/// Our routes behind `layer`.
fn our_router(layer: SessionLayerBuilder<Reference>) -> Router {
    Router::new()
        .route("/init", get(init))
        .route("/write", get(checked_write))
        .route("/read", get(read_only))
        .layer(layer.build().expect("valid layer"))
        // Routes made once, as `axum::serve` makes them: a router left without a state
        // converts every handler, and applies the layer to it, on every call.
        .with_state(())
}

/// The floor's session id, from a plain cookie.
fn floor_key(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(COOKIE)?.to_str().ok()?;
    let id = cookies
        .split(';')
        .find_map(|pair| pair.trim().strip_prefix("floor="))?;
    Some(format!("floor:{id}"))
}

/// The floor's `GET` of the request's session: its key, the connection and the value, or the
/// status to answer.
async fn floor_get(
    mut connection: redis::aio::ConnectionManager,
    headers: &HeaderMap,
) -> Result<(String, redis::aio::ConnectionManager, Vec<u8>), StatusCode> {
    let key = floor_key(headers).ok_or(StatusCode::UNAUTHORIZED)?;
    match redis::cmd("GET")
        .arg(&key)
        .query_async::<Option<Vec<u8>>>(&mut connection)
        .await
    {
        Ok(Some(value)) => Ok((key, connection, value)),
        _ => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The floor's read: one `GET`.
async fn floor_read(
    State(connection): State<redis::aio::ConnectionManager>,
    headers: HeaderMap,
) -> StatusCode {
    floor_get(connection, &headers)
        .await
        .err()
        .unwrap_or(StatusCode::OK)
}

/// The floor's write: one `GET`, then one `SET … EX` of what it read.
async fn floor_write(
    State(connection): State<redis::aio::ConnectionManager>,
    headers: HeaderMap,
) -> StatusCode {
    match floor_get(connection, &headers).await {
        Ok((key, connection, value)) => set_ex(connection, &key, &value).await,
        Err(status) => status,
    }
}

/// The floors' `SET … EX` of a session.
async fn set_ex(
    mut connection: redis::aio::ConnectionManager,
    key: &str,
    value: &[u8],
) -> StatusCode {
    let saved: Result<(), _> = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .arg("EX")
        .arg(TTL.as_secs())
        .query_async(&mut connection)
        .await;
    match saved {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

thread_local! {
    /// The sealed floor's cipher and buffer, kept across requests.
    static SEALED: std::cell::RefCell<SealedFloor> = std::cell::RefCell::new(SealedFloor::new());
}

/// The sealed floor's key prefix.
const SEALED_PREFIX: &str = "sealed-floor:";

/// The sealed floor's read ([`SealedFloor`]: the bare client with what our stores promise
/// written inline): the id cookie opened, the key hashed, one `GET`, the entry opened and
/// decoded.
async fn sealed_get(
    mut connection: redis::aio::ConnectionManager,
    headers: &HeaderMap,
) -> Result<(String, redis::aio::ConnectionManager, Reference), StatusCode> {
    let key = headers
        .get(COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| {
            cookies.split(';').find_map(|pair| {
                pair.trim()
                    .strip_prefix(SEALED_FLOOR_COOKIE)?
                    .strip_prefix('=')
            })
        })
        .and_then(|value| SEALED.with(|s| s.borrow_mut().key(SEALED_PREFIX, value)))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let entry = match redis::cmd("GET")
        .arg(&key)
        .query_async::<Option<Vec<u8>>>(&mut connection)
        .await
    {
        Ok(Some(entry)) => entry,
        _ => return Err(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let value = SEALED
        .with(|s| s.borrow().open_entry(entry))
        .ok_or(StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok((key, connection, value))
}

async fn sealed_read(
    State(connection): State<redis::aio::ConnectionManager>,
    headers: HeaderMap,
) -> StatusCode {
    sealed_get(connection, &headers)
        .await
        .err()
        .unwrap_or(StatusCode::OK)
}

/// The sealed floor's write: its read, the value changed, sealed again, one `SET … EX`.
async fn sealed_write(
    State(connection): State<redis::aio::ConnectionManager>,
    headers: HeaderMap,
) -> StatusCode {
    let (key, connection, mut value) = match sealed_get(connection, &headers).await {
        Ok(got) => got,
        Err(status) => return status,
    };
    touch(&mut value);
    let entry = SEALED.with(|s| s.borrow_mut().entry(&value));
    set_ex(connection, &key, &entry).await
}

/// The floor's read through our `Timed<RedisStore>` instead of the bare client: what the store
/// path adds, without the layer.
async fn store_read(State(store): State<Arc<dyn SessionStore>>, headers: HeaderMap) -> StatusCode {
    let Some(key) = floor_key(&headers) else {
        return StatusCode::UNAUTHORIZED;
    };
    match store.load(&key).await {
        Ok(Some(_)) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The floor's write through our `Timed<RedisStore>`.
async fn store_write(State(store): State<Arc<dyn SessionStore>>, headers: HeaderMap) -> StatusCode {
    let Some(key) = floor_key(&headers) else {
        return StatusCode::UNAUTHORIZED;
    };
    let Ok(Some(value)) = store.load(&key).await else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    match store.save(&key, &value, TTL, Condition::Always).await {
        Ok(_) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn call(router: &Router, path: &str, cookie: &str) -> http::Response<Body> {
    let request = Request::get(path)
        .header(COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    router.clone().oneshot(request).await.expect("infallible")
}

/// A fresh session from `router`'s `/init`, as the `Cookie` header that carries it.
async fn first_cookie(router: &Router) -> String {
    let response = call(router, "/init", "theme=dark").await;
    assert_eq!(response.status(), StatusCode::OK);
    let pairs: Vec<String> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|line| line.to_str().ok())
        .filter(|line| !line.contains("Max-Age=0"))
        .filter_map(|line| line.split(';').next())
        .map(str::to_owned)
        .collect();
    assert!(!pairs.is_empty(), "/init set no cookie");
    cookie_header(&pairs)
}

/// How a request is timed.
#[derive(Clone, Copy)]
enum Clock {
    /// Wall time: the request's latency, store round trips included.
    Wall,
    /// This thread's CPU time: what the request costs the client side, round trips' waiting
    /// excluded (see [`thread_cpu`]).
    Cpu,
}

/// Requests to `path` of `router` with `cookie`, one after another; each must answer 200.
fn bench_route(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    clock: Clock,
    (name, router, path, cookie): (&str, &Router, &str, &str),
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let request = || async {
                let response = call(router, path, cookie).await;
                assert_eq!(response.status(), StatusCode::OK, "{name}");
                response
            };
            match clock {
                Clock::Wall => timed(rt, iters, request),
                Clock::Cpu => timed_cpu(rt, iters, request),
            }
        })
    });
}

/// The routers of the in-process comparison, on one Redis started for them, each with the
/// cookie of a session it knows.
struct Services {
    /// Fields drop in this order: the routers (whose store connections run as tasks on the
    /// runtime), the runtime, then the server.
    routes: Vec<(&'static str, Router, &'static str, String)>,
    rt: Runtime,
    _server: servers::Redis,
}

impl Services {
    fn start() -> Self {
        let server = servers::Redis::start();
        let rt = runtime();
        let url = server.url();
        let redis_store = || RedisStore::new(&url).expect("url");
        let in_redis = our_router(store_settings().with_store(redis_store()));
        let in_memory = our_router(store_settings().with_store(MemoryStore::new()));
        let in_cookies = our_router(store_settings());
        let revoking = our_router(store_settings().with_revocation(redis_store()));
        let (floor, sealed, sealed_cookie) = rt.block_on(async {
            let connection =
                redis::aio::ConnectionManager::new(redis::Client::open(url.as_str()).expect("url"))
                    .await
                    .expect("connect");
            // The reference session's bytes, as long as our sealed envelope.
            let mut value = postcard::to_allocvec(&reference()).expect("encodes");
            value.resize(VALUE_LEN, 0);
            let () = redis::cmd("SET")
                .arg(format!("floor:{FLOOR_ID}"))
                .arg(&value[..])
                .query_async(&mut connection.clone())
                .await
                .expect("SET");
            // The sealed floor's session, issued as its init would.
            let (id, sealed_cookie, entry) = SEALED.with(|s| s.borrow_mut().issue(&reference()));
            let () = redis::cmd("SET")
                .arg(SealedFloor::key_of(SEALED_PREFIX, &id))
                .arg(entry)
                .query_async(&mut connection.clone())
                .await
                .expect("SET");
            let floor = Router::new()
                .route("/write", get(floor_write))
                .route("/read", get(floor_read))
                .with_state(connection.clone());
            let sealed = Router::new()
                .route("/write", get(sealed_write))
                .route("/read", get(sealed_read))
                .with_state(connection);
            (
                floor,
                sealed,
                format!("theme=dark; {SEALED_FLOOR_COOKIE}={sealed_cookie}"),
            )
        });
        let none = Router::new()
            .route("/none", get(|| async { StatusCode::OK }))
            .with_state(());
        // Wrapped as the layer wraps a store: `Timed` around an `Arc<dyn SessionStore>`. No
        // prefix, so it finds the floor's key.
        let store: Arc<dyn SessionStore> = Arc::new(redis_store().with_prefix("").expect("prefix"));
        let store: Arc<dyn SessionStore> = Arc::new(Timed::new(store, LIMIT));
        let via_store = Router::new()
            .route("/write", get(store_write))
            .route("/read", get(store_read))
            .with_state(store);
        let floor_cookie = format!("theme=dark; floor={FLOOR_ID}");
        let mut routes = vec![
            ("no_session", none, "/none", "theme=dark".to_owned()),
            ("floor_write", floor.clone(), "/write", floor_cookie.clone()),
            ("floor_read", floor, "/read", floor_cookie.clone()),
            (
                "store_write",
                via_store.clone(),
                "/write",
                floor_cookie.clone(),
            ),
            ("store_read", via_store, "/read", floor_cookie),
            (
                "sealed_floor_write",
                sealed.clone(),
                "/write",
                sealed_cookie.clone(),
            ),
            ("sealed_floor_read", sealed, "/read", sealed_cookie),
        ];
        for (name, router) in [
            ("redis", in_redis),
            ("memory", in_memory),
            ("cookie", in_cookies),
            ("revocation", revoking),
        ] {
            let cookie = rt.block_on(first_cookie(&router));
            let (write, read) = match name {
                "redis" => ("redis_write", "redis_read"),
                "memory" => ("memory_write", "memory_read"),
                "cookie" => ("cookie_write", "cookie_read"),
                _ => ("revocation_write", "revocation_read"),
            };
            routes.push((write, router.clone(), "/write", cookie.clone()));
            routes.push((read, router, "/read", cookie));
        }
        Services {
            routes,
            rt,
            _server: server,
        }
    }
}

/// The floor's session id.
const FLOOR_ID: &str = "0123456789abcdef0123456789abcdef";

fn service(c: &mut Criterion) {
    let services = Services::start();
    for (group, clock) in [
        ("store_service", Clock::Wall),
        ("store_service_cpu", Clock::Cpu),
    ] {
        let mut group = c.benchmark_group(group);
        for (name, router, path, cookie) in &services.routes {
            bench_route(
                &mut group,
                &services.rt,
                clock,
                (name, router, path, cookie),
            );
        }
        group.finish();
    }
}

/// The in-process comparison again, as interleaved rounds instead of criterion's one route
/// after another: each round times a batch of requests on every route, in an order rotated
/// from round to round, so load from other processes lands on all routes alike. Prints the
/// median time per request (wall and this thread's CPU) and, per round, each route's ratio to
/// the floor of its kind (the floor's write for writes, its read for reads) and its excess over
/// the no-session route. `STORES_INTERLEAVED=rounds[,batch]`.
fn interleaved(spec: &str) {
    let mut parts = spec.split(',').map(|n| n.trim().parse::<usize>());
    let rounds = parts.next().and_then(Result::ok).unwrap_or(31).max(1);
    let batch = parts.next().and_then(Result::ok).unwrap_or(200).max(1);
    let services = Services::start();
    let routes = &services.routes;
    let rt = &services.rt;
    // Per route, per round: (wall, cpu) per request in µs.
    let mut times = vec![Vec::with_capacity(rounds); routes.len()];
    for round in 0..rounds {
        for i in 0..routes.len() {
            let index = (i + round) % routes.len();
            let (name, router, path, cookie) = &routes[index];
            let (wall, cpu) = rt.block_on(async {
                let (wall, cpu) = (Instant::now(), thread_cpu());
                for _ in 0..batch {
                    let response = call(router, path, cookie).await;
                    assert_eq!(response.status(), StatusCode::OK, "{name}");
                }
                (wall.elapsed(), thread_cpu().saturating_sub(cpu))
            });
            let per = |d: Duration| d.as_secs_f64() * 1e6 / batch as f64;
            times[index].push((per(wall), per(cpu)));
        }
    }
    let index = |name: &str| routes.iter().position(|r| r.0 == name).expect("route");
    let (none, floor_write, floor_read) = (
        index("no_session"),
        index("floor_write"),
        index("floor_read"),
    );
    let median = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    println!("rounds={rounds} batch={batch}");
    println!("| route | wall µs | CPU µs | wall / floor | CPU / floor | CPU over none / floor's |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, (name, ..)) in routes.iter().enumerate() {
        let floor = if name.ends_with("_read") {
            floor_read
        } else {
            floor_write
        };
        let per_round = |f: &dyn Fn(usize) -> f64| median((0..rounds).map(f).collect());
        let wall = per_round(&|r| times[i][r].0);
        let cpu = per_round(&|r| times[i][r].1);
        let wall_ratio = per_round(&|r| times[i][r].0 / times[floor][r].0);
        let cpu_ratio = per_round(&|r| times[i][r].1 / times[floor][r].1);
        let excess = per_round(&|r| {
            (times[i][r].1 - times[none][r].1) / (times[floor][r].1 - times[none][r].1)
        });
        println!(
            "| {name} | {wall:.2} | {cpu:.2} | {wall_ratio:.3} | {cpu_ratio:.3} | {excess:.3} |"
        );
    }
}

/// One route of the in-process comparison in a loop, for a profiler (`perf record`,
/// `valgrind --tool=callgrind`): `STORES_PROFILE=route[,requests]`, e.g. `redis_read,20000`.
/// The setup (a Redis started, every router built) is profiled too; compare two routes, or two
/// request counts, rather than reading one profile alone.
fn profile(spec: &str) {
    let (name, requests) = spec.split_once(',').unwrap_or((spec, "20000"));
    let requests: u32 = requests
        .trim()
        .parse()
        .expect("STORES_PROFILE=route,requests");
    let services = Services::start();
    let Some((_, router, path, cookie)) = services.routes.iter().find(|r| r.0 == name.trim())
    else {
        let names: Vec<&str> = services.routes.iter().map(|r| r.0).collect();
        panic!("no route {name}; routes: {}", names.join(", "));
    };
    services.rt.block_on(async {
        for _ in 0..requests {
            let response = call(router, path, cookie).await;
            assert_eq!(response.status(), StatusCode::OK, "{name}");
        }
    });
}

fn main() {
    if let Ok(spec) = std::env::var("STORES_PROFILE") {
        profile(&spec);
        return;
    }
    if let Ok(spec) = std::env::var("STORES_INTERLEAVED") {
        interleaved(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

criterion_group!(benches, memory, redis, memcached, service);

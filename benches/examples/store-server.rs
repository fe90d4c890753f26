//! The server `scripts/load-stores.sh` drives: the reference session kept in a server-side store
//! (Redis, memcached, in memory), in cookies with and without a Redis revocation list,
//! tower-sessions on the same Redis, and the floor any Redis session store pays: one `GET` and
//! one `SET` per request with the client our `RedisStore` uses (and with the one tower-sessions'
//! Redis store uses), nothing else.
//!
//! ```sh
//! cargo run --release -p session-benches --example store-server -- \
//!     127.0.0.1:8089 redis://127.0.0.1:6379/ 127.0.0.1:11211
//! ```
//!
//! Every way has `/<way>-init` (sets the first cookie), `/<way>-write` (reads the session and
//! changes `last_seen`) and `/<way>-read` (reads it, changes nothing); ours also have
//! `/<way>-untouched` (the layer is there, the handler never takes the session). Ways: `redis`,
//! `memcached`, `memory`, `cookie`, `revocation` (cookie sessions checked against Redis;
//! `/revocation-subject-init` names a subject, so each check looks up two keys), `tower`
//! (tower-sessions with its Redis store), `floor`, `fred-floor` and `memcached-floor` (bare
//! clients; the last, async-memcached over a list of idle connections), `store-floor` and
//! `memcached-store-floor` (the floor's handlers calling our `Timed<RedisStore>` or
//! `Timed<MemcachedStore>`: the store path without the layer; each shares its floor's sessions,
//! `/store-floor-init` and `/memcached-store-floor-init` set one), `sealed-floor` and
//! `memcached-sealed-floor` (the bare clients with what our stores promise written inline:
//! a sealed id cookie, the key hashed from the id, the entry sealed at rest and decoded; see
//! `SealedFloor` in `common`). `/none` has
//! no session at all. A write or read that does not find the session it was given answers 500,
//! so a load run that lost its sessions fails instead of measuring fresh ones.

#[path = "../common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use common::*;
use session_runtime::{
    Condition, MemcachedStore, MemoryStore, RedisStore, Session, SessionLayer, SessionLayerBuilder,
    SessionStore, Timed,
};
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Expiration, KeysInterface};
use tower_sessions_redis_store::fred::prelude::{Pool as FredPool, SetOptions};

/// The Redis key prefix of each way, so their keys never meet.
const FLOOR_PREFIX: &str = "floor:";
const FRED_FLOOR_PREFIX: &str = "fred-floor:";
/// The floors' session lifetime, as ours: the 30-minute idle timeout.
const FLOOR_TTL_SECS: u64 = 30 * 60;
/// The floors store a value as long as the sealed envelope our stores keep for the reference
/// session (`STRLEN` of a `bench:s:*` key; the load script prints both), so both move the same
/// bytes.
const FLOOR_VALUE_LEN: usize = 173;
/// The subject the `revocation-subject` way names at login.
const SUBJECT: &str = "user-4294967377";

async fn init_subject(mut session: Session<Reference>) -> StatusCode {
    session.set_subject(SUBJECT);
    status(session.insert(reference()))
}

async fn untouched() -> StatusCode {
    StatusCode::OK
}

/// The four routes of one of our ways, for its layer to wrap.
fn our_routes(way: &str) -> Router {
    Router::new()
        .route(&format!("/{way}-init"), get(init))
        .route(&format!("/{way}-write"), get(checked_write))
        .route(&format!("/{way}-read"), get(read_only))
        .route(&format!("/{way}-untouched"), get(untouched))
}

fn layer(builder: SessionLayerBuilder<Reference>) -> SessionLayer<Reference> {
    builder.build().expect("valid layer")
}

/// The value of cookie `name` in the request, if any.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// A session id for a floor: 128 random bits in hex, as any session store draws.
fn new_id() -> String {
    let meta = session_runtime::SessionMeta::new(NOW).expect("random");
    meta.id.0.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn floor_value() -> Vec<u8> {
    let mut value = postcard::to_allocvec(&reference()).expect("encodes");
    value.resize(FLOOR_VALUE_LEN, 0);
    value
}

/// A bare client a floor's handlers call: one `get`, and one `set` with the floor's TTL.
trait Bare: Clone + Send + Sync + 'static {
    /// The floor's plain id cookie.
    const COOKIE: &'static str;
    type Error;
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, Self::Error>> + Send;
    fn set(&self, key: &str, value: &[u8]) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// The bare floor: `GET` and `SET … EX` with the `redis` crate's connection manager, as our
/// `RedisStore` uses it, and a plain id cookie. No crypto, no parsing of the value.
#[derive(Clone)]
struct Floor {
    connection: redis::aio::ConnectionManager,
}

impl Bare for Floor {
    const COOKIE: &'static str = "floor";
    type Error = redis::RedisError;

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, redis::RedisError> {
        let mut connection = self.connection.clone();
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut connection)
            .await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), redis::RedisError> {
        let mut connection = self.connection.clone();
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(FLOOR_TTL_SECS)
            .query_async(&mut connection)
            .await
    }
}

async fn floor_init<F: Bare>(
    State(floor): State<F>,
) -> (StatusCode, [(http::HeaderName, String); 1]) {
    let id = new_id();
    let status = match floor
        .set(&format!("{FLOOR_PREFIX}{id}"), &floor_value())
        .await
    {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    let cookie = format!("{}={id}; Path=/", F::COOKIE);
    (status, [(http::header::SET_COOKIE, cookie)])
}

async fn floor_read<F: Bare>(State(floor): State<F>, headers: HeaderMap) -> StatusCode {
    let Some(id) = cookie(&headers, F::COOKIE) else {
        return StatusCode::UNAUTHORIZED;
    };
    match floor.get(&format!("{FLOOR_PREFIX}{id}")).await {
        Ok(Some(_)) => StatusCode::OK,
        Ok(None) => StatusCode::INTERNAL_SERVER_ERROR,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn floor_write<F: Bare>(State(floor): State<F>, headers: HeaderMap) -> StatusCode {
    let Some(id) = cookie(&headers, F::COOKIE) else {
        return StatusCode::UNAUTHORIZED;
    };
    let key = format!("{FLOOR_PREFIX}{id}");
    let value = match floor.get(&key).await {
        Ok(Some(value)) => value,
        Ok(None) => return StatusCode::INTERNAL_SERVER_ERROR,
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE,
    };
    match floor.set(&key, &value).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

thread_local! {
    /// Each worker thread's sealed floor: its cipher and buffer, kept across requests.
    static SEALED: std::cell::RefCell<SealedFloor> = std::cell::RefCell::new(SealedFloor::new());
}

/// The sealed floor's key prefix, on either server.
const SEALED_PREFIX: &str = "sealed-floor:";

/// A bare client with what our stores promise written inline ([`SealedFloor`]): a sealed id
/// cookie, the key hashed from the id, the entry sealed at rest and decoded into the session.
async fn sealed_init<F: Bare>(
    State(floor): State<F>,
) -> (StatusCode, [(http::HeaderName, String); 1]) {
    let (id, cookie, entry) = SEALED.with(|s| s.borrow_mut().issue(&reference()));
    let status = match floor
        .set(&SealedFloor::key_of(SEALED_PREFIX, &id), &entry)
        .await
    {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    let cookie = format!("{SEALED_FLOOR_COOKIE}={cookie}; Path=/");
    (status, [(http::header::SET_COOKIE, cookie)])
}

/// The sealed floor's read: the id cookie opened, the key hashed, one `GET`, the entry opened
/// and decoded; the session's key and value.
async fn sealed_get<F: Bare>(
    floor: &F,
    headers: &HeaderMap,
) -> Result<(String, Reference), StatusCode> {
    let key = cookie(headers, SEALED_FLOOR_COOKIE)
        .and_then(|value| SEALED.with(|s| s.borrow_mut().key(SEALED_PREFIX, value)))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let entry = match floor.get(&key).await {
        Ok(Some(entry)) => entry,
        Ok(None) => return Err(StatusCode::INTERNAL_SERVER_ERROR),
        Err(_) => return Err(StatusCode::SERVICE_UNAVAILABLE),
    };
    let value = SEALED
        .with(|s| s.borrow().open_entry(entry))
        .ok_or(StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok((key, value))
}

async fn sealed_read<F: Bare>(State(floor): State<F>, headers: HeaderMap) -> StatusCode {
    match sealed_get(&floor, &headers).await {
        Ok(_) => StatusCode::OK,
        Err(status) => status,
    }
}

/// The sealed floor's write: its read, the value changed as ours changes it, sealed again and
/// one `SET`.
async fn sealed_write<F: Bare>(State(floor): State<F>, headers: HeaderMap) -> StatusCode {
    let (key, mut value) = match sealed_get(&floor, &headers).await {
        Ok(got) => got,
        Err(status) => return status,
    };
    touch(&mut value);
    let entry = SEALED.with(|s| s.borrow_mut().entry(&value));
    match floor.set(&key, &entry).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A floor's handlers calling our store instead of the bare client (`RedisStore` for `floor`,
/// `MemcachedStore` for `memcached-floor`, behind `Timed`, as the layer wraps them): the store
/// path without the layer. `cookie` is the floor's cookie name.
#[derive(Clone)]
struct StoreFloor {
    store: Arc<dyn SessionStore>,
    cookie: &'static str,
}

async fn store_floor_read(
    State(StoreFloor {
        store,
        cookie: name,
    }): State<StoreFloor>,
    headers: HeaderMap,
) -> StatusCode {
    let Some(id) = cookie(&headers, name) else {
        return StatusCode::UNAUTHORIZED;
    };
    match store.load(&format!("{FLOOR_PREFIX}{id}")).await {
        Ok(Some(_)) => StatusCode::OK,
        Ok(None) => StatusCode::INTERNAL_SERVER_ERROR,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn store_floor_write(
    State(StoreFloor {
        store,
        cookie: name,
    }): State<StoreFloor>,
    headers: HeaderMap,
) -> StatusCode {
    let Some(id) = cookie(&headers, name) else {
        return StatusCode::UNAUTHORIZED;
    };
    let key = format!("{FLOOR_PREFIX}{id}");
    let value = match store.load(&key).await {
        Ok(Some(value)) => value,
        Ok(None) => return StatusCode::INTERNAL_SERVER_ERROR,
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE,
    };
    match store
        .save(
            &key,
            &value,
            Duration::from_secs(FLOOR_TTL_SECS),
            Condition::Always,
        )
        .await
    {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The memcached floor: `get` and `set` with async-memcached, the bare client the memcached
/// benches compare against, and a plain id cookie. The client takes `&mut self`, so each call
/// takes a connection from an idle list (opening one when the list is empty) and puts it back:
/// what an application using the bare client under concurrent requests does.
#[derive(Clone)]
struct McFloor {
    dsn: String,
    idle: Arc<std::sync::Mutex<Vec<async_memcached::Client>>>,
}

impl McFloor {
    async fn connection(&self) -> Result<async_memcached::Client, async_memcached::Error> {
        let idle = self.idle.lock().expect("not poisoned").pop();
        match idle {
            Some(client) => Ok(client),
            None => async_memcached::Client::new(&self.dsn).await,
        }
    }

    fn put_back(&self, client: async_memcached::Client) {
        self.idle.lock().expect("not poisoned").push(client);
    }
}

impl Bare for McFloor {
    const COOKIE: &'static str = "mcfloor";
    type Error = async_memcached::Error;

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, async_memcached::Error> {
        use async_memcached::AsciiProtocol as _;
        let mut client = self.connection().await?;
        let found = client.get(key).await?;
        self.put_back(client);
        Ok(found.and_then(|value| value.data))
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), async_memcached::Error> {
        use async_memcached::AsciiProtocol as _;
        let mut client = self.connection().await?;
        let exptime = i64::try_from(FLOOR_TTL_SECS).expect("small");
        client.set(key, value, Some(exptime), None).await?;
        self.put_back(client);
        Ok(())
    }
}

/// The same floor with `fred`, the client tower-sessions' Redis store uses, on the same pool.
async fn fred_floor_init(
    State(pool): State<FredPool>,
) -> (StatusCode, [(http::HeaderName, String); 1]) {
    let id = new_id();
    let saved: Result<(), _> = pool
        .set(
            format!("{FRED_FLOOR_PREFIX}{id}"),
            floor_value().as_slice(),
            Some(Expiration::EX(FLOOR_TTL_SECS as i64)),
            None,
            false,
        )
        .await;
    let status = match saved {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (
        status,
        [(http::header::SET_COOKIE, format!("fred-floor={id}; Path=/"))],
    )
}

async fn fred_floor_get(
    pool: &FredPool,
    headers: &HeaderMap,
) -> Result<(String, Vec<u8>), StatusCode> {
    let id = cookie(headers, "fred-floor").ok_or(StatusCode::UNAUTHORIZED)?;
    let key = format!("{FRED_FLOOR_PREFIX}{id}");
    match pool.get::<Option<Vec<u8>>, _>(key.as_str()).await {
        Ok(Some(value)) => Ok((key, value)),
        Ok(None) => Err(StatusCode::INTERNAL_SERVER_ERROR),
        Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
    }
}

async fn fred_floor_read(State(pool): State<FredPool>, headers: HeaderMap) -> StatusCode {
    match fred_floor_get(&pool, &headers).await {
        Ok(_) => StatusCode::OK,
        Err(status) => status,
    }
}

async fn fred_floor_write(State(pool): State<FredPool>, headers: HeaderMap) -> StatusCode {
    let (key, value) = match fred_floor_get(&pool, &headers).await {
        Ok(found) => found,
        Err(status) => return status,
    };
    let saved: Result<(), _> = pool
        .set(
            key,
            value.as_slice(),
            Some(Expiration::EX(FLOOR_TTL_SECS as i64)),
            Some(SetOptions::XX),
            false,
        )
        .await;
    match saved {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// tower-sessions, written as its users write it: the value under one key of the record.
async fn tower_write(session: tower_sessions_014::Session) -> StatusCode {
    match session.get::<Reference>("s").await {
        Ok(Some(mut value)) => {
            touch(&mut value);
            match session.insert("s", value).await {
                Ok(()) => StatusCode::OK,
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn tower_read(session: tower_sessions_014::Session) -> StatusCode {
    match session.get::<Reference>("s").await {
        Ok(Some(value)) if value.user_id == USER_ID => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn tower_init(session: tower_sessions_014::Session) -> StatusCode {
    match session.insert("s", reference()).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn redis_store(url: &str, prefix: &str) -> RedisStore {
    RedisStore::new(url)
        .and_then(|store| store.with_prefix(prefix))
        .expect("valid Redis URL")
}

/// Makes the store connect before the first timed request.
async fn warm(store: &impl SessionStore) {
    store.load("warm-up").await.expect("the store answers");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8089".to_owned());
    let redis_url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379/".to_owned());
    let memcached = args.next().unwrap_or_else(|| "127.0.0.1:11211".to_owned());
    // The fred pool's size: the Redis store's documentation shows 6; 1 is one multiplexed
    // connection, as our store and the floor use.
    let fred_pool_size: usize = std::env::var("FRED_POOL")
        .ok()
        .and_then(|size| size.parse().ok())
        .unwrap_or(1);

    let redis = redis_store(&redis_url, "bench:");
    warm(&redis).await;
    let revocation = redis_store(&redis_url, "bench-revoked:");
    warm(&revocation).await;
    let mc_floor = McFloor {
        dsn: format!("tcp://{memcached}"),
        idle: Arc::default(),
    };
    // No prefix: it reads and writes the memcached floor's keys.
    let mc_store_floor = MemcachedStore::new([memcached.clone()])?.with_prefix("")?;
    warm(&mc_store_floor).await;
    let mc_store_floor = StoreFloor {
        store: Arc::new(Timed::new(mc_store_floor, Duration::from_millis(500))),
        cookie: "mcfloor",
    };
    let memcached = MemcachedStore::new([memcached])?;
    warm(&memcached).await;

    let floor = Floor {
        connection: redis::aio::ConnectionManager::new(redis::Client::open(redis_url.as_str())?)
            .await?,
    };
    // No prefix: it reads and writes the floor's keys.
    let store_floor = redis_store(&redis_url, "");
    warm(&store_floor).await;
    let store_floor: Arc<dyn SessionStore> = Arc::new(store_floor);
    let store_floor = StoreFloor {
        store: Arc::new(Timed::new(store_floor, Duration::from_millis(500))),
        cookie: "floor",
    };
    let fred = FredPool::new(
        Config::from_url(&redis_url)?,
        None,
        None,
        None,
        fred_pool_size,
    )?;
    // The connection task runs until the process ends.
    drop(fred.init().await?);

    let app = Router::new()
        .route("/none", get(untouched))
        .merge(our_routes("redis").layer(layer(store_settings().with_store(redis))))
        .merge(our_routes("memcached").layer(layer(store_settings().with_store(memcached))))
        .merge(our_routes("memory").layer(layer(store_settings().with_store(MemoryStore::new()))))
        .merge(our_routes("cookie").layer(layer(store_settings())))
        .merge(
            our_routes("revocation")
                .route("/revocation-subject-init", get(init_subject))
                .layer(layer(store_settings().with_revocation(revocation))),
        )
        .merge(
            Router::new()
                .route("/floor-init", get(floor_init::<Floor>))
                .route("/floor-write", get(floor_write::<Floor>))
                .route("/floor-read", get(floor_read::<Floor>))
                .with_state(floor.clone()),
        )
        .merge(
            Router::new()
                .route("/store-floor-init", get(floor_init::<Floor>))
                .route("/sealed-floor-init", get(sealed_init::<Floor>))
                .route("/sealed-floor-write", get(sealed_write::<Floor>))
                .route("/sealed-floor-read", get(sealed_read::<Floor>))
                .with_state(floor),
        )
        .merge(
            Router::new()
                .route("/store-floor-write", get(store_floor_write))
                .route("/store-floor-read", get(store_floor_read))
                .with_state(store_floor),
        )
        .merge(
            Router::new()
                .route("/memcached-floor-init", get(floor_init::<McFloor>))
                .route("/memcached-floor-write", get(floor_write::<McFloor>))
                .route("/memcached-floor-read", get(floor_read::<McFloor>))
                .route("/memcached-store-floor-init", get(floor_init::<McFloor>))
                .route("/memcached-sealed-floor-init", get(sealed_init::<McFloor>))
                .route(
                    "/memcached-sealed-floor-write",
                    get(sealed_write::<McFloor>),
                )
                .route("/memcached-sealed-floor-read", get(sealed_read::<McFloor>))
                .with_state(mc_floor),
        )
        .merge(
            Router::new()
                .route("/memcached-store-floor-write", get(store_floor_write))
                .route("/memcached-store-floor-read", get(store_floor_read))
                .with_state(mc_store_floor),
        )
        .merge(
            Router::new()
                .route("/fred-floor-init", get(fred_floor_init))
                .route("/fred-floor-write", get(fred_floor_write))
                .route("/fred-floor-read", get(fred_floor_read))
                .with_state(fred.clone()),
        )
        .merge(
            Router::new()
                .route("/tower-init", get(tower_init))
                .route("/tower-write", get(tower_write))
                .route("/tower-read", get(tower_read))
                .layer(
                    tower_sessions_014::SessionManagerLayer::new(
                        tower_sessions_redis_store::RedisStore::new(fred),
                    )
                    .with_secure(false),
                ),
        );

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

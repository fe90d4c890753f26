//! The lifecycle matrix: every transition of a session, in every mode, on every backend, each
//! cell checking what README.md and SECURITY.md promise, over real HTTP on loopback against real
//! servers, with a `ManualClock` the cells move (nothing sleeps for expiry).
//!
//! The matrix is data: [`cells`] lists every (mode, backend, transition or fault) cell, and one
//! runner runs them concurrently, a bounded number at once, each with its own key prefix on the
//! shared servers (started once per run), its own instances and its own clock. The run prints
//! `lifecycle matrix: N cells, P passed, F failed, K pending` and then every failing cell with
//! what it expected and what it saw; it fails if any cell failed.
//!
//! Adapters: every cell runs through axum; the cells of one backend (redis, and cookie mode's
//! none) run again through actix-web, so every transition and fault in every mode is seen
//! through both adapters' extraction, responses and errors, and so do the transitions in store
//! mode on every other backend ([`through_actix`]). Cell names
//! start with the adapter: `axum/store/redis/clear`, `actix/store/redis/clear`.
//!
//! Modes: cookie; cookie + revocation; store; store + revocation; overflow with a session below
//! its spill point, and above it. Backends: the memory store, memcached, a pool of three,
//! redis-server, a three-node Redis Cluster (cookie mode has none and runs once).
//!
//! Faults are made per cell without disturbing the other cells: a [`FaultProxy`] in front of the
//! shared memcached and redis servers (passing, down, or hung), a switch in front of the memory
//! store, and for the cluster a second cluster whose nodes announce proxy ports, used by one
//! fault cell at a time. Restarts use servers of the cell's own (and that cluster).
//!
//! Stores' own TTLs run on real time, not on the `ManualClock`: cells check the TTL each write
//! sets instead (`PTTL` on redis, `mg <key> t` on memcached), against the remaining lifetime
//! the session has at that moment, with a margin of at most `max_skew + 1` s.
//!
//! Run: `cargo test -p session-tests --test lifecycle -- --nocapture`. `LIFECYCLE_FILTER=text`
//! runs only the cells whose name contains `text` (e.g. `store/redis/`), `LIFECYCLE_JOBS=n` sets
//! how many run at once (default 12). Needs memcached, redis-server and redis-cli
//! (`scripts/install-servers`).

mod servers;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::web;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use servers::{Fault, FaultProxy, Memcached, MemcachedPool, Redis, RedisCluster};
use session_runtime::{
    BoxFuture, Condition, CookieSession, Key, KeySource, Keys, ManualClock, MemcachedStore,
    MemoryStore, RedisStore, Session, SessionError, SessionLayer, SessionLayerBuilder,
    SessionStore, StoreError, StoreFailure,
};
use session_tests::CookieJar as Jar;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, OwnedMutexGuard, Semaphore, watch};

// ---------------------------------------------------------------------------------------------
// Settings every cell shares.

/// Where every cell's `ManualClock` starts (2027-01-15).
const T0: u32 = 1_800_000_000;
const IDLE: u64 = 300;
const ABSOLUTE: u64 = 3600;
const REFRESH: u64 = 60;
/// `with_max_clock_skew`: also the margin allowed above a store TTL (plus one second).
const SKEW: u64 = 3;
/// How many seconds a store entry's TTL may have run down between the write and its check.
const TTL_READ_LATE: u64 = 2;
/// Every store call's limit: long enough that a loaded two-core machine (a CI run building beside
/// the matrix's concurrent cells) is never taken for a store that is down; the hung-store cells
/// wait it out.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);
/// Only so that a hung cell cannot hang the run: no cell is timed.
const CELL_TIMEOUT: Duration = Duration::from_secs(120);
/// A session this large spills (one cookie carries about 2.9 KB).
const BIG: usize = 6000;
const DAY: u64 = 24 * 3600;

/// Cells written against the API they need, whose result is reported as pending rather than
/// as a pass or failure, with why. Keep this list short: everything the matrix covers is
/// expressible with today's API, so it is empty.
const PENDING: &[(&str, &str)] = &[];

// ---------------------------------------------------------------------------------------------
// Schemas: version 1 and 2 of an account (for migrations and rolling deploys), and a schema
// whose worst case fills its one cookie (for the near-budget cells).

#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1)]
struct AcctV1 {
    #[session(max_len = 64)]
    user: String,
    #[session(max_len = 64)]
    marker: String,
    #[session(max_len = 20_000)]
    blob: Vec<u8>,
}

#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 2, previous = AcctV1, downgrade = acct_to_v1)]
struct Acct {
    #[session(max_len = 64)]
    user: String,
    #[session(max_len = 64)]
    marker: String,
    #[session(max_len = 20_000)]
    blob: Vec<u8>,
    /// Set by the migration from version 1, so a cell sees which value it got.
    migrated: bool,
}

impl From<AcctV1> for Acct {
    fn from(old: AcctV1) -> Self {
        Acct {
            user: old.user,
            marker: old.marker,
            blob: old.blob,
            migrated: true,
        }
    }
}

fn acct_to_v1(new: &Acct) -> AcctV1 {
    AcctV1 {
        user: new.user.clone(),
        marker: new.marker.clone(),
        blob: new.blob.clone(),
    }
}

/// Its worst case fits one cookie by the derive's count (and is larger than the flash cookie's);
/// the near-budget cells shrink the cookie (`with_max_cookie_len`) until that worst case fits
/// with as little room as the base64 steps allow.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1, max_cookies = 1)]
struct Tight {
    #[session(max_len = 16)]
    user: String,
    #[session(max_len = 16)]
    marker: String,
    #[session(max_len = 2700)]
    blob: Vec<u8>,
}

/// What the handlers need from every schema.
trait Schema: CookieSession + Default + fmt::Debug + Send + Sync + 'static {
    fn fields(&mut self) -> (&mut String, &mut String, &mut Vec<u8>);
    fn view(&self) -> (&str, &str, usize);
    fn migrated(&self) -> bool {
        false
    }
}

impl Schema for AcctV1 {
    fn fields(&mut self) -> (&mut String, &mut String, &mut Vec<u8>) {
        (&mut self.user, &mut self.marker, &mut self.blob)
    }
    fn view(&self) -> (&str, &str, usize) {
        (&self.user, &self.marker, self.blob.len())
    }
}

impl Schema for Acct {
    fn fields(&mut self) -> (&mut String, &mut String, &mut Vec<u8>) {
        (&mut self.user, &mut self.marker, &mut self.blob)
    }
    fn view(&self) -> (&str, &str, usize) {
        (&self.user, &self.marker, self.blob.len())
    }
    fn migrated(&self) -> bool {
        self.migrated
    }
}

impl Schema for Tight {
    fn fields(&mut self) -> (&mut String, &mut String, &mut Vec<u8>) {
        (&mut self.user, &mut self.marker, &mut self.blob)
    }
    fn view(&self) -> (&str, &str, usize) {
        (&self.user, &self.marker, self.blob.len())
    }
}

// ---------------------------------------------------------------------------------------------
// The app: one handler per transition, generic over the schema.

/// Holds a slow handler until the cell lets it go.
#[derive(Debug, Default)]
struct Gate {
    started: Notify,
    release: Notify,
}

struct App<T> {
    layer: SessionLayer<T>,
    /// The cell's fault switch, for handlers that take the store down half-way.
    fault: Option<Arc<watch::Sender<Fault>>>,
    gate: Arc<Gate>,
}

impl<T> Clone for App<T> {
    fn clone(&self) -> Self {
        App {
            layer: self.layer.clone(),
            fault: self.fault.clone(),
            gate: Arc::clone(&self.gate),
        }
    }
}

#[derive(Deserialize, Default)]
struct Params {
    user: Option<String>,
    m: Option<String>,
    s: Option<String>,
    n: Option<usize>,
    op: Option<String>,
    f: Option<String>,
}

/// `user|marker|blob length|new|id hex|issued|last access|migrated`.
fn describe<T: Schema>(s: &Session<T>) -> String {
    let new = u8::from(s.is_new());
    let meta = s.meta();
    let value = s.get();
    let (user, marker, blob) = value.view();
    format!(
        "{user}|{marker}|{blob}|{new}|{}|{}|{}|{}",
        hex(&meta.id.0),
        meta.issued_at,
        meta.last_access,
        u8::from(value.migrated())
    )
}

fn set_fields<T: Schema>(t: &mut T, user: Option<&str>, marker: Option<&str>, n: Option<usize>) {
    let (u, m, b) = t.fields();
    if let Some(user) = user {
        *u = user.to_owned();
    }
    if let Some(marker) = marker {
        *m = marker.to_owned();
    }
    if let Some(n) = n {
        *b = vec![b'x'; n];
    }
}

async fn me<T: Schema>(s: Session<T>) -> String {
    describe(&s)
}

/// A login: a new id (`regenerate`), the subject, the user, and `n` bytes of data.
async fn login<T: Schema>(
    mut s: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    let user = p.user.unwrap_or_default();
    s.regenerate()?;
    s.set_subject(&user);
    s.update(|t| set_fields(t, Some(&user), None, Some(p.n.unwrap_or(0))))?;
    Ok(describe(&s))
}

async fn change<T: Schema>(
    mut s: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    s.update(|t| set_fields(t, None, p.m.as_deref(), p.n))?;
    Ok(describe(&s))
}

async fn clear<T: Schema>(mut s: Session<T>) -> &'static str {
    s.clear();
    "bye"
}

/// A logout that leaves a marker in the new, logged-out session.
async fn clear_change<T: Schema>(
    mut s: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    s.clear();
    s.update(|t| set_fields(t, None, p.m.as_deref(), None))?;
    Ok(describe(&s))
}

async fn regen<T: Schema>(mut s: Session<T>) -> Result<String, SessionError> {
    s.regenerate()?;
    Ok(describe(&s))
}

async fn subject<T: Schema>(mut s: Session<T>, Query(p): Query<Params>) -> String {
    s.set_subject(p.s.as_deref().unwrap_or_default());
    describe(&s)
}

/// "Log out my other devices": `revoke_all` of this user, then a new id for this session.
async fn revoke_others<T: Schema>(State(app): State<App<T>>, mut s: Session<T>) -> Response {
    let user = s.get().view().0.to_owned();
    if let Err(err) = app.layer.revoke_all(&user).await {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("revoke_all failed: {err}"),
        )
            .into_response();
    }
    match s.regenerate() {
        Ok(()) => describe(&s).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Takes the store down (`f=down`, default) or hangs it (`f=hang`) after the session was
/// loaded, then does `op`: `change`, `clear` or `login`.
async fn down_then<T: Schema>(
    State(app): State<App<T>>,
    mut s: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    let fault = match p.f.as_deref() {
        Some("hang") => Fault::Hang,
        _ => Fault::Down,
    };
    if let Some(switch) = &app.fault {
        switch.send_replace(fault);
    }
    match p.op.as_deref() {
        Some("clear") => {
            s.clear();
            Ok("bye".to_owned())
        }
        Some("login") => {
            let user = p.user.unwrap_or_default();
            s.regenerate()?;
            s.set_subject(&user);
            s.update(|t| set_fields(t, Some(&user), None, p.n))?;
            Ok(describe(&s))
        }
        _ => {
            s.update(|t| set_fields(t, None, p.m.as_deref(), p.n))?;
            Ok(describe(&s))
        }
    }
}

/// Loads the session, waits for the cell's go, then changes it: a request in flight.
async fn slow_change<T: Schema>(
    State(app): State<App<T>>,
    mut s: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    app.gate.started.notify_one();
    app.gate.release.notified().await;
    s.update(|t| set_fields(t, None, p.m.as_deref(), p.n))?;
    Ok(describe(&s))
}

fn router<T: Schema>(app: App<T>) -> Router {
    let layer = app.layer.clone();
    Router::new()
        .route("/me", get(me::<T>))
        .route("/login", post(login::<T>))
        .route("/change", post(change::<T>))
        .route("/clear", post(clear::<T>))
        .route("/clear-change", post(clear_change::<T>))
        .route("/regen", post(regen::<T>))
        .route("/subject", post(subject::<T>))
        .route("/revoke-others", post(revoke_others::<T>))
        .route("/down-then", post(down_then::<T>))
        .route("/slow-change", post(slow_change::<T>))
        .with_state(app)
        .layer(layer)
}

/// The same routes on actix-web, calling the same handlers: the axum extractors they take are
/// plain wrappers, built here from actix-web's.
fn actix_routes<T: Schema>(app: App<T>) -> impl Fn(&mut web::ServiceConfig) + Clone + Send {
    type Q = web::Query<Params>;
    type D<T> = web::Data<App<T>>;
    let state = |d: D<T>| State(d.get_ref().clone());
    move |config| {
        config
            .app_data(web::Data::new(app.clone()))
            .route("/me", web::get().to(me::<T>))
            .route(
                "/login",
                web::post().to(|s, q: Q| login::<T>(s, Query(q.into_inner()))),
            )
            .route(
                "/change",
                web::post().to(|s, q: Q| change::<T>(s, Query(q.into_inner()))),
            )
            .route("/clear", web::post().to(clear::<T>))
            .route(
                "/clear-change",
                web::post().to(|s, q: Q| clear_change::<T>(s, Query(q.into_inner()))),
            )
            .route("/regen", web::post().to(regen::<T>))
            .route(
                "/subject",
                web::post().to(|s, q: Q| subject::<T>(s, Query(q.into_inner()))),
            )
            .route(
                "/revoke-others",
                web::post().to(move |d: D<T>, s| async move {
                    from_axum(revoke_others::<T>(state(d), s).await).await
                }),
            )
            .route(
                "/down-then",
                web::post()
                    .to(move |d: D<T>, s, q: Q| down_then::<T>(state(d), s, Query(q.into_inner()))),
            )
            .route(
                "/slow-change",
                web::post().to(move |d: D<T>, s, q: Q| {
                    slow_change::<T>(state(d), s, Query(q.into_inner()))
                }),
            );
    }
}

/// An axum handler's response as actix-web's: its status, content type and body.
async fn from_axum(response: Response) -> actix_web::HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(response.status().as_u16())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    actix_web::HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

// ---------------------------------------------------------------------------------------------
// The client side: a cookie jar kept by hand, so a cell can record and replay it.

#[derive(Debug)]
struct Reply {
    status: u16,
    body: String,
    set: Vec<String>,
}

fn is_session_line(line: &str) -> bool {
    let name = line.split('=').next().unwrap_or_default();
    name == "session" || name.starts_with("session.")
}

/// Set-Cookie lines that write a session cookie (not removals, not the flash cookie).
fn session_writes(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| is_session_line(l) && !l.contains("Max-Age=0"))
        .cloned()
        .collect()
}

fn removes_session(lines: &[String]) -> bool {
    lines
        .iter()
        .any(|l| l.starts_with("session=;") && l.contains("Max-Age=0"))
}

/// What `/me` (and the handlers that describe) answered.
#[derive(Debug, Clone)]
struct Seen {
    user: String,
    marker: String,
    blob: usize,
    new: bool,
    id: [u8; 16],
    issued: u32,
    migrated: bool,
}

impl Seen {
    fn parse(body: &str) -> Result<Seen, String> {
        let parts: Vec<&str> = body.split('|').collect();
        let bad = || format!("an unexpected body: {body:?}");
        if parts.len() != 8 {
            return Err(bad());
        }
        let mut id = [0u8; 16];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(parts[4].get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
                .map_err(|_| bad())?;
        }
        Ok(Seen {
            user: parts[0].to_owned(),
            marker: parts[1].to_owned(),
            blob: parts[2].parse().map_err(|_| bad())?,
            new: parts[3] == "1",
            id,
            issued: parts[5].parse().map_err(|_| bad())?,
            migrated: parts[7] == "1",
        })
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.new {
            write!(f, "no session (a fresh one)")
        } else {
            write!(
                f,
                "the session of user={:?} marker={:?} blob={}",
                self.user, self.marker, self.blob
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Store keys, as docs/FORMAT.md derives them, and the TTL probes.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tag(label: &[u8], bytes: &[u8]) -> String {
    hex(&Sha256::new()
        .chain_update(label)
        .chain_update(bytes)
        .finalize()[..16])
}

fn data_key(id: &[u8; 16]) -> String {
    format!("s:{}", tag(b"session-runtime v1 store key", id))
}

fn revoked_key(id: &[u8; 16]) -> String {
    format!("r:{}", tag(b"session-runtime v1 revoked id", id))
}

/// The primary key's "log out everywhere" record of `subject`, as docs/FORMAT.md derives it: a
/// keyed tag under a key derived from the master key, so apps with different keys never meet.
fn generation_key(key: &Key, subject: &str) -> String {
    use base64::Engine as _;
    let material = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key.to_base64())
        .expect("a key's base64");
    let mut tag_key = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(None, &material)
        .expand(b"session-runtime v1 store tag key", &mut tag_key)
        .expect("32 bytes of HKDF");
    let subject_tag = Sha256::new()
        .chain_update(b"session-runtime v1 subject")
        .chain_update(subject.as_bytes())
        .finalize();
    let mut input = b"session-runtime v2 subject generation\0".to_vec();
    input.extend_from_slice(&subject_tag[..16]);
    // HKDF-Extract is HMAC-SHA256(salt, input).
    let (mac, _) = hkdf::Hkdf::<Sha256>::extract(Some(&tag_key), &input);
    format!("g:{}", hex(&mac[..16]))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ttl {
    Missing,
    Forever,
    Secs(u64),
}

/// Where a cell's keys can be looked at directly, bypassing any proxy.
#[derive(Debug, Clone)]
enum Probe {
    /// The memory store: its TTLs cannot be read.
    None,
    Memcached(Vec<u16>),
    Redis(Vec<u16>),
}

async fn ask_line(port: u16, line: &str) -> Result<String, String> {
    let talk = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(line.as_bytes()).await?;
        let mut reply = String::new();
        BufReader::new(stream).read_line(&mut reply).await?;
        Ok::<_, std::io::Error>(reply)
    };
    match tokio::time::timeout(Duration::from_secs(2), talk).await {
        Ok(Ok(reply)) => Ok(reply.trim_end().to_owned()),
        Ok(Err(err)) => Err(format!("probe of port {port}: {err}")),
        Err(_) => Err(format!("probe of port {port}: no answer")),
    }
}

impl Probe {
    async fn ttl(&self, wire_key: &str) -> Result<Option<Ttl>, String> {
        match self {
            Probe::None => Ok(None),
            Probe::Memcached(ports) => {
                for &port in ports {
                    let reply = ask_line(port, &format!("mg {wire_key} t\r\n")).await?;
                    if let Some(rest) = reply.strip_prefix("HD") {
                        let t = rest
                            .split_whitespace()
                            .find_map(|f| f.strip_prefix('t'))
                            .ok_or_else(|| format!("mg answered {reply:?}"))?;
                        return Ok(Some(if t == "-1" {
                            Ttl::Forever
                        } else {
                            Ttl::Secs(t.parse().map_err(|_| format!("mg answered {reply:?}"))?)
                        }));
                    }
                }
                Ok(Some(Ttl::Missing))
            }
            Probe::Redis(ports) => {
                for &port in ports {
                    let reply = ask_line(port, &format!("PTTL {wire_key}\r\n")).await?;
                    let Some(n) = reply.strip_prefix(':') else {
                        continue; // -MOVED: another node of the cluster holds it
                    };
                    let ms: i64 = n.parse().map_err(|_| format!("PTTL answered {reply:?}"))?;
                    return Ok(Some(match ms {
                        -2 => Ttl::Missing,
                        -1 => Ttl::Forever,
                        ms => Ttl::Secs((ms as u64).div_ceil(1000)),
                    }));
                }
                Ok(Some(Ttl::Missing))
            }
        }
    }

    /// Memcached's clock ticks in whole seconds: a TTL read back may be one second short.
    fn tick(&self) -> u64 {
        u64::from(matches!(self, Probe::Memcached(_)))
    }
}

/// Sends a command to every port (an ACL for a cluster goes to each node).
async fn redis_everywhere(ports: &[u16], line: &str) -> Result<(), String> {
    for &port in ports {
        let reply = ask_line(port, line).await?;
        if !reply.starts_with("+OK") {
            return Err(format!("{line:?} on port {port} answered {reply:?}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The memory store behind the same kind of switch as the proxies, and restartable.

#[derive(Debug)]
struct SwitchedMemory {
    inner: RwLock<Arc<MemoryStore>>,
    fault: watch::Receiver<Fault>,
}

impl SwitchedMemory {
    fn current(&self) -> Result<Arc<MemoryStore>, Fault> {
        match *self.fault.borrow() {
            Fault::Pass => Ok(Arc::clone(
                &self.inner.read().unwrap_or_else(|e| e.into_inner()),
            )),
            fault => Err(fault),
        }
    }

    /// Loses every entry, as a restarted server would.
    fn restart(&self) {
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(MemoryStore::new());
    }
}

fn faulted<'a, T: Send + 'a>(fault: Fault) -> BoxFuture<'a, Result<T, StoreError>> {
    match fault {
        Fault::Hang => Box::pin(std::future::pending()),
        _ => Box::pin(async { Err(StoreError::Unavailable("switched off".into())) }),
    }
}

impl SessionStore for SwitchedMemory {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        match self.current() {
            Ok(store) => Box::pin(async move { store.load(key).await }),
            Err(fault) => faulted(fault),
        }
    }

    fn load_many<'a>(
        &'a self,
        keys: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        match self.current() {
            Ok(store) => Box::pin(async move { store.load_many(keys).await }),
            Err(fault) => faulted(fault),
        }
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
        condition: Condition,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        match self.current() {
            Ok(store) => Box::pin(async move { store.save(key, value, ttl, condition).await }),
            Err(fault) => faulted(fault),
        }
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        match self.current() {
            Ok(store) => Box::pin(async move { store.delete(key).await }),
            Err(fault) => faulted(fault),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The table.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Cookie,
    CookieRev,
    Store,
    StoreRev,
    OverBelow,
    OverAbove,
}

impl Mode {
    const ALL: [Mode; 6] = [
        Mode::Cookie,
        Mode::CookieRev,
        Mode::Store,
        Mode::StoreRev,
        Mode::OverBelow,
        Mode::OverAbove,
    ];
    /// The modes whose sessions depend on a store: where faults are run.
    const FAULTS: [Mode; 4] = [
        Mode::CookieRev,
        Mode::Store,
        Mode::StoreRev,
        Mode::OverAbove,
    ];

    fn name(self) -> &'static str {
        match self {
            Mode::Cookie => "cookie",
            Mode::CookieRev => "cookie+revocation",
            Mode::Store => "store",
            Mode::StoreRev => "store+revocation",
            Mode::OverBelow => "overflow-below",
            Mode::OverAbove => "overflow-above",
        }
    }

    /// The session lives in the store (its data key has a TTL to check).
    fn in_store(self) -> bool {
        matches!(self, Mode::Store | Mode::StoreRev | Mode::OverAbove)
    }

    fn revocation(self) -> bool {
        matches!(self, Mode::CookieRev | Mode::StoreRev)
    }

    /// The session is written in cookies (a change sets them).
    fn in_cookies(self) -> bool {
        matches!(self, Mode::Cookie | Mode::CookieRev | Mode::OverBelow)
    }

    /// Whether `revoke_all` must kill a recorded copy of the cookie: in every mode with a store
    /// or a revocation list. Plain cookie mode cannot (it has no store: `revoke_all` is an
    /// error), and says so (README, SECURITY.md: "the documented limit").
    fn kills_replays(self) -> bool {
        self != Mode::Cookie
    }

    /// Whether a logout (`clear`, `regenerate`) must kill a recorded copy of the cookie: where
    /// the session's id is in a store or on a revocation list. A session below the overflow
    /// spill point lives in its cookies with nothing recorded, so it has plain cookies' limit
    /// (README's table says so); its cells assert that limit.
    fn logout_kills_replays(self) -> bool {
        !matches!(self, Mode::Cookie | Mode::OverBelow)
    }

    /// The data a login and a change put in the session: above the spill point for
    /// overflow-above.
    fn blob(self) -> usize {
        if self == Mode::OverAbove { BIG } else { 0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    None,
    Memory,
    Memcached,
    Pool,
    Redis,
    Cluster,
}

impl Backend {
    const STORES: [Backend; 5] = [
        Backend::Memory,
        Backend::Memcached,
        Backend::Pool,
        Backend::Redis,
        Backend::Cluster,
    ];

    fn name(self) -> &'static str {
        match self {
            Backend::None => "-",
            Backend::Memory => "memory",
            Backend::Memcached => "memcached",
            Backend::Pool => "memcached-pool",
            Backend::Redis => "redis",
            Backend::Cluster => "redis-cluster",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Restore,
    Change,
    Clear,
    ClearChange,
    Regenerate,
    SetSubject,
    Refresh,
    ExpireIdle,
    ExpireAbsolute,
    Revoke,
    LogoutOthers,
    RotateKey,
    RotateKeyByReload,
    Migrate,
    WriteOlder,
    // Faults and special cases.
    DownAtLoadOpen,
    DownAtLoadClosed,
    DownAtSave,
    DownAtDelete,
    LogoutLoadFailedOpen,
    Slow,
    Restart,
    DelRefused,
    InFlight,
    LoginRevocationFails,
    TwoApps,
    NearBudget,
    NoTimeout,
    // Moving to another store (`with_previous_store`), the cell's `from` the old configuration.
    MoveKeep,
    MoveLogoutBefore,
    MoveLogoutAfter,
    MoveLogoutOld,
    MoveRevokeOld,
    MoveRevokeNew,
    MoveInFlight,
}

impl Kind {
    const TRANSITIONS: [Kind; 16] = [
        Kind::Open,
        Kind::Restore,
        Kind::Change,
        Kind::Clear,
        Kind::ClearChange,
        Kind::Regenerate,
        Kind::SetSubject,
        Kind::Refresh,
        Kind::ExpireIdle,
        Kind::ExpireAbsolute,
        Kind::Revoke,
        Kind::LogoutOthers,
        Kind::RotateKey,
        Kind::RotateKeyByReload,
        Kind::Migrate,
        Kind::WriteOlder,
    ];

    const MOVES: [Kind; 7] = [
        Kind::MoveInFlight,
        Kind::MoveKeep,
        Kind::MoveLogoutBefore,
        Kind::MoveLogoutAfter,
        Kind::MoveLogoutOld,
        Kind::MoveRevokeOld,
        Kind::MoveRevokeNew,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Open => "open",
            Kind::Restore => "restore",
            Kind::Change => "change",
            Kind::Clear => "clear",
            Kind::ClearChange => "clear-then-change",
            Kind::Regenerate => "regenerate",
            Kind::SetSubject => "set-subject",
            Kind::Refresh => "refresh",
            Kind::ExpireIdle => "expire-idle",
            Kind::ExpireAbsolute => "expire-absolute",
            Kind::Revoke => "revoke-all",
            Kind::LogoutOthers => "log-out-other-devices",
            Kind::RotateKey => "rotate-key",
            Kind::RotateKeyByReload => "rotate-key-by-reload",
            Kind::Migrate => "migrate",
            Kind::WriteOlder => "write-older-version",
            Kind::DownAtLoadOpen => "fault:down-at-load-fail-open",
            Kind::DownAtLoadClosed => "fault:down-at-load-fail-closed",
            Kind::DownAtSave => "fault:down-at-save",
            Kind::DownAtDelete => "fault:down-at-logout",
            Kind::LogoutLoadFailedOpen => "fault:logout-whose-load-failed-open",
            Kind::Slow => "fault:slower-than-timeout",
            Kind::Restart => "fault:restart-between-requests",
            Kind::DelRefused => "fault:del-refused",
            Kind::InFlight => "fault:request-in-flight-across-logout",
            Kind::LoginRevocationFails => "fault:revocation-fails-at-login",
            Kind::TwoApps => "two-apps-share-one-store",
            Kind::NearBudget => "near-budget-with-subject",
            Kind::NoTimeout => "no-timeout-under-revocation",
            Kind::MoveKeep => "keeps-user-and-data",
            Kind::MoveLogoutBefore => "logout-before-the-session-moved",
            Kind::MoveLogoutAfter => "logout-after-the-session-moved",
            Kind::MoveLogoutOld => "logout-on-the-old-configuration",
            Kind::MoveRevokeOld => "revoke-all-on-the-old-configuration",
            Kind::MoveRevokeNew => "revoke-all-on-the-new-configuration",
            Kind::MoveInFlight => "logout-while-a-request-moves-it",
        }
    }

    /// Cells that switch the store off or restart it: on the cluster they take the fault
    /// cluster, one at a time.
    fn switches_the_store(self) -> bool {
        matches!(
            self,
            Kind::DownAtLoadOpen
                | Kind::DownAtLoadClosed
                | Kind::DownAtSave
                | Kind::DownAtDelete
                | Kind::LogoutLoadFailedOpen
                | Kind::Slow
                | Kind::LoginRevocationFails
        )
    }
}

/// The framework whose adapter serves a cell's instances: the lifecycle is one core, and each
/// adapter only translates its requests and responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adapter {
    Axum,
    Actix,
}

impl Adapter {
    fn name(self) -> &'static str {
        match self {
            Adapter::Axum => "axum",
            Adapter::Actix => "actix",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    adapter: Adapter,
    /// The configuration the cell's instances run (for a move: the new one).
    mode: Mode,
    backend: Backend,
    kind: Kind,
    /// A move: the configuration sessions were issued under before.
    from: Option<OldSide>,
}

/// The old side of a move: its mode and backend, and whether the new configuration names its
/// store as the previous one (a move from cookies has none to name).
#[derive(Debug, Clone, Copy)]
struct OldSide {
    mode: Mode,
    backend: Backend,
    previous: bool,
}

impl Cell {
    fn name(&self) -> String {
        match self.from {
            Some(from) => format!(
                "{}/move:{}/{}->{}/{}/{}",
                self.adapter.name(),
                from.mode.name(),
                from.backend.name(),
                self.mode.name(),
                self.backend.name(),
                self.kind.name()
            ),
            None => format!(
                "{}/{}/{}/{}",
                self.adapter.name(),
                self.mode.name(),
                self.backend.name(),
                self.kind.name()
            ),
        }
    }

    fn on_fault_cluster(&self) -> bool {
        self.backend == Backend::Cluster
            && (self.kind.switches_the_store() || self.kind == Kind::Restart)
    }
}

/// Every cell of the matrix.
fn cells() -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut add = |mode, backend, kind| {
        cells.push(Cell {
            adapter: Adapter::Axum,
            mode,
            backend,
            kind,
            from: None,
        })
    };
    for kind in Kind::TRANSITIONS {
        for mode in Mode::ALL {
            if mode == Mode::Cookie {
                add(mode, Backend::None, kind);
            } else {
                for backend in Backend::STORES {
                    add(mode, backend, kind);
                }
            }
        }
    }
    for kind in [
        Kind::DownAtLoadOpen,
        Kind::DownAtLoadClosed,
        Kind::DownAtSave,
        Kind::DownAtDelete,
        Kind::LogoutLoadFailedOpen,
        Kind::Slow,
        Kind::Restart,
        Kind::InFlight,
        Kind::LoginRevocationFails,
    ] {
        for mode in Mode::FAULTS {
            // Cookie + revocation writes its sessions in cookies: no save reaches the store.
            if kind == Kind::DownAtSave && mode == Mode::CookieRev {
                continue;
            }
            for backend in Backend::STORES {
                add(mode, backend, kind);
            }
        }
    }
    // Redis only: ACL users (no DEL) and the shared default prefix.
    for kind in [Kind::DelRefused, Kind::TwoApps] {
        for mode in Mode::FAULTS {
            for backend in [Backend::Redis, Backend::Cluster] {
                add(mode, backend, kind);
            }
        }
    }
    // A cookie budget exists where sessions are written in cookies.
    add(Mode::Cookie, Backend::None, Kind::NearBudget);
    for mode in [Mode::CookieRev, Mode::OverBelow] {
        for backend in Backend::STORES {
            add(mode, backend, Kind::NearBudget);
        }
    }
    for mode in [Mode::CookieRev, Mode::StoreRev] {
        for backend in Backend::STORES {
            add(mode, backend, Kind::NoTimeout);
        }
    }
    // Moves: (old mode, old backend) -> (new mode, new backend), the new configuration naming
    // the old store with `with_previous_store` (a move from cookies has no store to name).
    let moves = [
        (Mode::Store, Backend::Memcached, Mode::Store, Backend::Redis),
        (Mode::Store, Backend::Pool, Mode::Store, Backend::Cluster),
        (
            Mode::StoreRev,
            Backend::Memcached,
            Mode::StoreRev,
            Backend::Redis,
        ),
        (Mode::Store, Backend::Redis, Mode::Cookie, Backend::None),
        (Mode::Store, Backend::Redis, Mode::CookieRev, Backend::Redis),
        (
            Mode::OverAbove,
            Backend::Memcached,
            Mode::OverAbove,
            Backend::Redis,
        ),
        (Mode::Cookie, Backend::None, Mode::Store, Backend::Redis),
        (Mode::Cookie, Backend::None, Mode::Store, Backend::Memcached),
        (
            Mode::CookieRev,
            Backend::Redis,
            Mode::StoreRev,
            Backend::Redis,
        ),
    ];
    for (old_mode, old_backend, mode, backend) in moves {
        for kind in Kind::MOVES {
            cells.push(Cell {
                adapter: Adapter::Axum,
                mode,
                backend,
                kind,
                from: Some(OldSide {
                    mode: old_mode,
                    backend: old_backend,
                    previous: old_mode.in_store(),
                }),
            });
        }
    }
    cells.extend(through_actix(&cells));
    cells
}

/// The cells that depend on the adapter, run again through actix-web: every transition and
/// fault in every mode (what the handlers see, the response's cookies and status, the errors),
/// on one backend. Which backend a store call reaches is the core's business, the same under
/// either adapter, so the other backends' faults and special cases run once, through axum.
/// Redis is the backend every kind runs on. The other backends run the transitions in store
/// mode through actix-web too: a store built before the server makes its connections on
/// whichever worker thread first calls it, and every worker then shares them.
fn through_actix(cells: &[Cell]) -> Vec<Cell> {
    cells
        .iter()
        // Moves between stores are the core's alone: they run once.
        .filter(|cell| cell.from.is_none())
        .filter(|cell| {
            matches!(cell.backend, Backend::None | Backend::Redis)
                || (cell.mode == Mode::Store && Kind::TRANSITIONS.contains(&cell.kind))
        })
        .map(|cell| Cell {
            adapter: Adapter::Actix,
            ..*cell
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The servers, started once per run.

/// The second cluster, whose nodes announce the ports of proxies in front of them, so a cell
/// can switch the whole cluster off; one cell at a time holds it.
struct FaultCluster {
    cluster: RedisCluster,
    switch: Arc<watch::Sender<Fault>>,
    proxies: Vec<FaultProxy>,
}

struct Servers {
    memcached: Memcached,
    pool: MemcachedPool,
    redis: Redis,
    cluster: RedisCluster,
    fault_cluster: Arc<tokio::sync::Mutex<FaultCluster>>,
    client: reqwest::Client,
}

impl Servers {
    /// Starts every shared server; call with the runtime entered (the proxies run on it).
    fn start() -> Servers {
        std::thread::scope(|scope| {
            let memcached = scope.spawn(Memcached::start);
            let pool = scope.spawn(|| MemcachedPool::start(3));
            let redis = scope.spawn(Redis::start);
            let cluster = scope.spawn(RedisCluster::start);
            let fault_cluster = start_fault_cluster();
            let join = "a server start panicked";
            Servers {
                memcached: memcached.join().expect(join),
                pool: pool.join().expect(join),
                redis: redis.join().expect(join),
                cluster: cluster.join().expect(join),
                fault_cluster: Arc::new(tokio::sync::Mutex::new(fault_cluster)),
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("a client"),
            }
        })
    }
}

fn start_fault_cluster() -> FaultCluster {
    let (switch, fault) = watch::channel(Fault::Pass);
    let listeners: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port"))
        .collect();
    let announce: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().expect("bound").port())
        .collect();
    let mut proxies = Vec::new();
    let cluster = RedisCluster::start_announcing(&announce, |ports| {
        for (listener, &port) in listeners.into_iter().zip(ports) {
            proxies.push(FaultProxy::on(listener, port, fault.clone()));
        }
    });
    FaultCluster {
        cluster,
        switch: Arc::new(switch),
        proxies,
    }
}

// ---------------------------------------------------------------------------------------------
// One cell's context: its key, clock, store, fault switch, servers and instances.

type Store = Arc<dyn SessionStore>;

/// Servers of the cell's own, for restarts.
enum Own {
    None,
    Memory(Arc<SwitchedMemory>),
    Memcached(Memcached),
    Pool(MemcachedPool),
    Redis(Redis),
}

struct Cx {
    cell: Cell,
    idx: usize,
    key: Key,
    clock: ManualClock,
    idle: Option<u64>,
    absolute: Option<u64>,
    failure: StoreFailure,
    /// `with_max_cookie_len`, for the near-budget cells.
    cookie_len: Option<usize>,
    store: Option<Store>,
    prefix: String,
    probe: Probe,
    fault: Option<Arc<watch::Sender<Fault>>>,
    gate: Arc<Gate>,
    own: Own,
    fault_cluster: Option<OwnedMutexGuard<FaultCluster>>,
    servers: Arc<Servers>,
    client: reqwest::Client,
    /// Instances and proxies of this cell, stopped when it ends.
    tasks: Vec<tokio::task::JoinHandle<()>>,
    actix: Vec<session_tests::ActixServer>,
    proxies: Vec<FaultProxy>,
    /// Failed expectations that do not stop the cell.
    fails: Vec<String>,
    /// A move's old store, and where its keys can be looked at.
    old_store: Option<Store>,
    old_probe: Probe,
    /// The calls the new configuration made to the old store.
    old_calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Cx {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(fc) = &self.fault_cluster {
            fc.switch.send_replace(Fault::Pass);
        }
    }
}

type R = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

impl Cx {
    async fn new(
        cell: Cell,
        idx: usize,
        servers: Arc<Servers>,
        fault_cluster: Option<OwnedMutexGuard<FaultCluster>>,
    ) -> Result<Cx, String> {
        let mut cx = Cx {
            cell,
            idx,
            key: Key::generate(),
            clock: ManualClock::new(T0),
            idle: Some(IDLE),
            absolute: Some(ABSOLUTE),
            failure: StoreFailure::FailOpen,
            cookie_len: None,
            store: None,
            prefix: format!("lc{idx}:"),
            probe: Probe::None,
            fault: None,
            gate: Arc::new(Gate::default()),
            own: Own::None,
            fault_cluster,
            client: servers.client.clone(),
            servers,
            tasks: Vec::new(),
            actix: Vec::new(),
            proxies: Vec::new(),
            fails: Vec::new(),
            old_store: None,
            old_probe: Probe::None,
            old_calls: Arc::default(),
        };
        if cell.backend != Backend::None {
            let store = cx.make_store().await?;
            cx.store = Some(store);
        }
        if let Some(from) = cell.from
            && from.backend != Backend::None
        {
            let (store, probe) = old_store(&cx.servers, from.backend, &cx.prefix)?;
            cx.old_store = Some(store);
            cx.old_probe = probe;
        }
        Ok(cx)
    }

    /// The cell's store: on the shared servers under its own prefix; behind proxies when the
    /// cell switches it off; on servers of its own when it restarts them.
    async fn make_store(&mut self) -> Result<Store, String> {
        let kind = self.cell.kind;
        let switched = kind.switches_the_store();
        let cfg = |e: session_runtime::StoreConfigError| e.to_string();
        if switched || kind == Kind::Restart {
            let (switch, fault) = watch::channel(Fault::Pass);
            let switch = Arc::new(switch);
            self.fault = Some(Arc::clone(&switch));
            let proxied = |this: &mut Cx, ports: Vec<u16>| -> Vec<String> {
                ports
                    .into_iter()
                    .map(|port| {
                        let proxy = FaultProxy::start(port, fault.clone());
                        let address = proxy.address();
                        this.proxies.push(proxy);
                        address
                    })
                    .collect()
            };
            let restart = kind == Kind::Restart;
            return Ok(match self.cell.backend {
                Backend::Memory => {
                    let memory = Arc::new(SwitchedMemory {
                        inner: RwLock::new(Arc::new(MemoryStore::new())),
                        fault,
                    });
                    self.own = Own::Memory(Arc::clone(&memory));
                    memory
                }
                Backend::Memcached => {
                    let port = if restart {
                        let server = tokio::task::block_in_place(Memcached::start);
                        let port = server.port();
                        self.own = Own::Memcached(server);
                        port
                    } else {
                        self.servers.memcached.port()
                    };
                    self.probe = Probe::Memcached(vec![port]);
                    let addresses = proxied(self, vec![port]);
                    Arc::new(
                        MemcachedStore::new(addresses)
                            .and_then(|s| s.with_prefix(&self.prefix))
                            .map_err(cfg)?,
                    )
                }
                Backend::Pool => {
                    let ports: Vec<u16> = if restart {
                        let pool = tokio::task::block_in_place(|| MemcachedPool::start(3));
                        let ports = pool.members.iter().map(Memcached::port).collect();
                        self.own = Own::Pool(pool);
                        ports
                    } else {
                        self.servers
                            .pool
                            .members
                            .iter()
                            .map(Memcached::port)
                            .collect()
                    };
                    self.probe = Probe::Memcached(ports.clone());
                    let addresses = proxied(self, ports);
                    Arc::new(
                        MemcachedStore::new(addresses)
                            .and_then(|s| s.with_prefix(&self.prefix))
                            .map_err(cfg)?,
                    )
                }
                Backend::Redis => {
                    let port = if restart {
                        let server = tokio::task::block_in_place(Redis::start);
                        let port = server.port();
                        self.own = Own::Redis(server);
                        port
                    } else {
                        self.servers.redis.port()
                    };
                    self.probe = Probe::Redis(vec![port]);
                    let url = format!("redis://{}/", proxied(self, vec![port])[0]);
                    Arc::new(
                        RedisStore::new(&url)
                            .and_then(|s| s.with_prefix(&self.prefix))
                            .map_err(cfg)?,
                    )
                }
                Backend::Cluster | Backend::None => {
                    // The fault cluster: its own proxies, its own switch.
                    let fc = self
                        .fault_cluster
                        .as_ref()
                        .ok_or("a cluster fault cell without the fault cluster")?;
                    self.fault = Some(Arc::clone(&fc.switch));
                    self.probe = Probe::Redis(fc.cluster.ports());
                    let urls: Vec<String> = fc.proxies.iter().map(FaultProxy::url).collect();
                    Arc::new(
                        RedisStore::cluster(urls)
                            .and_then(|s| s.with_prefix(&self.prefix))
                            .map_err(cfg)?,
                    )
                }
            });
        }
        let prefix = match kind {
            // Two apps that both keep the default prefix.
            Kind::TwoApps => None,
            _ => Some(self.prefix.clone()),
        };
        self.plain_store(prefix.as_deref()).await
    }

    /// A store on the shared servers (`prefix` None: the backend's default).
    async fn plain_store(&mut self, prefix: Option<&str>) -> Result<Store, String> {
        let cfg = |e: session_runtime::StoreConfigError| e.to_string();
        let servers = Arc::clone(&self.servers);
        self.prefix = prefix.unwrap_or("session:").to_owned();
        let del_refused = self.cell.kind == Kind::DelRefused;
        let user = format!("lc{}", self.idx);
        Ok(match self.cell.backend {
            Backend::Memory | Backend::None => Arc::new(MemoryStore::new()),
            Backend::Memcached => {
                self.probe = Probe::Memcached(vec![servers.memcached.port()]);
                Arc::new(
                    MemcachedStore::new([servers.memcached.address()])
                        .and_then(|s| s.with_prefix(&self.prefix))
                        .map_err(cfg)?,
                )
            }
            Backend::Pool => {
                self.probe =
                    Probe::Memcached(servers.pool.members.iter().map(Memcached::port).collect());
                Arc::new(
                    MemcachedStore::new(servers.pool.addresses())
                        .and_then(|s| s.with_prefix(&self.prefix))
                        .map_err(cfg)?,
                )
            }
            Backend::Redis => {
                let port = servers.redis.port();
                self.probe = Probe::Redis(vec![port]);
                let url = if del_refused {
                    acl_without_del(&[port], &user).await?;
                    format!("redis://{user}:pw-{user}@127.0.0.1:{port}/")
                } else {
                    servers.redis.url()
                };
                Arc::new(
                    RedisStore::new(&url)
                        .and_then(|s| s.with_prefix(&self.prefix))
                        .map_err(cfg)?,
                )
            }
            Backend::Cluster => {
                let ports: Vec<u16> = servers.cluster.ports();
                self.probe = Probe::Redis(ports.clone());
                let urls: Vec<String> = if del_refused {
                    acl_without_del(&ports, &user).await?;
                    ports
                        .iter()
                        .map(|port| format!("redis://{user}:pw-{user}@127.0.0.1:{port}/"))
                        .collect()
                } else {
                    servers.cluster.urls()
                };
                Arc::new(
                    RedisStore::cluster(urls)
                        .and_then(|s| s.with_prefix(&self.prefix))
                        .map_err(cfg)?,
                )
            }
        })
    }

    fn store(&self) -> Result<Store, String> {
        self.store.clone().ok_or_else(|| "no store".to_owned())
    }

    /// The builder every instance of the cell starts from: its settings, then its mode.
    fn builder<T: CookieSession>(
        &self,
        keys: impl Into<KeySource>,
        clock: &ManualClock,
    ) -> Result<SessionLayerBuilder<T>, String> {
        let mut b = self.settings(keys, clock);
        if let Some(len) = self.cookie_len {
            b = b.with_max_cookie_len(len);
        }
        if let Some(from) = self.cell.from
            && from.previous
        {
            b = b.with_previous_store(Counted {
                inner: self.old_store.clone().ok_or("no old store")?,
                calls: Arc::clone(&self.old_calls),
            });
        }
        with_mode(b, self.cell.mode, self.store.as_ref())
    }

    /// The settings every instance of the cell shares, whatever its mode.
    fn settings<T: CookieSession>(
        &self,
        keys: impl Into<KeySource>,
        clock: &ManualClock,
    ) -> SessionLayerBuilder<T> {
        SessionLayer::<T>::builder(keys)
            .with_secure(false)
            .with_clock(clock.clone())
            .with_idle_timeout(self.idle.map(Duration::from_secs))
            .with_absolute_timeout(self.absolute.map(Duration::from_secs))
            .with_refresh_after(Duration::from_secs(REFRESH))
            .with_max_clock_skew(Duration::from_secs(SKEW))
            .with_max_cookies(1)
            .with_store_timeout(STORE_TIMEOUT)
            .with_store_failure(self.failure)
    }

    /// An instance of a move's old configuration: the same key, clock and settings, the old
    /// mode on the old store.
    async fn old_app(&mut self) -> Result<(SocketAddr, SessionLayer<Acct>), String> {
        let from = self.cell.from.ok_or("not a move")?;
        let b = self.settings(self.key.clone(), &self.clock);
        let layer = Self::build(with_mode(b, from.mode, self.old_store.as_ref())?)?;
        Ok((self.serve(layer.clone()).await?, layer))
    }

    fn build<T: CookieSession>(b: SessionLayerBuilder<T>) -> Result<SessionLayer<T>, String> {
        b.build()
            .map_err(|e| format!("the layer did not build: {e}"))
    }

    /// Serves `layer` through the cell's adapter (actix-web with two workers, sharing it).
    async fn serve<T: Schema>(&mut self, layer: SessionLayer<T>) -> Result<SocketAddr, String> {
        let app = App {
            layer: layer.clone(),
            fault: self.fault.clone(),
            gate: Arc::clone(&self.gate),
        };
        if self.cell.adapter == Adapter::Actix {
            let server = session_tests::serve_actix(layer, 2, actix_routes(app)).await;
            let addr = server.addr;
            self.actix.push(server);
            return Ok(addr);
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let app = router(app);
        self.tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
        Ok(addr)
    }

    /// The cell's main instance: its key, its clock, its mode.
    async fn app(&mut self) -> Result<(SocketAddr, SessionLayer<Acct>), String> {
        let layer = Self::build(self.builder::<Acct>(self.key.clone(), &self.clock.clone())?)?;
        Ok((self.serve(layer.clone()).await?, layer))
    }

    async fn call(
        &self,
        addr: SocketAddr,
        method: &str,
        path: &str,
        jar: &mut Jar,
    ) -> Result<Reply, String> {
        let url = format!("http://{addr}{path}");
        let mut request = match method {
            "POST" => self.client.post(url),
            _ => self.client.get(url),
        };
        if !jar.0.is_empty() {
            request = request.header("cookie", jar.header());
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {path}: the request failed: {e}"))?;
        let status = response.status().as_u16();
        let set: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let body = response
            .text()
            .await
            .map_err(|e| format!("{method} {path}: the body failed: {e}"))?;
        jar.apply(&set);
        Ok(Reply { status, body, set })
    }

    /// `method path`, which must answer 200.
    async fn ok(
        &self,
        addr: SocketAddr,
        method: &str,
        path: &str,
        jar: &mut Jar,
    ) -> Result<Reply, String> {
        let reply = self.call(addr, method, path, jar).await?;
        ensure!(
            reply.status == 200,
            "{method} {path}: expected 200, saw {} {:?}",
            reply.status,
            reply.body
        );
        Ok(reply)
    }

    /// What `GET /me` shows (it must answer 200).
    async fn me(&self, addr: SocketAddr, jar: &mut Jar) -> Result<Seen, String> {
        let reply = self.ok(addr, "GET", "/me", jar).await?;
        Seen::parse(&reply.body)
    }

    /// What a copy of `jar` opens, the jar itself untouched.
    async fn peek(&self, addr: SocketAddr, jar: &Jar) -> Result<Seen, String> {
        self.me(addr, &mut jar.clone()).await
    }

    /// A fresh client logs `user` in (`regenerate`, `set_subject`, the mode's data).
    async fn login(&mut self, addr: SocketAddr, user: &str) -> Result<Jar, String> {
        let mut jar = Jar::default();
        let path = format!("/login?user={user}&n={}", self.cell.mode.blob());
        let reply = self.ok(addr, "POST", &path, &mut jar).await?;
        ensure!(
            !session_writes(&reply.set).is_empty(),
            "login: expected a session Set-Cookie, saw {:?}",
            reply.set
        );
        let seen = self.me(addr, &mut jar).await?;
        ensure!(
            !seen.new && seen.user == user,
            "after login as {user}: expected their session, saw {seen}"
        );
        self.expect_data_ttl(&format!("login as {user}"), &seen)
            .await?;
        Ok(jar)
    }

    fn soft(&mut self, msg: impl Into<String>) {
        self.fails.push(msg.into());
    }

    /// Checks that what `jar` recorded opens no session any more (or, in plain cookie mode,
    /// that it still opens: the documented limit).
    async fn expect_replay_dead(&mut self, addr: SocketAddr, recorded: &Jar, after: &str) -> R {
        let kills = self.cell.mode.logout_kills_replays();
        self.expect_dead_where(kills, addr, recorded, after).await
    }

    /// [`expect_replay_dead`](Self::expect_replay_dead) after a `revoke_all`: in every mode with
    /// a store.
    async fn expect_revoked_dead(&mut self, addr: SocketAddr, recorded: &Jar, after: &str) -> R {
        let kills = self.cell.mode.kills_replays();
        self.expect_dead_where(kills, addr, recorded, after).await
    }

    async fn expect_dead_where(
        &mut self,
        kills: bool,
        addr: SocketAddr,
        recorded: &Jar,
        after: &str,
    ) -> R {
        let seen = self.peek(addr, recorded).await?;
        if kills {
            if !seen.new {
                self.soft(format!(
                    "after {after}: expected the cookie recorded before it to open no session, saw it open {seen}"
                ));
            }
        } else if seen.new {
            self.soft(format!(
                "after {after} (plain cookies, the documented limit): expected the recorded cookie to still open, saw {seen}"
            ));
        }
        Ok(())
    }

    /// The remaining lifetime of a session issued at `issued`, at the clock's now: idle or
    /// absolute, whichever ends first (`None`: no timeout at all).
    fn remaining(&self, issued: u32) -> Option<u64> {
        let age = u64::from(self.clock.now().saturating_sub(issued));
        let absolute = self.absolute.map(|a| a.saturating_sub(age));
        match (self.idle, absolute) {
            (Some(i), Some(a)) => Some(i.min(a)),
            (i, a) => i.or(a),
        }
    }

    /// Checks the TTL the store holds for `key` against `expected` seconds: at least that less
    /// the time since the write (up to `TTL_READ_LATE`, on a loaded machine running cells side by
    /// side) and memcached's tick (it may read one second short), at most `SKEW + 1` more.
    async fn expect_ttl(&mut self, what: &str, key: &str, expected: u64) -> R {
        let wire = format!("{}{key}", self.prefix);
        let Some(ttl) = self.probe.ttl(&wire).await? else {
            return Ok(());
        };
        let (lo, hi) = (
            expected.saturating_sub(self.probe.tick() + TTL_READ_LATE),
            expected + SKEW + 1,
        );
        match ttl {
            Ttl::Secs(t) if (lo..=hi).contains(&t) => {}
            seen => self.soft(format!(
                "{what}: expected the store entry {key} to have a TTL of {expected}..{hi} s, saw {seen:?}"
            )),
        }
        Ok(())
    }

    async fn expect_missing(&mut self, what: &str, key: &str) -> R {
        let wire = format!("{}{key}", self.prefix);
        if let Some(ttl) = self.probe.ttl(&wire).await?
            && ttl != Ttl::Missing
        {
            self.soft(format!(
                "{what}: expected no store entry {key}, saw one ({ttl:?})"
            ));
        }
        Ok(())
    }

    /// The data entry of a session that lives in the store, just written at the clock's now.
    async fn expect_data_ttl(&mut self, what: &str, seen: &Seen) -> R {
        if self.cell.mode.in_store() && seen.blob >= self.cell.mode.blob() {
            let expected = self.remaining(seen.issued).unwrap_or(30 * DAY);
            self.expect_ttl(what, &data_key(&seen.id), expected).await?;
        }
        Ok(())
    }

    /// After a logout or regenerate of `old` at the clock's now: the old data entry is gone,
    /// and with revocation its id is recorded for its remaining lifetime.
    async fn expect_retired(&mut self, what: &str, old: &Seen) -> R {
        if self.cell.mode.in_store() {
            self.expect_missing(what, &data_key(&old.id)).await?;
        }
        if self.cell.mode.revocation() {
            let expected = self.remaining(old.issued).unwrap_or(30 * DAY);
            self.expect_ttl(what, &revoked_key(&old.id), expected)
                .await?;
        }
        Ok(())
    }

    fn set_fault(&self, fault: Fault) {
        if let Some(switch) = &self.fault {
            switch.send_replace(fault);
        }
    }

    /// Brings the store back and waits until the cell's own client reaches it again (every
    /// server of a pool or cluster): a bound against hanging, not a timed assertion.
    async fn store_back(&mut self) -> R {
        self.set_fault(Fault::Pass);
        let store = self.store()?;
        let keys: Vec<String> = (0..12).map(|i| format!("warm{i}")).collect();
        for _ in 0..200 {
            let mut all = true;
            for key in &keys {
                let loaded = tokio::time::timeout(Duration::from_secs(1), store.load(key)).await;
                all &= matches!(loaded, Ok(Ok(_)));
            }
            if all {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err("the store did not come back within 5 s".into())
    }

    /// Restarts the cell's store (its data is gone) and waits until it answers.
    async fn restart_store(&mut self) -> R {
        match &mut self.own {
            Own::Memory(memory) => memory.restart(),
            Own::Memcached(server) => tokio::task::block_in_place(|| server.restart()),
            Own::Pool(pool) => tokio::task::block_in_place(|| {
                for member in &mut pool.members {
                    member.restart();
                }
            }),
            Own::Redis(server) => tokio::task::block_in_place(|| server.restart()),
            Own::None => {
                let fc = self
                    .fault_cluster
                    .as_mut()
                    .ok_or("no server of the cell's own to restart")?;
                tokio::task::block_in_place(|| fc.cluster.restart_all());
            }
        }
        self.store_back().await
    }
}

/// `b` in `mode`, on `store`.
fn with_mode<T: CookieSession>(
    b: SessionLayerBuilder<T>,
    mode: Mode,
    store: Option<&Store>,
) -> Result<SessionLayerBuilder<T>, String> {
    let store = || store.cloned().ok_or_else(|| "no store".to_owned());
    Ok(match mode {
        Mode::Cookie => b,
        Mode::CookieRev => b.with_revocation(store()?),
        Mode::Store => b.with_store(store()?),
        Mode::StoreRev => b.with_store(store()?).with_revocation(store()?),
        Mode::OverBelow | Mode::OverAbove => b.with_overflow_store(store()?),
    })
}

async fn acl_without_del(ports: &[u16], user: &str) -> R {
    redis_everywhere(
        ports,
        &format!("ACL SETUSER {user} on >pw-{user} ~* &* +@all -del -unlink\r\n"),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The transitions.

async fn open(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut jar = Jar::default();
    let reply = cx.ok(a, "GET", "/me", &mut jar).await?;
    let seen = Seen::parse(&reply.body)?;
    ensure!(
        seen.new,
        "a request without cookies: expected no session, saw {seen}"
    );
    if !session_writes(&reply.set).is_empty() {
        cx.soft(format!(
            "a read without a session: expected no Set-Cookie, saw {:?}",
            reply.set
        ));
    }
    let path = format!("/change?m=first&n={}", cx.cell.mode.blob());
    let reply = cx.ok(a, "POST", &path, &mut jar).await?;
    ensure!(
        !session_writes(&reply.set).is_empty(),
        "the first change: expected a session Set-Cookie, saw {:?}",
        reply.set
    );
    let seen = cx.me(a, &mut jar).await?;
    ensure!(
        !seen.new && seen.marker == "first",
        "after the first change: expected marker \"first\", saw {seen}"
    );
    cx.expect_data_ttl("the first write", &seen).await
}

async fn restore(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut jar = cx.login(a, "ada").await?;
    for (advance, step) in [
        (0, "in the second of the login"),
        (REFRESH - 1, "59 s later"),
    ] {
        cx.clock.advance(Duration::from_secs(advance));
        let reply = cx.ok(a, "GET", "/me", &mut jar).await?;
        let seen = Seen::parse(&reply.body)?;
        ensure!(
            !seen.new && seen.user == "ada",
            "an unchanged read {step}: expected ada's session, saw {seen}"
        );
        if !session_writes(&reply.set).is_empty() {
            cx.soft(format!(
                "an unchanged read {step} (no refresh due): expected no Set-Cookie, saw {:?}",
                reply.set
            ));
        }
    }
    // The refresh is due now: the session goes on, its store entry lives on from now.
    cx.clock.advance(Duration::from_secs(2));
    let seen = cx.me(a, &mut jar).await?;
    ensure!(
        !seen.new,
        "a read when the refresh is due: expected ada's session, saw {seen}"
    );
    cx.expect_data_ttl("the refresh", &seen).await
}

async fn change_(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut jar = cx.login(a, "ada").await?;
    let path = format!("/change?m=changed&n={}", cx.cell.mode.blob());
    let reply = cx.ok(a, "POST", &path, &mut jar).await?;
    if cx.cell.mode.in_cookies() && session_writes(&reply.set).is_empty() {
        cx.soft(format!(
            "a change of a cookie session: expected a session Set-Cookie, saw {:?}",
            reply.set
        ));
    }
    // In a store the change goes to the entry; the browser's id cookie still says all it must.
    if matches!(cx.cell.mode, Mode::Store | Mode::StoreRev)
        && !session_writes(&reply.set).is_empty()
    {
        cx.soft(format!(
            "a change of a session in the store: expected no id cookie sent again, saw {:?}",
            reply.set
        ));
    }
    let seen = cx.me(a, &mut jar).await?;
    ensure!(
        !seen.new && seen.user == "ada" && seen.marker == "changed",
        "after a change: expected ada's session with marker \"changed\", saw {seen}"
    );
    cx.expect_data_ttl("the change", &seen).await
}

async fn clear_(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut jar = cx.login(a, "ada").await?;
    let old = cx.me(a, &mut jar).await?;
    let recorded = jar.clone();
    let reply = cx.ok(a, "POST", "/clear", &mut jar).await?;
    if !removes_session(&reply.set) {
        cx.soft(format!(
            "logout: expected the session cookie expired, saw {:?}",
            reply.set
        ));
    }
    let seen = cx.me(a, &mut jar).await?;
    ensure!(seen.new, "after logout: expected no session, saw {seen}");
    cx.expect_replay_dead(a, &recorded, "clear()").await?;
    cx.expect_retired("clear()", &old).await
}

async fn clear_then_change(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut jar = cx.login(a, "ada").await?;
    let old = cx.me(a, &mut jar).await?;
    let recorded = jar.clone();
    let reply = cx.ok(a, "POST", "/clear-change?m=bye", &mut jar).await?;
    if session_writes(&reply.set).is_empty() {
        cx.soft(format!(
            "clear then change: expected a Set-Cookie of the new session, saw {:?}",
            reply.set
        ));
    }
    let seen = cx.me(a, &mut jar).await?;
    ensure!(
        !seen.new && seen.user.is_empty() && seen.marker == "bye" && seen.id != old.id,
        "after clear then change: expected a new logged-out session with marker \"bye\", saw {seen}"
    );
    cx.expect_replay_dead(a, &recorded, "clear() then a change")
        .await?;
    if matches!(cx.cell.mode, Mode::Store | Mode::StoreRev) {
        cx.expect_data_ttl("the new session", &seen).await?;
    }
    cx.expect_retired("clear() then a change", &old).await
}

async fn regenerate(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut jar = cx.login(a, "ada").await?;
    let old = cx.me(a, &mut jar).await?;
    let recorded = jar.clone();
    let reply = cx.ok(a, "POST", "/regen", &mut jar).await?;
    ensure!(
        !session_writes(&reply.set).is_empty(),
        "regenerate: expected a session Set-Cookie with the new id, saw {:?}",
        reply.set
    );
    let seen = cx.me(a, &mut jar).await?;
    ensure!(
        !seen.new && seen.user == "ada" && seen.id != old.id,
        "after regenerate: expected ada's session under a new id, saw {seen}"
    );
    cx.expect_replay_dead(a, &recorded, "regenerate()").await?;
    cx.expect_data_ttl("the regenerated session", &seen).await?;
    cx.expect_retired("regenerate()", &old).await
}

/// `revoke_all(subject)` through the layer: Ok wherever there is a store; in plain cookie mode
/// it is documented to be an error.
async fn revoke_all(
    cx: &mut Cx,
    layer: &SessionLayer<Acct>,
    subject: &str,
) -> Result<bool, String> {
    let result = layer.revoke_all(subject).await;
    match (cx.cell.mode.kills_replays(), result) {
        (true, Ok(())) => Ok(true),
        (true, Err(err)) => Err(format!(
            "revoke_all({subject:?}): expected Ok in a mode with a store, saw Err({err})"
        )),
        (false, Err(_)) => Ok(false),
        (false, Ok(())) => {
            cx.soft("revoke_all without a store: expected the documented error, saw Ok");
            Ok(false)
        }
    }
}

async fn set_subject(cx: &mut Cx) -> R {
    let (a, layer) = cx.app().await?;
    let mut jar = cx.login(a, "ada").await?;
    let reply = cx.ok(a, "POST", "/subject?s=bob", &mut jar).await?;
    let seen = Seen::parse(&reply.body)?;
    ensure!(
        !seen.new,
        "set_subject: expected the session kept, saw {seen}"
    );
    cx.clock.advance(Duration::from_secs(1));
    let seen = cx.me(a, &mut jar).await?;
    ensure!(
        !seen.new && seen.user == "ada",
        "after set_subject: expected the session, saw {seen}"
    );
    if revoke_all(cx, &layer, "ada").await? {
        let seen = cx.peek(a, &jar).await?;
        if seen.new {
            cx.soft("revoke_all of the subject it had before set_subject: expected the session kept, saw it revoked");
        }
    }
    revoke_all(cx, &layer, "bob").await?;
    cx.expect_revoked_dead(a, &jar, "revoke_all of the subject set by set_subject")
        .await
}

async fn refresh(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut jar = cx.login(a, "ada").await?;
    // A request every refresh_after + 1 s, across more than three idle timeouts.
    let steps = 3 * IDLE / (REFRESH + 1) + 2;
    let mut last = None;
    for step in 1..=steps {
        cx.clock.advance(Duration::from_secs(REFRESH + 1));
        let seen = cx.me(a, &mut jar).await?;
        ensure!(
            !seen.new && seen.user == "ada",
            "a busy user, request {step} ({} s after login, a request every {} s): expected ada's session, saw {seen}",
            step * (REFRESH + 1),
            REFRESH + 1
        );
        last = Some(seen);
    }
    match last {
        Some(seen) => cx.expect_data_ttl("the last refresh", &seen).await,
        None => Ok(()),
    }
}

/// Three sessions logged in at once, each probed once: one second before the limit, at it, one
/// second past it.
async fn edges(cx: &mut Cx, limit: u64, what: &str) -> R {
    let (a, _) = cx.app().await?;
    let start = cx.clock.now();
    let mut jars = Vec::new();
    for user in ["ann", "ben", "cy"] {
        jars.push(cx.login(a, user).await?);
    }
    let seen = cx.peek(a, &jars[0]).await?;
    cx.expect_data_ttl("the login", &seen).await?;
    for (jar, offset, opens) in [
        (0, limit - 1, true),
        (1, limit, true),
        (2, limit + 1, false),
    ] {
        cx.clock.set(start + offset as u32);
        let seen = cx.peek(a, &jars[jar]).await?;
        if seen.new == opens {
            cx.soft(format!(
                "{what} {offset} s after login (limit {limit} s): expected {}, saw {seen}",
                if opens {
                    "the session still open"
                } else {
                    "no session"
                }
            ));
        }
    }
    Ok(())
}

async fn expire_idle(cx: &mut Cx) -> R {
    edges(cx, IDLE, "idle").await
}

async fn expire_absolute(cx: &mut Cx) -> R {
    // An idle timeout longer than the absolute one, so only the absolute edge shows (and the
    // store TTL is the absolute one, the earlier of the two).
    cx.idle = Some(700);
    cx.absolute = Some(600);
    edges(cx, 600, "absolute").await
}

async fn revoke(cx: &mut Cx) -> R {
    let (a, layer) = cx.app().await?;
    let laptop = cx.login(a, "alice").await?;
    let phone = cx.login(a, "alice").await?;
    let other = cx.login(a, "bob").await?;
    let revoked = revoke_all(cx, &layer, "alice").await?;
    cx.expect_revoked_dead(a, &laptop, "revoke_all (laptop)")
        .await?;
    cx.expect_revoked_dead(a, &phone, "revoke_all (phone)")
        .await?;
    let seen = cx.peek(a, &other).await?;
    if seen.new || seen.user != "bob" {
        cx.soft(format!(
            "revoke_all(alice): expected bob's session untouched, saw {seen}"
        ));
    }
    if revoked {
        // Kept as long as a session issued up to now can still open: a session it ends cannot
        // be refreshed any more, so it is dead one idle timeout later (or at its absolute
        // one, if that comes first).
        let expected = match (cx.idle, cx.absolute) {
            (Some(idle), Some(absolute)) => idle.min(absolute),
            (Some(limit), None) | (None, Some(limit)) => limit,
            (None, None) => 30 * DAY,
        };
        let key = generation_key(&cx.key, "alice");
        cx.expect_ttl("revoke_all", &key, expected).await?;
    }
    Ok(())
}

async fn logout_others(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut laptop = cx.login(a, "alice").await?;
    let phone = cx.login(a, "alice").await?;
    cx.clock.advance(Duration::from_secs(5));
    let reply = cx.call(a, "POST", "/revoke-others", &mut laptop).await?;
    if !cx.cell.mode.kills_replays() {
        // Plain cookies: revoke_all is documented to fail; nothing is revoked.
        ensure!(
            reply.status == 500,
            "log out other devices without a store: expected revoke_all's documented error (500), saw {} {:?}",
            reply.status,
            reply.body
        );
        return cx
            .expect_revoked_dead(a, &phone, "a failed revoke_all")
            .await;
    }
    ensure!(
        reply.status == 200,
        "log out my other devices: expected 200, saw {} {:?}",
        reply.status,
        reply.body
    );
    let seen = cx.peek(a, &laptop).await?;
    if seen.new {
        cx.soft("revoke_all then regenerate() in the same request: expected THIS session kept, saw it logged out");
    }
    cx.expect_revoked_dead(a, &phone, "log out my other devices")
        .await?;
    // A fresh login in the same second as the revocation.
    let fresh = cx.login(a, "alice").await;
    match fresh {
        Ok(jar) => {
            let seen = cx.peek(a, &jar).await?;
            if seen.new {
                cx.soft(
                    "a fresh login in the same second as revoke_all: expected it to stay logged in, saw it revoked",
                );
            }
        }
        Err(err) => cx.soft(format!(
            "a fresh login in the same second as revoke_all: {err}"
        )),
    }
    // Two more instances on the same store: one on the same clock, one 2 s behind.
    let same = Cx::build(cx.builder::<Acct>(cx.key.clone(), &cx.clock.clone())?)?;
    let b_same = cx.serve(same).await?;
    let behind_clock = ManualClock::new(cx.clock.now() - 2);
    let behind = Cx::build(cx.builder::<Acct>(cx.key.clone(), &behind_clock)?)?;
    let b_behind = cx.serve(behind).await?;
    cx.clock.advance(Duration::from_secs(10));
    behind_clock.set(cx.clock.now() - 2);
    let mut laptop = cx.login(a, "alice").await?;
    let reply = cx.call(a, "POST", "/revoke-others", &mut laptop).await?;
    ensure!(
        reply.status == 200,
        "log out my other devices (second round): expected 200, saw {} {:?}",
        reply.status,
        reply.body
    );
    for (addr, what) in [
        (b_same, "another instance in the same second"),
        (b_behind, "another instance whose clock is 2 s behind"),
    ] {
        let seen = cx.peek(addr, &laptop).await?;
        if seen.new {
            cx.soft(format!(
                "the session kept by log out my other devices, read on {what}: expected it open, saw {seen}"
            ));
        }
        match cx.login(addr, "alice").await {
            Ok(jar) => {
                let seen = cx.peek(a, &jar).await?;
                if seen.new {
                    cx.soft(format!(
                        "a fresh login on {what}, right after revoke_all: expected it to stay logged in, saw it revoked"
                    ));
                }
            }
            Err(err) => cx.soft(format!(
                "a fresh login on {what}, right after revoke_all: {err}"
            )),
        }
    }
    Ok(())
}

async fn rotate_key(cx: &mut Cx) -> R {
    let old_key = cx.key.clone();
    let new_key = Key::generate();
    let clock = cx.clock.clone();
    let old = cx
        .serve(Cx::build(cx.builder::<Acct>(old_key.clone(), &clock)?)?)
        .await?;
    let rotated_layer = Cx::build(cx.builder::<Acct>(
        Keys::new(new_key.clone()).with_fallback(old_key.clone()),
        &clock,
    )?)?;
    let rotated = cx.serve(rotated_layer.clone()).await?;
    let new_only = cx
        .serve(Cx::build(cx.builder::<Acct>(new_key, &clock)?)?)
        .await?;

    let mut jar = cx.login(old, "alice").await?;
    let reply = cx.ok(rotated, "GET", "/me", &mut jar).await?;
    let seen = Seen::parse(&reply.body)?;
    ensure!(
        !seen.new && seen.user == "alice",
        "a cookie of the old key on an instance with it as fallback: expected alice's session, saw {seen}"
    );
    if session_writes(&reply.set).is_empty() {
        cx.soft(format!(
            "opened with the fallback key: expected it re-sealed (a Set-Cookie), saw {:?}",
            reply.set
        ));
    }
    let seen = cx.peek(new_only, &jar).await?;
    if seen.new {
        cx.soft("after the re-seal: expected the session to open with the new key alone, saw no session");
    }
    // revoke_all reaches sessions sealed under either key.
    let under_old = cx.login(old, "alice").await?;
    let under_new = cx.login(rotated, "alice").await?;
    if revoke_all(cx, &rotated_layer, "alice").await? {
        for (recorded, what) in [
            (&under_old, "a session sealed under the old key"),
            (&under_new, "a session sealed under the new key"),
            (&jar, "a session re-sealed under the new key"),
        ] {
            let seen = cx.peek(rotated, recorded).await?;
            if !seen.new {
                cx.soft(format!(
                    "revoke_all after a key rotation, {what}: expected no session, saw {seen}"
                ));
            }
        }
    } else {
        cx.expect_revoked_dead(rotated, &under_old, "revoke_all")
            .await?;
    }
    Ok(())
}

/// A key file of the cell's own, removed when the cell ends.
struct KeyFile(std::path::PathBuf);

impl KeyFile {
    fn new(idx: usize) -> KeyFile {
        let dir = std::env::temp_dir().join(format!(
            "session-lifecycle-{}-{idx}-{}",
            std::process::id(),
            Key::generate().id()
        ));
        let _ = std::fs::create_dir_all(&dir);
        KeyFile(dir.join("session.keys"))
    }

    /// Writes `keys`, primary first, as an operator would: replaced whole (a rename), never
    /// seen half-written.
    fn write(&self, keys: &[&Key], step: &str) -> R {
        let mut text = format!("# {step}\n");
        for key in keys {
            text.push_str(&key.to_base64());
            text.push('\n');
        }
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, text).map_err(|e| format!("writing the key file: {e}"))?;
        std::fs::rename(&tmp, &self.0).map_err(|e| format!("replacing the key file: {e}"))
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The key id `jar`'s session cookie is sealed under, read by `layer`'s codec.
fn key_id(layer: &SessionLayer<Acct>, jar: &Jar) -> Result<u8, String> {
    match layer.codec().inspect(jar.header()) {
        Ok(Some(inspected)) => Ok(inspected.key_id),
        Ok(None) => Err("no session cookie to inspect".to_owned()),
        Err(err) => Err(format!("the session cookie did not open: {err}")),
    }
}

/// Waits up to 5 s for `source` to swap in a set other than `before` (its watch polls).
async fn swapped(source: &KeySource, before: &Arc<Keys>) -> bool {
    for _ in 0..500 {
        if !Arc::ptr_eq(before, &source.keys()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// The rotation procedure of README.md and SECURITY.md, done through a key file read by two
/// instances, with no restart: the new key added as a fallback (a reload), then made primary (a
/// reload), while a logged-in user's requests bounce between the instances; then `revoke_all`
/// reaches a session sealed under the old key; then the old key dropped. Instance A is
/// reloaded by calls to `reload()` (as on SIGHUP), instance B by its polling `watch`.
async fn rotate_key_by_reload(cx: &mut Cx) -> R {
    let old_key = cx.key.clone();
    // Two keys of one id would make the key-id checks below say nothing.
    let new_key = loop {
        let key = Key::generate();
        if key.id() != old_key.id() {
            break key;
        }
    };
    let clock = cx.clock.clone();
    let file = KeyFile::new(cx.idx);
    file.write(&[&old_key], "before the rotation")?;
    // Two processes: each reads the file itself.
    let source_a = KeySource::file(&file.0).map_err(|e| format!("instance A's key file: {e}"))?;
    let source_b = KeySource::file(&file.0).map_err(|e| format!("instance B's key file: {e}"))?;
    cx.tasks
        .push(source_b.watch_every(Duration::from_millis(20)));
    let layer_a = Cx::build(cx.builder::<Acct>(source_a.clone(), &clock)?)?;
    let layer_b = Cx::build(cx.builder::<Acct>(source_b.clone(), &clock)?)?;
    let a = cx.serve(layer_a.clone()).await?;
    let b = cx.serve(layer_b.clone()).await?;
    let reload_a = |step: &str| -> R {
        match layer_a.key_source().reload() {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("{step}: instance A's reload() saw no change")),
            Err(err) => Err(format!("{step}: instance A's reload() failed: {err}")),
        }
    };

    let mut jar = cx.login(a, "alice").await?;
    // Another device of alice's, sealed under the old key, not used again until revoke_all.
    let other_device = cx.login(b, "alice").await?;
    ensure!(
        key_id(&layer_a, &jar)? == old_key.id(),
        "before the rotation: expected the cookie sealed under the old key"
    );

    // Requests bouncing between the instances, alice logged in at each.
    async fn bounce(cx: &Cx, order: &[(SocketAddr, &str)], jar: &mut Jar, step: &str) -> R {
        for (addr, name) in order {
            let seen = cx.me(*addr, jar).await?;
            ensure!(
                !seen.new && seen.user == "alice",
                "{step}, on instance {name}: expected alice still logged in, saw {seen}"
            );
        }
        Ok(())
    }

    // Step 1: the new key added as a fallback everywhere.
    let before = source_b.keys();
    file.write(&[&old_key, &new_key], "step 1: the new key as a fallback")?;
    reload_a("step 1")?;
    ensure!(
        swapped(&source_b, &before).await,
        "step 1: instance B's watch did not pick up the key file within 5 s"
    );
    bounce(
        cx,
        &[(b, "B"), (a, "A"), (b, "B"), (a, "A")],
        &mut jar,
        "step 1",
    )
    .await?;
    ensure!(
        key_id(&layer_a, &jar)? == old_key.id(),
        "step 1: expected the cookie still sealed under the old key (still the primary)"
    );

    // Step 2: the new key made primary, one instance after the other.
    let before = source_b.keys();
    file.write(&[&new_key, &old_key], "step 2: the new key primary")?;
    reload_a("step 2")?;
    let reply = cx.ok(a, "GET", "/me", &mut jar).await?;
    let seen = Seen::parse(&reply.body)?;
    ensure!(
        !seen.new && seen.user == "alice",
        "step 2, on instance A (reloaded): expected alice, saw {seen}"
    );
    if session_writes(&reply.set).is_empty() {
        cx.soft(format!(
            "step 2: opened with what is now a fallback key, expected a re-seal (a Set-Cookie), saw {:?}",
            reply.set
        ));
    }
    let id = key_id(&layer_a, &jar)?;
    if id != new_key.id() {
        cx.soft(format!(
            "step 2, re-sealed by instance A: expected the new key's id {}, saw {id}",
            new_key.id()
        ));
    }
    ensure!(
        swapped(&source_b, &before).await,
        "step 2: instance B's watch did not pick up the key file within 5 s"
    );
    bounce(cx, &[(b, "B"), (a, "A"), (b, "B")], &mut jar, "step 2").await?;
    let id = key_id(&layer_b, &jar)?;
    if id != new_key.id() {
        cx.soft(format!(
            "after both reloads: expected the cookie under the new key's id {}, saw {id}",
            new_key.id()
        ));
    }
    // The other device, sealed under the old key (now a fallback), still logged in.
    let seen = cx.peek(a, &other_device).await?;
    ensure!(
        !seen.new && seen.user == "alice",
        "after both reloads: expected the session sealed under the old key to open, saw {seen}"
    );

    // revoke_all after the reload reaches the session sealed under the old key, and the one
    // re-sealed under the new key.
    let bob = cx.login(b, "bob").await?;
    if revoke_all(cx, &layer_b, "alice").await? {
        for (recorded, what) in [
            (&other_device, "the session sealed under the old key"),
            (&jar, "the session re-sealed under the new key"),
        ] {
            for (addr, name) in [(a, "A"), (b, "B")] {
                let seen = cx.peek(addr, recorded).await?;
                if !seen.new {
                    cx.soft(format!(
                        "revoke_all after the reload, {what}, on instance {name}: expected no session, saw {seen}"
                    ));
                }
            }
        }
    } else {
        cx.expect_revoked_dead(a, &other_device, "revoke_all")
            .await?;
    }

    // Step 3, one absolute timeout later: the old key dropped.
    let before = source_b.keys();
    file.write(&[&new_key], "step 3: the old key dropped")?;
    reload_a("step 3")?;
    ensure!(
        swapped(&source_b, &before).await,
        "step 3: instance B's watch did not pick up the key file within 5 s"
    );
    for (addr, name) in [(a, "A"), (b, "B")] {
        let seen = cx.peek(addr, &bob).await?;
        ensure!(
            !seen.new && seen.user == "bob",
            "step 3, on instance {name}: expected bob's session (sealed under the new key) kept, saw {seen}"
        );
        let seen = cx.peek(addr, &other_device).await?;
        ensure!(
            seen.new,
            "step 3, on instance {name}: expected a cookie of the dropped key to open nothing, saw {seen}"
        );
    }
    // A bad file keeps the set in use: sessions keep opening.
    let in_use = source_a.keys();
    file.write(&[], "emptied by mistake")?;
    ensure!(
        layer_a.key_source().reload().is_err() && Arc::ptr_eq(&in_use, &source_a.keys()),
        "an empty key file: expected reload() refused and the keys in use kept"
    );
    let seen = cx.peek(a, &bob).await?;
    ensure!(
        !seen.new && seen.user == "bob",
        "after a refused key file: expected bob's session kept, saw {seen}"
    );
    Ok(())
}

async fn migrate(cx: &mut Cx) -> R {
    let clock = cx.clock.clone();
    let v1 = cx
        .serve(Cx::build(cx.builder::<AcctV1>(cx.key.clone(), &clock)?)?)
        .await?;
    let v2 = cx
        .serve(Cx::build(cx.builder::<Acct>(cx.key.clone(), &clock)?)?)
        .await?;
    let mut jar = cx.login(v1, "alice").await?;
    let reply = cx.ok(v2, "GET", "/me", &mut jar).await?;
    let seen = Seen::parse(&reply.body)?;
    ensure!(
        !seen.new && seen.user == "alice" && seen.migrated && seen.blob == cx.cell.mode.blob(),
        "a version-1 session on a version-2 instance: expected alice's session migrated, saw {seen}"
    );
    if cx.cell.mode.in_cookies() && session_writes(&reply.set).is_empty() {
        cx.soft(format!(
            "a migrated cookie session: expected it re-sealed (a Set-Cookie), saw {:?}",
            reply.set
        ));
    }
    let reply = cx.ok(v2, "GET", "/me", &mut jar).await?;
    if !session_writes(&reply.set).is_empty() {
        cx.soft(format!(
            "the second read after the migration: expected no Set-Cookie (already version 2), saw {:?}",
            reply.set
        ));
    }
    // Re-sealed as version 2: the previous build no longer reads it.
    let seen = cx.peek(v1, &jar).await?;
    if !seen.new {
        cx.soft("after the migration: expected the session re-sealed as version 2 (unreadable to a version-1 instance), saw version 1 still there");
    }
    Ok(())
}

async fn write_older(cx: &mut Cx) -> R {
    let clock = cx.clock.clone();
    let writing = Cx::build(
        cx.builder::<Acct>(cx.key.clone(), &clock)?
            .writing::<AcctV1>(),
    )?;
    let w = cx.serve(writing).await?;
    let p = cx
        .serve(Cx::build(cx.builder::<AcctV1>(cx.key.clone(), &clock)?)?)
        .await?;
    let mut jar = cx.login(w, "alice").await?;
    let seen = cx.me(p, &mut jar).await?;
    ensure!(
        !seen.new && seen.user == "alice",
        "a login on the phase-1 build, read by the previous build: expected alice's session, saw {seen}"
    );
    change_then_read(
        cx,
        &mut jar,
        (w, "the phase-1 build"),
        (p, "the previous build"),
        "on-new",
    )
    .await?;
    change_then_read(
        cx,
        &mut jar,
        (p, "the previous build"),
        (w, "the phase-1 build"),
        "on-old",
    )
    .await
}

/// A change made on one instance (`on`) is what another (`read`) then sees.
async fn change_then_read(
    cx: &mut Cx,
    jar: &mut Jar,
    (on, on_name): (SocketAddr, &str),
    (read, read_name): (SocketAddr, &str),
    marker: &str,
) -> R {
    let path = format!("/change?m={marker}&n={}", cx.cell.mode.blob());
    cx.ok(on, "POST", &path, jar).await?;
    let seen = cx.me(read, jar).await?;
    ensure!(
        !seen.new && seen.marker == marker,
        "a change on {on_name}, read by {read_name}: expected marker {marker:?}, saw {seen}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Faults.

async fn down_at_load(cx: &mut Cx, failure: StoreFailure) -> R {
    cx.failure = failure;
    let (a, _) = cx.app().await?;
    let jar = cx.login(a, "alice").await?;
    cx.set_fault(Fault::Down);
    let reply = cx.call(a, "GET", "/me", &mut jar.clone()).await?;
    match failure {
        StoreFailure::FailClosed => {
            if reply.status != 503 {
                cx.soft(format!(
                    "a read while the store is down, fail-closed: expected 503, saw {} {:?}",
                    reply.status, reply.body
                ));
            }
        }
        _ => {
            // README ("a store that is down gives a fresh session") and SECURITY.md ("FailOpen
            // serves fresh sessions"), also for revocation, where the session cannot be checked.
            let fresh = reply.status == 200 && Seen::parse(&reply.body).is_ok_and(|s| s.new);
            if !fresh {
                cx.soft(format!(
                    "a read while the store is down, fail-open: expected 200 with a fresh session, saw {} {:?}",
                    reply.status, reply.body
                ));
            }
        }
    }
    cx.store_back().await?;
    let seen = cx.peek(a, &jar).await?;
    if seen.new {
        cx.soft("once the store is back: expected the session to open again, saw no session");
    }
    Ok(())
}

async fn down_at_save(cx: &mut Cx, fault: &str) -> R {
    let (a, _) = cx.app().await?;
    let jar = cx.login(a, "alice").await?;
    let path = format!(
        "/down-then?op=change&m=lost&n={}&f={fault}",
        cx.cell.mode.blob()
    );
    let reply = cx.call(a, "POST", &path, &mut jar.clone()).await?;
    if reply.status != 503 {
        cx.soft(format!(
            "a change whose save finds the store {fault}: expected 503, saw {} {:?}",
            reply.status, reply.body
        ));
    }
    let writes = session_writes(&reply.set);
    if !writes.is_empty() {
        cx.soft(format!(
            "a change whose save finds the store {fault}: expected no session Set-Cookie, saw {writes:?}"
        ));
    }
    cx.store_back().await?;
    let seen = cx.peek(a, &jar).await?;
    if seen.new || seen.user != "alice" || seen.marker == "lost" {
        cx.soft(format!(
            "after a failed save: expected the previous cookie to open the previous session, saw {seen}"
        ));
    }
    Ok(())
}

/// After a logout answered `status` (the store back by now): a 200 means the recorded cookie
/// is dead; only a 503 may leave it working.
async fn logout_answer_is_honest(
    cx: &mut Cx,
    a: SocketAddr,
    status: u16,
    recorded: &Jar,
    what: &str,
) -> R {
    let seen = cx.peek(a, recorded).await?;
    match status {
        200 if !seen.new => cx.soft(format!(
            "{what}: the logout answered 200, yet once the store is back the recorded cookie opens {seen}"
        )),
        200 | 503 => {}
        other => cx.soft(format!("{what}: expected 200 or 503, saw {other}")),
    }
    Ok(())
}

async fn retried_logout_kills(cx: &mut Cx, a: SocketAddr, recorded: &Jar, what: &str) -> R {
    let reply = cx.call(a, "POST", "/clear", &mut recorded.clone()).await?;
    if reply.status != 200 {
        cx.soft(format!(
            "{what}, retried with the store back: expected 200, saw {} {:?}",
            reply.status, reply.body
        ));
    }
    let seen = cx.peek(a, recorded).await?;
    if !seen.new {
        cx.soft(format!(
            "{what}, after the retried logout: expected the recorded cookie dead, saw {seen}"
        ));
    }
    Ok(())
}

async fn down_at_delete(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let recorded = cx.login(a, "alice").await?;
    let reply = cx
        .call(a, "POST", "/down-then?op=clear", &mut recorded.clone())
        .await?;
    if reply.status != 503 {
        cx.soft(format!(
            "a logout whose store work finds the store down: expected 503, saw {} {:?}",
            reply.status, reply.body
        ));
    }
    cx.store_back().await?;
    logout_answer_is_honest(cx, a, reply.status, &recorded, "down at logout").await?;
    retried_logout_kills(cx, a, &recorded, "down at logout").await
}

async fn logout_load_failed_open(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let recorded = cx.login(a, "alice").await?;
    cx.set_fault(Fault::Down);
    let reply = cx.call(a, "POST", "/clear", &mut recorded.clone()).await?;
    if reply.status != 503 {
        cx.soft(format!(
            "a logout while the store is down (its load failed open): expected 503, saw {} {:?}",
            reply.status, reply.body
        ));
    }
    cx.store_back().await?;
    logout_answer_is_honest(
        cx,
        a,
        reply.status,
        &recorded,
        "a logout whose load failed open",
    )
    .await?;
    retried_logout_kills(cx, a, &recorded, "a logout whose load failed open").await
}

async fn slow(cx: &mut Cx) -> R {
    let open_layer = Cx::build(cx.builder::<Acct>(cx.key.clone(), &cx.clock.clone())?)?;
    let a = cx.serve(open_layer).await?;
    cx.failure = StoreFailure::FailClosed;
    let closed = Cx::build(cx.builder::<Acct>(cx.key.clone(), &cx.clock.clone())?)?;
    let c = cx.serve(closed).await?;
    let jar = cx.login(a, "alice").await?;
    cx.set_fault(Fault::Hang);
    let reply = cx.call(c, "GET", "/me", &mut jar.clone()).await?;
    if reply.status != 503 {
        cx.soft(format!(
            "a read while the store hangs, fail-closed: expected 503, saw {} {:?}",
            reply.status, reply.body
        ));
    }
    let reply = cx.call(a, "GET", "/me", &mut jar.clone()).await?;
    let fresh = reply.status == 200 && Seen::parse(&reply.body).is_ok_and(|s| s.new);
    if !fresh {
        cx.soft(format!(
            "a read while the store hangs, fail-open: expected 200 with a fresh session, saw {} {:?}",
            reply.status, reply.body
        ));
    }
    cx.store_back().await?;
    if cx.cell.mode != Mode::CookieRev {
        down_at_save(cx, "hang").await?;
    }
    Ok(())
}

async fn restart(cx: &mut Cx) -> R {
    let (a, layer) = cx.app().await?;
    let mut jar = cx.login(a, "alice").await?;
    let logged_out = jar.clone();
    cx.ok(a, "POST", "/clear", &mut jar).await?;
    let revoked = cx.login(a, "bob").await?;
    let revoke_ok = match revoke_all(cx, &layer, "bob").await {
        Ok(ok) => ok,
        Err(err) => {
            cx.soft(err);
            false
        }
    };
    cx.restart_store().await?;
    let seen = cx.peek(a, &logged_out).await?;
    if !seen.new {
        cx.soft(format!(
            "a cookie logged out before the store restarted: expected it to stay dead, saw it open {seen}"
        ));
    }
    let seen = cx.peek(a, &revoked).await?;
    if !seen.new {
        cx.soft(format!(
            "a cookie revoked (revoke_all{}) before the store restarted: expected it to stay dead, saw it open {seen}",
            if revoke_ok { "" } else { ", which failed" }
        ));
    }
    match cx.login(a, "carol").await {
        Ok(_) => Ok(()),
        Err(err) => {
            cx.soft(format!("a login after the restart: {err}"));
            Ok(())
        }
    }
}

async fn del_refused(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let recorded = cx.login(a, "alice").await?;
    let reply = cx.call(a, "POST", "/clear", &mut recorded.clone()).await?;
    // 503, unless the logout still holds without DEL (a revocation recorded it).
    logout_answer_is_honest(
        cx,
        a,
        reply.status,
        &recorded,
        "a logout whose DEL is refused",
    )
    .await?;
    if reply.status == 200 && cx.cell.mode.in_store() && !cx.cell.mode.revocation() {
        cx.soft("a logout whose DEL is refused: expected 503, saw 200");
    }
    Ok(())
}

async fn in_flight(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let mut jar = cx.login(a, "alice").await?;
    let recorded = jar.clone();
    let client = cx.client.clone();
    let header = recorded.header();
    // Above the spill point the slow change shrinks the session back into its cookies: its
    // entry, deleted by the logout, must not come back as cookies either.
    let shrink = if cx.cell.mode == Mode::OverAbove {
        "&n=0"
    } else {
        ""
    };
    let slow = tokio::spawn(async move {
        let response = client
            .post(format!("http://{a}/slow-change?m=late{shrink}"))
            .header("cookie", header)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let set: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        Ok::<_, String>((status, set))
    });
    cx.gate.started.notified().await;
    cx.ok(a, "POST", "/clear", &mut jar).await?;
    cx.gate.release.notify_one();
    let (status, set) = slow.await.map_err(|e| format!("the slow request: {e}"))??;
    let writes = session_writes(&set);
    // With a revocation list the session stays in its cookies: the slow response re-seals the
    // id it came with, which the logout recorded, so its cookie opens nothing (checked below);
    // refusing to write it would cost a revocation read on every write. Where the session is
    // in a store, its conditional write finds the entry gone and writes nothing.
    if !writes.is_empty() && cx.cell.mode.in_store() {
        cx.soft(format!(
            "a request that started before the logout and changed the session after it: expected no session Set-Cookie for the dead id, saw {status} with {writes:?}"
        ));
    }
    let seen = cx.peek(a, &recorded).await?;
    if !seen.new {
        cx.soft(format!(
            "after a logout crossed by a slower request: expected the recorded cookie to open nothing, saw {seen}"
        ));
    }
    let mut resurrected = recorded.clone();
    resurrected.apply(&set);
    let seen = cx.peek(a, &resurrected).await?;
    if !seen.new {
        cx.soft(format!(
            "after a logout crossed by a slower request: expected the slow response's cookies to open nothing, saw {seen}"
        ));
    }
    Ok(())
}

async fn login_revocation_fails(cx: &mut Cx) -> R {
    let (a, _) = cx.app().await?;
    let recorded = cx.login(a, "alice").await?;
    let path = format!("/down-then?op=login&user=alice&n={}", cx.cell.mode.blob());
    let reply = cx.call(a, "POST", &path, &mut recorded.clone()).await?;
    if reply.status != 503 {
        cx.soft(format!(
            "a login (regenerate) whose revocation or save finds the store down: expected 503, saw {} {:?}",
            reply.status, reply.body
        ));
    }
    cx.store_back().await?;
    let writes = session_writes(&reply.set);
    if !writes.is_empty() {
        let mut issued = Jar::default();
        issued.apply(&writes);
        let seen = cx.peek(a, &issued).await?;
        if !seen.new {
            cx.soft(format!(
                "a login whose revocation failed ({}): expected no Set-Cookie whose session works, saw one that opens {seen}",
                reply.status
            ));
        }
    }
    Ok(())
}

async fn two_apps(cx: &mut Cx) -> R {
    let subject = format!("alice-{}", cx.idx);
    let (a, layer_a) = cx.app().await?;
    // App B: its own key, its own client, the same default prefix.
    let store_b = cx.plain_store(None).await?;
    let b_layer = {
        let clock = cx.clock.clone();
        let store_a = cx.store.replace(store_b);
        let built = Cx::build(cx.builder::<Acct>(Key::generate(), &clock)?);
        cx.store = store_a;
        built?
    };
    let b = cx.serve(b_layer).await?;
    let on_a = cx.login(a, &subject).await?;
    let on_b = cx.login(b, &subject).await?;
    revoke_all(cx, &layer_a, &subject).await?;
    let seen = cx.peek(b, &on_b).await?;
    if seen.new {
        cx.soft(format!(
            "app A's revoke_all({subject:?}): expected app B's session of the same name untouched, saw it logged out"
        ));
    }
    cx.expect_revoked_dead(a, &on_a, "app A's revoke_all").await
}

// ---------------------------------------------------------------------------------------------
// Moving between stores: instances of the old configuration issue the sessions, two instances
// of the new one (naming the old store with `with_previous_store`) serve them.

/// A store that counts the calls made to it.
#[derive(Debug)]
struct Counted {
    inner: Store,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl Counted {
    fn count(&self) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl SessionStore for Counted {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        self.count();
        self.inner.load(key)
    }

    fn load_many<'a>(
        &'a self,
        keys: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        self.count();
        self.inner.load_many(keys)
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
        condition: Condition,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.count();
        self.inner.save(key, value, ttl, condition)
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.count();
        self.inner.delete(key)
    }

    fn marker_key(&self, key: &str) -> String {
        self.inner.marker_key(key)
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
}

/// A move's old store on the shared servers, under the cell's prefix, and its probe.
fn old_store(servers: &Servers, backend: Backend, prefix: &str) -> Result<(Store, Probe), String> {
    let cfg = |e: session_runtime::StoreConfigError| e.to_string();
    let memcached = |addresses: Vec<String>| -> Result<Store, String> {
        Ok(Arc::new(
            MemcachedStore::new(addresses)
                .and_then(|s| s.with_prefix(prefix))
                .map_err(cfg)?,
        ))
    };
    Ok(match backend {
        Backend::Memory | Backend::None => (Arc::new(MemoryStore::new()), Probe::None),
        Backend::Memcached => (
            memcached(vec![servers.memcached.address()])?,
            Probe::Memcached(vec![servers.memcached.port()]),
        ),
        Backend::Pool => (
            memcached(servers.pool.addresses())?,
            Probe::Memcached(servers.pool.members.iter().map(Memcached::port).collect()),
        ),
        Backend::Redis => (
            Arc::new(
                RedisStore::new(&servers.redis.url())
                    .and_then(|s| s.with_prefix(prefix))
                    .map_err(cfg)?,
            ),
            Probe::Redis(vec![servers.redis.port()]),
        ),
        Backend::Cluster => (
            Arc::new(
                RedisStore::cluster(servers.cluster.urls())
                    .and_then(|s| s.with_prefix(prefix))
                    .map_err(cfg)?,
            ),
            Probe::Redis(servers.cluster.ports()),
        ),
    })
}

impl Cx {
    fn from(&self) -> Result<OldSide, String> {
        self.cell.from.ok_or_else(|| "not a move".to_owned())
    }

    /// Logs `user` in on an instance of the old configuration.
    async fn login_old(&mut self, addr: SocketAddr, user: &str) -> Result<Jar, String> {
        let blob = self.from()?.mode.blob().max(self.cell.mode.blob());
        let mut jar = Jar::default();
        self.ok(
            addr,
            "POST",
            &format!("/login?user={user}&n={blob}"),
            &mut jar,
        )
        .await?;
        let seen = self.me(addr, &mut jar).await?;
        ensure!(
            !seen.new && seen.user == user,
            "after login as {user} on the old configuration: expected their session, saw {seen}"
        );
        Ok(jar)
    }

    /// The old store no longer holds the entry of `old`.
    async fn expect_gone_from_old(&mut self, what: &str, old: &Seen) -> R {
        if !self.from()?.mode.in_store() {
            return Ok(());
        }
        let wire = format!("{}{}", self.prefix, data_key(&old.id));
        if let Some(ttl) = self.old_probe.ttl(&wire).await?
            && ttl != Ttl::Missing
        {
            self.soft(format!(
                "{what}: expected the old store's entry of the session gone, saw one ({ttl:?})"
            ));
        }
        Ok(())
    }
}

async fn move_keep(cx: &mut Cx) -> R {
    let (old, _) = cx.old_app().await?;
    let mut jar = cx.login_old(old, "ada").await?;
    let before = cx.me(old, &mut jar).await?;
    let (b1, _) = cx.app().await?;
    let (b2, _) = cx.app().await?;
    let seen = cx.me(b1, &mut jar).await?;
    ensure!(
        !seen.new && seen.user == "ada" && seen.blob == before.blob,
        "the first request after the switch: expected ada's session with her data, saw {seen}"
    );
    cx.expect_gone_from_old("the first request after the switch", &before)
        .await?;
    let seen = cx.me(b2, &mut jar).await?;
    ensure!(
        !seen.new && seen.user == "ada" && seen.blob == before.blob,
        "the next request, on another new instance: expected ada's session, saw {seen}"
    );
    cx.expect_data_ttl("the moved session", &seen).await?;
    let calls = || cx.old_calls.load(std::sync::atomic::Ordering::SeqCst);
    let moved = calls();
    let path = format!("/change?m=moved&n={}", before.blob);
    cx.ok(b2, "POST", &path, &mut jar).await?;
    let seen = cx.me(b1, &mut jar).await?;
    ensure!(
        !seen.new && seen.user == "ada" && seen.marker == "moved",
        "a change after the move, read on the other instance: expected marker \"moved\", saw {seen}"
    );
    // Once moved into a store, its id cookie finds it there: the old store is not asked again.
    let after = calls() - moved;
    if cx.cell.mode.in_store() && after != 0 {
        cx.soft(format!(
            "a change and a read of a session that moved: expected no call to the previous store, saw {after}"
        ));
    }
    Ok(())
}

async fn move_logout_before(cx: &mut Cx) -> R {
    let (old, _) = cx.old_app().await?;
    let mut jar = cx.login_old(old, "ada").await?;
    let before = cx.me(old, &mut jar).await?;
    let recorded = jar.clone();
    let (b1, _) = cx.app().await?;
    let (b2, _) = cx.app().await?;
    let reply = cx.ok(b1, "POST", "/clear", &mut jar).await?;
    if !removes_session(&reply.set) {
        cx.soft(format!(
            "logout of a session not moved yet: expected the session cookie expired, saw {:?}",
            reply.set
        ));
    }
    // The session was in the old place: its logout must stick there too, whatever the new
    // mode does with sessions it issues itself.
    let seen = cx.peek(b2, &recorded).await?;
    if !seen.new {
        cx.soft(format!(
            "logout on the new configuration before the session moved: expected the recorded cookie dead, saw it open {seen}"
        ));
    }
    cx.expect_gone_from_old("logout before the move", &before)
        .await
}

async fn move_logout_after(cx: &mut Cx) -> R {
    let (old, _) = cx.old_app().await?;
    let mut jar = cx.login_old(old, "ada").await?;
    let (b1, _) = cx.app().await?;
    let (b2, _) = cx.app().await?;
    let seen = cx.me(b1, &mut jar).await?;
    ensure!(
        !seen.new,
        "the first request after the switch: expected ada's session, saw {seen}"
    );
    let recorded = jar.clone();
    cx.ok(b2, "POST", "/clear", &mut jar).await?;
    let seen = cx.me(b1, &mut jar).await?;
    ensure!(seen.new, "after logout: expected no session, saw {seen}");
    cx.expect_replay_dead(b1, &recorded, "logout after the session moved")
        .await
}

async fn move_logout_old(cx: &mut Cx) -> R {
    let from = cx.from()?;
    let (old, _) = cx.old_app().await?;
    let mut jar = cx.login_old(old, "ada").await?;
    let recorded = jar.clone();
    cx.ok(old, "POST", "/clear", &mut jar).await?;
    let (b1, _) = cx.app().await?;
    cx.expect_dead_where(
        from.mode.logout_kills_replays(),
        b1,
        &recorded,
        "a logout on the old configuration, replayed on the new",
    )
    .await
}

async fn move_revoke_old(cx: &mut Cx) -> R {
    let from = cx.from()?;
    let (old, old_layer) = cx.old_app().await?;
    let jar = cx.login_old(old, "ada").await?;
    let revoked = old_layer.revoke_all("ada").await;
    ensure!(
        revoked.is_ok() == from.mode.kills_replays(),
        "revoke_all on the old configuration ({}): saw {revoked:?}",
        from.mode.name()
    );
    let (b1, _) = cx.app().await?;
    cx.expect_dead_where(
        from.mode.kills_replays(),
        b1,
        &jar,
        "revoke_all on the old configuration, replayed on the new",
    )
    .await
}

async fn move_revoke_new(cx: &mut Cx) -> R {
    let (old, _) = cx.old_app().await?;
    let jar = cx.login_old(old, "ada").await?;
    let (b1, layer) = cx.app().await?;
    revoke_all(cx, &layer, "ada").await?;
    cx.expect_revoked_dead(
        b1,
        &jar,
        "revoke_all on the new configuration of a session not moved yet",
    )
    .await
}

/// A request that loaded the session before it moved changes it after a logout on another
/// instance: its move must not bring the session back.
async fn move_in_flight(cx: &mut Cx) -> R {
    let (old, _) = cx.old_app().await?;
    let mut jar = cx.login_old(old, "ada").await?;
    let recorded = jar.clone();
    let (b1, _) = cx.app().await?;
    let (b2, _) = cx.app().await?;
    let client = cx.client.clone();
    let header = recorded.header();
    let slow = tokio::spawn(async move {
        let response = client
            .post(format!("http://{b1}/slow-change?m=late"))
            .header("cookie", header)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let set: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        Ok::<_, String>(set)
    });
    cx.gate.started.notified().await;
    cx.ok(b2, "POST", "/clear", &mut jar).await?;
    cx.gate.release.notify_one();
    let set = slow.await.map_err(|e| format!("the slow request: {e}"))??;
    let mut resurrected = recorded.clone();
    resurrected.apply(&set);
    for (jar, what) in [
        (&recorded, "the cookie recorded before the logout"),
        (&resurrected, "the slow request's cookies"),
    ] {
        let seen = cx.peek(b1, jar).await?;
        if !seen.new {
            cx.soft(format!(
                "a logout crossed by a request moving the session: expected {what} to open nothing, saw {seen}"
            ));
        }
    }
    Ok(())
}

/// Postcard's length of a varint.
fn varint_len(n: usize) -> usize {
    let mut len = 1;
    let mut n = n >> 7;
    while n > 0 {
        len += 1;
        n >>= 7;
    }
    len
}

async fn near_budget(cx: &mut Cx) -> R {
    // The cookie made just long enough for Tight's worst case, by the layer's own check: the
    // shortest cookie `build()` accepts it in.
    let worst = Tight::MAX_ENCODED_LEN.ok_or("Tight has a budget")?;
    let mut len = 4096;
    while SessionLayer::<Tight>::builder(cx.key.clone())
        .with_secure(false)
        .with_max_cookies(1)
        .with_max_cookie_len(len - 1)
        .build()
        .is_ok()
    {
        len -= 1;
    }
    cx.cookie_len = Some(len);
    let layer = Cx::build(cx.builder::<Tight>(cx.key.clone(), &cx.clock.clone())?)?;
    let a = cx.serve(layer).await?;
    // The user and marker at their longest: only the data grows towards the worst case.
    let mut jar = Jar::default();
    cx.ok(a, "POST", "/login?user=ada-with-16-byte&n=0", &mut jar)
        .await?;
    // From 24 bytes under the worst case up to it, one byte at a time.
    let max_blob = 2700;
    for n in (max_blob - 24)..=max_blob {
        let path = format!("/change?m=marker-of-16byte&n={n}");
        let reply = cx.call(a, "POST", &path, &mut jar).await?;
        match reply.status {
            413 => return Ok(()),
            200 => {
                let writes = session_writes(&reply.set);
                let seen = cx.peek(a, &jar).await?;
                // Kept: in its cookies (a Set-Cookie), or in the overflow store (the id
                // cookie may stay as it is).
                if seen.blob != n || seen.new {
                    cx.soft(format!(
                        "a session with a subject grown to {n} bytes of data (payload {} of a worst case {worst}): expected update() to refuse it or the change kept, saw 200 with {} and then {seen}",
                        1 + 16 + 1 + 16 + varint_len(n) + n,
                        if writes.is_empty() { "no Set-Cookie".to_owned() } else { format!("{} Set-Cookie", writes.len()) }
                    ));
                    return Ok(());
                }
            }
            other => {
                return Err(format!(
                    "growing the session to {n} bytes: expected 200 or 413, saw {other} {:?}",
                    reply.body
                ));
            }
        }
    }
    Ok(())
}

async fn no_timeout(cx: &mut Cx) -> R {
    cx.idle = None;
    cx.absolute = None;
    let built = cx
        .builder::<Acct>(cx.key.clone(), &cx.clock.clone())?
        .build();
    let layer = match built {
        // Refusing the configuration is one of the two acceptable answers.
        Err(_) => return Ok(()),
        Ok(layer) => layer,
    };
    let a = cx.serve(layer.clone()).await?;
    let mut jar = cx.login(a, "alice").await?;
    let old = cx.me(a, &mut jar).await?;
    let logged_out = jar.clone();
    cx.ok(a, "POST", "/clear", &mut jar).await?;
    let revoked = cx.login(a, "bob").await?;
    revoke_all(cx, &layer, "bob").await?;
    // The store's TTLs run on real time: they must outlive 31 days.
    let month = 31 * DAY;
    for (key, what) in [
        (
            revoked_key(&old.id),
            "the revocation of a logged-out session",
        ),
        (generation_key(&cx.key, "bob"), "revoke_all"),
    ] {
        let wire = format!("{}{key}", cx.prefix);
        match cx.probe.ttl(&wire).await? {
            None | Some(Ttl::Forever) => {}
            Some(Ttl::Secs(t)) if t >= month => {}
            Some(seen) => cx.soft(format!(
                "{what} of a session with no timeout: expected a store entry kept at least 31 days (or for good), saw {seen:?}: the cookie opens again once it expires"
            )),
        }
    }
    cx.clock.advance(Duration::from_secs(month));
    for (recorded, what) in [
        (&logged_out, "logged out"),
        (&revoked, "revoked by revoke_all"),
    ] {
        let seen = cx.peek(a, recorded).await?;
        if !seen.new {
            cx.soft(format!(
                "a session with no timeout, {what}, 31 days later: expected no session, saw {seen}"
            ));
        }
    }
    Ok(())
}

async fn run_kind(cx: &mut Cx) -> R {
    match cx.cell.kind {
        Kind::Open => open(cx).await,
        Kind::Restore => restore(cx).await,
        Kind::Change => change_(cx).await,
        Kind::Clear => clear_(cx).await,
        Kind::ClearChange => clear_then_change(cx).await,
        Kind::Regenerate => regenerate(cx).await,
        Kind::SetSubject => set_subject(cx).await,
        Kind::Refresh => refresh(cx).await,
        Kind::ExpireIdle => expire_idle(cx).await,
        Kind::ExpireAbsolute => expire_absolute(cx).await,
        Kind::Revoke => revoke(cx).await,
        Kind::LogoutOthers => logout_others(cx).await,
        Kind::RotateKey => rotate_key(cx).await,
        Kind::RotateKeyByReload => rotate_key_by_reload(cx).await,
        Kind::Migrate => migrate(cx).await,
        Kind::WriteOlder => write_older(cx).await,
        Kind::DownAtLoadOpen => down_at_load(cx, StoreFailure::FailOpen).await,
        Kind::DownAtLoadClosed => down_at_load(cx, StoreFailure::FailClosed).await,
        Kind::DownAtSave => down_at_save(cx, "down").await,
        Kind::DownAtDelete => down_at_delete(cx).await,
        Kind::LogoutLoadFailedOpen => logout_load_failed_open(cx).await,
        Kind::Slow => slow(cx).await,
        Kind::Restart => restart(cx).await,
        Kind::DelRefused => del_refused(cx).await,
        Kind::InFlight => in_flight(cx).await,
        Kind::LoginRevocationFails => login_revocation_fails(cx).await,
        Kind::TwoApps => two_apps(cx).await,
        Kind::NearBudget => near_budget(cx).await,
        Kind::NoTimeout => no_timeout(cx).await,
        Kind::MoveKeep => move_keep(cx).await,
        Kind::MoveLogoutBefore => move_logout_before(cx).await,
        Kind::MoveLogoutAfter => move_logout_after(cx).await,
        Kind::MoveLogoutOld => move_logout_old(cx).await,
        Kind::MoveRevokeOld => move_revoke_old(cx).await,
        Kind::MoveRevokeNew => move_revoke_new(cx).await,
        Kind::MoveInFlight => move_in_flight(cx).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The runner.

/// Runs one cell: every failed expectation it met, empty when it passed.
async fn run_cell(
    cell: Cell,
    idx: usize,
    servers: Arc<Servers>,
    fault_cluster: Option<OwnedMutexGuard<FaultCluster>>,
) -> Vec<String> {
    let mut cx = match Cx::new(cell, idx, servers, fault_cluster).await {
        Ok(cx) => cx,
        Err(err) => return vec![format!("setting up: {err}")],
    };
    let hard = run_kind(&mut cx).await;
    let mut fails = std::mem::take(&mut cx.fails);
    if let Err(err) = hard {
        fails.push(err);
    }
    fails
}

#[test]
fn lifecycle_matrix() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime");
    let filter = std::env::var("LIFECYCLE_FILTER").unwrap_or_default();
    let jobs: usize = std::env::var("LIFECYCLE_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(12);
    let table: Vec<(usize, Cell)> = cells()
        .into_iter()
        .enumerate()
        .filter(|(_, cell)| cell.name().contains(&filter))
        .collect();
    // Killed by PID when dropped, at the end or when this test panics.
    let servers = {
        let _entered = runtime.enter();
        Arc::new(Servers::start())
    };
    let started = std::time::Instant::now();
    let results: Vec<(Cell, Vec<String>)> = runtime.block_on(async {
        let permits = Arc::new(Semaphore::new(jobs.max(1)));
        let mut running = Vec::new();
        for &(idx, cell) in &table {
            let servers = Arc::clone(&servers);
            let permits = Arc::clone(&permits);
            running.push((
                cell,
                tokio::spawn(async move {
                    // The fault cluster first, so a cell waiting for it holds no permit.
                    let fault_cluster = if cell.on_fault_cluster() {
                        Some(Arc::clone(&servers.fault_cluster).lock_owned().await)
                    } else {
                        None
                    };
                    let _permit = permits.acquire_owned().await;
                    let cell_run = tokio::spawn(run_cell(cell, idx, servers, fault_cluster));
                    let abort = cell_run.abort_handle();
                    match tokio::time::timeout(CELL_TIMEOUT, cell_run).await {
                        Ok(Ok(fails)) => fails,
                        Ok(Err(err)) => vec![panic_text(err)],
                        Err(_) => {
                            abort.abort();
                            vec![format!("did not finish within {CELL_TIMEOUT:?}")]
                        }
                    }
                }),
            ));
        }
        let mut results = Vec::new();
        for (cell, task) in running {
            let fails = task.await.unwrap_or_else(|err| vec![panic_text(err)]);
            results.push((cell, fails));
        }
        results
    });
    let elapsed = started.elapsed();

    let pending = |cell: &Cell| {
        PENDING
            .iter()
            .find(|(name, _)| *name == cell.name())
            .map(|(_, why)| *why)
    };
    let mut failed = Vec::new();
    let mut pending_cells = Vec::new();
    for (cell, fails) in &results {
        if let Some(why) = pending(cell) {
            pending_cells.push(format!("  {} (pending: {why})", cell.name()));
        } else if !fails.is_empty() {
            failed.push(format!("  {}\n    {}", cell.name(), fails.join("\n    ")));
        }
    }
    let total = results.len();
    let passed = total - failed.len() - pending_cells.len();
    let summary = format!(
        "lifecycle matrix: {total} cells, {passed} passed, {} failed, {} pending ({:.0?})\n",
        failed.len(),
        pending_cells.len(),
        elapsed
    );
    // Straight to the process's stderr, past the test harness's capture: the count shows in
    // the output of `cargo test` (and so of scripts/test-all) even when every cell passes.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), summary.as_bytes());
    if !pending_cells.is_empty() {
        println!("pending:\n{}", pending_cells.join("\n"));
    }
    if !failed.is_empty() {
        println!("failing cells:\n{}", failed.join("\n"));
    }
    drop(runtime);
    drop(servers);
    assert!(
        failed.is_empty(),
        "{} of {total} lifecycle cells failed (listed above)",
        failed.len()
    );
}

fn panic_text(err: tokio::task::JoinError) -> String {
    match err.try_into_panic() {
        Ok(payload) => {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            format!("panicked: {text}")
        }
        Err(err) => format!("was cancelled: {err}"),
    }
}

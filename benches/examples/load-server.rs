//! The server the HTTP load script drives: one handler per way of keeping the reference
//! session, all in one process so every run sees the same machine state.
//!
//! Run with `cargo run --release -p session-benches --example load-server -- 127.0.0.1:8088`.
//!
//! Routes: `/none` (no session at all), `/noop-layer`, `/floor` (the floor's codec work inline
//! in the handler: open, change, seal, one cookie), `/floor-read` (the floor's open alone, for
//! the read-only route), `/ours`, `/ours-read`, `/ours-untouched`,
//! `/tower-sessions`, `/axum-extra`; each session route has an `-init` twin that sets the first
//! cookie.

#[path = "../common/mod.rs"]
mod common;

use std::cell::RefCell;

use axum::Router;
use axum::extract::FromRef;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum_extra::extract::PrivateCookieJar;
use axum_extra::extract::cookie::{Cookie, Key as JarKey};
use common::*;
use session_runtime::Session;
use tower_sessions::{MemoryStore, SessionManagerLayer};

#[derive(Clone)]
struct JarState {
    key: JarKey,
}

impl FromRef<JarState> for JarKey {
    fn from_ref(state: &JarState) -> JarKey {
        state.key.clone()
    }
}

thread_local! {
    /// Each worker thread's floor: its cipher and buffer, kept across requests.
    static FLOOR: RefCell<Floor> = RefCell::new(Floor::new());
}

/// The floor's update: the codec's work written inline with the bare primitives, and the one
/// Set-Cookie line; what issue 17 holds the session route's requests/s against.
async fn floor(headers: HeaderMap) -> (StatusCode, [(axum::http::HeaderName, String); 1]) {
    let header = cookie_text(&headers);
    let line = FLOOR.with(|f| f.borrow_mut().round_trip::<Reference>(header, touch));
    (StatusCode::OK, [(SET_COOKIE, line)])
}

/// The floor's read: the cookie opened inline and looked at, nothing written; the read-only
/// route's share of the session work, without the layer.
async fn floor_read(headers: HeaderMap) -> StatusCode {
    let header = cookie_text(&headers);
    let value: Reference = FLOOR.with(|f| f.borrow_mut().open(header));
    looked_at(&value)
}

/// The request's `Cookie` header as text (empty without one).
fn cookie_text(headers: &HeaderMap) -> &str {
    headers
        .get(COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn floor_init() -> (StatusCode, [(axum::http::HeaderName, String); 1]) {
    let line = FLOOR.with(|f| f.borrow_mut().seal(&reference()));
    (StatusCode::OK, [(SET_COOKIE, line)])
}

async fn ours_init(mut session: Session<Reference>) -> StatusCode {
    status(session.insert(reference()))
}

async fn tower(session: tower_sessions::Session) -> StatusCode {
    match session.get::<Reference>("s").await {
        Ok(Some(mut value)) => {
            value.last_seen += 1;
            match session.insert("s", value).await {
                Ok(()) => StatusCode::OK,
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }
        _ => StatusCode::UNAUTHORIZED,
    }
}

async fn tower_init(session: tower_sessions::Session) -> StatusCode {
    match session.insert("s", reference()).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn jar_cookie(value: &Reference) -> Cookie<'static> {
    Cookie::build(("session", serde_json::to_string(value).unwrap_or_default()))
        .path("/")
        .http_only(true)
        .build()
}

async fn extra(jar: PrivateCookieJar) -> (StatusCode, PrivateCookieJar) {
    let Some(cookie) = jar.get("session") else {
        return (StatusCode::UNAUTHORIZED, jar);
    };
    let Ok(mut value) = serde_json::from_str::<Reference>(cookie.value()) else {
        return (StatusCode::BAD_REQUEST, jar);
    };
    value.last_seen += 1;
    let jar = jar.add(jar_cookie(&value));
    (StatusCode::OK, jar)
}

async fn extra_init(jar: PrivateCookieJar) -> (StatusCode, PrivateCookieJar) {
    (StatusCode::OK, jar.add(jar_cookie(&reference())))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8088".to_owned());

    let ours_routes = Router::new()
        .route("/ours", get(update))
        .route("/ours-init", get(ours_init))
        .route("/ours-untouched", get(|| async { StatusCode::OK }))
        .layer(settings().with_secure(false).build().expect("valid layer"));
    // The read-only route: the same key and cookie, with the idle refresh pushed past the run's
    // length (the default threshold, 60 s, would turn reads into writes once the cookie the
    // script fetched at the start is a minute old). What a read costs when it writes nothing.
    let read_routes = Router::new().route("/ours-read", get(read_only)).layer(
        settings()
            .with_secure(false)
            .with_refresh_after(std::time::Duration::from_secs(20 * 60))
            .build()
            .expect("valid layer"),
    );
    let tower_routes = Router::new()
        .route("/tower-sessions", get(tower))
        .route("/tower-sessions-init", get(tower_init))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let extra_routes = Router::new()
        .route("/axum-extra", get(extra))
        .route("/axum-extra-init", get(extra_init))
        .with_state(JarState {
            key: axum_extra_key(),
        });
    // The same no-op handler behind a layer that does nothing: what axum itself charges for
    // layering a route, so the untouched route's cost can be split into axum's and ours.
    let layered_routes = Router::new()
        .route("/noop-layer", get(|| async { StatusCode::OK }))
        .layer(tower::util::MapRequestLayer::new(
            |r: axum::extract::Request| r,
        ));
    let app = Router::new()
        .route("/none", get(|| async { StatusCode::OK }))
        .route("/floor", get(floor))
        .route("/floor-read", get(floor_read))
        .route("/floor-init", get(floor_init))
        .merge(layered_routes)
        .merge(ours_routes)
        .merge(read_routes)
        .merge(tower_routes)
        .merge(extra_routes);

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}

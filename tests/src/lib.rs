//! The app the HTTP tests and the `test-server` binary serve: two schema versions of one
//! session, and routes that touch it in every way a handler can.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Level, Session, SessionBound, SessionError, SessionLayer};

/// Version 1, as the previous deploy wrote it: no budget, so its size is only checked when a
/// change is made.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 1)]
pub struct AppV1 {
    #[session(max_len = 32)]
    pub user: String,
    pub items: Vec<u32>,
}

/// One cart line of version 2.
#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub sku: u32,
    pub qty: u16,
}

/// Version 2: lines with quantities and a visit counter.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[session(version = 2, previous = AppV1, max_cookies = 3)]
pub struct AppV2 {
    #[session(max_len = 32)]
    pub user: String,
    #[session(max_len = 1000)]
    pub items: Vec<Line>,
    pub visits: u32,
}

impl From<AppV1> for AppV2 {
    fn from(old: AppV1) -> Self {
        AppV2 {
            user: old.user,
            items: old
                .items
                .into_iter()
                .map(|sku| Line { sku, qty: 1 })
                .collect(),
            visits: 0,
        }
    }
}

/// What the test routes need from either schema version.
pub trait TestSchema:
    CookieSession
    + Default
    + Send
    + Sync
    + std::fmt::Debug
    + axum::extract::FromRequestParts<()>
    + axum::extract::OptionalFromRequestParts<()>
{
    fn user(&self) -> &str;
    fn user_mut(&mut self) -> &mut String;
    fn set_items(&mut self, n: u32);
    fn item_count(&self) -> usize;
    fn bump(&mut self) -> u32;
}

impl TestSchema for AppV1 {
    fn user(&self) -> &str {
        &self.user
    }
    fn user_mut(&mut self) -> &mut String {
        &mut self.user
    }
    fn set_items(&mut self, n: u32) {
        self.items = (0..n)
            .map(|i| 0xF000_0000 | i.wrapping_mul(2_654_435_761))
            .collect();
    }
    fn item_count(&self) -> usize {
        self.items.len()
    }
    fn bump(&mut self) -> u32 {
        self.items.push(0);
        self.items.len() as u32
    }
}

impl TestSchema for AppV2 {
    fn user(&self) -> &str {
        &self.user
    }
    fn user_mut(&mut self) -> &mut String {
        &mut self.user
    }
    fn set_items(&mut self, n: u32) {
        self.items = (0..n)
            .map(|i| Line {
                sku: 0xF000_0000 | i.wrapping_mul(2_654_435_761),
                qty: 0xFFF0,
            })
            .collect();
    }
    fn item_count(&self) -> usize {
        self.items.len()
    }
    fn bump(&mut self) -> u32 {
        self.visits += 1;
        self.visits
    }
}

#[derive(Deserialize)]
struct Params {
    user: Option<String>,
    items: Option<u32>,
    text: Option<String>,
}

/// The test routes, under `layer`.
///
/// - `GET /show`: `user=<name> items=<n> new=<bool> chunks=<n>`, changes nothing.
/// - `POST /login?user=`: regenerate, then set the user.
/// - `POST /items?items=`: replace the items (413 if they do not fit).
/// - `POST /bump`: count a visit; returns the count.
/// - `POST /logout`: clear.
/// - `GET /untouched`: never touches the session.
/// - `GET /readonly`: the schema as a read-only extractor (401 without a session).
/// - `GET /maybe`: `Option<Schema>`.
/// - `POST /flash?text=`, `GET /flashes`.
/// - `GET /id`: the session id in hex.
pub fn router<T: TestSchema>(layer: SessionLayer<T>) -> Router {
    Router::new()
        .route("/show", get(show::<T>))
        .route("/login", post(login::<T>))
        .route("/items", post(items::<T>))
        .route("/bump", post(bump::<T>))
        .route("/logout", post(logout::<T>))
        .route("/untouched", get(|| async { "untouched" }))
        .route(
            "/readonly",
            get(|value: T| async move { format!("{value:?}") }),
        )
        .route(
            "/maybe",
            get(|value: Option<T>| async move { format!("{value:?}") }),
        )
        .route("/flash", post(flash::<T>))
        .route("/flashes", get(flashes::<T>))
        .route("/id", get(id::<T>))
        .layer(layer)
}

async fn show<T: TestSchema>(session: Session<T>) -> String {
    let new = session.is_new();
    let chunks = session.chunk_count();
    let value = session.get();
    format!(
        "user={} items={} new={new} chunks={chunks}",
        value.user(),
        value.item_count()
    )
}

async fn login<T: TestSchema>(
    mut session: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    session.regenerate()?;
    let user = p.user.unwrap_or_default();
    session.update(|s| *s.user_mut() = user.clone())?;
    Ok(format!("hello {user}"))
}

async fn items<T: TestSchema>(
    mut session: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    let n = p.items.unwrap_or(0);
    session.update(|s| s.set_items(n))?;
    Ok(format!("items={n}"))
}

async fn bump<T: TestSchema>(mut session: Session<T>) -> Result<String, SessionError> {
    session.update(|s| s.bump()).map(|n| n.to_string())
}

async fn logout<T: TestSchema>(mut session: Session<T>) -> &'static str {
    session.clear();
    "bye"
}

async fn flash<T: TestSchema>(
    mut session: Session<T>,
    Query(p): Query<Params>,
) -> Result<&'static str, SessionError> {
    session.flash(Level::Success, p.text.unwrap_or_default());
    Ok("flashed")
}

async fn flashes<T: TestSchema>(mut session: Session<T>) -> String {
    session
        .take_flashes()
        .iter()
        .map(|f| format!("{}:{}", f.level.as_str(), f.text))
        .collect::<Vec<_>>()
        .join("|")
}

async fn id<T: TestSchema>(session: Session<T>) -> impl IntoResponse {
    (StatusCode::OK, session.id().to_hex())
}

/// Serves `router` on an ephemeral loopback port; the server stops when the task is aborted.
pub async fn serve(router: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (addr, task)
}

/// The root README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

//! The app the HTTP tests and the `test-server` binary serve: routes that touch a session in
//! every way a handler can, generic over the schema so one router serves either deploy.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Query;
use axum::routing::{get, post};
use reqwest::Url;
use serde::Deserialize;
use session_runtime::{
    CookieSession, KeySource, Level, Session, SessionError, SessionLayer, SessionLayerBuilder,
};

use crate::fixtures::{AppV1, AppV2, Item};
use crate::support::base;

/// What the test routes need from either schema version.
pub trait TestSchema:
    CookieSession
    + Default
    + Send
    + Sync
    + std::fmt::Debug
    + axum::extract::FromRequestParts<()>
    + axum::extract::OptionalFromRequestParts<()>
    + actix_web::FromRequest
{
    fn user(&self) -> &str;
    fn user_mut(&mut self) -> &mut String;
    fn set_items(&mut self, n: u32);
    fn item_count(&self) -> usize;
    fn bump(&mut self) -> u32;
}

/// The accessors both deploys share: they keep the user and the items under the same names.
macro_rules! user_and_items {
    () => {
        fn user(&self) -> &str {
            &self.user
        }
        fn user_mut(&mut self) -> &mut String {
            &mut self.user
        }
        fn item_count(&self) -> usize {
            self.items.len()
        }
    };
}

impl TestSchema for AppV1 {
    user_and_items!();
    fn set_items(&mut self, n: u32) {
        self.items = (0..n)
            .map(|i| 0xF000_0000 | i.wrapping_mul(2_654_435_761))
            .collect();
    }
    fn bump(&mut self) -> u32 {
        self.items.push(0);
        self.items.len() as u32
    }
}

impl TestSchema for AppV2 {
    user_and_items!();
    fn set_items(&mut self, n: u32) {
        self.items = (0..n)
            .map(|i| Item {
                sku: 0xF000_0000 | i.wrapping_mul(2_654_435_761),
                qty: 0xFFF0,
            })
            .collect();
    }
    fn bump(&mut self) -> u32 {
        self.visits += 1;
        self.visits
    }
}

/// The query parameters of the test routes.
#[derive(Deserialize)]
pub(crate) struct Params {
    user: Option<String>,
    items: Option<u32>,
    pub(crate) text: Option<String>,
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
///
/// [`actix_routes`](crate::actix_routes) serves the same routes on actix-web.
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

pub(crate) async fn show<T: TestSchema>(session: Session<T>) -> String {
    let new = session.is_new();
    let chunks = session.chunk_count();
    let value = session.get();
    format!(
        "user={} items={} new={new} chunks={chunks}",
        value.user(),
        value.item_count()
    )
}

pub(crate) async fn login<T: TestSchema>(
    mut session: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    session.regenerate()?;
    let user = p.user.unwrap_or_default();
    session.update(|s| *s.user_mut() = user.clone())?;
    Ok(format!("hello {user}"))
}

pub(crate) async fn items<T: TestSchema>(
    mut session: Session<T>,
    Query(p): Query<Params>,
) -> Result<String, SessionError> {
    let n = p.items.unwrap_or(0);
    session.update(|s| s.set_items(n))?;
    Ok(format!("items={n}"))
}

pub(crate) async fn bump<T: TestSchema>(mut session: Session<T>) -> Result<String, SessionError> {
    session.update(|s| s.bump()).map(|n| n.to_string())
}

pub(crate) async fn logout<T: TestSchema>(mut session: Session<T>) -> &'static str {
    session.clear();
    "bye"
}

async fn flash<T: TestSchema>(mut session: Session<T>, Query(p): Query<Params>) -> &'static str {
    session.flash(Level::Success, p.text.unwrap_or_default());
    "flashed"
}

pub(crate) async fn flashes<T: TestSchema>(mut session: Session<T>) -> String {
    session
        .take_flashes()
        .iter()
        .map(|f| format!("{}:{}", f.level.as_str(), f.text))
        .collect::<Vec<_>>()
        .join("|")
}

pub(crate) async fn id<T: TestSchema>(session: Session<T>) -> String {
    session.id().to_hex()
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

/// The settings the test app runs with: plain HTTP on loopback, so no `Secure`, and room for
/// three cookies.
pub fn loopback<T: TestSchema>(keys: impl Into<KeySource>) -> SessionLayerBuilder<T> {
    SessionLayer::<T>::builder(keys)
        .with_secure(false)
        .with_max_cookies(3)
}

/// Serves the test app under `layer` in this process, until the task is aborted.
pub async fn start<T: TestSchema>(layer: SessionLayer<T>) -> (Url, tokio::task::JoinHandle<()>) {
    let (addr, task) = serve(router(layer)).await;
    (base(addr), task)
}

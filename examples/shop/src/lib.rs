//! A small shop on cookie sessions: log in and out, fill a cart until it spreads over several
//! cookies, see one-shot flash messages, and watch a session written by the previous schema
//! version migrate.
//!
//! The binary (`cargo run -p example-shop`) serves [`app`] on 127.0.0.1; the browser test in
//! `tests/browser.rs` serves the same router. With `SHOP_METRICS=1` it also serves [`metrics`]
//! on `/metrics`.

pub mod actions;
pub mod metrics;
mod page;
pub mod schema;

use axum::Router;
use axum::extract::Form;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;
use session_runtime::{
    CookieSession, KeySource, Session, SessionError, SessionLayer, SessionLayerBuilder,
    StoreSettings,
};

use crate::schema::Shop;

/// The cookie name, shared by the layer and the legacy-cookie demo.
pub const COOKIE: &str = "shop";

/// The cookie settings: the defaults, except `Secure`, because this demo serves plain HTTP on
/// loopback. Behind TLS, keep the default.
pub fn settings<T: CookieSession>(keys: impl Into<KeySource>) -> SessionLayerBuilder<T> {
    SessionLayer::builder(keys)
        .with_cookie_name(COOKIE)
        .with_secure(false)
        .with_max_cookies(3)
}

/// The whole shop: its routes behind the session layer, sealing under `keys`, sessions in their
/// cookies.
pub fn app(keys: impl Into<KeySource>) -> Router {
    app_with_store(keys, &StoreSettings::default()).expect("the cookie store needs no server")
}

/// The shop with its sessions where `store` says, for as long as it says: the settings the
/// binary reads with [`StoreSettings::from_env`] (`SESSION_STORE`, `SESSION_STORE_PREFIX`,
/// `SESSION_IDLE_TIMEOUT`, `SESSION_ABSOLUTE_TIMEOUT`), as `session-tool revoke` does.
pub fn app_with_store(keys: impl Into<KeySource>, store: &StoreSettings) -> Result<Router, String> {
    let keys: KeySource = keys.into();
    let builder = settings::<Shop>(keys.clone())
        .with_store_settings(store)
        .map_err(|e| e.to_string())?;
    let layer = builder
        .build()
        .map_err(|e| format!("the shop's session settings: {e}"))?;
    Ok(Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/cart/add", post(add))
        .route("/cart/clear", post(clear_cart))
        .route("/cart/count", get(cart_count))
        .route("/legacy", post(move || legacy_cookie(keys.clone())))
        .route("/health", get(|| async { "ok" }))
        .layer(layer))
}

async fn home(mut session: Session<Shop>) -> Html<String> {
    Html(actions::home(&mut session))
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
}

async fn login(
    mut session: Session<Shop>,
    Form(form): Form<LoginForm>,
) -> Result<Redirect, SessionError> {
    actions::login(&mut session, &form.name)?;
    Ok(Redirect::to("/"))
}

async fn logout(mut session: Session<Shop>) -> Redirect {
    actions::logout(&mut session);
    Redirect::to("/")
}

#[derive(Deserialize)]
struct AddForm {
    sku: u32,
    count: u16,
}

async fn add(mut session: Session<Shop>, Form(form): Form<AddForm>) -> Redirect {
    actions::add(&mut session, form.sku, form.count);
    Redirect::to("/")
}

/// The number of cart lines, as text. A handler that only reads takes the schema itself, which
/// `#[session(extractor)]` on [`Shop`] allows: a copy of the session, `None` without one.
async fn cart_count(shop: Option<Shop>) -> String {
    shop.map_or(0, |shop| shop.cart.len()).to_string()
}

async fn clear_cart(mut session: Session<Shop>) -> Result<Redirect, SessionError> {
    actions::clear_cart(&mut session)?;
    Ok(Redirect::to("/"))
}

/// Sets a session cookie as the previous deploy (schema version 1) would have written it; the
/// next page load migrates it to version 2 and re-seals it.
async fn legacy_cookie(keys: KeySource) -> impl IntoResponse {
    let mut response = Redirect::to("/").into_response();
    for value in actions::legacy_cookies(keys) {
        if let Ok(value) = value.parse() {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

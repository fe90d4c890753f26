//! The example shop (`examples/shop`) in actix-web: the same routes, the same schema and page,
//! the same session settings, on [`SessionLayer`] as actix-web middleware.
//!
//! The binary (`cargo run -p example-shop-actix`) serves [`configure`] on 127.0.0.1. What each
//! route does to the session is `example_shop::actions`, shared with the axum shop: the two
//! shops can serve one user alternately, with one key.

use actix_web::http::header::{LOCATION, SET_COOKIE};
use actix_web::{HttpResponse, web};
use example_shop::actions;
use example_shop::schema::Shop;
use serde::Deserialize;
use session_runtime::{ConfigError, KeySource, Session, SessionError, SessionLayer, StoreSettings};

/// The shop's session layer, built once for every worker: the shop's cookie settings
/// (`example_shop::settings`) and the store `store` names.
pub fn layer(
    keys: impl Into<KeySource>,
    store: &StoreSettings,
) -> Result<SessionLayer<Shop>, String> {
    example_shop::settings::<Shop>(keys)
        .with_store_settings(store)
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e: ConfigError| format!("the shop's session settings: {e}"))
}

/// The shop's routes, for `App::configure`; wrap the app (or a scope) in the layer.
///
/// `keys`: the layer's keys, for the legacy-cookie demo route.
pub fn configure(keys: KeySource) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .app_data(web::Data::new(keys))
            .route("/", web::get().to(home))
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/cart/add", web::post().to(add))
            .route("/cart/clear", web::post().to(clear_cart))
            .route("/legacy", web::post().to(legacy_cookie))
            .route("/health", web::get().to(|| async { "ok" }));
    }
}

fn see_home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/"))
        .finish()
}

async fn home(mut session: Session<Shop>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(actions::home(&mut session))
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
}

async fn login(
    mut session: Session<Shop>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, SessionError> {
    actions::login(&mut session, &form.name)?;
    Ok(see_home())
}

async fn logout(mut session: Session<Shop>) -> HttpResponse {
    actions::logout(&mut session);
    see_home()
}

#[derive(Deserialize)]
struct AddForm {
    sku: u32,
    count: u16,
}

async fn add(mut session: Session<Shop>, form: web::Form<AddForm>) -> HttpResponse {
    actions::add(&mut session, form.sku, form.count);
    see_home()
}

async fn clear_cart(mut session: Session<Shop>) -> Result<HttpResponse, SessionError> {
    actions::clear_cart(&mut session)?;
    Ok(see_home())
}

async fn legacy_cookie(keys: web::Data<KeySource>) -> HttpResponse {
    let mut response = see_home();
    for value in actions::legacy_cookies(keys.get_ref().clone()) {
        if let Ok(value) = value.parse() {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

//! The server `scripts/load-actix.sh` drives: the reference session on actix-web 4, kept by our
//! layer (the `actix` feature) and by actix-session, in one process with two workers.
//!
//! Run with `cargo run --release -p session-benches --example actix-load-server --
//! 127.0.0.1:8089 [redis://127.0.0.1:6379/]`.
//!
//! Routes, each with an `/init` twin (`/ours/init`) that sets the first cookie: `/none` (no session),
//! `/floor` (the floor's codec work inline in the handler: open, change, seal, one cookie),
//! `/ours` (our layer, sessions in cookies), `/actix-cookie` (actix-session's
//! `CookieSessionStore`, JSON in a private cookie); with a Redis URL also `/ours-redis` (our
//! layer with a `RedisStore`) and `/actix-redis` (actix-session's `RedisSessionStore`). Every
//! session route reads the reference session, changes `last_seen` and writes it back.

#[path = "../common/mod.rs"]
mod common;

use std::cell::RefCell;

use actix_session::SessionMiddleware;
use actix_session::storage::{CookieSessionStore, RedisSessionStore};
use actix_web::cookie::Key as ActixKey;
use actix_web::http::header::{COOKIE, SET_COOKIE};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use common::*;
use session_runtime::{RedisStore, Session};

async fn ours(mut session: Session<Reference>) -> HttpResponse {
    match session.update(touch) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::PayloadTooLarge().finish(),
    }
}

async fn ours_init(mut session: Session<Reference>) -> HttpResponse {
    match session.insert(reference()) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::PayloadTooLarge().finish(),
    }
}

thread_local! {
    /// Each worker's floor: its cipher and buffer, kept across requests.
    static FLOOR: RefCell<Floor> = RefCell::new(Floor::new());
}

async fn floor(req: HttpRequest) -> HttpResponse {
    let header = req
        .headers()
        .get(COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let line = FLOOR.with(|f| f.borrow_mut().round_trip::<Reference>(header, touch));
    HttpResponse::Ok()
        .append_header((SET_COOKIE, line))
        .finish()
}

async fn floor_init() -> HttpResponse {
    let line = FLOOR.with(|f| f.borrow_mut().seal(&reference()));
    HttpResponse::Ok()
        .append_header((SET_COOKIE, line))
        .finish()
}

async fn peer(session: actix_session::Session) -> HttpResponse {
    match session.get::<Reference>("s") {
        Ok(Some(mut value)) => {
            touch(&mut value);
            match session.insert("s", value) {
                Ok(()) => HttpResponse::Ok().finish(),
                Err(_) => HttpResponse::InternalServerError().finish(),
            }
        }
        _ => HttpResponse::Unauthorized().finish(),
    }
}

async fn peer_init(session: actix_session::Session) -> HttpResponse {
    match session.insert("s", reference()) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// actix-session's key: 64 bytes from the benchmark's master key.
fn peer_key() -> ActixKey {
    let mut master = [0u8; 64];
    master[..32].copy_from_slice(&MASTER);
    master[32..].copy_from_slice(&MASTER);
    master[63] ^= 0xff;
    ActixKey::from(&master)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8089".to_owned());
    let redis_url = args.next();

    // Built once, shared by every worker.
    let ours_layer = settings().with_secure(false).build().expect("valid layer");
    let redis = match &redis_url {
        Some(url) => {
            let ours = store_settings()
                .with_store(RedisStore::new(url).expect("a redis URL"))
                .build()
                .expect("valid layer");
            let peer = RedisSessionStore::new(url.as_str())
                .await
                .map_err(std::io::Error::other)?;
            Some((ours, peer))
        }
        None => None,
    };
    let key = peer_key();

    let server = HttpServer::new(move || {
        let mut app = App::new()
            .route("/none", web::get().to(HttpResponse::Ok))
            .route("/floor", web::get().to(floor))
            .route("/floor/init", web::get().to(floor_init))
            .service(
                web::scope("/ours")
                    .route("", web::get().to(ours))
                    .route("/init", web::get().to(ours_init))
                    .wrap(ours_layer.clone()),
            )
            .service(
                web::scope("/actix-cookie")
                    .route("", web::get().to(peer))
                    .route("/init", web::get().to(peer_init))
                    .wrap(
                        SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                            .cookie_secure(false)
                            .build(),
                    ),
            );
        if let Some((ours_redis, peer_redis)) = &redis {
            app = app
                .service(
                    web::scope("/ours-redis")
                        .route("", web::get().to(ours))
                        .route("/init", web::get().to(ours_init))
                        .wrap(ours_redis.clone()),
                )
                .service(
                    web::scope("/actix-redis")
                        .route("", web::get().to(peer))
                        .route("/init", web::get().to(peer_init))
                        .wrap(
                            SessionMiddleware::builder(peer_redis.clone(), key.clone())
                                .cookie_secure(false)
                                .build(),
                        ),
                );
        }
        app
    })
    .workers(2)
    .bind(&addr)?;
    for addr in server.addrs() {
        println!("listening on {addr}");
    }
    server.run().await
}

//! The example shop in actix-web.
//!
//! Run with
//!
//! ```sh
//! cargo run -p example-shop-actix
//! ```
//!
//! then open <http://127.0.0.1:3001>. The settings are the axum shop's (`examples/shop`):
//! `SESSION_KEY` (and `SESSION_KEY_OLD`) for the keys, or a generated key and a warning;
//! `SESSION_STORE`, `SESSION_STORE_PREFIX`, `SESSION_IDLE_TIMEOUT` and
//! `SESSION_ABSOLUTE_TIMEOUT` for where sessions live; `PORT` for the port; `WORKERS` for the
//! number of worker threads (default 2). Run both shops with one `SESSION_KEY` and a session
//! started on one opens on the other.
//!
//! The key, the store and the layer are made once, here, outside `HttpServer::new`'s closure,
//! which actix-web runs once per worker: every worker's app gets a clone of the one layer, so a
//! user's next request opens on whichever worker takes it.

use actix_web::{App, HttpServer};
use session_runtime::{KeySource, Keys, StoreSettings};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,session_runtime=debug".into()),
        )
        .init();

    let made = Keys::from_env_or_generate()
        .map(KeySource::from)
        .map_err(|e| e.to_string())
        .and_then(|keys| {
            let store = StoreSettings::from_env().map_err(|e| e.to_string())?;
            let layer = example_shop_actix::layer(keys.clone(), &store)?;
            Ok((keys, layer))
        });
    let (keys, layer) = match made {
        Ok(made) => made,
        Err(err) => {
            tracing::error!("{err}");
            std::process::exit(1);
        }
    };

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let workers: usize = std::env::var("WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(2);
    let server = HttpServer::new(move || {
        App::new()
            .configure(example_shop_actix::configure(keys.clone()))
            .wrap(layer.clone())
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?;
    for addr in server.addrs() {
        tracing::info!("shop (actix-web) listening on http://{addr}");
    }
    server.run().await
}

//! A small shop on cookie sessions: log in and out, fill a cart until it spreads over several
//! cookies, see one-shot flash messages, and watch a session written by the previous schema
//! version migrate.
//!
//! Run with
//!
//! ```sh
//! cargo run -p example-shop
//! ```
//!
//! then open <http://127.0.0.1:3000>. Set `SESSION_KEY` (base64 of 32 random bytes) to keep
//! sessions across restarts; without it a key is generated and a warning logged. `PORT` changes
//! the port. `SESSION_STORE` picks where sessions live: `cookie` (the default, no server),
//! `memory`, `memcached://host:port,host:port`, `redis://host:port` or
//! `redis-cluster://host:port,host:port`; `SESSION_STORE_PREFIX` the key prefix in the store,
//! `SESSION_IDLE_TIMEOUT` and `SESSION_ABSOLUTE_TIMEOUT` the timeouts in seconds (default 1800
//! and 43200). These are read by `session_runtime::StoreSettings::from_env`, as
//! `session-tool revoke` reads them to log a user out of the shop everywhere. `SHOP_METRICS=1`
//! serves the session metrics on `/metrics` in the Prometheus text format.

use std::net::SocketAddr;

use session_runtime::{Keys, StoreSettings};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,session_runtime=debug".into()),
        )
        .init();

    // SESSION_KEY seals, SESSION_KEY_OLD (optional) only opens. Unset: a generated key and a
    // warning. Set but invalid: refuse to start.
    let keys = match Keys::from_env_or_generate() {
        Ok(keys) => keys,
        Err(err) => {
            tracing::error!("{err}");
            std::process::exit(1);
        }
    };
    // Installed before the app is built: the layer records its keys when it is built.
    let metrics = match std::env::var("SHOP_METRICS").as_deref() {
        Ok("1") => match example_shop::metrics::install() {
            Ok(handle) => Some(handle),
            Err(err) => {
                tracing::error!("the metrics recorder: {err}");
                std::process::exit(1);
            }
        },
        _ => None,
    };
    let app = match StoreSettings::from_env()
        .map_err(|e| e.to_string())
        .and_then(|settings| example_shop::app_with_store(keys, &settings))
    {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("{err}");
            std::process::exit(1);
        }
    };

    let app = match metrics {
        Some(handle) => {
            tokio::spawn(example_shop::metrics::upkeep(handle.clone()));
            tracing::info!("metrics on /metrics");
            app.merge(example_shop::metrics::routes(handle))
        }
        None => app,
    };

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("shop listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

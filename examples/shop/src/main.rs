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
//! `redis-cluster://host:port,host:port`.

use std::net::SocketAddr;

use session_runtime::Keys;

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
    let store = std::env::var("SESSION_STORE").unwrap_or_default();
    let app = match example_shop::StoreChoice::parse(&store)
        .and_then(|choice| example_shop::app_with_store(keys, &choice))
    {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("{err}");
            std::process::exit(1);
        }
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
